"""A signed-in customer's acts (core/customer_acts.py) and what they may see
(store/customer_view.py), on both databases: a new request opens a web ticket through intake,
a second submit of the same form lands once, writing on a ticket joins exactly that ticket,
another customer's ticket is NotFound, a merged ticket leads to its target, a closed one is
refused, and only resolved tickets are rated."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from sdesk.core.customer_acts import Upload
from sdesk.core.desk import Desk
from sdesk.core.enums import Role, Status
from sdesk.core.errors import DeskError, NotFound
from sdesk.store import customer_view
from sdesk.store.models import Ticket
from tests.factories import email


def customer_of(desk: Desk, number: int) -> int:
    with desk.store.read() as s:
        ticket = s.execute(select(Ticket).where(Ticket.number == number)).scalar_one()
        return ticket.customer_id


@pytest.fixture
def two(desk: Desk) -> tuple[Desk, int, int]:
    desk.add_agent("dana", name="Dana", role=Role.SUPERVISOR)
    a = desk.intake(email("a@x", frm="ann@example.org", subject="Ann's first"))
    b = desk.intake(email("b@x", frm="bob@example.org", subject="Bob's first"))
    assert a.ticket_number == 1001 and b.ticket_number == 1002
    return desk, customer_of(desk, 1001), customer_of(desk, 1002)


def test_a_request_opens_a_web_ticket_once(two: tuple[Desk, int, int]) -> None:
    desk, ann, _bob = two
    files = [Upload("../x/report.pdf", "application/pdf", b"%PDF-1.7")]
    number = desk.customer_request(ann, subject="  New\tone ", text="Help", key="k1", files=files)
    again = desk.customer_request(ann, subject="New one", text="Help", key="k1", files=files)
    assert number == again == 1003
    with desk.store.read() as s:
        thread = customer_view.thread_of(s, ann, number)
        listed = [t.number for t in customer_view.tickets_of(s, ann)]
    assert thread is not None and thread.ticket.subject == "New one"
    [message] = thread.messages
    assert not message.from_desk and message.text == "Help"
    assert [f.filename for f in message.files] == ["report.pdf"]
    assert listed == [1003, 1001]
    with pytest.raises(DeskError, match="write a message"):
        desk.customer_request(ann, subject="x", text="  ", key="k2")


def test_writing_joins_exactly_the_named_ticket_of_its_customer(
    two: tuple[Desk, int, int],
) -> None:
    desk, ann, bob = two
    # a subject tag naming Bob's ticket does not thread a new request onto it
    mine = desk.customer_request(ann, subject="[#1002] hello", text="new", key="k1")
    assert mine == 1003
    assert desk.customer_message(ann, 1001, text="more", key="k2") == 1001
    with pytest.raises(NotFound, match="no ticket #1002"):
        desk.customer_message(ann, 1002, text="sneaky", key="k3")
    with pytest.raises(NotFound, match="no ticket #1002"):
        desk.customer_rate(ann, 1002, 5)
    with desk.store.read() as s:
        assert customer_view.thread_of(s, ann, 1002) is None
        bobs = customer_view.thread_of(s, bob, 1002)
    assert bobs is not None and [m.text for m in bobs.messages] == ["Please help."]


def test_notes_never_show_and_replies_do(two: tuple[Desk, int, int]) -> None:
    desk, ann, _bob = two
    desk.add_note(1001, "dana", "internal: customer is grumpy")
    desk.reply(1001, "dana", "We are on it.")
    with desk.store.read() as s:
        thread = customer_view.thread_of(s, ann, 1001)
    assert thread is not None
    assert [(m.from_desk, m.text) for m in thread.messages] == [
        (False, "Please help."),
        (True, "We are on it."),
    ]


def test_a_merged_ticket_leads_to_its_target_and_a_closed_one_is_refused(
    two: tuple[Desk, int, int],
) -> None:
    desk, ann, _bob = two
    second = desk.customer_request(ann, subject="Dup", text="same thing", key="k1")
    desk.merge(second, 1001, "dana")
    with desk.store.read() as s:
        thread = customer_view.thread_of(s, ann, second)
        listed = [t.number for t in customer_view.tickets_of(s, ann)]
    assert thread is not None and thread.ticket.number == 1001
    assert listed == [1001]
    assert desk.customer_message(ann, second, text="still", key="k2") == 1001
    desk.set_status(1001, "dana", Status.CLOSED)
    with pytest.raises(DeskError, match="closed"):
        desk.customer_message(ann, 1001, text="again", key="k3")


def test_only_a_resolved_ticket_is_rated(two: tuple[Desk, int, int]) -> None:
    desk, ann, _bob = two
    with pytest.raises(DeskError, match="once it is resolved"):
        desk.customer_rate(ann, 1001, 4)
    desk.set_status(1001, "dana", Status.RESOLVED)
    desk.customer_rate(ann, 1001, 4, "ok")
    with desk.store.read() as s:
        [listed] = [t for t in customer_view.tickets_of(s, ann) if t.number == 1001]
    assert listed.rating == 4
