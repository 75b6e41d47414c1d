"""The inbox read model on a real desk: keyset pages in "most urgent first" order, filters,
counts, merged tickets, full-text search.

Expected orders are computed here in Python from the stored tickets (deadline rules written out
again), so the SQL is checked against an independent statement of the rule.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sdesk.config import Settings
from sdesk.core.desk import Desk
from sdesk.core.enums import Channel, ContactKind, Priority, Role, Status
from sdesk.core.inbound import ContactRef, Inbound
from sdesk.store.engine import open_store
from sdesk.store.inbox import (
    InboxCounts,
    InboxFilter,
    Page,
    PageKey,
    inbox_counts,
    inbox_page,
    key_of,
    search,
)
from sdesk.store.models import Ticket
from sdesk.store.queries import TicketRow, current_number, ticket_detail
from tests.conftest import T0, FakeClock, new_desk_url
from tests.factories import chat, email

CHANNELS = (Channel.EMAIL, Channel.TELEGRAM, Channel.SMS, Channel.WEB)
STATUSES = (
    Status.NEW,
    Status.OPEN,
    Status.PENDING,
    Status.RESOLVED,
    Status.NEW,
    Status.CLOSED,
    Status.OPEN,
    Status.PENDING,
    Status.RESOLVED,
)
PRIORITIES = (Priority.NORMAL, Priority.URGENT, Priority.LOW, Priority.HIGH, Priority.NORMAL)
ASSIGNEES = ("dana", "eli", None)
COUNT = 32
FIRST = 1001
TIE_ACTIVE = (10, 11)  # created together, same priority, both new: identical deadlines
TIE_FINISHED = (20, 21)  # created together, both resolved unanswered: identical last message
NO_DUE = 13  # an active ticket whose deadlines are missing (as an old import can leave them)
ACTIVE = {Status.NEW, Status.OPEN, Status.PENDING}
ALL = InboxFilter(everything=True)  # every ticket, active ones first (the default: active only)


@dataclass(frozen=True)
class Spec:
    number: int
    channel: Channel
    priority: Priority
    status: Status
    assignee: str | None
    replied: bool


def specs() -> list[Spec]:
    out = []
    for i in range(COUNT):
        status = STATUSES[i % len(STATUSES)]
        spec = Spec(
            number=FIRST + i,
            channel=CHANNELS[i % len(CHANNELS)],
            priority=PRIORITIES[i % len(PRIORITIES)],
            status=status,
            assignee=ASSIGNEES[i % len(ASSIGNEES)],
            replied=status is not Status.NEW and i % 2 == 0,
        )
        if i in TIE_ACTIVE:
            spec = dataclasses.replace(
                spec, priority=Priority.NORMAL, status=Status.NEW, assignee=None, replied=False
            )
        if i in TIE_FINISHED:
            spec = dataclasses.replace(spec, status=Status.RESOLVED, replied=False)
        if i == NO_DUE:
            spec = dataclasses.replace(spec, status=Status.OPEN)
        out.append(spec)
    return out


SPECS = specs()


def inbound_for(i: int, channel: Channel, words: str) -> Inbound:
    if channel is Channel.EMAIL:
        return email(f"m{i}@x", frm=f"c{i}@example.org", name=f"Cust {i}", subject=words)
    contact = {
        Channel.TELEGRAM: ContactRef(ContactKind.TELEGRAM, str(7000 + i)),
        Channel.SMS: ContactRef(ContactKind.PHONE, f"+1555{2000000 + i}"),
        Channel.WEB: ContactRef(ContactKind.ACCOUNT, f"acct{i}"),
    }[channel]
    return chat(channel, f"{channel.value}-{i}", words, contact, name=f"Cust {i}")


def build(desk: Desk, clock: FakeClock) -> None:
    """32 tickets over four channels, every status and priority, three assignees."""
    desk.add_agent("dana", name="Dana", role=Role.DISPATCHER)
    desk.add_agent("eli", name="Eli", role=Role.ENGINEER)
    desk.add_agent("sam", name="Sam", role=Role.SUPERVISOR)
    for i, spec in enumerate(SPECS):
        if i not in (TIE_ACTIVE[1], TIE_FINISHED[1]):  # the second of a pair comes at once
            clock.advance(minutes=3)
        result = desk.intake(inbound_for(i, spec.channel, f"Problem {i}"))
        assert result.ticket_number == spec.number
    for spec in SPECS:
        clock.advance(minutes=1)
        if spec.priority is not Priority.NORMAL:
            desk.set_priority(spec.number, "sam", spec.priority)
        if spec.replied:
            desk.reply(spec.number, "sam", f"Looking at {spec.number}")
        if spec.assignee:
            desk.assign(spec.number, "sam", spec.assignee)
        if spec.status is not Status.NEW and not (spec.replied and spec.status is Status.OPEN):
            desk.set_status(spec.number, "sam", spec.status)
    with desk.store.write() as s:
        s.execute(
            update(Ticket)
            .where(Ticket.number == FIRST + NO_DUE)
            .values(first_response_due=None, resolution_due=None)
        )


@pytest.fixture(scope="module", params=("sqlite", "postgresql"))
def busy(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Desk]:
    """A read-only desk shared by the tests that only look, on each database."""
    folder = tmp_path_factory.mktemp("busy")
    url = new_desk_url(request.param, request, folder)
    clock = FakeClock()
    store = open_store(url, attachments=folder / "files")
    d = Desk(store, Settings(desk_domain="desk.test"), clock=clock)
    build(d, clock)
    yield d
    d.close()


@pytest.fixture
def fresh(desk: Desk, clock: FakeClock) -> Desk:
    """The same desk, for tests that change it."""
    build(desk, clock)
    return desk


FAR = datetime(9999, 1, 1, tzinfo=UTC)


def expected_order(desk: Desk, keep: set[int] | None = None) -> list[int]:
    """Inbox order, from the rule: active by next deadline then id; finished newest first."""
    with desk.store.read() as s:
        tickets = s.execute(select(Ticket).where(Ticket.merged_into_id.is_(None))).scalars().all()

    def key(t: Ticket) -> tuple[int, float, int]:
        if Status(t.status) in ACTIVE:
            due = t.first_response_due if t.first_response_at is None else t.resolution_due
            if t.status == Status.PENDING:
                due = None  # the SLA clock is stopped: no deadline while pending
            return (0, (due or FAR).timestamp(), t.id or 0)
        return (1, -t.last_message_at.timestamp(), -(t.id or 0))

    order = [t.number for t in sorted(tickets, key=key)]
    return [n for n in order if keep is None or n in keep]


def numbers(rows: tuple[TicketRow, ...] | list[TicketRow]) -> list[int]:
    return [r.number for r in rows]


def walk(s: Session, flt: InboxFilter, limit: int) -> list[Page]:
    pages: list[Page] = []
    after: PageKey | None = None
    for _ in range(200):
        page = inbox_page(s, flt, after=after, limit=limit)
        pages.append(page)
        if not page.more_after:
            return pages
        after = key_of(page.rows[-1])
    raise AssertionError("paging does not end")


# -- order and paging ------------------------------------------------------------------------


def test_the_data_set_is_what_the_tests_assume(busy: Desk) -> None:
    with busy.store.read() as s:
        tickets = {t.number: t for t in s.execute(select(Ticket)).scalars()}
    assert len(tickets) == COUNT
    for spec in SPECS:
        t = tickets[spec.number]
        assert (t.channel, t.priority, t.status) == (spec.channel, spec.priority, spec.status)
        assert (t.first_response_at is not None) == spec.replied
    a, b = (tickets[FIRST + i] for i in TIE_ACTIVE)
    assert a.first_response_due == b.first_response_due and a.id < b.id
    c, d = (tickets[FIRST + i] for i in TIE_FINISHED)
    assert c.last_message_at == d.last_message_at and c.id < d.id
    assert Counter(t.status for t in tickets.values()) == {
        "new": 9,
        "open": 7,
        "pending": 5,
        "resolved": 8,
        "closed": 3,
    }


def test_one_page_is_in_most_urgent_first_order(busy: Desk) -> None:
    with busy.store.read() as s:
        page = inbox_page(s, ALL, limit=100)
    order = numbers(page.rows)
    assert order == expected_order(busy)
    assert len(order) == COUNT and not page.more_after and not page.more_before
    statuses = [Status(r.status) for r in page.rows]
    first_finished = next(i for i, st in enumerate(statuses) if st not in ACTIVE)
    assert all(st in ACTIVE for st in statuses[:first_finished])
    assert all(st not in ACTIVE for st in statuses[first_finished:])
    dues = [r.sla_due or FAR for r in page.rows[:first_finished]]
    assert dues == sorted(dues)
    # No deadline (pending, or none stored): after every running deadline, by id.
    undue = [r for r in page.rows[:first_finished] if r.sla_due is None]
    assert undue == list(page.rows[first_finished - len(undue) : first_finished])
    assert {r.number for r in undue} == {FIRST + NO_DUE} | {
        s.number for s in SPECS if s.status is Status.PENDING
    }
    assert [r.id for r in undue] == sorted(r.id for r in undue)
    finished = [r.last_message_at for r in page.rows[first_finished:]]
    assert finished == sorted(finished, reverse=True)
    # Ties break by id: ascending among active, descending among finished.
    tie_a = [FIRST + i for i in TIE_ACTIVE]
    tie_f = [FIRST + i for i in TIE_FINISHED]
    assert order.index(tie_a[0]) + 1 == order.index(tie_a[1])
    assert order.index(tie_f[1]) + 1 == order.index(tie_f[0])


@pytest.mark.parametrize("limit", [1, 3, 5, 31, 32])
def test_walking_forward_page_by_page_equals_one_big_page(busy: Desk, limit: int) -> None:
    with busy.store.read() as s:
        whole = numbers(inbox_page(s, ALL, limit=1000).rows)
        pages = walk(s, ALL, limit)
    walked = [n for p in pages for n in numbers(p.rows)]
    assert walked == whole == expected_order(busy)
    assert len(set(walked)) == len(walked) == COUNT
    assert all(len(p.rows) == limit for p in pages[:-1])
    assert 1 <= len(pages[-1].rows) <= limit
    assert [p.more_before for p in pages] == [False] + [True] * (len(pages) - 1)
    assert [p.more_after for p in pages] == [True] * (len(pages) - 1) + [False]


def test_a_page_of_exactly_the_rest_says_nothing_more(busy: Desk) -> None:
    with busy.store.read() as s:
        assert not inbox_page(s, ALL, limit=COUNT).more_after
        assert inbox_page(s, ALL, limit=COUNT - 1).more_after
        first = inbox_page(s, ALL, limit=COUNT - 2)
        rest = inbox_page(s, ALL, after=key_of(first.rows[-1]), limit=2)
    assert len(rest.rows) == 2 and not rest.more_after and rest.more_before


def test_walking_backwards_reproduces_the_pages(busy: Desk) -> None:
    with busy.store.read() as s:
        pages = walk(s, ALL, 3)
        for k in range(1, len(pages)):
            back = inbox_page(s, ALL, before=key_of(pages[k].rows[0]), limit=3)
            assert back.rows == pages[k - 1].rows
            assert back.more_after
            assert back.more_before == (k > 1)
        # From the very end back to the start, three at a time.
        whole = [r for p in pages for r in p.rows]
        collected = [whole[-1]]
        before = key_of(whole[-1])
        for _ in range(100):
            page = inbox_page(s, ALL, before=before, limit=3)
            assert page.rows and page.more_after
            collected = list(page.rows) + collected
            if not page.more_before:
                break
            before = key_of(page.rows[0])
    assert numbers(collected) == numbers(whole)


def test_backwards_from_the_first_row_is_empty(busy: Desk) -> None:
    with busy.store.read() as s:
        top = inbox_page(s, ALL, limit=1).rows[0]
        page = inbox_page(s, ALL, before=key_of(top), limit=3)
    assert page.rows == () and not page.more_before


def test_key_of_names_segment_value_and_id(busy: Desk) -> None:
    with busy.store.read() as s:
        rows = inbox_page(s, ALL, limit=100).rows
    for row in rows:
        key = key_of(row)
        assert key.id == row.id
        if row.status in {"new", "open", "pending"}:
            assert key.segment == 0 and key.value == (row.sla_due or FAR)
        else:
            assert key.segment == 1 and key.value == row.last_message_at


# -- filters -----------------------------------------------------------------------------------


def _expect(pred: Callable[[Spec], bool]) -> set[int]:
    return {s.number for s in SPECS if pred(s)}


FILTERS: list[tuple[InboxFilter, set[int]]] = [
    (InboxFilter(assignee="dana"), _expect(lambda s: s.assignee == "dana")),
    (InboxFilter(assignee="eli"), _expect(lambda s: s.assignee == "eli")),
    (InboxFilter(unassigned=True), _expect(lambda s: s.assignee is None)),
    (InboxFilter(channel="sms"), _expect(lambda s: s.channel is Channel.SMS)),
    (InboxFilter(channel="email"), _expect(lambda s: s.channel is Channel.EMAIL)),
    (InboxFilter(status="open"), _expect(lambda s: s.status is Status.OPEN)),
    (InboxFilter(status="pending"), _expect(lambda s: s.status is Status.PENDING)),
    (InboxFilter(status="resolved"), _expect(lambda s: s.status is Status.RESOLVED)),
    (InboxFilter(status="closed"), _expect(lambda s: s.status is Status.CLOSED)),
    (InboxFilter(priority="urgent"), _expect(lambda s: s.priority is Priority.URGENT)),
    (InboxFilter(priority="low"), _expect(lambda s: s.priority is Priority.LOW)),
    (
        InboxFilter(assignee="eli", channel="telegram"),
        _expect(lambda s: s.assignee == "eli" and s.channel is Channel.TELEGRAM),
    ),
    (
        InboxFilter(unassigned=True, status="new"),
        _expect(lambda s: s.assignee is None and s.status is Status.NEW),
    ),
    (
        InboxFilter(assignee="dana", priority="normal", status="resolved"),
        _expect(
            lambda s: (
                s.assignee == "dana"
                and s.priority is Priority.NORMAL
                and s.status is Status.RESOLVED
            )
        ),
    ),
    (
        InboxFilter(channel="web", status="closed", priority="high"),
        _expect(
            lambda s: (
                s.channel is Channel.WEB
                and s.status is Status.CLOSED
                and s.priority is Priority.HIGH
            )
        ),
    ),
]


# Without a status, a view lists active tickets only (the Active view's rule).
_LIVE = {s.number for s in SPECS if s.status in ACTIVE}
FILTERS = [(f, expected if f.status else expected & _LIVE) for f, expected in FILTERS]


@pytest.mark.parametrize(("flt", "expected"), FILTERS, ids=[f.describe() for f, _ in FILTERS])
def test_each_filter_shows_exactly_its_tickets(
    busy: Desk, flt: InboxFilter, expected: set[int]
) -> None:
    assert expected, "each filter case must select something"
    with busy.store.read() as s:
        whole = numbers(inbox_page(s, flt, limit=100).rows)
        walked = [n for p in walk(s, flt, 2) for n in numbers(p.rows)]
    assert whole == expected_order(busy, expected)
    assert walked == whole


def test_a_filter_that_matches_nothing_is_an_empty_page(busy: Desk) -> None:
    # No web ticket is both closed and low priority in the data set.
    assert not _expect(
        lambda s: (
            s.channel is Channel.WEB and s.status is Status.CLOSED and s.priority is Priority.LOW
        )
    )
    with busy.store.read() as s:
        page = inbox_page(s, InboxFilter(channel="web", status="closed", priority="low"))
    assert page == Page((), False, False)


def test_an_unknown_assignee_gives_an_empty_page(busy: Desk) -> None:
    with busy.store.read() as s:
        assert inbox_page(s, InboxFilter(assignee="nobody")) == Page((), False, False)
        assert search(s, "Problem", InboxFilter(assignee="nobody")) == Page((), False, False)


def test_an_active_status_filter_never_shows_finished_tickets_and_back(busy: Desk) -> None:
    with busy.store.read() as s:
        pending = walk(s, InboxFilter(status="pending"), 2)
        closed = walk(s, InboxFilter(status="closed"), 1)
        last_pending = pending[-1].rows[-1]
        back = inbox_page(s, InboxFilter(status="pending"), before=key_of(last_pending), limit=50)
    assert {r.status for p in pending for r in p.rows} == {"pending"}
    assert {r.status for p in closed for r in p.rows} == {"closed"}
    assert len(closed) == 3  # one per page, three closed tickets
    assert numbers(back.rows) == [n for p in pending for n in numbers(p.rows)][:-1]


# -- toggled -----------------------------------------------------------------------------------


def test_mine_and_unassigned_exclude_each_other() -> None:
    mine = InboxFilter().toggled("assignee", "dana")
    assert (mine.assignee, mine.unassigned) == ("dana", False)
    free = mine.toggled("unassigned")
    assert (free.assignee, free.unassigned) == (None, True)
    back = free.toggled("assignee", "dana")
    assert (back.assignee, back.unassigned) == ("dana", False)


def test_toggling_the_same_value_turns_it_off() -> None:
    mine = InboxFilter().toggled("assignee", "dana")
    assert mine.toggled("assignee", "dana") == InboxFilter()
    assert mine.toggled("assignee", "eli").assignee == "eli"  # another login switches
    free = InboxFilter().toggled("unassigned")
    assert free.unassigned and free.toggled("unassigned") == InboxFilter()
    sms = InboxFilter().toggled("channel", "sms")
    assert sms.channel == "sms" and sms.toggled("channel", "sms") == InboxFilter()
    assert sms.toggled("channel", "email").channel == "email"


def test_other_filters_combine() -> None:
    flt = (
        InboxFilter()
        .toggled("assignee", "dana")
        .toggled("channel", "sms")
        .toggled("status", "open")
        .toggled("priority", "high")
    )
    assert flt == InboxFilter(assignee="dana", channel="sms", status="open", priority="high")
    assert flt.describe() == "assigned to dana, sms, open, high"
    assert flt.toggled("status", "open") == dataclasses.replace(flt, status=None)
    assert InboxFilter().describe() == "active tickets"
    assert ALL.describe() == "all tickets"
    assert InboxFilter(everything=True, status="closed").describe() == "closed"


# -- counts ------------------------------------------------------------------------------------


def expected_counts(me: str | None, skip: frozenset[int] = frozenset()) -> dict[str, object]:
    live = [s for s in SPECS if s.number not in skip]
    active = [s for s in live if s.status in ACTIVE]
    return {
        "active": len(active),
        "mine": sum(1 for s in active if me is not None and s.assignee == me),
        "unassigned": sum(1 for s in active if s.assignee is None),
        "channel": dict(Counter(s.channel.value for s in active)),
        "priority": dict(Counter(s.priority.value for s in active)),
        "status": dict(Counter(s.status.value for s in live)),
        "everything": len(live),
    }


def test_counts_are_exact(busy: Desk) -> None:
    with busy.store.read() as s:
        dana = inbox_counts(s, "dana")
        eli = inbox_counts(s, "eli")
        nobody = inbox_counts(s, "nobody")
        anonymous = inbox_counts(s, None)
    assert dataclasses.asdict(dana) == expected_counts("dana")
    assert dataclasses.asdict(eli) == expected_counts("eli")
    assert dana.active == 21 and dana.status["closed"] == 3
    assert nobody.mine == anonymous.mine == 0
    assert nobody.active == anonymous.active == dana.active
    # Counts agree with what the filters show among active tickets.
    with busy.store.read() as s:
        shown = [r for r in inbox_page(s, InboxFilter(assignee="dana"), limit=100).rows]
    assert dana.mine == sum(1 for r in shown if r.status in {"new", "open", "pending"})


def views(me: str) -> list[tuple[InboxFilter, Callable[[InboxCounts], int]]]:
    """Every one-filter view the filter bar offers, with the count it shows for it."""
    out: list[tuple[InboxFilter, Callable[[InboxCounts], int]]] = [
        (InboxFilter(), lambda c: c.active),
        (InboxFilter(assignee=me), lambda c: c.mine),
        (InboxFilter(unassigned=True), lambda c: c.unassigned),
        (ALL, lambda c: c.everything),
    ]
    for ch in Channel:
        out.append((InboxFilter(channel=ch.value), lambda c, v=ch.value: c.channel.get(v, 0)))
    for pr in Priority:
        out.append((InboxFilter(priority=pr.value), lambda c, v=pr.value: c.priority.get(v, 0)))
    for st in Status:
        out.append((InboxFilter(status=st.value), lambda c, v=st.value: c.status.get(v, 0)))
    return out


def test_every_count_is_the_number_of_rows_its_view_lists(fresh: Desk) -> None:
    """Issue 14 item 8: "Active 41" listed 28 finished tickets too; a channel's count was of
    active tickets while its view listed every one."""
    fresh.merge(FIRST + 1, FIRST + 6, "sam")  # a merged ticket counts and lists nowhere
    with fresh.store.read() as s:
        counts = inbox_counts(s, "dana")
        for flt, count in views("dana"):
            listed = [r for p in walk(s, flt, 7) for r in p.rows]
            assert count(counts) == len(listed), flt.describe()
            if not (flt.status or flt.everything):
                assert {r.status for r in listed} <= {"new", "open", "pending"}, flt.describe()
    assert counts.everything == COUNT - 1 and counts.active < counts.everything


# -- merged tickets ----------------------------------------------------------------------------


def test_a_merged_ticket_leaves_pages_and_counts_and_forwards_its_number(fresh: Desk) -> None:
    src, dst = FIRST + 1, FIRST + 6  # both open; src assigned to eli, dst to dana
    assert SPECS[1].status is Status.OPEN and SPECS[6].status is Status.OPEN
    with fresh.store.read() as s:
        before = inbox_counts(s, "eli")
    fresh.merge(src, dst, "sam")
    with fresh.store.read() as s:
        after = inbox_counts(s, "eli")
        walked = [n for p in walk(s, ALL, 4) for n in numbers(p.rows)]
        eli = numbers(inbox_page(s, InboxFilter(assignee="eli"), limit=100).rows)
        closed = numbers(inbox_page(s, InboxFilter(status="closed"), limit=100).rows)
        detail = ticket_detail(s, src)
        number = current_number(s, src)
    assert src not in walked and src not in eli and src not in closed
    assert walked == expected_order(fresh) and len(walked) == COUNT - 1
    assert dataclasses.asdict(after) == expected_counts("eli", skip=frozenset({src}))
    assert after.active == before.active - 1 and after.mine == before.mine - 1
    assert number == dst
    assert detail is not None and detail.ticket.number == dst
    texts = [m.text for m in detail.messages]
    assert "Problem 1" in texts and f"Ticket #{src} merged into this ticket by sam." in texts


def test_merge_chains_forward_to_the_end(fresh: Desk) -> None:
    fresh.merge(FIRST + 1, FIRST + 6, "sam")
    fresh.merge(FIRST + 6, FIRST + 9, "sam")
    with fresh.store.read() as s:
        assert current_number(s, FIRST + 1) == FIRST + 9
        detail = ticket_detail(s, FIRST + 1)
        assert detail is not None and detail.ticket.number == FIRST + 9
        assert current_number(s, FIRST + 9) == FIRST + 9
        assert current_number(s, 99999) is None
        assert ticket_detail(s, 99999) is None
    assert {"Problem 1", "Problem 6", "Problem 9"} <= {m.text for m in detail.messages}


# -- keyset property ---------------------------------------------------------------------------


def test_a_row_added_meanwhile_does_not_shift_the_next_page(fresh: Desk, clock: FakeClock) -> None:
    with fresh.store.read() as s:
        page1 = inbox_page(s, ALL, limit=5)
    old_order = expected_order(fresh)
    # A late-delivered urgent message: its deadline (received + 1 h) beats every other one.
    late = dataclasses.replace(
        email("late@x", frm="late@example.org", subject="Late"),
        priority=Priority.URGENT,
        received_at=T0 - timedelta(hours=1),
    )
    number = fresh.intake(late).ticket_number
    assert number is not None
    with fresh.store.read() as s:
        new_row = next(r for r in inbox_page(s, ALL, limit=100).rows if r.number == number)
        # It sorts before page 1's end.
        assert dataclasses.astuple(key_of(new_row)) < dataclasses.astuple(key_of(page1.rows[-1]))
        page2 = inbox_page(s, ALL, after=key_of(page1.rows[-1]), limit=5)
    assert not set(numbers(page1.rows)) & set(numbers(page2.rows))
    assert number not in numbers(page2.rows)
    assert numbers(page2.rows) == old_order[5:10]
    assert expected_order(fresh)[0] == number


def test_a_row_added_after_the_page_shows_once_later(fresh: Desk, clock: FakeClock) -> None:
    with fresh.store.read() as s:
        page1 = inbox_page(s, ALL, limit=5)
    clock.advance(days=30)
    number = fresh.intake(email("later@x", frm="later@example.org", subject="Later")).ticket_number
    with fresh.store.read() as s:
        rest: list[int] = []
        after = key_of(page1.rows[-1])
        for _ in range(50):
            page = inbox_page(s, ALL, after=after, limit=5)
            rest += numbers(page.rows)
            if not page.more_after:
                break
            after = key_of(page.rows[-1])
    assert numbers(page1.rows) + rest == expected_order(fresh)
    assert rest.count(number) == 1  # type: ignore[arg-type]


# -- search ------------------------------------------------------------------------------------


@pytest.fixture
def searchable(desk: Desk, clock: FakeClock) -> Desk:
    desk.add_agent("dana", role=Role.DISPATCHER)
    desk.intake(email("s1@x", frm="a@example.org", subject="Printer on fire", text="Smoke!"))
    clock.advance(minutes=1)
    desk.intake(email("s2@x", frm="b@example.org", subject="VPN", text="VPN does NOT connect"))
    clock.advance(minutes=1)
    tg = ContactRef(ContactKind.TELEGRAM, "1")
    desk.intake(chat(Channel.TELEGRAM, "tg1", "printer offline again", tg))
    clock.advance(minutes=1)
    desk.intake(email("s4@x", frm="c@example.org", subject="Invoice", text="about the invoice"))
    return desk


def test_search_finds_by_subject_and_by_message_text(searchable: Desk) -> None:
    with searchable.store.read() as s:
        assert numbers(search(s, "printer").rows) == [1003, 1001]  # most recent first
        assert numbers(search(s, "smoke").rows) == [1001]  # message text only
        assert numbers(search(s, "fire").rows) == [1001]  # subject only
        assert numbers(search(s, "PRINT").rows) == [1003, 1001]  # prefix, any case
        assert numbers(search(s, "printer offline").rows) == [1003]  # every word
        assert search(s, "toaster").rows == ()


def test_search_combines_with_filters(searchable: Desk) -> None:
    searchable.assign(1001, "dana", "dana")
    searchable.set_status(1003, "dana", Status.RESOLVED)
    with searchable.store.read() as s:
        assert numbers(search(s, "printer", InboxFilter(channel="telegram")).rows) == [1003]
        assert numbers(search(s, "printer", InboxFilter(assignee="dana")).rows) == [1001]
        assert numbers(search(s, "printer", InboxFilter(unassigned=True)).rows) == [1003]
        assert numbers(search(s, "printer", InboxFilter(status="resolved")).rows) == [1003]
        assert search(s, "printer", InboxFilter(channel="sms")).rows == ()


def test_search_treats_fts_syntax_as_words(searchable: Desk) -> None:
    with searchable.store.read() as s:
        # As FTS syntax "NOT vpn" would be an error or an exclusion; as words it finds 1002.
        assert numbers(search(s, "NOT vpn").rows) == [1002]
        assert numbers(search(s, 'vpn AND "connect').rows) == []  # "and" is a word, not found
        assert numbers(search(s, "printer*  OR").rows) == []  # "or" is a word too
        assert numbers(search(s, 'printer (") ^').rows) == [1003, 1001]
        for junk in ('"', "*", "NEAR(", ")(", "-", "^"):
            assert search(s, junk) == Page((), False, False)


def test_search_respects_the_limit(desk: Desk, clock: FakeClock) -> None:
    for i in range(5):
        clock.advance(minutes=1)
        desk.intake(email(f"t{i}@x", frm=f"t{i}@example.org", subject=f"Toner {i}"))
    with desk.store.read() as s:
        two = search(s, "toner", limit=2)
        five = search(s, "toner", limit=5)
    assert numbers(two.rows) == [1005, 1004] and two.more_after and not two.more_before
    assert numbers(five.rows) == [1005, 1004, 1003, 1002, 1001] and not five.more_after


def test_search_finds_the_target_of_a_merged_ticket(searchable: Desk) -> None:
    searchable.merge(1001, 1004, "dana")
    with searchable.store.read() as s:
        assert numbers(search(s, "smoke").rows) == [1004]  # the message moved
        assert numbers(search(s, "fire").rows) == [1004]  # the subject forwards
        assert numbers(search(s, "printer").rows) == [1004, 1003]
    searchable.merge(1004, 1002, "dana")  # a chain: 1001 → 1004 → 1002
    with searchable.store.read() as s:
        assert numbers(search(s, "fire").rows) == [1002]
        assert numbers(search(s, "invoice").rows) == [1002]
