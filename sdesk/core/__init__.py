"""The domain: every write to the desk goes through here (see shared/DESIGN.md)."""
