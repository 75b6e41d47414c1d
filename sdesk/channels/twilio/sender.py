"""The outbox's Twilio senders: calls and hang-ups (channel ``phone``), texts (``sms``).

A click-to-call rings the agent's own phone and, once they answer, dials the customer with the
desk's number as caller ID (TwiML ``<Dial callerId>``, built with the twilio library so every
value is escaped). A call is never retried later: an agent waiting at their phone is better
told "failed" at once than rung minutes after they gave up, so every failure is permanent and
ends the call (``Telephony.call_failed``). Texts are retried on network errors, 429 and 5xx
(the outbox's backoff); a refusal (4xx) is permanent with Twilio's code, and 21610 (the
customer replied STOP) says so on the ticket.

Status callbacks go to ``{public_url}/twilio/...`` when ``[http] public_url`` is set; without
one the call watcher polls (``service.py``) and texts stay "sent".
"""

from __future__ import annotations

import logging
from typing import Any

from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client
from twilio.twiml.voice_response import VoiceResponse

from sdesk.channels.dispatcher import Sender, Sent
from sdesk.channels.twilio.client import TwilioConfigError, make_client
from sdesk.core.calls import allowed_regions, check_callable
from sdesk.core.desk import Desk
from sdesk.core.errors import DeskError
from sdesk.core.health import one_line
from sdesk.core.phonecalls import OPTED_OUT, sms_error

log = logging.getLogger(__name__)
CALL_EVENTS = ["initiated", "ringing", "answered", "completed"]
MAX_SMS_CHARS = 1600  # Twilio's limit on one message's body


def callback_url(desk: Desk, path: str) -> str | None:
    """``{public_url}/twilio/<path>``, or None when the desk has no public URL."""
    http = desk.settings.http
    if http is None or not http.public_url:
        return None
    return f"{http.public_url.rstrip('/')}/twilio/{path}"


def connect_twiml(
    customer: str, caller_id: str, ticket: int | None, action: str | None = None
) -> str:
    """What the agent's phone plays when they answer: a word, then the customer rings;
    ``action`` hears how the customer's leg ended (busy, no answer, ...)."""
    response = VoiceResponse()
    if ticket is not None:
        response.say(f"Connecting you for ticket {ticket}.")
    response.dial(customer, caller_id=caller_id, action=action)
    return str(response)


def _twilio_error(exc: TwilioRestException) -> str:
    return one_line(f"Twilio error {exc.code}: {exc.msg}" if exc.code else f"Twilio: {exc.msg}")


class TwilioSender:
    """One sender object for both channels; the client is made on first use."""

    def __init__(self, desk: Desk, client: Client | None = None) -> None:
        self.desk = desk
        self._client = client

    @property
    def client(self) -> Client:
        if self._client is None:
            self._client = make_client(self.desk.settings.telephony)
        return self._client

    # -- phone -----------------------------------------------------------------------------------

    def phone(self, recipient: str, payload: dict[str, Any]) -> tuple[str, bool]:
        if payload.get("op") == "hangup":
            return self._hang_up(payload)
        call_id = int(payload["call"])
        why = self.desk.phone.why_not_place(call_id)
        if why is not None:
            self.desk.phone.call_failed(call_id, why)
            return why, True
        try:
            call = self.client.calls.create(
                to=str(payload["agent"]),
                from_=str(payload["from"]),
                twiml=connect_twiml(
                    recipient,
                    str(payload["from"]),
                    payload.get("ticket"),
                    callback_url(self.desk, "call/dialed"),
                ),
                status_callback=callback_url(self.desk, "call/status"),
                status_callback_event=CALL_EVENTS,
            )
        except TwilioRestException as exc:
            error = _twilio_error(exc)
        except (TwilioException, TwilioConfigError, OSError) as exc:
            error = one_line(f"Twilio could not be reached: {exc}")
        else:
            try:
                self.desk.phone.call_placed(call_id, str(call.sid), str(call.status or "queued"))
            except Exception:  # the call exists: never let a retry place it twice
                log.exception("twilio: call %s placed but not recorded", call.sid)
            raise Sent(f"twilio:{call.sid}")
        self.desk.phone.call_failed(call_id, error)
        return error, True

    def _hang_up(self, payload: dict[str, Any]) -> tuple[str, bool]:
        try:
            call = self.client.calls(str(payload["sid"])).update(status=str(payload["status"]))
        except TwilioRestException as exc:
            return _twilio_error(exc), exc.status < 500 and exc.status != 429
        except (TwilioException, TwilioConfigError, OSError) as exc:
            return one_line(f"Twilio could not be reached: {exc}"), False
        # Without callbacks the watcher would see it too; told at once, the console shows it.
        self.desk.phone.call_status(str(call.sid), str(call.status), _int(call.duration))
        return "", False

    # -- sms -------------------------------------------------------------------------------------

    def sms(self, recipient: str, payload: dict[str, Any]) -> tuple[str, bool]:
        settings = self.desk.settings
        try:
            to = check_callable(recipient, settings.default_region, allowed_regions(settings))
        except DeskError as exc:
            return f"not sent: {exc}", True
        text = str(payload.get("text", ""))
        if len(text) > MAX_SMS_CHARS:
            return f"not sent: {len(text)} characters; a text holds {MAX_SMS_CHARS}", True
        try:
            sent = self.client.messages.create(
                to=to,
                from_=settings.telephony.from_number,
                body=text,
                status_callback=callback_url(self.desk, "sms/status"),
            )
        except TwilioRestException as exc:
            if exc.code == OPTED_OUT:
                return sms_error(OPTED_OUT), True
            permanent = exc.status < 500 and exc.status != 429
            return _twilio_error(exc), permanent
        except (TwilioException, TwilioConfigError, OSError) as exc:
            return one_line(f"Twilio could not be reached: {exc}"), False
        raise Sent(f"twilio:{sent.sid}")


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def twilio_senders(desk: Desk) -> dict[str, Sender]:
    """The ``phone`` and ``sms`` senders when ``[telephony] provider = "twilio"``."""
    if desk.settings.telephony.provider != "twilio":
        return {}
    sender = TwilioSender(desk)
    return {"phone": sender.phone, "sms": sender.sms}
