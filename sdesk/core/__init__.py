"""The domain: every write to the desk goes through here (see docs/ARCHITECTURE.md)."""
