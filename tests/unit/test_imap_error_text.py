"""What an IMAP server said, as ``sdesk fetch`` and ``sdesk doctor`` show it (issue 14, item 13):
decoded text, never a Python bytes repr, and never live control characters."""

from __future__ import annotations

import imaplib

from imapclient.exceptions import LoginError

from sdesk.channels.email.login import first_line


def test_imaplib_error_with_server_bytes_is_decoded() -> None:
    # imaplib raises with the server's bytes; imapclient wraps them with str() (a repr).
    raw = imaplib.IMAP4.error(b"[AUTHENTICATIONFAILED] Authentication failed.")
    wrapped = LoginError(str(raw))
    assert str(wrapped) == "b'[AUTHENTICATIONFAILED] Authentication failed.'"  # the premise
    assert first_line(wrapped) == "[AUTHENTICATIONFAILED] Authentication failed."
    assert first_line(raw) == "[AUTHENTICATIONFAILED] Authentication failed."


def test_decoded_server_text_is_made_safe() -> None:
    hostile = imaplib.IMAP4.error("[ALERT] caf\u00e9 \x1b[2J\x1b]0;owned\x07".encode())
    line = first_line(LoginError(str(hostile)))
    assert line.startswith("[ALERT] café ")
    assert "\x1b" not in line and "\x07" not in line
    assert "␛[2J" in line


def test_plain_text_is_left_alone() -> None:
    assert first_line(OSError("[Errno 111] Connection refused")) == "[Errno 111] Connection refused"
    assert first_line(ValueError("nob'x' stays\nsecond line")) == "nob'x' stays"
