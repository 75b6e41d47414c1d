"""sdesk: a terminal-first service desk."""

__version__ = "0.1.0"
