"""History handed over as files: .eml, mbox, Maildir, JSON Lines (``sdesk ingest``)."""
