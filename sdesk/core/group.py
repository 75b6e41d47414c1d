"""Group commit: writes that arrive together from many threads share one transaction.

The API's ticket creates come from many worker threads at once. Each alone would pay a whole
write transaction (BEGIN IMMEDIATE, the commit's WAL write, SQLAlchemy's session); SQLite runs
them one at a time anyway. Here the first caller becomes the leader: it takes every job queued
so far (up to ``max_jobs``), runs each in its own SAVEPOINT of one transaction, commits once
and hands each caller its own result or exception; the callers that queued meanwhile wait, and
one of them leads the next group. A job that fails rolls back its savepoint only: plain SQL
savepoints (the ORM's cost more than a job), so jobs write through ``RawSql``, never by adding
ORM objects to the session.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from sqlalchemy.orm import Session

from sdesk.store.engine import Store
from sdesk.store.rawsql import RawSql

T = TypeVar("T")


@dataclass(eq=False)
class _Job(Generic[T]):
    work: Callable[[Session], T]
    done: bool = False
    result: T | None = None
    error: BaseException | None = None
    extra: dict[str, object] = field(default_factory=dict)


class GroupCommit(Generic[T]):
    def __init__(self, store: Store, max_jobs: int = 64) -> None:
        self.store = store
        self.max_jobs = max_jobs
        self._cond = threading.Condition()
        self._queue: list[_Job[T]] = []
        self._leading = False

    def run(self, work: Callable[[Session], T]) -> T:
        """``work(session)`` in a shared transaction, committed before this returns."""
        job: _Job[T] = _Job(work)
        with self._cond:
            self._queue.append(job)
            while True:
                while self._leading and not job.done:
                    self._cond.wait()
                if job.done:
                    break
                self._leading = True
                group = self._queue[: self.max_jobs]
                del self._queue[: self.max_jobs]
                self._cond.release()
                try:
                    self._commit(group)
                finally:
                    self._cond.acquire()
                    self._leading = False
                    self._cond.notify_all()
        if job.error is not None:
            raise job.error
        return job.result  # type: ignore[return-value]  # set with done, error unset

    def _commit(self, group: list[_Job[T]]) -> None:
        finished: list[_Job[T]] = []
        try:
            with self.store.write() as session:
                sql = RawSql(session)
                for job in group:
                    sql.run("SAVEPOINT job")
                    try:
                        job.result = job.work(session)
                    except Exception as exc:  # this job's own failure: the others go on
                        sql.run("ROLLBACK TO SAVEPOINT job")
                        job.error = exc
                    sql.run("RELEASE SAVEPOINT job")
                    finished.append(job)
        except BaseException as exc:  # the transaction itself failed: every job with it
            for job in group:
                job.result, job.error = None, exc
        for job in group:
            job.done = True
