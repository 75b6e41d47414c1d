"""What happens to a call after it is asked for, and to calls and texts that come in: each a
``Telephony`` method, one transaction with its event (``Desk.phone``).

Twilio tells sdesk by callbacks (or by polling, without a public URL) and may tell it twice:
every act is idempotent on Twilio's ids. A call's state only moves forward (``calls.RANK``), so
a replayed or late callback changes nothing and records nothing; a recording is stored once
per ``RecordingSid``, an inbound call once per ``CallSid``, a text's delivery once per state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from sdesk.core import events, outbox
from sdesk.core.acts import _begin, _touch, agent_by_login
from sdesk.core.calls import ENDED, RANK, check_callable
from sdesk.core.enums import Channel, ContactKind, DeliveryState
from sdesk.core.errors import DeskError
from sdesk.core.inbound import ContactRef, Inbound, Sender
from sdesk.core.intake import Outcome, intake
from sdesk.core.permissions import require
from sdesk.store.models import Message, Outbox, PhoneCall, Ticket
from sdesk.store.rawsql import RawSql

if TYPE_CHECKING:
    from sdesk.core.desk import Desk

SMS_RANK = {"queued": 0, "accepted": 0, "sending": 1, "sent": 2, "delivered": 3}
SMS_FAILED = frozenset({"undelivered", "failed"})
OPTED_OUT = 21610  # Twilio: the recipient replied STOP
PLACE_WITHIN = timedelta(minutes=2)  # a click-to-call not placed by then is not placed at all


@dataclass(frozen=True, slots=True)
class ActiveCall:
    """A call Twilio has and that has not ended: what the watcher looks up."""

    sid: str
    state: str


@dataclass(frozen=True, slots=True)
class InboundCall:
    """An inbound call as stored: its ticket, and whether this request was a repeat."""

    ticket_number: int
    message_id: int
    repeated: bool


def sms_error(code: int | None, status: str = "undelivered") -> str:
    """The reason put on the ticket for a text that did not arrive."""
    if code == OPTED_OUT:
        return f"the customer opted out of texts (replied STOP; Twilio error {OPTED_OUT})"
    return f"{status} (Twilio error {code})" if code else status


class Telephony:
    """The desk's telephony acts (``Desk.phone``); channels and the console call these."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk

    def set_agent_phone(self, login: str, phone: str | None, by: str) -> str | None:
        """The phone Twilio rings first when ``login`` calls a customer (E.164, checked like
        any number dialled); agents set their own, admins anyone's. Returns it."""
        with self.desk.store.write() as s:
            agent = agent_by_login(s, login)
            if by != login:
                require(agent_by_login(s, by).role, "manage_agents", by)
            value = check_callable(phone, self.desk.settings.default_region) if phone else None
            agent.phone = value
            events.record(s, "agent.phone", at=self.desk.clock(), actor=by, agent=login)
            return value

    # -- outbound calls ------------------------------------------------------------------------

    def why_not_place(self, call_id: int) -> str | None:
        """Why the sender must not place this call now (None: go): it ended meanwhile (hung
        up), or it is too late (a dispatcher that crashed mid-send, found again much later:
        the agent has long stopped waiting at the phone)."""
        with self.desk.store.read() as s:
            call = s.get(PhoneCall, call_id)
            if call is None:
                return "the call is gone"
            if call.state != "requested":
                return f"the call is already {call.state}"
            late = self.desk.clock() - call.created_at
            if late > PLACE_WITHIN:
                return f"not placed: {int(late.total_seconds() // 60)} minutes late"
            return None

    def call_placed(self, call_id: int, sid: str, state: str = "queued") -> None:
        """Twilio took the call (the sender's answer): its CallSid, so callbacks find it."""
        with self.desk.store.write() as s:
            call = s.get(PhoneCall, call_id)
            if call is None or call.sid == sid:
                return
            call.sid = sid
            self._move(s, call, state, None, self.desk.clock())

    def call_failed(self, call_id: int, error: str) -> None:
        """Twilio refused the call (or could not be reached): it ends as failed, with why."""
        with self.desk.store.write() as s:
            call = s.get(PhoneCall, call_id)
            if call is None or call.state in ENDED:
                return
            call.error = error[:500]
            self._move(s, call, "failed", None, self.desk.clock())

    def call_status(self, sid: str, status: str, duration: int | None = None) -> bool:
        """A status callback or a polled state; True when it changed anything."""
        with self.desk.store.write() as s:
            call = _by_sid(s, sid)
            if call is None:
                return False
            return self._move(s, call, status, duration, self.desk.clock())

    def _move(
        self, s: Session, call: PhoneCall, state: str, duration: int | None, at: datetime
    ) -> bool:
        state = {"initiated": "queued", "answered": "in-progress"}.get(state, state)
        if state not in RANK:
            return False
        if RANK[state] <= RANK.get(call.state, 0):
            if state not in ENDED or state != call.state or duration in (None, call.duration):
                return False
            # The end came first without Twilio's count of its length (a poll, a hang-up):
            # Twilio's own count replaces the one measured here.
            call.duration = duration
        else:
            call.state = state
            if state == "in-progress" and call.answered_at is None:
                call.answered_at = at
            if state in ENDED:
                call.ended_at = at
                call.active_ticket = None
                if duration is not None:
                    call.duration = duration
                elif call.answered_at is not None:
                    call.duration = int((at - call.answered_at).total_seconds())
        events.record(
            s,
            "call.status",
            at=at,
            ticket_id=call.ticket_id,
            call=call.id,
            state=state,
            duration=call.duration,
        )
        return True

    def customer_leg(self, sid: str, status: str, duration: int | None = None) -> bool:
        """How the customer's side of a click-to-call ended (the agent's side is the call's
        state): "answered, talked 1:05", "busy", "no answer" on the call-log entry, once."""
        at = self.desk.clock()
        with self.desk.store.write() as s:
            call = _by_sid(s, sid)
            message = s.get(Message, call.message_id) if call is not None else None
            if call is None or message is None:
                return False
            if status == "completed":
                talked = divmod(duration or 0, 60)
                line = f"the customer answered; talked {talked[0]}:{talked[1]:02}"
            else:
                line = f"the customer's phone: {status.replace('-', ' ')}"
            if line in message.notes.splitlines():
                return False
            message.notes = _add_line(message.notes, line)
            events.record(
                s, "call.customer", at=at, ticket_id=call.ticket_id, call=call.id, state=status
            )
            return True

    def active_calls(self) -> list[ActiveCall]:
        with self.desk.store.read() as s:
            rows = s.execute(
                select(col(PhoneCall.sid), col(PhoneCall.state)).where(
                    col(PhoneCall.sid).is_not(None), col(PhoneCall.state).notin_(list(ENDED))
                )
            ).all()
        return [ActiveCall(sid, state) for sid, state in rows]

    def hang_up(self, number: int, by: str) -> str:
        """End the ticket's call under way: a call not yet handed to Twilio is cancelled here;
        one Twilio has is ended through the outbox (Calls update). Returns what was done."""
        with self.desk.store.write() as s:
            at, _agent, ticket = _begin(s, self.desk, number, by, "call", None, allow_closed=True)
            call = s.execute(
                select(PhoneCall).where(col(PhoneCall.active_ticket) == ticket.id)
            ).scalar_one_or_none()
            if call is None:
                raise DeskError(f"no call is under way on #{number}")
            assert call.id is not None and ticket.id is not None
            if call.hangup_at is not None:
                return "already hanging up"
            call.hangup_at = at
            if call.sid is None:
                queued = s.execute(
                    select(Outbox).where(col(Outbox.message_id) == call.message_id)
                ).scalar_one_or_none()
                if queued is not None and queued.state == DeliveryState.SENDING.value:
                    call.hangup_at = None
                    raise DeskError("the call is being placed right now; hang up in a moment")
                call.error = f"canceled by {by} before it was placed"
                if queued is not None:
                    queued.state, queued.last_error = DeliveryState.FAILED.value, call.error
                message = s.get(Message, call.message_id)
                if message is not None:
                    message.delivery_state = DeliveryState.FAILED.value
                    message.delivery_error = call.error
                self._move(s, call, "canceled", 0, at)
                _touch(ticket, at)
                return "call canceled"
            ending = "canceled" if call.state in ("queued", "ringing") else "completed"
            outbox.queue(
                s,
                kind="hangup",
                channel=Channel.PHONE.value,
                ticket_id=ticket.id,
                message_id=None,
                recipient=call.customer_number,
                payload={"op": "hangup", "sid": call.sid, "status": ending},
                at=at,
                key=f"hangup:{call.id}",
            )
            _touch(ticket, at)
            events.record(s, "call.hangup", at=at, ticket_id=ticket.id, actor=by, call=call.id)
            return "hanging up"

    # -- inbound calls -------------------------------------------------------------------------

    def inbound_call(self, sid: str, caller: str, to: str) -> InboundCall:
        """A customer rang the desk's number: a call-log message from the caller (their open
        phone ticket, or a new one) and its ``phone_call`` row; a repeat finds them."""
        at = self.desk.clock()
        with self.desk.store.write() as s:
            found = s.execute(
                select(PhoneCall, col(Ticket.number))
                .join(Ticket, col(Ticket.id) == PhoneCall.ticket_id)
                .where(col(PhoneCall.sid) == sid)
            ).first()
            if found is not None:
                return InboundCall(found[1], found[0].message_id, True)
            inbound = Inbound(
                channel=Channel.PHONE,
                sender=Sender(None, (ContactRef(ContactKind.PHONE, caller),)),
                text=f"Incoming call from {caller} to {to}.",
                external_id=sid,
                subject=f"Call from {caller}",
                received_at=at,
                source="twilio",
            )
            result = intake(RawSql(s), self.desk, inbound)
            if result.outcome is Outcome.QUARANTINED or result.message_id is None:
                raise DeskError(f"the call from {caller} could not be stored")
            message = s.get(Message, result.message_id)
            assert message is not None and message.id is not None
            assert result.ticket_number is not None
            s.add(
                PhoneCall(
                    message_id=message.id,
                    ticket_id=message.ticket_id,
                    direction="inbound",
                    customer_number=message.author_address or caller,
                    sid=sid,
                    state="ringing",
                    created_at=at,
                )
            )
            return InboundCall(result.ticket_number, result.message_id, False)

    def call_recording(
        self, call_sid: str, recording_sid: str, url: str, duration: int | None
    ) -> bool:
        """A voicemail (or a recorded call) is ready at ``url``; once per ``RecordingSid``."""
        at = self.desk.clock()
        with self.desk.store.write() as s:
            call = _by_sid(s, call_sid)
            if call is None or call.recording_sid == recording_sid:
                return False
            if call.recording_sid is not None:
                return False  # one recording per call is what the desk asks Twilio for
            call.recording_sid, call.recording_url = recording_sid, url
            call.recording_duration = duration
            message = s.get(Message, call.message_id)
            if message is not None:
                length = f" ({duration} s)" if duration is not None else ""
                message.notes = _add_line(message.notes, f"voicemail{length}: {url}")
            events.record(
                s, "call.recording", at=at, ticket_id=call.ticket_id, call=call.id, url=url
            )
            return True

    def call_transcription(self, call_sid: str, text: str) -> bool:
        at = self.desk.clock()
        with self.desk.store.write() as s:
            call = _by_sid(s, call_sid)
            if call is None or call.transcription is not None:
                return False
            call.transcription = text[:20_000]
            message = s.get(Message, call.message_id)
            if message is not None:
                message.text = _add_line(message.text, f"Voicemail: {call.transcription}")
            events.record(s, "call.transcription", at=at, ticket_id=call.ticket_id, call=call.id)
            return True

    # -- texts ---------------------------------------------------------------------------------

    def sms_status(self, sid: str, status: str, error_code: int | None = None) -> bool:
        """A text's delivery callback: sent → delivered, or undelivered / failed with Twilio's
        error code (21610: the customer opted out) on the ticket. True when it changed."""
        at = self.desk.clock()
        with self.desk.store.write() as s:
            message = s.execute(
                select(Message).where(col(Message.message_id) == f"twilio:{sid}")
            ).scalar_one_or_none()
            if message is None:
                return False
            current = message.delivery_state or ""
            if current in (DeliveryState.FAILED.value, DeliveryState.DELIVERED.value):
                return False  # an end state: a late "sent" changes nothing
            if status in SMS_FAILED:
                message.delivery_state = DeliveryState.FAILED.value
                message.delivery_error = sms_error(error_code, status)
            elif status == "delivered":
                message.delivery_state = DeliveryState.DELIVERED.value
                message.delivery_error = None
            else:
                return False  # queued / sending / sent: "sent" is what the outbox recorded
            events.record(
                s,
                "message.delivery",
                at=at,
                ticket_id=message.ticket_id,
                message=message.id,
                status=status,
                error=error_code,
            )
            return True


def _by_sid(s: Session, sid: str) -> PhoneCall | None:
    return s.execute(select(PhoneCall).where(col(PhoneCall.sid) == sid)).scalar_one_or_none()


def _add_line(text: str, line: str) -> str:
    return f"{text.rstrip()}\n{line}" if text.strip() else line
