"""Retrying a failed delivery and the customer's rating.

The outbox dispatcher is not under test here: a test marks a delivery failed the way the
dispatcher would, straight in the store."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from sdesk.config import Settings, TelephonySettings
from sdesk.core.desk import Desk
from sdesk.core.enums import Channel, ContactKind, Role
from sdesk.core.errors import DeskError, NotFound
from sdesk.core.inbound import ContactRef
from sdesk.store.engine import open_store
from sdesk.store.models import Event, Message, Outbox
from tests.conftest import FakeClock
from tests.factories import chat, email
from tests.unit.test_acts import ticket


def events(desk: Desk, kind: str) -> list[Event]:
    with desk.store.read() as s:
        return list(s.execute(select(Event).where(Event.kind == kind)).scalars())


def delivery(desk: Desk, message_id: int) -> tuple[Message, Outbox]:
    with desk.store.read() as s:
        message = s.get(Message, message_id)
        outbox = s.execute(select(Outbox).where(Outbox.message_id == message_id)).scalar_one()
    assert message is not None
    return message, outbox


def mark(desk: Desk, message_id: int, state: str, error: str | None = None) -> None:
    """What the dispatcher writes when a delivery ends."""
    with desk.store.write() as s:
        message = s.get(Message, message_id)
        assert message is not None
        message.delivery_state, message.delivery_error = state, error
        outbox = s.execute(select(Outbox).where(Outbox.message_id == message_id)).scalar_one()
        outbox.state, outbox.last_error, outbox.attempts = state, error, 3


# -- retry_delivery ----------------------------------------------------------------------------


def test_a_failed_reply_goes_back_into_the_queue(staffed: Desk, clock: FakeClock) -> None:
    reply_id = staffed.reply(1001, "dana", "Restart the client, please.").message_id
    mark(staffed, reply_id, "failed", "550 mailbox unavailable")
    clock.advance(hours=2)
    version = ticket(staffed).version
    staffed.retry_delivery(reply_id, "eli")
    message, outbox = delivery(staffed, reply_id)
    assert (message.delivery_state, message.delivery_error) == ("queued", None)
    assert outbox.state == "queued" and outbox.next_attempt_at == clock.now
    after = ticket(staffed)
    assert after.version == version + 1 and after.updated_at == clock.now
    [event] = events(staffed, "message.retry")
    assert event.actor == "eli" and event.ticket_id == after.id
    assert json.loads(event.data) == {"message": reply_id}
    assert event.created_at == clock.now


def test_only_a_failed_delivery_is_retried(staffed: Desk) -> None:
    reply_id = staffed.reply(1001, "dana", "On it").message_id
    version = ticket(staffed).version
    with pytest.raises(DeskError, match="waiting, not failed"):  # no SMTP on this desk
        staffed.retry_delivery(reply_id, "dana")
    mark(staffed, reply_id, "queued")
    with pytest.raises(DeskError, match="queued, not failed"):
        staffed.retry_delivery(reply_id, "dana")
    mark(staffed, reply_id, "sent")
    with pytest.raises(DeskError, match="sent, not failed"):
        staffed.retry_delivery(reply_id, "dana")
    message, outbox = delivery(staffed, reply_id)
    assert message.delivery_state == outbox.state == "sent"
    assert ticket(staffed).version == version
    assert events(staffed, "message.retry") == []


def test_a_retried_delivery_cannot_be_retried_twice(staffed: Desk) -> None:
    reply_id = staffed.reply(1001, "dana", "On it").message_id
    mark(staffed, reply_id, "failed", "timeout")
    staffed.retry_delivery(reply_id, "dana")
    with pytest.raises(DeskError, match="queued, not failed"):
        staffed.retry_delivery(reply_id, "dana")
    assert len(events(staffed, "message.retry")) == 1


def test_what_is_not_an_outbound_message_is_not_found(staffed: Desk) -> None:
    with staffed.store.read() as s:
        inbound_id = s.execute(select(Message.id).where(Message.kind == "inbound")).scalar_one()
    with pytest.raises(NotFound, match=f"no outbound message {inbound_id}"):
        staffed.retry_delivery(inbound_id, "dana")
    with pytest.raises(NotFound, match="no outbound message 9999"):
        staffed.retry_delivery(9999, "dana")


def test_a_stranger_cannot_retry(staffed: Desk) -> None:
    reply_id = staffed.reply(1001, "dana", "On it").message_id
    mark(staffed, reply_id, "failed", "timeout")
    with pytest.raises(NotFound, match="sdesk agent add zed"):
        staffed.retry_delivery(reply_id, "zed")
    message, outbox = delivery(staffed, reply_id)
    assert message.delivery_state == outbox.state == "failed"


def test_a_failed_delivery_without_its_outbox_row_says_so(staffed: Desk) -> None:
    reply_id = staffed.reply(1001, "dana", "On it").message_id
    mark(staffed, reply_id, "failed", "timeout")
    with staffed.store.write() as s:
        s.delete(s.execute(select(Outbox)).scalar_one())
    with pytest.raises(NotFound, match="nothing in the outbox"):
        staffed.retry_delivery(reply_id, "dana")
    with staffed.store.read() as s:
        message = s.get(Message, reply_id)
    assert message is not None and message.delivery_state == "failed"


def test_a_failed_call_is_retried_too(tmp_path: Path, clock: FakeClock) -> None:
    settings = Settings(
        desk_domain="desk.test",
        telephony=TelephonySettings(provider="twilio", from_number="+15550100"),
    )
    d = Desk(open_store(tmp_path / "calls.db"), settings, clock=clock)
    try:
        d.add_agent("dana", role=Role.DISPATCHER, phone="+12125550141")
        phone = ContactRef(ContactKind.PHONE, "+12015550123")
        d.intake(chat(Channel.SMS, "s1", "call me", phone))
        call_id = d.call_customer(1001, "dana", "+12015550123")
        mark(d, call_id, "failed", "busy")
        d.retry_delivery(call_id, "dana")
        message, outbox = delivery(d, call_id)
        assert message.delivery_state == outbox.state == "queued"
        assert (outbox.kind, outbox.recipient) == ("call", "+12015550123")
    finally:
        d.close()


# -- rate --------------------------------------------------------------------------------------


@pytest.mark.parametrize("score", [1, 2, 3, 4, 5])
def test_a_rating_from_one_to_five_is_stored(staffed: Desk, score: int) -> None:
    version = ticket(staffed).version
    staffed.rate(1001, score, "thanks")
    t = ticket(staffed)
    assert t.rating == score and t.version == version + 1
    [event] = events(staffed, "ticket.rated")
    assert event.actor == "customer" and event.ticket_id == t.id
    assert json.loads(event.data) == {"score": score, "comment": "thanks", "via": "agent"}


@pytest.mark.parametrize("score", [0, 6, -1, 10])
def test_a_rating_outside_one_to_five_is_refused(staffed: Desk, score: int) -> None:
    staffed.rate(1001, 4)
    with pytest.raises(DeskError, match=f"a rating is 1 to 5, not {score}"):
        staffed.rate(1001, score)
    assert ticket(staffed).rating == 4
    assert len(events(staffed, "ticket.rated")) == 1


def test_a_later_rating_replaces_the_first(staffed: Desk, clock: FakeClock) -> None:
    staffed.rate(1001, 2, "slow")
    clock.advance(days=1)
    staffed.rate(1001, 5, "x" * 5000)
    t = ticket(staffed)
    assert t.rating == 5 and t.updated_at == clock.now
    last = events(staffed, "ticket.rated")[-1]
    assert len(json.loads(last.data)["comment"]) == 2000


def test_rating_an_unknown_ticket_is_not_found(staffed: Desk) -> None:
    with pytest.raises(NotFound, match="no ticket #4242"):
        staffed.rate(4242, 5)


def test_rating_a_merged_ticket_rates_the_ticket_it_went_into(staffed: Desk) -> None:
    staffed.intake(email("second@x", frm="bob@example.org", subject="Also VPN"))
    staffed.merge(1002, 1001, "dana")
    staffed.rate(1002, 5)  # the customer rates the number they were given
    assert ticket(staffed, 1001).rating == 5
    assert ticket(staffed, 1002).rating is None
