"""How a notice reaches a person: push through apprise URLs (ntfy, Gotify, Pushover, a
Telegram chat, ...), SMS and voice calls through Twilio. Email goes through the outbox (the
step queues it); console notices are rows every console reads.

A notifier takes a notice and returns ``(error, ref)``: error "" means sent, ``ref`` the
upstream id (a call's SID). Secrets stay out of errors: apprise and Twilio errors are reduced
to one line without the URL.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from xml.sax.saxutils import escape

from sdesk.config import Settings
from sdesk.core.alerts import Notice
from sdesk.core.health import one_line

log = logging.getLogger(__name__)

Notifier = Callable[[Notice], tuple[str, str | None]]
VOICE_PATH = "/twilio/alerts"  # the gather callback: {VOICE_PATH}/{notice}/gather


def push(notice: Notice) -> tuple[str, str | None]:
    import apprise

    sender = apprise.Apprise()
    if not sender.add(notice.address):
        return "push target is not an apprise URL apprise knows", None
    ok = sender.notify(body=notice.text, title=notice.title)
    return ("", None) if ok else ("the push service refused or did not answer", None)


def callback_base(settings: Settings) -> str:
    """Where Twilio reaches this desk's HTTP server (``[http] public_url``, else ``listen``)."""
    http = settings.http
    if http is None:
        return ""
    return (http.public_url or f"http://{http.listen}").rstrip("/")


def voice_twiml(text: str, action: str) -> str:
    """Read the alert, ask for 1; the key press is posted to ``action`` (which acknowledges)."""
    said = escape(text)
    return (
        '<?xml version="1.0" encoding="UTF-8"?><Response>'
        f'<Gather numDigits="1" action="{escape(action)}" method="POST" timeout="10">'
        f"<Say>{said} Press 1 to acknowledge.</Say></Gather>"
        "<Say>Not acknowledged. Goodbye.</Say></Response>"
    )


class TwilioNotifiers:
    """SMS and voice through the ``[telephony]`` account (``channels/twilio/client.py``)."""

    def __init__(self, settings: Settings) -> None:
        from sdesk.channels.twilio.client import make_client

        self.settings = settings
        self.client: Any = make_client(settings.telephony)
        self.sender = settings.telephony.from_number or ""

    def sms(self, notice: Notice) -> tuple[str, str | None]:
        try:
            message = self.client.messages.create(
                to=notice.address, from_=self.sender, body=notice.text[:600]
            )
        except Exception as exc:  # TwilioRestException, a network error: one line, no secret
            return _why(exc), None
        return "", str(message.sid)

    def voice(self, notice: Notice) -> tuple[str, str | None]:
        base = callback_base(self.settings)
        if not base:
            return "voice alerts need [http] (Twilio posts the key press to it)", None
        action = f"{base}{VOICE_PATH}/{notice.id}/gather"
        try:
            call = self.client.calls.create(
                to=notice.address, from_=self.sender, twiml=voice_twiml(notice.text, action)
            )
        except Exception as exc:
            return _why(exc), None
        return "", str(call.sid)


def _why(exc: Exception) -> str:
    code = getattr(exc, "code", None)
    message = getattr(exc, "msg", None) or str(exc) or type(exc).__name__
    return one_line(f"twilio {code}: {message}" if code else f"{type(exc).__name__}: {message}")


def notifiers(settings: Settings) -> dict[str, Notifier]:
    """The notifiers this desk can use; a medium without one holds its notices as failed."""
    out: dict[str, Notifier] = {"push": push}
    if settings.telephony.provider == "twilio":
        try:
            twilio = TwilioNotifiers(settings)
        except Exception as exc:
            log.warning("alerts: SMS and calls unavailable: %s", one_line(str(exc)))
        else:
            out["sms"], out["voice"] = twilio.sms, twilio.voice
    return out
