"""Connecting and logging in to a mailbox over IMAP, for the poller and ``sdesk doctor``."""

from __future__ import annotations

import ast
import contextlib
import logging
import re
import socket
import ssl

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from sdesk.channels.secrets import SecretError, read_secret, run_secret_command
from sdesk.config import MailboxSettings
from sdesk.core.text import safe_text

NETWORK_ERRORS = (OSError, IMAPClientError, socket.timeout, ssl.SSLError)


class MailboxError(Exception):
    """A mailbox problem, in one line that says what to fix (never a secret)."""


def connect(mailbox: MailboxSettings, *, cafile: str | None = None) -> IMAPClient:
    """Log in; TLS is verified and never silently downgraded: STARTTLS must succeed."""
    context = ssl.create_default_context(cafile=cafile)
    try:
        client = IMAPClient(
            mailbox.host,
            port=mailbox.imap_port,
            ssl=mailbox.security == "tls",
            ssl_context=context if mailbox.security == "tls" else None,
            timeout=mailbox.timeout_seconds,
        )
    except (OSError, ssl.SSLError) as exc:
        raise MailboxError(
            f"mailbox {mailbox.name}: cannot connect to {mailbox.host}:{mailbox.imap_port}: {exc}"
        ) from None
    quiet_protocol_log(client)
    try:
        if mailbox.security == "starttls":
            client.starttls(context)
        if mailbox.auth == "xoauth2":
            assert mailbox.token_command is not None
            token = run_secret_command(mailbox.token_command, f"mailbox {mailbox.name} token")
            client.oauth2_login(mailbox.username, token)
        else:
            client.login(mailbox.username, read_secret(mailbox, f"mailbox {mailbox.name}"))
    except SecretError as exc:
        close_client(client)
        raise MailboxError(str(exc)) from None
    except (IMAPClientError, OSError, ssl.SSLError) as exc:
        close_client(client)
        raise MailboxError(f"mailbox {mailbox.name}: login failed: {first_line(exc)}") from None
    return client


PROTOCOL_LOGGER = "imapclient.imaplib"


def quiet_protocol_log(client: IMAPClient) -> None:
    """Turn imaplib's protocol trace off unless its logger would print it.

    imapclient sets imaplib's debug level to 5 and hands the trace to ``PROTOCOL_LOGGER``;
    imaplib then formats every response with ``%r`` before the logger drops it, message bodies
    included: 25 MB of repr for a 5,000-message sync, ~10% of the poller's CPU. With that logger
    at DEBUG (troubleshooting a server) the trace is kept as imapclient made it.
    """
    if not logging.getLogger(PROTOCOL_LOGGER).isEnabledFor(logging.DEBUG):
        client._imap.debug = 0


# imaplib raises its errors with the server's bytes, and imapclient wraps them with ``str()``:
# the text arrives as a Python bytes literal (``b'[AUTHENTICATIONFAILED] ...'``).
_BYTES_LITERAL = re.compile(r"""\bb(?:'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")""")


def _server_text(match: re.Match[str]) -> str:
    try:
        raw = ast.literal_eval(match.group(0))
    except (ValueError, SyntaxError):
        return match.group(0)
    return raw.decode("utf-8", "replace") if isinstance(raw, bytes) else match.group(0)


def first_line(exc: BaseException) -> str:
    """The error's first line as a person reads it: what the server said, decoded, its
    controls made visible (it is the server's text: ARCHITECTURE.md, rule 8)."""
    args: tuple[object, ...] = exc.args
    if len(args) == 1 and isinstance(args[0], bytes):
        message = args[0].decode("utf-8", "replace")
    else:
        message = _BYTES_LITERAL.sub(_server_text, str(exc))
    text = message.strip().splitlines()
    return safe_text(text[0][:200], single_line=True) if text else type(exc).__name__


def close_client(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:  # closing a broken connection may fail in any way
        with contextlib.suppress(Exception):
            client.shutdown()
