"""Persistence: SQLModel tables, engine set-up, migrations, attachment blobs, search."""
