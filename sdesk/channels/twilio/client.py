"""The Twilio REST client, made from ``[telephony]``: the real ``twilio.rest.Client``, with
its auth token read from the environment or a command (never logged, never in an error).

``api_base_url`` points the client at a Twilio-compatible server other than Twilio's own (the
tests' local server, a gateway). The twilio library's documented way to change how requests
leave is a custom ``http_client`` ("Custom HTTP Clients for the Twilio Python Helper
Library"); ``BaseUrlHttpClient`` is the stock ``TwilioHttpClient`` that rewrites the
``https://<product>.twilio.com`` root of each URL to that base, so every resource (Calls,
Messages, ...) and the library's own error mapping stay as they are.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from sdesk.channels.secrets import SecretError, read_secret
from sdesk.config import TelephonySettings

TIMEOUT = 15.0  # seconds for one REST call: a send never holds the dispatcher for long


class TwilioConfigError(Exception):
    """Telephony cannot talk to Twilio as configured; the message says why (never a secret)."""


class BaseUrlHttpClient(TwilioHttpClient):
    """``TwilioHttpClient`` sending every request to ``base_url`` instead of Twilio's host."""

    def __init__(self, base_url: str, *, timeout: float = TIMEOUT) -> None:
        super().__init__(timeout=timeout)
        self.base_url = base_url.rstrip("/")

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        return super().request(
            method,
            rebase(url, self.base_url),
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout,
            allow_redirects=allow_redirects,
        )


def rebase(url: str, base_url: str) -> str:
    """``https://api.twilio.com/2010-04-01/...`` → ``<base_url>/2010-04-01/...``; a URL on
    another host is left alone."""
    parts = urlsplit(url)
    if not parts.hostname or not parts.hostname.endswith("twilio.com"):
        return url
    tail = url[len(f"{parts.scheme}://{parts.netloc}") :]
    return base_url.rstrip("/") + tail


def read_auth_token(settings: TelephonySettings) -> str:
    try:
        return read_secret(settings.auth_token_secret(), "twilio auth token")
    except SecretError as exc:
        raise TwilioConfigError(str(exc)) from None


def make_client(settings: TelephonySettings, *, token: str | None = None, **extra: Any) -> Client:
    """A ``twilio.rest.Client`` for the configured account (``token``: already read, e.g. by
    the webhooks, which need it too); ``TwilioConfigError`` when something is missing."""
    if settings.provider != "twilio":
        raise TwilioConfigError("telephony is not configured: set [telephony] provider = twilio")
    if not settings.account_sid:
        raise TwilioConfigError("[telephony] account_sid is not set")
    secret = token if token is not None else read_auth_token(settings)
    http = (
        BaseUrlHttpClient(settings.api_base_url)
        if settings.api_base_url
        else TwilioHttpClient(timeout=TIMEOUT)
    )
    return Client(settings.account_sid, secret, http_client=http, **extra)
