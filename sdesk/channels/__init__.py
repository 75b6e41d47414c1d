"""Channel adapters: translate each outside format to and from ``Inbound``/``Outbound``."""
