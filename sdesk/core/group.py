"""Group commit: writes that arrive together share one transaction, on one writer thread.

The API's ticket creates arrive from many requests at once. Each alone would pay a whole write
transaction (BEGIN IMMEDIATE, the commit's WAL write, SQLAlchemy's session), and SQLite runs
them one at a time anyway. Here they queue for one writer thread, which takes every job queued
so far (up to ``max_jobs``), runs each in its own savepoint of one transaction, commits once and
hands each caller its own result or exception. A job that fails rolls back its savepoint only:
plain SQL savepoints (the ORM's cost more than a job), so jobs write through ``RawSql``, never
by adding ORM objects to the session.

An async caller (``run_async``) waits without a thread of its own; the writer thread ends
after ``IDLE_SECONDS`` without work and starts again with the next job.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Generic, TypeVar

from sqlalchemy.orm import Session

from sdesk.store.engine import Store
from sdesk.store.rawsql import RawSql

T = TypeVar("T")
IDLE_SECONDS = 5.0
Work = Callable[[Session], T]


class GroupCommit(Generic[T]):
    def __init__(self, store: Store, max_jobs: int = 64) -> None:
        self.store = store
        self.max_jobs = max_jobs
        self._queue: queue.SimpleQueue[tuple[Work[T], Future[T]]] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._writer: threading.Thread | None = None

    def run(self, work: Work[T]) -> T:
        """``work(session)`` in a shared transaction, committed before this returns."""
        return self.submit(work).result()

    async def run_async(self, work: Work[T]) -> T:
        return await asyncio.wrap_future(self.submit(work))

    def submit(self, work: Work[T]) -> Future[T]:
        future: Future[T] = Future()
        self._queue.put((work, future))
        with self._lock:
            if self._writer is None:
                self._writer = threading.Thread(
                    target=self._write, name="sdesk:group-commit", daemon=True
                )
                self._writer.start()
        return future

    def _write(self) -> None:
        while True:
            try:
                first = self._queue.get(timeout=IDLE_SECONDS)
            except queue.Empty:
                with self._lock:
                    if self._queue.empty():  # a job queued meanwhile keeps this thread
                        self._writer = None
                        return
                continue
            group = [first]
            while len(group) < self.max_jobs:
                try:
                    group.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._commit(group)

    def _commit(self, group: list[tuple[Work[T], Future[T]]]) -> None:
        results: list[tuple[Future[T], T | None, BaseException | None]] = []
        try:
            with self.store.write() as session:
                sql = RawSql(session)
                for work, future in group:
                    sql.run("SAVEPOINT job")
                    try:
                        results.append((future, work(session), None))
                    except Exception as exc:  # this job's own failure: the others go on
                        sql.run("ROLLBACK TO SAVEPOINT job")
                        results.append((future, None, exc))
                    sql.run("RELEASE SAVEPOINT job")
        except BaseException as exc:  # the transaction itself failed: every job with it
            for _, future in group:
                if not future.done():
                    future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
            return
        for future, result, error in results:  # only after the commit
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(result)  # type: ignore[arg-type]  # set with no error
