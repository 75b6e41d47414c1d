"""Email channel: RFC 5322/MIME parsing (``parse``) and, later, IMAP fetch and SMTP send."""
