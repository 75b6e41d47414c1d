"""Bulk acts: one act on many tickets (ARCHITECTURE.md, "Bulk acts").

Each is ONE transaction and runs the single act's own code per ticket (``core/acts.py``), so
every changed ticket gets exactly the event the single act writes. The role is checked once,
up front: a refusal refuses the whole act, before anything changed. A ticket the act cannot or
need not change (not found, merged away, closed, already so) is skipped with a one-line reason.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from sdesk.core import acts
from sdesk.core.enums import Priority, Status
from sdesk.core.errors import DeskError, PermissionDenied
from sdesk.core.permissions import require
from sdesk.store.models import Ticket

if TYPE_CHECKING:
    from sdesk.core.desk import Desk

MAX_BULK = 10_000  # tickets one act takes; a bound on one transaction's size


@dataclass(frozen=True, slots=True)
class BulkResult:
    """Which tickets the act changed, and which it skipped and why (one line each)."""

    changed: tuple[int, ...]
    skipped: tuple[tuple[int, str], ...]

    def summary(self) -> str:
        """E.g. "3 changed, 1 skipped" for a status line."""
        text = f"{len(self.changed)} changed"
        return text + (f", {len(self.skipped)} skipped" if self.skipped else "")


def _numbers(numbers: Sequence[int]) -> list[int]:
    unique = list(dict.fromkeys(numbers))
    if not unique:
        raise DeskError("no tickets chosen")
    if len(unique) > MAX_BULK:
        raise DeskError(f"at most {MAX_BULK:,} tickets at once, not {len(unique):,}")
    return unique


def _each(
    session: Session,
    numbers: Sequence[int],
    unchanged: Callable[[Ticket], str | None],
    act: Callable[[int], None],
) -> BulkResult:
    """Run ``act`` on each ticket ``unchanged`` finds nothing to skip for. A refusal of one
    ticket (closed, merged, unknown) skips it; any other error ends the whole transaction."""
    changed: list[int] = []
    skipped: list[tuple[int, str]] = []
    for number in _numbers(numbers):
        try:
            ticket = acts.ticket_by_number(session, number)
            reason = unchanged(ticket)
            if reason is None:
                act(number)
        except PermissionDenied:
            raise
        except DeskError as exc:
            reason = str(exc)
        if reason is None:
            changed.append(number)
        else:
            skipped.append((number, reason))
    return BulkResult(tuple(changed), tuple(skipped))


def _require(session: Session, by: str, act: str) -> None:
    require(acts.agent_by_login(session, by).role, act, by)


def _gone(ticket: Ticket, session: Session) -> str | None:
    if ticket.merged_into_id is None:
        return None
    target = session.get(Ticket, ticket.merged_into_id)
    return f"merged into #{target.number if target else '?'}"


def assign(
    session: Session, desk: Desk, numbers: Sequence[int], to: str | None, by: str
) -> BulkResult:
    _require(session, by, "assign_self" if to == by else "assign")
    target = acts.agent_by_login(session, to).id if to else None

    def unchanged(t: Ticket) -> str | None:
        if gone := _gone(t, session):
            return gone
        if t.assignee_id == target:
            return f"already assigned to {to}" if to else "already unassigned"
        return None

    return _each(session, numbers, unchanged, lambda n: acts.assign(session, desk, n, by, to))


def set_status(
    session: Session,
    desk: Desk,
    numbers: Sequence[int],
    status: Status,
    by: str,
    until: datetime | None,
) -> BulkResult:
    _require(session, by, "set_status")

    def unchanged(t: Ticket) -> str | None:
        if gone := _gone(t, session):
            return gone
        if t.status == status.value and (status is not Status.PENDING or t.pending_until == until):
            return f"already {status.value}"
        return None

    def act(n: int) -> None:
        acts.set_status(session, desk, n, by, status, pending_until=until)

    return _each(session, numbers, unchanged, act)


def set_priority(
    session: Session, desk: Desk, numbers: Sequence[int], priority: Priority, by: str
) -> BulkResult:
    _require(session, by, "set_priority")

    def unchanged(t: Ticket) -> str | None:
        if gone := _gone(t, session):
            return gone
        return f"already {priority.value}" if t.priority == priority.value else None

    def act(n: int) -> None:
        acts.set_priority(session, desk, n, by, priority)

    return _each(session, numbers, unchanged, act)


def merge_many(
    session: Session, desk: Desk, target: int, sources: Sequence[int], by: str
) -> BulkResult:
    """Merge every source into ``target``; the target itself must be there to take them."""
    _require(session, by, "merge")
    into = acts.ticket_by_number(session, target)  # NotFound ends the act: nowhere to merge to
    if (gone := _gone(into, session)) is not None:
        raise DeskError(f"ticket #{target} was {gone}; merge into that one")

    def unchanged(t: Ticket) -> str | None:
        if t.number == target:
            return "it is the ticket merged into"
        return _gone(t, session)

    def act(n: int) -> None:
        acts.merge(session, desk, n, target, by)

    return _each(session, sources, unchanged, act)
