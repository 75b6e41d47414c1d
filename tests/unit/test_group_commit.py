"""Group commit (core/group.py): each job gets its own result or error, a failing job's writes
are rolled back alone, and everything else is committed before the callers hear back."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from sdesk.core.desk import Desk
from sdesk.core.group import GroupCommit
from sdesk.store.models import AgentGroup
from sdesk.store.rawsql import RawSql


def named(name: str) -> Callable[[Session], int]:
    return lambda session: RawSql(session).insert("agent_group", name=name)


def failing(session: Session) -> int:
    RawSql(session).insert("agent_group", name="half-done")
    raise ValueError("this job fails")


def names(desk: Desk) -> set[str]:
    with desk.store.read() as session:
        return set(session.execute(select(AgentGroup.name)).scalars())


def test_a_failing_job_costs_only_itself(desk: Desk) -> None:
    group: GroupCommit[int] = GroupCommit(desk.store)
    futures = [group.submit(named("first")), group.submit(failing), group.submit(named("third"))]
    assert futures[0].result(30) > 0 and futures[2].result(30) > 0
    with pytest.raises(ValueError, match="this job fails"):
        futures[1].result(30)
    assert names(desk) == {"first", "third"}


def test_async_callers_wait_for_the_commit(desk: Desk) -> None:
    group: GroupCommit[int] = GroupCommit(desk.store)

    async def many() -> list[int]:
        return await asyncio.gather(*(group.run_async(named(f"g{n}")) for n in range(20)))

    ids = asyncio.run(many())
    assert len(set(ids)) == 20
    assert names(desk) == {f"g{n}" for n in range(20)}
