"""Intake on a real SQLite desk: idempotency, threading, customers across channels, flags."""

from __future__ import annotations

from sqlalchemy import func, select

from sdesk.core.desk import Desk
from sdesk.core.enums import AutoKind, Channel, ContactKind, MessageKind, Role, Status
from sdesk.core.inbound import ContactRef
from sdesk.core.intake import Outcome
from sdesk.store.models import Contact, Customer, Event, Message, Ticket
from tests.conftest import FakeClock
from tests.factories import chat, email


def count(desk: Desk, model: type) -> int:
    with desk.store.read() as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


def test_same_message_twice_is_stored_once(desk: Desk) -> None:
    first = desk.intake(email("m1@example.org"))
    again = desk.intake(email("m1@example.org"))
    assert first.outcome is Outcome.CREATED and first.ticket_number == 1001
    assert again.outcome is Outcome.DUPLICATE
    assert count(desk, Message) == 1 and count(desk, Ticket) == 1


def test_missing_message_id_keys_by_raw_bytes(desk: Desk) -> None:
    a = desk.intake(email(None, raw=b"Subject: a\n\nbody one"))
    b = desk.intake(email(None, raw=b"Subject: a\n\nbody two"))
    c = desk.intake(email(None, raw=b"Subject: a\n\nbody one"))
    outcomes = (a.outcome, b.outcome, c.outcome)
    assert outcomes == (Outcome.CREATED, Outcome.CREATED, Outcome.DUPLICATE)


def test_reused_message_id_with_other_bytes_is_kept(desk: Desk) -> None:
    desk.intake(email("same@x", raw=b"Subject: one\n\nfirst"))
    second = desk.intake(email("same@x", raw=b"Subject: two\n\nsecond", text="second"))
    third = desk.intake(email("same@x", raw=b"Subject: two\n\nsecond", text="second"))
    assert second.outcome is not Outcome.DUPLICATE
    assert third.outcome is Outcome.DUPLICATE
    assert count(desk, Message) == 2


def test_threads_by_references(desk: Desk) -> None:
    desk.intake(email("root@x"))
    reply = desk.intake(email("r2@x", subject="Re: other words", references=("zz@x", "root@x")))
    assert reply.outcome is Outcome.APPENDED and reply.ticket_number == 1001


def test_threads_by_subject_tag(desk: Desk) -> None:
    desk.intake(email("root@x"))
    other = desk.intake(email("t2@x", frm="bob@example.org", subject="About [#1001] again"))
    assert other.outcome is Outcome.APPENDED and other.ticket_number == 1001


def test_reply_to_our_outbound_message_id_threads_back(desk: Desk) -> None:
    desk.intake(email("root@x"))
    desk.add_agent("kim", name="Kim", role=Role.DISPATCHER)
    row = desk.reply(1001, "kim", "Have you tried turning it off?").message_id
    with desk.store.read() as s:
        ours = s.get(Message, row)
        assert ours is not None and ours.message_id and ours.message_id.endswith("@desk.test")
        our_id = ours.message_id
    answer = desk.intake(email("a3@x", subject="Re: fixed", in_reply_to=(our_id,)))
    assert answer.outcome is Outcome.APPENDED and answer.ticket_number == 1001


def test_unrelated_mail_opens_a_new_ticket(desk: Desk) -> None:
    desk.intake(email("root@x"))
    assert desk.intake(email("other@x", subject="New problem")).ticket_number == 1002


def test_one_customer_across_email_telegram_and_phone(desk: Desk) -> None:
    desk.intake(email("e1@x", frm="Ann@Example.org"))
    tg = ContactRef(ContactKind.TELEGRAM, "4242")
    mail = ContactRef(ContactKind.EMAIL, "ann@example.org")
    phone = ContactRef(ContactKind.PHONE, "+14155550123")
    desk.intake(chat(Channel.TELEGRAM, "tg-1", "hi on telegram", tg, mail))
    desk.intake(chat(Channel.PHONE, "call-1", "Inbound call, 2 min", phone, tg))
    desk.intake(chat(Channel.SMS, "sms-1", "sms text", phone))
    assert count(desk, Customer) == 1
    with desk.store.read() as s:
        kinds = sorted(s.execute(select(Contact.kind)).scalars())
        channels = sorted(s.execute(select(Ticket.channel)).scalars())
        call_kind = s.execute(select(Message.kind).where(Message.channel == "phone")).scalar_one()
    assert kinds == ["email", "phone", "telegram"]
    assert channels == ["email", "phone", "sms", "telegram"]
    assert call_kind == MessageKind.CALL.value


def test_chat_messages_join_the_open_chat_ticket_until_closed(desk: Desk) -> None:
    tg = ContactRef(ContactKind.TELEGRAM, "77")
    desk.add_agent("kim", role=Role.SUPERVISOR)
    assert desk.intake(chat(Channel.TELEGRAM, "u1", "hello", tg)).outcome is Outcome.CREATED
    assert desk.intake(chat(Channel.TELEGRAM, "u2", "still there?", tg)).ticket_number == 1001
    desk.set_status(1001, "kim", Status.RESOLVED)
    reopened = desk.intake(chat(Channel.TELEGRAM, "u3", "it broke again", tg))
    assert reopened.ticket_number == 1001
    with desk.store.read() as s:
        assert s.execute(select(Ticket.status)).scalar_one() == "open"
    desk.set_status(1001, "kim", Status.CLOSED)
    assert desk.intake(chat(Channel.TELEGRAM, "u4", "new issue", tg)).ticket_number == 1002


def test_auto_reply_and_bounce_are_flagged_and_do_not_reopen(desk: Desk, clock: FakeClock) -> None:
    desk.intake(email("root@x"))
    desk.add_agent("kim", role=Role.SUPERVISOR)
    desk.set_status(1001, "kim", Status.RESOLVED)
    ooo = desk.intake(email("ooo@x", subject="Out of office [#1001]", auto=AutoKind.AUTO_REPLY))
    bounce = desk.intake(email("dsn@x", frm="mailer-daemon@x.org", auto=AutoKind.BOUNCE))
    assert ooo.auto is AutoKind.AUTO_REPLY and bounce.auto is AutoKind.BOUNCE
    with desk.store.read() as s:
        autos = sorted(filter(None, s.execute(select(Message.auto)).scalars()))
        status = s.execute(select(Ticket.status).where(Ticket.number == 1001)).scalar_one()
    assert autos == ["auto_reply", "bounce"]
    assert status == "resolved"


def test_intake_records_events(desk: Desk) -> None:
    desk.intake(email("root@x"))
    desk.intake(email("r@x", references=("root@x",)))
    with desk.store.read() as s:
        kinds = list(s.execute(select(Event.kind).order_by(Event.id)).scalars())
    assert kinds == ["ticket.created", "message.received", "message.received"]


def test_sla_due_times_follow_priority(desk: Desk, clock: FakeClock) -> None:
    desk.intake(email("root@x"))
    with desk.store.read() as s:
        t = s.execute(select(Ticket)).scalar_one()
    assert (t.first_response_due - clock.now).total_seconds() == 8 * 3600


def test_original_arriving_after_its_reply_joins_the_reply_ticket(desk: Desk) -> None:
    early = desk.intake(email("child@x", subject="Re: Modem", in_reply_to=("parent@x",)))
    late = desk.intake(email("parent@x", subject="Modem"))
    assert early.outcome is Outcome.CREATED
    assert late.outcome is Outcome.APPENDED and late.ticket_number == early.ticket_number
    with desk.store.read() as s:
        assert s.execute(select(Ticket.subject)).scalar_one() == "Modem"
