"""Calling a customer: telephony set up or not, whose number, which numbers are refused, what the
call writes, and that a call never becomes the address replies go to."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import phonenumbers
import pytest
from sqlalchemy import func, select

from sdesk.config import Settings, TelephonySettings
from sdesk.core.calls import check_callable, telephony_problem
from sdesk.core.desk import Desk
from sdesk.core.enums import Channel, ContactKind, Role, Status
from sdesk.core.errors import DeskError, NoRoute, NotFound, StaleTicket
from sdesk.core.inbound import ContactRef
from sdesk.store.engine import open_store
from sdesk.store.models import Agent, Event, Message, Outbox, Ticket
from sdesk.store.queries import customer_card
from tests.conftest import FakeClock
from tests.factories import chat, email

ANN_PHONE = "+12015550123"
PREMIUM = "+19005550123"  # US 900: premium rate
SHARED_COST = "+33810123456"  # French 0810: shared cost


def _staff_and_customer(d: Desk, clock: FakeClock) -> None:
    d.add_agent("dana", name="Dana", role=Role.DISPATCHER, phone="+12125550141")
    d.add_agent("eli", name="Eli", role=Role.ENGINEER, phone="+14155550142")
    # Ann texts from her phone and gives her mail address too: one customer, two contacts.
    phone = ContactRef(ContactKind.PHONE, "+1 (201) 555-0123")
    mail = ContactRef(ContactKind.EMAIL, "ann@example.org")
    assert d.intake(chat(Channel.SMS, "sms-1", "Call me back", phone, mail)).ticket_number == 1001
    clock.advance(minutes=10)
    assert d.intake(email("mail-1@x", subject="Router broken")).ticket_number == 1002


@pytest.fixture
def phone_desk(desk_url: str, tmp_path: Path, clock: FakeClock) -> Iterator[Desk]:
    """On SQLite and PostgreSQL: "one call at a time" rests on a unique column on both."""
    settings = Settings(
        desk_domain="desk.test",
        telephony=TelephonySettings(provider="twilio", from_number="+15550100"),
    )
    d = Desk(open_store(desk_url, attachments=tmp_path / "files"), settings, clock=clock)
    _staff_and_customer(d, clock)
    yield d
    d.close()


def ticket(desk: Desk, number: int) -> Ticket:
    with desk.store.read() as s:
        return s.execute(select(Ticket).where(Ticket.number == number)).scalar_one()


def written(desk: Desk) -> tuple[int, int, int]:
    """(call messages, calls in the outbox, call events): what a refused call must not have
    written (closing a ticket queues the customer's satisfaction notice: not a call's)."""
    with desk.store.read() as s:
        calls = s.execute(
            select(func.count())
            .select_from(Message)
            .where(Message.kind == "call", Message.author_agent_id.is_not(None))
        ).scalar_one()
        outbox = s.execute(
            select(func.count()).select_from(Outbox).where(Outbox.kind == "call")
        ).scalar_one()
        events = s.execute(
            select(func.count()).select_from(Event).where(Event.kind == "call.requested")
        ).scalar_one()
    return calls, outbox, events


def test_without_telephony_a_call_has_no_route(desk: Desk, clock: FakeClock) -> None:
    _staff_and_customer(desk, clock)
    problem = telephony_problem(desk)
    assert problem is not None and "[telephony]" in problem
    with pytest.raises(NoRoute, match=r"\[telephony\] provider"):
        desk.call_customer(1002, "dana", ANN_PHONE)
    assert written(desk) == (0, 0, 0)
    assert ticket(desk, 1002).version == 1


def test_telephony_without_a_caller_id_is_named(tmp_path: Path, clock: FakeClock) -> None:
    settings = Settings(desk_domain="desk.test", telephony=TelephonySettings(provider="twilio"))
    d = Desk(open_store(tmp_path / "nocid.db"), settings, clock=clock)
    try:
        _staff_and_customer(d, clock)
        with pytest.raises(NoRoute, match=r"\[telephony\] from_number"):
            d.call_customer(1002, "dana", ANN_PHONE)
        assert written(d) == (0, 0, 0)
    finally:
        d.close()


def test_telephony_set_up_has_no_problem(phone_desk: Desk) -> None:
    assert telephony_problem(phone_desk) is None


def test_a_number_that_is_not_the_customers_is_refused(phone_desk: Desk) -> None:
    # Bob is a customer too, but not on this ticket.
    bob = ContactRef(ContactKind.PHONE, "+12015550177")
    phone_desk.intake(chat(Channel.SMS, "sms-bob", "hi", bob, name="Bob"))
    with pytest.raises(DeskError, match=r"\+12015550177 is not a number of this ticket's"):
        phone_desk.call_customer(1002, "dana", "+1 201 555 0177")
    with pytest.raises(DeskError, match="is not a phone number"):
        phone_desk.call_customer(1002, "dana", "call me maybe")
    assert written(phone_desk) == (0, 0, 0)


@pytest.mark.parametrize(
    ("number", "kind", "words"),
    [
        (PREMIUM, phonenumbers.PhoneNumberType.PREMIUM_RATE, "premium-rate"),
        (SHARED_COST, phonenumbers.PhoneNumberType.SHARED_COST, "shared-cost"),
    ],
)
def test_premium_and_shared_cost_numbers_are_refused(
    phone_desk: Desk, number: str, kind: int, words: str
) -> None:
    assert phonenumbers.number_type(phonenumbers.parse(number)) == kind
    with pytest.raises(DeskError, match=words):
        check_callable(number, "US")
    # Even when it is the customer's own number.
    own = ContactRef(ContactKind.PHONE, number)
    result = phone_desk.intake(chat(Channel.SMS, f"sms-{number}", "hi", own, name="Pat"))
    assert result.ticket_number is not None
    with pytest.raises(DeskError, match="sdesk does not dial those"):
        phone_desk.call_customer(result.ticket_number, "dana", number)
    assert written(phone_desk) == (0, 0, 0)


def test_check_callable_gives_e164() -> None:
    assert check_callable("(201) 555-0123", "US") == ANN_PHONE
    assert check_callable("030 1234567", "DE") == "+49301234567"
    with pytest.raises(DeskError, match="not a phone number"):
        check_callable("12", "US")


def test_a_call_is_logged_queued_and_audited(phone_desk: Desk, clock: FakeClock) -> None:
    clock.advance(minutes=5)
    before = ticket(phone_desk, 1002)
    message_id = phone_desk.call_customer(1002, "dana", "(201) 555-0123")
    with phone_desk.store.read() as s:
        msg = s.get(Message, message_id)
        out = s.execute(select(Outbox)).scalar_one()
        event = s.execute(select(Event).where(Event.kind == "call.requested")).scalar_one()
    assert msg is not None and msg.ticket_id == before.id
    assert (msg.kind, msg.channel, msg.delivery_state) == ("call", "phone", "queued")
    assert msg.author_address == ANN_PHONE and msg.author_name == "Dana"
    assert msg.author_agent_id is not None and msg.created_at == clock.now
    assert (out.kind, out.channel, out.state) == ("call", "phone", "queued")
    assert out.recipient == ANN_PHONE
    assert out.message_id == message_id and out.ticket_id == before.id
    assert out.next_attempt_at == clock.now
    call = json.loads(out.payload)
    assert call.pop("call") > 0
    assert call == {
        "op": "call",
        "ticket": 1002,
        "to": ANN_PHONE,
        "agent": "+12125550141",
        "from": "+15550100",
    }
    assert event.actor == "dana" and event.ticket_id == before.id
    assert json.loads(event.data) == {"message": message_id, "to": ANN_PHONE}
    after = ticket(phone_desk, 1002)
    assert after.version == before.version + 1 and after.updated_at == clock.now


def test_one_call_at_a_time_per_ticket(phone_desk: Desk) -> None:
    first = phone_desk.call_customer(1002, "dana", ANN_PHONE)
    with pytest.raises(DeskError, match="already under way"):
        phone_desk.call_customer(1002, "eli", ANN_PHONE)
    assert written(phone_desk) == (1, 1, 1)
    phone_desk.phone.hang_up(1002, "dana")  # not placed yet: canceled here
    second = phone_desk.call_customer(1002, "dana", ANN_PHONE)
    assert first != second
    assert written(phone_desk) == (2, 2, 2)


def test_a_stale_call_is_refused(phone_desk: Desk) -> None:
    seen = ticket(phone_desk, 1002).version
    phone_desk.set_status(1002, "dana", Status.PENDING)
    with pytest.raises(StaleTicket):
        phone_desk.call_customer(1002, "dana", ANN_PHONE, expected_version=seen)
    assert written(phone_desk) == (0, 0, 0)
    now = ticket(phone_desk, 1002).version
    phone_desk.call_customer(1002, "dana", ANN_PHONE, expected_version=now)
    assert ticket(phone_desk, 1002).version == now + 1


def test_dispatchers_and_engineers_may_call_and_strangers_are_told_how(phone_desk: Desk) -> None:
    phone_desk.call_customer(1002, "dana", ANN_PHONE)
    phone_desk.call_customer(1001, "eli", ANN_PHONE)
    assert written(phone_desk) == (2, 2, 2)
    with pytest.raises(NotFound, match="sdesk agent add zed"):
        phone_desk.call_customer(1002, "zed", ANN_PHONE)
    assert written(phone_desk) == (2, 2, 2)


def test_closed_and_merged_tickets_are_not_called(phone_desk: Desk) -> None:
    phone_desk.set_status(1001, "dana", Status.CLOSED)
    with pytest.raises(DeskError, match="closed"):
        phone_desk.call_customer(1001, "dana", ANN_PHONE)
    phone_desk.set_status(1001, "dana", Status.OPEN)
    phone_desk.merge(1001, 1002, "dana")
    with pytest.raises(DeskError, match="merged into #1002"):
        phone_desk.call_customer(1001, "dana", ANN_PHONE)
    assert written(phone_desk) == (0, 0, 0)


def test_after_a_call_the_reply_still_goes_by_mail(phone_desk: Desk, clock: FakeClock) -> None:
    clock.advance(minutes=1)
    phone_desk.call_customer(1002, "dana", ANN_PHONE)
    clock.advance(minutes=1)
    phone_desk.reply(1002, "dana", "As discussed on the phone: fixed.")
    with phone_desk.store.read() as s:
        reply = s.execute(select(Outbox).where(Outbox.kind == "reply")).scalar_one()
    assert (reply.channel, reply.recipient) == ("email", "ann@example.org")
    assert json.loads(reply.payload)["in_reply_to"] == "mail-1@x"


def test_after_a_call_to_another_number_a_caller_gets_sms_to_their_own(phone_desk: Desk) -> None:
    # Ann rang from her office line; the agent calls her back on her mobile.
    office = ContactRef(ContactKind.PHONE, "+12015550188")
    mobile = ContactRef(ContactKind.PHONE, ANN_PHONE)
    rang = phone_desk.intake(chat(Channel.PHONE, "call-in-1", "Missed call", office, mobile))
    assert rang.ticket_number == 1003
    phone_desk.call_customer(1003, "dana", ANN_PHONE)
    phone_desk.reply(1003, "dana", "Sorry we missed you")
    with phone_desk.store.read() as s:
        reply = s.execute(select(Outbox).where(Outbox.kind == "reply")).scalar_one()
    assert (reply.channel, reply.recipient) == ("sms", "+12015550188")


def test_customer_card_shows_every_contact_and_ticket(phone_desk: Desk) -> None:
    with phone_desk.store.read() as s:
        card = customer_card(s, 1001)
        short = customer_card(s, 1002, limit=1)
        assert customer_card(s, 99999) is None
    assert card is not None and short is not None
    assert card.name == "Ann Lee" and card.id == short.id
    assert [(c.kind, c.value) for c in card.contacts] == [
        ("email", "ann@example.org"),
        ("phone", ANN_PHONE),
    ]
    assert card.phones == (ANN_PHONE,)
    assert [t.number for t in card.tickets] == [1002, 1001] and not card.more_tickets
    assert [t.number for t in short.tickets] == [1002] and short.more_tickets


def test_customer_card_leaves_out_merged_tickets(phone_desk: Desk) -> None:
    phone_desk.merge(1001, 1002, "dana")
    with phone_desk.store.read() as s:
        card = customer_card(s, 1002)
    assert card is not None and [t.number for t in card.tickets] == [1002]


def test_the_daily_caps_count_the_days_calls(phone_desk: Desk, clock: FakeClock) -> None:
    tel = phone_desk.settings.telephony.model_copy(update={"agent_daily_calls": 1})
    phone_desk.settings = phone_desk.settings.model_copy(update={"telephony": tel})
    phone_desk.call_customer(1002, "dana", ANN_PHONE)
    phone_desk.phone.hang_up(1002, "dana")
    with pytest.raises(DeskError, match="agent_daily_calls"):
        phone_desk.call_customer(1002, "dana", ANN_PHONE)
    phone_desk.call_customer(1002, "eli", ANN_PHONE)  # another agent's own count
    phone_desk.phone.hang_up(1002, "eli")
    clock.advance(days=1)
    phone_desk.call_customer(1002, "dana", ANN_PHONE)  # a new day
    assert written(phone_desk) == (3, 3, 3)


def test_an_agents_own_phone_is_checked_too(phone_desk: Desk) -> None:
    with phone_desk.store.write() as s:
        agent = s.execute(select(Agent).where(Agent.login == "dana")).scalar_one()
        agent.phone = "+19005550123"  # premium rate, set before the checks existed
    with pytest.raises(DeskError, match="your profile's phone: .* premium-rate"):
        phone_desk.call_customer(1002, "dana", ANN_PHONE)
    assert written(phone_desk) == (0, 0, 0)
