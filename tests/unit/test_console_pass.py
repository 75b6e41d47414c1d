"""Issue 14, the core and store half: drafts in the desk, bulk acts, take next, pending pausing
the SLA clock, search over contacts with snippets, replies on a channel not set up, and canned
responses signed with the agent's name. Each runs on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from sdesk.config import MailboxSettings, Settings, SmtpSettings
from sdesk.core.bulk import BulkResult
from sdesk.core.desk import Desk
from sdesk.core.enums import Channel, ContactKind, Priority, Role, Status
from sdesk.core.errors import DeskError, NotFound, PermissionDenied
from sdesk.core.inbound import ContactRef
from sdesk.core.replies import fill_canned
from sdesk.store.engine import open_store
from sdesk.store.inbox import InboxFilter, inbox_page, search
from sdesk.store.models import Draft, Event, Message, Outbox, Ticket
from sdesk.store.queries import AgentRow, agent_row, ticket_detail
from tests.conftest import FakeClock
from tests.factories import chat, email


@pytest.fixture
def team(desk: Desk, clock: FakeClock) -> Desk:
    """Three agents and five email tickets, a minute apart (1001 oldest)."""
    desk.add_agent("dana", name="Dana Scully", role=Role.DISPATCHER)
    desk.add_agent("eli", name="Eli Wong", role=Role.ENGINEER)
    desk.add_agent("sam", name="Sam Roe", role=Role.SUPERVISOR)
    for i in range(5):
        clock.advance(minutes=1)
        desk.intake(email(f"t{i}@x", frm=f"c{i}@example.org", subject=f"Case {i}"))
    return desk


def ticket(desk: Desk, number: int) -> Ticket:
    with desk.store.read() as s:
        return s.execute(select(Ticket).where(Ticket.number == number)).scalar_one()


def events_of(desk: Desk, kind: str) -> list[tuple[int | None, dict[str, object]]]:
    with desk.store.read() as s:
        rows = s.execute(
            select(Event.ticket_id, Event.data).where(Event.kind == kind).order_by(Event.id)
        )
        return [(t, json.loads(d)) for t, d in rows]


def ids_to_numbers(desk: Desk, ids: list[int | None]) -> list[int]:
    with desk.store.read() as s:
        by_id = {i: n for i, n in s.execute(select(Ticket.id, Ticket.number))}
    return [by_id[i] for i in ids if i is not None]


# -- 1. drafts ---------------------------------------------------------------------------------


def test_a_draft_is_kept_per_agent_and_ticket_and_listed_newest_first(
    team: Desk, clock: FakeClock
) -> None:
    team.save_draft("dana", 1001, "Hello,\n\nwe are  looking at it")
    clock.advance(minutes=1)
    team.save_draft("dana", 1003, "x" * 200)
    team.save_draft("eli", 1001, "Eli's own words")
    clock.advance(minutes=1)
    team.save_draft("dana", 1001, "Hello, we fixed it")  # a later save replaces the text
    assert team.draft("dana", 1001) == "Hello, we fixed it"
    assert team.draft("eli", 1001) == "Eli's own words"
    assert team.draft("dana", 1002) is None
    rows = team.drafts("dana")
    assert [(r.number, r.subject) for r in rows] == [(1001, "Case 0"), (1003, "Case 2")]
    assert rows[0].preview == "Hello, we fixed it" and rows[0].updated_at == clock.now
    assert rows[1].preview.endswith("…") and len(rows[1].preview) == 80
    with team.store.read() as s:
        assert s.execute(select(func.count()).select_from(Draft)).scalar_one() == 3


def test_blank_text_or_drop_deletes_a_draft(team: Desk) -> None:
    team.save_draft("dana", 1001, "something")
    team.save_draft("dana", 1001, "  \n\t ")
    assert team.draft("dana", 1001) is None
    team.save_draft("dana", 1002, "keep me")
    team.drop_draft("dana", 1002)
    team.drop_draft("dana", 1002)  # dropping nothing is fine
    assert team.drafts("dana") == []
    with pytest.raises(NotFound, match="unknown agent"):
        team.save_draft("nobody", 1001, "x")
    with pytest.raises(NotFound, match="no ticket #999"):
        team.save_draft("dana", 999, "x")


def test_sending_the_reply_drops_the_agents_draft_only(team: Desk) -> None:
    team.save_draft("dana", 1001, "We are on it.")
    team.save_draft("eli", 1001, "Eli's note to self")
    team.save_draft("dana", 1002, "Another ticket")
    team.reply(1001, "dana", "We are on it.")
    assert team.draft("dana", 1001) is None
    assert team.draft("eli", 1001) == "Eli's note to self"
    assert team.draft("dana", 1002) == "Another ticket"


def test_a_merge_moves_drafts_onto_the_target_and_joins_two(team: Desk) -> None:
    team.save_draft("dana", 1001, "Dana on the source")
    team.save_draft("dana", 1002, "Dana on the target")
    team.save_draft("eli", 1001, "Eli on the source")
    team.merge(1001, 1002, "sam")
    assert team.draft("dana", 1002) == "Dana on the target\n\nDana on the source"
    assert team.draft("eli", 1002) == "Eli on the source"
    assert team.draft("dana", 1001) == team.draft("dana", 1002)  # the old number forwards
    with team.store.read() as s:
        assert s.execute(select(func.count()).select_from(Draft)).scalar_one() == 2


# -- 2. bulk acts --------------------------------------------------------------------------------


def test_bulk_assign_is_one_act_with_one_event_per_changed_ticket(team: Desk) -> None:
    team.assign(1002, "dana", "eli")
    team.merge(1005, 1004, "sam")
    before = len(events_of(team, "ticket.assigned"))
    result = team.bulk_assign([1001, 1002, 1003, 1003, 999, 1005], "eli", "dana")
    assert result == BulkResult(
        changed=(1001, 1003),
        skipped=(
            (1002, "already assigned to eli"),
            (999, "no ticket #999"),
            (1005, "merged into #1004"),
        ),
    )
    assert result.summary() == "2 changed, 3 skipped"
    assigned = events_of(team, "ticket.assigned")[before:]
    assert ids_to_numbers(team, [t for t, _ in assigned]) == [1001, 1003]
    assert all(data["to"] == "eli" for _, data in assigned)
    assert ticket(team, 1001).version == 2


def test_a_refused_role_refuses_the_whole_bulk_act(team: Desk) -> None:
    with pytest.raises(PermissionDenied, match="eli"):
        team.bulk_assign([1001, 1002], "dana", "eli")  # an engineer may only take tickets
    with pytest.raises(PermissionDenied):
        team.bulk_set_priority([1001, 1002], Priority.URGENT, "eli")
    with pytest.raises(PermissionDenied):
        team.merge_many(1001, [1002], "eli")
    assert ticket(team, 1001).assignee_id is None and ticket(team, 1001).priority == "normal"
    assert events_of(team, "ticket.assigned") == []
    taken = team.bulk_assign([1001, 1002], "eli", "eli")  # taking them is allowed
    assert taken.changed == (1001, 1002)


def test_bulk_status_and_priority_skip_what_is_already_so(team: Desk, clock: FakeClock) -> None:
    team.set_status(1002, "dana", Status.CLOSED)
    until = clock.now + timedelta(days=2)
    result = team.bulk_set_status([1001, 1002, 1003], Status.PENDING, "dana", until=until)
    assert result.changed == (1001, 1003)
    assert result.skipped == ((1002, "ticket #1002 is closed; it can only be reopened"),)
    assert ticket(team, 1003).pending_until == until
    again = team.bulk_set_status([1001], Status.PENDING, "dana", until=until)
    assert again.skipped == ((1001, "already pending"),)
    prio = team.bulk_set_priority([1001, 1003, 1004], Priority.HIGH, "dana")
    assert prio.changed == (1001, 1003, 1004) and prio.skipped == ()
    assert team.bulk_set_priority([1001], Priority.HIGH, "dana").skipped == (
        (1001, "already high"),
    )
    assert len(events_of(team, "ticket.priority")) == 3
    with pytest.raises(DeskError, match="no tickets"):
        team.bulk_set_priority([], Priority.LOW, "dana")


def test_merge_many_merges_each_source_once(team: Desk) -> None:
    result = team.merge_many(1001, [1002, 1001, 1003, 1003, 998], "dana")
    assert result.changed == (1002, 1003)
    assert result.skipped == ((1001, "it is the ticket merged into"), (998, "no ticket #998"))
    assert len(events_of(team, "ticket.merged")) == 2
    with team.store.read() as s:
        detail = ticket_detail(s, 1003)
    assert detail is not None and detail.ticket.number == 1001
    with pytest.raises(DeskError, match="merge into that one"):
        team.merge_many(1002, [1004], "dana")  # 1002 itself went into 1001


# -- 3. take next --------------------------------------------------------------------------------


def test_take_next_takes_the_top_of_the_unassigned_view(team: Desk, clock: FakeClock) -> None:
    team.set_priority(1004, "dana", Priority.URGENT)  # the nearest deadline now
    team.assign(1001, "dana", "eli")
    team.set_status(1002, "dana", Status.PENDING)  # waits for the customer, not for an agent
    with team.store.read() as s:
        view = [r.number for r in inbox_page(s, InboxFilter(unassigned=True)).rows]
    assert view[0] == 1004
    assert team.take_next("eli") == 1004
    assert team.take_next("eli") == 1003
    assert ticket(team, 1004).assignee_id == ticket(team, 1001).assignee_id
    assert team.take_next("dana") == 1005
    assert team.take_next("dana") is None  # only the pending one is left unassigned
    assigned = events_of(team, "ticket.assigned")[-3:]
    assert [d["to"] for _, d in assigned] == ["eli", "eli", "dana"]
    with pytest.raises(NotFound):
        team.take_next("nobody")


def test_two_agents_taking_at_once_never_get_the_same_ticket(
    team: Desk, desk_url: str, clock: FakeClock
) -> None:
    for i in range(5, 25):
        team.intake(email(f"t{i}@x", frm=f"c{i}@example.org", subject=f"Case {i}"))
    desks = [
        Desk(open_store(desk_url), Settings(desk_domain="desk.test"), clock=clock) for _ in range(2)
    ]
    got: dict[str, list[int]] = {"dana": [], "eli": []}
    errors: list[BaseException] = []
    start = threading.Barrier(2, timeout=30)

    def take(d: Desk, who: str) -> None:
        try:
            start.wait()
            for _ in range(100):  # bounded: 25 tickets in all
                number = d.take_next(who)
                if number is None:
                    return
                got[who].append(number)
        except BaseException as exc:  # reported below, with the thread's name
            errors.append(exc)

    threads = [
        threading.Thread(target=take, args=(d, who), name=who)
        for d, who in zip(desks, got, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for d in desks:
        d.close()
    assert not errors, errors
    assert not any(t.is_alive() for t in threads)
    assert not set(got["dana"]) & set(got["eli"])
    assert sorted(got["dana"] + got["eli"]) == list(range(1001, 1026))
    assert len(events_of(team, "ticket.assigned")) == 25


# -- 4. pending stops the SLA clock --------------------------------------------------------------


def dues(desk: Desk, number: int) -> tuple[object, object]:
    t = ticket(desk, number)
    return t.first_response_due, t.resolution_due


def test_pending_stops_the_clock_and_an_agent_reopening_starts_it(
    team: Desk, clock: FakeClock
) -> None:
    first, resolution = dues(team, 1001)
    team.set_status(1001, "dana", Status.PENDING)
    with team.store.read() as s:
        row = next(r for r in inbox_page(s).rows if r.number == 1001)
    assert row.sla_due is None  # no countdown while pending
    clock.advance(hours=3)
    team.set_status(1001, "dana", Status.OPEN)
    assert dues(team, 1001) == (first + timedelta(hours=3), resolution + timedelta(hours=3))
    t = ticket(team, 1001)
    assert t.pending_since is None and t.sla_paused_seconds == 3 * 3600
    # A priority change recomputes from creation and keeps the pause.
    team.set_priority(1001, "dana", Priority.HIGH)
    team.set_priority(1001, "dana", Priority.NORMAL)
    assert dues(team, 1001) == (first + timedelta(hours=3), resolution + timedelta(hours=3))


def test_the_customers_answer_ends_the_pause(team: Desk, clock: FakeClock) -> None:
    first, _ = dues(team, 1001)
    team.set_status(1001, "dana", Status.PENDING, until=clock.now + timedelta(days=3))
    clock.advance(minutes=90)
    team.intake(
        email("answer@x", frm="c0@example.org", subject="Re: Case 0", in_reply_to=("t0@x",))
    )
    t = ticket(team, 1001)
    assert t.status == "open" and t.pending_until is None and t.pending_since is None
    assert t.first_response_due == first + timedelta(minutes=90)


def test_wake_pending_reopens_when_until_passes(team: Desk, clock: FakeClock) -> None:
    first, _ = dues(team, 1001)
    until = clock.now + timedelta(hours=2)
    team.set_status(1001, "dana", Status.PENDING, until=until)
    team.set_status(1002, "dana", Status.PENDING)  # no until: waits for the customer
    with team.store.read() as s:
        detail = ticket_detail(s, 1001)
    assert detail is not None and detail.ticket.pending_until == until
    assert team.wake_pending() == []
    clock.advance(hours=5)  # the poll loop came late: the clock ran again from ``until``
    assert team.wake_pending() == [1001]
    assert team.wake_pending() == []
    t = ticket(team, 1001)
    assert t.status == "open" and t.first_response_due == first + timedelta(hours=2)
    assert ticket(team, 1002).status == "pending"
    with pytest.raises(DeskError, match="already past"):
        team.set_status(1003, "dana", Status.PENDING, until=clock.now - timedelta(minutes=1))


# -- 6. search over contacts ---------------------------------------------------------------------


@pytest.fixture
def people(desk: Desk, clock: FakeClock) -> Desk:
    desk.add_agent("dana", role=Role.DISPATCHER)
    desk.intake(
        email("p1@x", frm="anna.berg@example.org", name="Anna Berg", subject="Router blinks")
    )
    clock.advance(minutes=1)
    phone = ContactRef(ContactKind.PHONE, "+15552000001")
    desk.intake(chat(Channel.SMS, "sms1", "no signal since the storm", phone, name="Bo Lund"))
    clock.advance(minutes=1)
    tg = ContactRef(ContactKind.TELEGRAM, "480140777")
    desk.intake(chat(Channel.TELEGRAM, "tg1", "invoice is wrong", tg, name="Cy Dorn"))
    clock.advance(minutes=1)
    account = ContactRef(ContactKind.ACCOUNT, "NW-480140")
    desk.intake(chat(Channel.WEB, "web1", "cannot log in to the cabinet", account, name="Di Eck"))
    clock.advance(minutes=1)
    desk.intake(
        email(
            "p5@x",
            frm="other@example.org",
            name="Eve Fox",
            subject="Re: chat 480140777",
            text="A long message. " * 20 + "Please forward this to anna.berg@example.org today.",
        )
    )
    return desk


def found(desk: Desk, query: str) -> list[tuple[int, str]]:
    with desk.store.read() as s:
        return [(r.number, r.snippet) for r in search(s, query).rows]


def test_search_finds_tickets_by_the_customers_contacts(people: Desk) -> None:
    assert found(people, "NW-480140") == [(1004, "account NW-480140")]
    assert found(people, "nw-480140") == [(1004, "account NW-480140")]
    assert found(people, "Anna.Berg@EXAMPLE.org")[0] == (1001, "email anna.berg@example.org")
    assert found(people, "480140777")[0] == (1003, "telegram 480140777")
    for typed in ("+1 555 200 0001", "(555) 200-0001", "555.200.0001", "+15552000001"):
        assert found(people, typed) == [(1002, "phone +15552000001")], typed


def test_an_exact_contact_ranks_first_then_text_hits_newest_first(people: Desk) -> None:
    hits = found(people, "480140777")
    assert [n for n, _ in hits] == [1003, 1005]  # 1005 is newer but only mentions the id
    assert hits == [(1003, "telegram 480140777"), (1005, "Re: chat 480140777")]


def test_search_finds_by_customer_name_and_shows_a_plain_snippet(people: Desk) -> None:
    assert found(people, "lund") == [(1002, "customer Bo Lund")]
    assert found(people, "bo lu") == [(1002, "customer Bo Lund")]
    assert found(people, "und") == []  # a word's start, not any part of the name
    assert found(people, "storm") == [(1002, "no signal since the storm")]
    assert found(people, "router") == [(1001, "Router blinks")]  # the subject matched
    (number, snippet), *_ = found(people, "forward")
    assert number == 1005 and snippet.startswith("…") and "Please forward this" in snippet
    assert "\n" not in snippet and len(snippet) <= 92


# -- 7. a reply on a channel that is not set up ----------------------------------------------------


def with_settings(desk: Desk, clock: FakeClock, **changes: object) -> Desk:
    return Desk(desk.store, Settings(desk_domain="desk.test", **changes), clock=clock)  # type: ignore[arg-type]


MAILBOX = {
    "name": "support",
    "host": "imap.example.org",
    "username": "support",
    "password_env": "SDESK_TEST_PW",
    "address": "support@example.org",
}


def test_a_reply_without_smtp_is_stored_waiting_with_the_reason(
    team: Desk, clock: FakeClock
) -> None:
    read_only = with_settings(team, clock, mailboxes=[MailboxSettings(**MAILBOX)])
    result = read_only.reply(1001, "dana", "We are on it.")
    assert result.warning == "no SMTP configured for mailbox 'support'"
    with team.store.read() as s:
        msg = s.get(Message, result.message_id)
        out = s.execute(select(Outbox).where(Outbox.message_id == result.message_id)).scalar_one()
    assert msg is not None and (msg.delivery_state, msg.delivery_error) == (
        "waiting",
        "no SMTP configured for mailbox 'support'",
    )
    assert out.state == "queued"  # sent as soon as SMTP is configured; never lost
    assert team.reply(1002, "dana", "Hi").warning == "no mailbox with SMTP is configured"


def test_a_reply_with_smtp_is_queued_without_a_warning(team: Desk, clock: FakeClock) -> None:
    smtp = SmtpSettings(host="smtp.example.org", password_env="SDESK_TEST_PW")
    sending = with_settings(team, clock, mailboxes=[MailboxSettings(**MAILBOX, smtp=smtp)])
    result = sending.reply(1001, "dana", "We are on it.")
    assert result.warning is None
    with team.store.read() as s:
        msg = s.get(Message, result.message_id)
    assert msg is not None and (msg.delivery_state, msg.delivery_error) == ("queued", None)


def test_a_telegram_reply_says_no_sender_is_set_up(desk: Desk) -> None:
    desk.add_agent("dana", role=Role.DISPATCHER)
    desk.intake(chat(Channel.TELEGRAM, "u1", "help", ContactRef(ContactKind.TELEGRAM, "555")))
    assert desk.reply(1001, "dana", "On it").warning == (
        "no sender for Telegram is set up on this desk"
    )
    # With the bot configured, the reply goes out through it: no warning.
    from sdesk.config import TelegramSettings

    with_bot = Desk(
        desk.store,
        Settings(desk_domain="desk.test", telegram=TelegramSettings(token_env="TG_TOKEN")),
    )
    assert with_bot.reply(1001, "dana", "And again").warning is None


# -- 8. canned responses sign with the agent's name ------------------------------------------------


def test_canned_agent_is_the_display_name(team: Desk) -> None:
    with team.store.read() as s:
        dana = agent_row(s, "dana")
    assert dana is not None and dana.display == "Dana Scully"
    assert AgentRow("kim", "", "engineer").display == "kim"
    text = fill_canned(
        "Hello {customer}, about #{ticket}: {x}\n{agent}",
        customer="Anna",
        ticket=1001,
        agent_name=dana.display,
    )
    assert text == "Hello Anna, about #1001: {x}\nDana Scully"
    assert fill_canned("{customer}", customer="", ticket=1, agent_name="A") == "there"


# -- the migration ---------------------------------------------------------------------------------


def test_migration_0009_downgrades_and_upgrades_on_this_database(team: Desk) -> None:
    from alembic import command
    from sqlalchemy import inspect

    from sdesk.store.engine import _alembic_config

    team.save_draft("dana", 1001, "kept?")
    with team.store.engine.connect() as conn:
        command.downgrade(_alembic_config(conn), "0008")
        conn.commit()
        inspector = inspect(conn)
        assert not inspector.has_table("draft")
        columns = {c["name"] for c in inspector.get_columns("ticket")}
        assert not {"pending_since", "sla_paused_seconds"} & columns
        command.upgrade(_alembic_config(conn), "head")
        conn.commit()
    team.intake(email("after@x", frm="late@example.org"))  # raw intake fills the defaults
    assert ticket(team, 1006).sla_paused_seconds == 0
    team.save_draft("dana", 1006, "works again")
    assert team.draft("dana", 1006) == "works again"


def test_a_snippet_is_one_plain_line_around_the_first_match() -> None:
    from sdesk.store.fulltext import snippet

    far = "word " * 3000 + "the Needle\n\n\tis here " + "tail " * 3000
    got = snippet(far, "needle")
    assert got.startswith("…") and got.endswith("…") and "the Needle is here" in got
    assert "\n" not in got and "\t" not in got and len(got) <= 92
    assert snippet("a\n\n\n b  c", "zzz") == "a b c"  # no match: the start
    assert snippet("Refund [bold]please[/]", "refund") == "Refund [bold]please[/]"  # text as is


def test_the_services_wake_pending_tickets(team: Desk, clock: FakeClock) -> None:
    """``sdesk serve``/``fetch`` and the console's services include the wake-up: a snoozed
    ticket comes back by itself when its time has come."""
    from sdesk.channels.services import PendingService, build_services

    assert any(isinstance(s, PendingService) for s in build_services(team))
    assert not any(isinstance(s, PendingService) for s in build_services(team, outbox=False))
    team.set_status(1003, "dana", Status.PENDING, until=clock.now + timedelta(hours=1))
    service = PendingService(team)
    assert service.run_once() is None
    clock.advance(hours=2)
    result = service.run_once()
    assert result is not None and result.line == "pending: reopened 1"
    assert ticket(team, 1003).status == "open"
    stop = threading.Event()
    team.set_status(1004, "dana", Status.PENDING, until=clock.now + timedelta(minutes=5))
    clock.advance(minutes=10)
    runner = threading.Thread(target=service.run, args=(stop,))
    runner.start()
    try:
        for _ in range(100):
            if ticket(team, 1004).status == "open":
                break
            threading.Event().wait(0.05)
    finally:
        stop.set()
        runner.join(5)
    assert not runner.is_alive()
    assert ticket(team, 1004).status == "open"
