"""Operator acts: each one transaction with its event, outbox row for replies, roles enforced."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from sdesk.core.desk import Desk
from sdesk.core.enums import Channel, ContactKind, Priority, Role, Status
from sdesk.core.errors import DeskError, NoRoute, NotFound, PermissionDenied, StaleTicket
from sdesk.core.inbound import ContactRef
from sdesk.store.models import Event, Message, Outbox, Ticket
from tests.conftest import FakeClock
from tests.factories import chat, email


def ticket(desk: Desk, number: int = 1001) -> Ticket:
    with desk.store.read() as s:
        return s.execute(select(Ticket).where(Ticket.number == number)).scalar_one()


def events(desk: Desk) -> list[str]:
    with desk.store.read() as s:
        return list(s.execute(select(Event.kind).order_by(Event.id)).scalars())


def test_reply_queues_an_outbox_row_with_threading(staffed: Desk, clock: FakeClock) -> None:
    clock.advance(minutes=30)
    row_id = staffed.reply(1001, "dana", "Restart the client, please.").message_id
    with staffed.store.read() as s:
        out = s.execute(select(Outbox)).scalar_one()
        msg = s.get(Message, row_id)
    payload = json.loads(out.payload)
    assert out.state == "queued" and out.recipient == "ann@example.org" and out.channel == "email"
    assert payload["in_reply_to"] == "root@x" and payload["references"] == ["root@x"]
    assert payload["subject"] == "Re: VPN down [#1001]"
    assert msg is not None and msg.author_name == "Dana"
    # This desk has no mailbox with SMTP: stored and queued, its delivery waiting with the reason.
    assert (msg.delivery_state, msg.delivery_error) == (
        "waiting",
        "no mailbox with SMTP is configured",
    )
    t = ticket(staffed)
    assert t.status == "open" and t.first_response_at == clock.now and t.version == 2
    assert events(staffed)[-1] == "message.replied"


def test_reply_goes_back_through_the_chat_channel(desk: Desk) -> None:
    desk.add_agent("dana", role=Role.DISPATCHER)
    desk.intake(chat(Channel.TELEGRAM, "u1", "help", ContactRef(ContactKind.TELEGRAM, "555")))
    desk.reply(1001, "dana", "On it")
    with desk.store.read() as s:
        out = s.execute(select(Outbox)).scalar_one()
    assert (out.channel, out.recipient) == ("telegram", "555")


def test_reply_without_an_address_is_refused(desk: Desk) -> None:
    desk.add_agent("dana", role=Role.DISPATCHER)
    desk.intake(email(None, frm="", raw=b"x"))
    with pytest.raises(NoRoute, match="no address"):
        desk.reply(1001, "dana", "hello?")


def test_note_is_internal_and_writes_no_outbox(staffed: Desk) -> None:
    staffed.add_note(1001, "eli", "Customer is on the old firmware.")
    with staffed.store.read() as s:
        note = s.execute(select(Message).where(Message.kind == "note")).scalar_one()
        assert s.execute(select(Outbox)).first() is None
    assert note.channel == "internal"


def test_roles_are_enforced_by_the_core(staffed: Desk) -> None:
    staffed.assign(1001, "eli", "eli")  # an engineer may take a ticket
    with pytest.raises(PermissionDenied):
        staffed.assign(1001, "eli", "dana")  # but not hand it to someone else
    with pytest.raises(PermissionDenied):
        staffed.set_priority(1001, "eli", Priority.URGENT)
    staffed.assign(1001, "dana", "eli")
    assert ticket(staffed).assignee_id is not None


def test_unknown_agent_is_told_how_to_add_itself(staffed: Desk) -> None:
    with pytest.raises(NotFound, match="sdesk agent add zed"):
        staffed.add_note(1001, "zed", "hi")


def test_stale_change_is_refused(staffed: Desk) -> None:
    seen = ticket(staffed).version
    staffed.set_status(1001, "dana", Status.PENDING, expected_version=seen)
    with pytest.raises(StaleTicket):
        staffed.set_priority(1001, "dana", Priority.HIGH, expected_version=seen)


def test_priority_change_moves_the_sla(staffed: Desk, clock: FakeClock) -> None:
    staffed.set_priority(1001, "dana", Priority.URGENT)
    t = ticket(staffed)
    assert (t.first_response_due - t.created_at).total_seconds() == 3600


def test_status_life_cycle(staffed: Desk) -> None:
    staffed.set_status(1001, "dana", Status.RESOLVED)
    assert ticket(staffed).resolved_at is not None
    staffed.set_status(1001, "dana", Status.CLOSED)
    with pytest.raises(DeskError, match="closed"):
        staffed.reply(1001, "dana", "late")
    with pytest.raises(DeskError, match="only be reopened"):
        staffed.set_status(1001, "dana", Status.PENDING)
    staffed.set_status(1001, "dana", Status.OPEN)
    assert ticket(staffed).closed_at is None


def test_merge_moves_the_thread(staffed: Desk) -> None:
    staffed.intake(email("second@x", subject="VPN still down", frm="ann@example.org"))
    staffed.reply(1002, "dana", "Looking into it")
    staffed.merge(1002, 1001, "dana")
    with staffed.store.read() as s:
        texts = (
            s.execute(select(Message.kind).join(Ticket).where(Ticket.number == 1001))
            .scalars()
            .all()
        )
    assert sorted(texts) == ["inbound", "inbound", "reply", "system"]
    with staffed.store.read() as s:
        outbox_ticket = s.execute(select(Outbox.ticket_id)).scalar_one()
    assert outbox_ticket == ticket(staffed, 1001).id  # the delivery follows its message
    assert ticket(staffed, 1002).status == "closed"
    reply = staffed.intake(email("third@x", subject="Re: [#1002]"))
    assert reply.ticket_number == 1001  # mail to a merged ticket follows the merge
    with pytest.raises(DeskError, match="merged into #1001"):
        staffed.add_note(1002, "dana", "x")


def test_reply_after_a_bounce_goes_to_the_customer_not_the_robot(staffed: Desk) -> None:
    from sdesk.core.enums import AutoKind

    staffed.reply(1001, "dana", "First answer")
    staffed.intake(
        email(
            "dsn@x",
            frm="mailer-daemon@example.org",
            subject="Undelivered [#1001]",
            auto=AutoKind.BOUNCE,
        )
    )
    staffed.reply(1001, "dana", "Second try")
    with staffed.store.read() as s:
        recipients = s.execute(select(Outbox.recipient).order_by(Outbox.id)).scalars().all()
    assert recipients == ["ann@example.org", "ann@example.org"]


def test_only_an_admin_adds_agents_once_there_is_one(desk: Desk) -> None:
    desk.add_agent("root-admin", role=Role.ADMIN)
    desk.add_agent("dana", role=Role.DISPATCHER, by="root-admin")
    with pytest.raises(PermissionDenied):
        desk.add_agent("eve", by="dana")
    with pytest.raises(PermissionDenied):
        desk.add_agent("eve")


def test_ticket_detail_has_the_changes_for_the_thread_timeline(
    staffed: Desk, clock: FakeClock
) -> None:
    from sdesk.store.queries import ticket_detail

    staffed.assign(1001, "dana", "dana")
    clock.advance(minutes=1)
    staffed.set_priority(1001, "dana", Priority.HIGH)
    clock.advance(minutes=1)
    staffed.set_status(1001, "dana", Status.RESOLVED)
    staffed.rate(1001, 4)
    with staffed.store.read() as s:
        detail = ticket_detail(s, 1001)
    assert detail is not None
    assert [(e.kind, e.actor) for e in detail.events] == [
        ("ticket.assigned", "dana"),
        ("ticket.priority", "dana"),
        ("ticket.resolved", "dana"),
        ("ticket.rated", "customer"),
    ]
    assert detail.events[1].data == {"previous": "normal", "priority": "high"}
    assert detail.events[3].data["score"] == 4
