"""Twilio's webhooks, framework-free (``sdesk/api/twilio.py`` serves them under ``/twilio``).

Every request is checked first: its ``X-Twilio-Signature`` must be Twilio's signature of the
URL it was sent to (``[http] public_url`` + the path: behind a proxy the server cannot know
it) and the form, with the account's auth token (the twilio library's ``RequestValidator``).
Anything else is answered 403 and nothing is stored. Then each path does one act of
``Desk.phone`` or ``Desk.intake``, all idempotent on Twilio's ids, so a callback Twilio sends
again (it retries on a timeout) changes nothing.

- ``sms``: a text (SMS or MMS) to the desk's number → a message from the customer who has that
  phone among their contacts, on their open SMS ticket or a new one (``Channel.SMS``); an MMS's
  files become its attachments (``media.py``). An agent's ``ACK 1042`` from their own phone
  acknowledges that alert instead (``sdesk/alerts/ack.py``) and is answered by text.
- ``sms/status``: a sent text's delivery (delivered, undelivered / failed with the error code).
- ``voice``: a call to the desk's number → a call-log message, and TwiML: the greeting, then
  the ``forward_to`` phone, or voicemail (``<Record>``, transcribed if asked).
- ``voice/dialed`` (the forward's end: voicemail when nobody answered), ``voice/recorded`` (the
  ``<Record>`` action), ``voice/recording`` (recording status callback),
  ``voice/transcription``.
- ``call/status``: any call's status callback (click-to-call and inbound), with its duration;
  ``call/dialed``: how a click-to-call's customer leg ended (answered, busy, no answer, ...).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl

from twilio.request_validator import RequestValidator
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import VoiceResponse

from sdesk.alerts.ack import ack_by_sms
from sdesk.channels.twilio.media import fetch_media
from sdesk.config import TelephonySettings
from sdesk.core.contacts import normalise_phone
from sdesk.core.desk import Desk
from sdesk.core.enums import Channel, ContactKind
from sdesk.core.errors import DeskError
from sdesk.core.health import one_line
from sdesk.core.inbound import ContactRef, Inbound, InboundAttachment, Sender
from sdesk.core.intake import Outcome
from sdesk.store.failures import StoreError

log = logging.getLogger(__name__)
MAX_BODY = 64 * 1024  # a Twilio callback is a few hundred bytes; anything this big is not one
MAX_MEDIA = 10  # Twilio's own limit on an MMS's files
XML = "application/xml"
JSON = "application/json"
FORWARD_SECONDS = 20


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    body: str
    media_type: str = XML


def _error(status: int, message: str) -> Answer:
    import json

    return Answer(status, json.dumps({"error": message}), JSON)


EMPTY = Answer(200, str(VoiceResponse()))


class Webhooks:
    """The handling of every ``/twilio/...`` path for one desk; ``token``: the auth token,
    read once (None: it could not be read; ``problem`` says why)."""

    def __init__(self, desk: Desk, token: str | None, problem: str | None = None) -> None:
        self.desk = desk
        self.token = token
        self.problem = problem
        http = desk.settings.http
        self.public_url = (http.public_url or "").rstrip("/") if http is not None else ""
        self.routes: dict[str, Callable[[dict[str, str]], Answer]] = {
            "call/status": self.call_status,
            "call/dialed": self.call_dialed,
            "sms": self.sms,
            "sms/status": self.sms_status,
            "voice": self.voice,
            "voice/dialed": self.dialed,
            "voice/recorded": self.recorded,
            "voice/recording": self.recording,
            "voice/transcription": self.transcription,
        }

    @property
    def settings(self) -> TelephonySettings:
        return self.desk.settings.telephony

    def url(self, path: str) -> str:
        return f"{self.public_url}/twilio/{path}"

    def handle(self, path: str, query: str, body: bytes, signature: str | None) -> Answer:
        """``path`` below ``/twilio/``; ``query`` the URL's query string (Twilio signs it)."""
        route = self.routes.get(path.strip("/"))
        if route is None:
            return _error(404, f"no Twilio webhook at /twilio/{path}")
        if self.token is None:
            return _error(503, f"Twilio webhooks are not available: {self.problem}")
        if not self.public_url:
            return _error(403, "no [http] public_url: Twilio's signature cannot be checked")
        if len(body) > MAX_BODY:
            return _error(413, "request too large for a Twilio webhook")
        params = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        url = self.url(path.strip("/")) + (f"?{query}" if query else "")
        if not signature or not RequestValidator(self.token).validate(url, params, signature):
            log.warning("twilio: refused a request to /twilio/%s with a bad signature", path)
            return _error(403, "bad or missing X-Twilio-Signature")
        try:
            return route(params)
        except KeyError as exc:
            return _error(400, f"missing field {exc.args[0]}")
        except DeskError as exc:
            return _error(422, one_line(str(exc)))
        except StoreError as exc:
            return _error(503, one_line(f"the desk is busy: {exc}"))
        except Exception:  # never a bare 500: Twilio retries a 503, the log says what broke
            log.exception("twilio: /twilio/%s failed", path)
            return _error(503, "the desk could not take this request; try again")

    # -- calls -----------------------------------------------------------------------------------

    def call_status(self, p: Mapping[str, str]) -> Answer:
        self.desk.phone.call_status(p["CallSid"], p["CallStatus"], _int(p.get("CallDuration")))
        return EMPTY

    def call_dialed(self, p: Mapping[str, str]) -> Answer:
        """A click-to-call's customer leg ended (the ``<Dial action>``): how, on the call."""
        self.desk.phone.customer_leg(
            p["CallSid"], p["DialCallStatus"], _int(p.get("DialCallDuration"))
        )
        response = VoiceResponse()
        response.hangup()
        return Answer(200, str(response))

    def voice(self, p: Mapping[str, str]) -> Answer:
        caller = normalise_phone(p["From"], self.desk.settings.default_region) or p["From"]
        self.desk.phone.inbound_call(p["CallSid"], caller, p.get("To", ""))
        response = VoiceResponse()
        response.say(self.settings.greeting)
        if self.settings.forward_to:
            response.dial(
                self.settings.forward_to, action=self.url("voice/dialed"), timeout=FORWARD_SECONDS
            )
        else:
            self._voicemail(response)
        return Answer(200, str(response))

    def _voicemail(self, response: VoiceResponse) -> None:
        transcribe = self.settings.transcribe
        response.record(
            max_length=self.settings.voicemail_seconds,
            play_beep=True,
            action=self.url("voice/recorded"),
            recording_status_callback=self.url("voice/recording"),
            recording_status_callback_event="completed",
            transcribe=transcribe,
            transcribe_callback=self.url("voice/transcription") if transcribe else None,
        )
        response.say("No message was recorded. Goodbye.")

    def dialed(self, p: Mapping[str, str]) -> Answer:
        """The forward ended: answered → hang up; else the caller leaves a voicemail."""
        response = VoiceResponse()
        if p.get("DialCallStatus") == "completed":
            response.hangup()
        else:
            response.say("Nobody could take your call.")
            self._voicemail(response)
        return Answer(200, str(response))

    def recorded(self, p: Mapping[str, str]) -> Answer:
        if p.get("RecordingSid") and p.get("RecordingUrl"):
            self._store_recording(p)
        response = VoiceResponse()
        response.say("Thank you. Goodbye.")
        response.hangup()
        return Answer(200, str(response))

    def recording(self, p: Mapping[str, str]) -> Answer:
        if p.get("RecordingStatus", "completed") == "completed":
            self._store_recording(p)
        return EMPTY

    def _store_recording(self, p: Mapping[str, str]) -> None:
        self.desk.phone.call_recording(
            p["CallSid"], p["RecordingSid"], p["RecordingUrl"], _int(p.get("RecordingDuration"))
        )

    def transcription(self, p: Mapping[str, str]) -> Answer:
        if p.get("TranscriptionStatus", "completed") == "completed":
            self.desk.phone.call_transcription(p["CallSid"], p.get("TranscriptionText", ""))
        return EMPTY

    # -- texts -----------------------------------------------------------------------------------

    def sms(self, p: Mapping[str, str]) -> Answer:
        sid = p["MessageSid"]
        # Twilio sends E.164; normalised all the same, as the chat's key is the number.
        sender = normalise_phone(p["From"], self.desk.settings.default_region) or p["From"]
        acked = ack_by_sms(self.desk, sender, p.get("Body", ""))
        if acked is not None:  # an agent's "ACK 1042": answered by text, not a customer message
            response = MessagingResponse()
            response.message(acked)
            return Answer(200, str(response))
        notes: list[str] = []
        files: list[InboundAttachment] = []
        # A text Twilio sends again fetches its files again; intake keeps it once (MessageSid).
        for n in range(min(_int(p.get("NumMedia")) or 0, MAX_MEDIA)):
            url = p.get(f"MediaUrl{n}")
            if url and self.token is not None:
                kind = p.get(f"MediaContentType{n}", "")
                got = fetch_media(self.settings, self.token, url, kind, n)
                if got.attachment is not None:
                    files.append(got.attachment)
                if got.note is not None:
                    log.warning("twilio: text %s: %s", sid, got.note)
                    notes.append(got.note)
        inbound = Inbound(
            channel=Channel.SMS,
            sender=Sender(None, (ContactRef(ContactKind.PHONE, sender),)),
            text=p.get("Body", ""),
            external_id=sid,
            chat_id=sender,
            received_at=self.desk.clock(),
            source="twilio",
            notes=tuple(notes),
            attachments=tuple(files),
        )
        result = self.desk.intake(inbound)
        if result.outcome is Outcome.QUARANTINED:
            log.warning("twilio: text %s was quarantined", sid)
        return Answer(200, str(MessagingResponse()))

    def sms_status(self, p: Mapping[str, str]) -> Answer:
        status = p.get("MessageStatus") or p["SmsStatus"]
        self.desk.phone.sms_status(p["MessageSid"], status, _int(p.get("ErrorCode")))
        return EMPTY


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None
