"""Connecting and logging in to a mailbox over IMAP, for the poller and ``sdesk doctor``."""

from __future__ import annotations

import contextlib
import ssl

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from sdesk.channels.secrets import SecretError, read_secret, run_secret_command
from sdesk.config import MailboxSettings


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


def first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def close_client(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:  # noqa: BLE001 - closing a broken connection may fail in any way
        with contextlib.suppress(Exception):
            client.shutdown()
