"""Customer notices (core/notify.py) and reply ratings on both stores (SQLite, PostgreSQL):
what is queued in the status change's transaction, when a digit is a rating and when it is
not, and the templates' language and overrides."""

from __future__ import annotations

import json

from sqlalchemy import select

from sdesk.config_notify import NotifySettings
from sdesk.core.desk import Desk
from sdesk.core.enums import Role, Status
from sdesk.core.ratings import digit_of
from sdesk.store.models import Event, Outbox, Ticket
from tests.conftest import FakeClock
from tests.factories import email


def outbox(desk: Desk) -> list[Outbox]:
    with desk.store.read() as s:
        rows = list(s.execute(select(Outbox).where(Outbox.kind == "notice")).scalars())
        s.expunge_all()
        return rows


def ticket(desk: Desk, number: int) -> Ticket:
    with desk.store.read() as s:
        t = s.execute(select(Ticket).where(Ticket.number == number)).scalar_one()
        s.expunge_all()
        return t


def test_digits_and_not(desk: Desk, clock: FakeClock) -> None:
    desk.add_agent("dana", role=Role.ENGINEER)
    n = desk.intake(email("m1@x", frm="ann@example.org")).ticket_number
    assert n is not None
    desk.set_status(n, "dana", Status.RESOLVED)
    # Only resolved, no satisfaction request yet: "5" is an answer and reopens the ticket.
    desk.intake(email("m2@x", frm="ann@example.org", subject=f"Re: x [#{n}]", text="5"))
    t = ticket(desk, n)
    assert (t.status, t.rating) == ("open", None)

    desk.set_status(n, "dana", Status.CLOSED)
    assert [json.loads(r.payload or "{}")["text"][:5] for r in outbox(desk)] == ["Hello"] * 2
    # Words are no rating: a closed ticket's follow-up opens a new ticket.
    again = desk.intake(
        email("m3@x", frm="ann@example.org", subject=f"Re: x [#{n}]", text="it broke again")
    ).ticket_number
    assert again != n
    clock.advance(minutes=1)
    rated = desk.intake(
        email("m4@x", frm="ann@example.org", subject=f"Re: x [#{n}]", text="4 thanks")
    ).ticket_number
    assert rated == n and ticket(desk, n).rating == 4
    with desk.store.read() as s:
        kinds = [e.kind for e in s.execute(select(Event).order_by(Event.id)).scalars()]
    assert kinds.count("ticket.rated") == 1 and kinds.count("ticket.reopened") == 1


def test_digit_of() -> None:
    for text, score in [("5", 5), (" 5! ", 5), ("4 thanks", 4), ("3/5", 3), ("1.", 1)]:
        assert digit_of(text) == score, text
    for text in ("", "6", "10", "0", "55", "thanks 5", "2 printers and 3 scanners"):
        assert digit_of(text) is None, text


def test_templates_by_language_with_overrides() -> None:
    settings = NotifySettings(
        language="ru", templates={"en": {"closed": "Rate #{ticket}, please."}}
    )
    assert settings.template("closed", "en-GB") == "Rate #{ticket}, please."
    assert settings.template("closed", None).startswith("Здравствуйте")  # the desk's language
    assert settings.template("resolved", "de").startswith("Здравствуйте")  # unknown: the desk's
    assert settings.template("resolved", "en").startswith("Hello")
