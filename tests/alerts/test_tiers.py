"""Each tier fires for its rule, through the real notifier and a real server on loopback:
ordinary by email (outbox, aiosmtpd), fast by push (apprise → a ntfy endpoint) and the
console, urgent by SMS and emergency by a voice call (the local Twilio server)."""

from __future__ import annotations

from sdesk.channels.dispatcher import Dispatcher, email_senders
from sdesk.core.enums import Priority, Status
from tests.alerts.conftest import PHONES, MakeDesk, PushServer, alerts_of, notices, runtime, ticket
from tests.conftest import FakeClock
from tests.integration.mailservers import SmtpServer
from tests.twilio.twilioapi import TwilioServer


def test_a_high_priority_ticket_pushes_to_the_whole_team(
    make_desk: MakeDesk, push_server: PushServer
) -> None:
    desk = make_desk()
    rt = runtime(desk)
    number = ticket(desk, priority=Priority.HIGH, subject="Core switch down")
    ticket(desk, priority=Priority.NORMAL)  # no rule for a normal one
    assert rt.tail() > 0

    [alert] = alerts_of(desk)
    assert (alert.rule, alert.tier) == ("high-ticket-push", "fast")
    assert sorted(push_server.topics()) == ["alice", "bob", "carol"]
    body = push_server.received[0]
    assert f"#{number}" in body["title"] and "Core switch down" in body["title"]
    assert {(n.agent, n.medium, n.state) for n in notices(desk)} == {
        (who, medium, "sent") for who in ("alice", "bob", "carol") for medium in ("push", "console")
    }


def test_assignment_mails_the_assignee_through_the_outbox(
    make_desk: MakeDesk, smtp: SmtpServer
) -> None:
    desk = make_desk()
    rt = runtime(desk)
    number = ticket(desk)
    desk.assign(number, "alice", "bob")
    rt.tail()
    [notice] = notices(desk)
    assert (notice.agent, notice.medium, notice.state) == ("bob", "email", "handed")

    Dispatcher(desk, email_senders(desk)).run_once()
    [mail] = smtp.wait_for(1)
    assert mail.rcpt_tos == ("bob@desk.test",)
    assert f"#{number}" in mail.message["Subject"]
    assert mail.message["Auto-Submitted"] == "auto-replied"


def test_an_urgent_ticket_unassigned_for_ten_minutes_texts_whoever_is_on_call(
    make_desk: MakeDesk, twilio: TwilioServer, clock: FakeClock
) -> None:
    desk = make_desk()
    rt = runtime(desk)
    ticket(desk, priority=Priority.URGENT)
    rt.tail()
    clock.advance(minutes=9)
    rt.watch()
    rt.tail()
    assert twilio.count("messages.create") == 0
    clock.advance(minutes=1)
    assert rt.watch() == 1
    rt.tail()
    assert twilio.count("messages.create") == 1
    text = twilio.last_text()
    assert text.to == PHONES["alice"]  # on call this week
    [alert] = [a for a in alerts_of(desk) if a.rule == "urgent-unassigned-sms"]
    assert f"ACK {alert.id}" in text.body
    [sms] = notices(desk, medium="sms")
    assert (sms.state, sms.ref) == ("sent", text.sid)
    rt.watch()  # once per ticket, however often it looks
    rt.tail()
    assert twilio.count("messages.create") == 1


def test_an_sla_breach_on_an_urgent_ticket_calls_the_on_call_engineer(
    make_desk: MakeDesk, twilio: TwilioServer, clock: FakeClock
) -> None:
    desk = make_desk()
    rt = runtime(desk)
    ticket(desk, priority=Priority.URGENT)
    desk.assign(desk_first(desk), "carol", "carol")  # assigned: no SMS rule; the SLA runs on
    rt.tail()
    clock.advance(minutes=61)
    rt.watch()
    rt.tail()
    assert twilio.count("calls.create") == 1
    call = twilio.last_call()
    assert call.to == PHONES["alice"]
    [voice] = notices(desk, medium="voice")
    twiml = twilio.requests[-1].get("Twiml") or ""
    assert '<Gather numDigits="1"' in twiml and "Press 1 to acknowledge" in twiml
    assert f"https://desk.example.com/twilio/alerts/{voice.id}/gather" in twiml


def desk_first(desk: object) -> int:
    from sqlalchemy import func, select

    from sdesk.core.desk import Desk
    from sdesk.store.models import Ticket

    assert isinstance(desk, Desk)
    with desk.store.read() as s:
        return int(s.execute(select(func.max(Ticket.number))).scalar_one())


def test_a_resolved_ticket_stops_its_escalation_without_an_acknowledgement(
    make_desk: MakeDesk, twilio: TwilioServer, clock: FakeClock
) -> None:
    """Nobody is called at night for a ticket a colleague has already resolved: the next step
    finds the ticket settled and ends the alert instead of escalating."""
    desk = make_desk()
    rt = runtime(desk)
    number = ticket(desk, priority=Priority.URGENT)
    rt.tail()
    clock.advance(minutes=10)
    assert rt.watch() == 1
    rt.tail()  # step 1 of the shipped "page" policy: the on-call engineer gets a text
    assert twilio.count("messages.create") == 1
    [alert] = [a for a in alerts_of(desk) if a.rule == "urgent-unassigned-sms"]
    assert alert.state == "active" and alert.next_at is not None
    desk.assign(number, "bob", "bob")
    desk.set_status(number, "bob", Status.RESOLVED)
    calls_before = twilio.count("calls.create")
    for _ in range(6):
        clock.advance(minutes=10)
        rt.run_due()
    assert twilio.count("calls.create") == calls_before and twilio.count("messages.create") == 1
    [ended] = [a for a in alerts_of(desk) if a.id == alert.id]
    assert (ended.state, ended.next_at, ended.acked_by) == ("done", None, None)
