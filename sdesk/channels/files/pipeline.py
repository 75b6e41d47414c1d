"""A second process for pure work (reading, parsing), so it overlaps the parent's writes.

``ChildProcess`` runs ``work(jobs, *args)`` in a spawned process. ``work`` yields chunks (lists)
that come back to the parent in order through a bounded queue; ``jobs`` iterates what the parent
``send``s (the IMAP poller hands it fetched messages) or is None (``sdesk ingest`` lets the child
read the files itself). Both queues are bounded, so memory stays bounded whichever side is
slower. The child ignores SIGINT (the parent decides what an interrupt means) and exits by itself
when the parent dies, even by SIGKILL.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import queue
import signal
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the child imports this module: it must stay light (no SQLAlchemy)
    from sdesk.channels.email.parse import EmailLimits
    from sdesk.channels.files.prepare import Prepared

CHUNK_MESSAGES = 64
CHUNK_BYTES = 4 * 1024 * 1024
QUEUE_CHUNKS = 8
POLL_S = 1.0  # how often a side blocked on a queue checks that the other is still alive

Work = Callable[..., Iterator[list[Any]]]


class PipelineError(RuntimeError):
    pass


class ChildProcess:
    """``work(jobs, *args)`` in a second process; its chunks come back through ``receive``."""

    def __init__(
        self,
        work: Work,
        args: tuple[Any, ...],
        *,
        name: str,
        takes_jobs: bool = False,
        queue_chunks: int = QUEUE_CHUNKS,
    ) -> None:
        ctx = multiprocessing.get_context("spawn")  # no fork: the parent holds threads, sockets
        self.name = name
        self._jobs: Any = ctx.Queue(maxsize=queue_chunks) if takes_jobs else None
        self._results: Any = ctx.Queue(maxsize=queue_chunks)
        self._child = ctx.Process(
            target=_child,
            args=(work, args, name, self._jobs, self._results, os.getpid()),
            name=name,
            daemon=True,
        )
        with _main_not_reimported():
            self._child.start()
        self._ended = False
        self._ready: deque[Any] = deque()  # results taken off the queue by ``ready``

    @property
    def pid(self) -> int | None:
        return self._child.pid

    def send(self, job: Any) -> None:
        """Hand the child one job; waits while its queue is full (the child is behind)."""
        assert self._jobs is not None, "this child takes no jobs"
        while True:
            try:
                self._jobs.put(job, timeout=POLL_S)
                return
            except queue.Full:
                self._check_alive()

    def ready(self) -> bool:
        """Whether ``receive`` would return at once (a result is waiting), without blocking."""
        if self._ready:
            return True
        with contextlib.suppress(queue.Empty):
            self._ready.append(self._results.get_nowait())
        return bool(self._ready)

    def receive(self) -> list[Any] | None:
        """The next chunk ``work`` yielded, or None once it has returned."""
        if self._ended:
            return None
        while not self._ready:
            try:
                self._ready.append(self._results.get(timeout=POLL_S))
            except queue.Empty:
                self._check_alive()
        chunk: list[Any] | str | None = self._ready.popleft()  # a chunk, an error or the end
        if chunk is None:
            self._ended = True
            return None
        if isinstance(chunk, str):
            self._ended = True
            raise PipelineError(chunk)
        return chunk

    def _check_alive(self) -> None:
        if not self._child.is_alive():
            self._ended = True
            raise PipelineError(f"the {self.name} process died (exit {self._child.exitcode})")

    def close(self) -> None:
        """Stop the child (at once: whatever it still holds is not wanted) and free the queues."""
        if self._child.is_alive():
            self._child.terminate()
        self._child.join(5)
        for q in (self._jobs, self._results):
            if q is not None:
                q.cancel_join_thread()  # never wait at exit on a pipe nobody reads any more
                q.close()

    def __enter__(self) -> ChildProcess:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


_START_LOCK = threading.Lock()


@contextlib.contextmanager
def _main_not_reimported() -> Iterator[None]:
    """While a child is spawned, hide where the parent's ``__main__`` came from.

    A spawned child runs the parent's main script again (as ``__mp_main__``) in case the target
    lives there. Ours never does (``_child`` and every ``work`` are module functions), and the
    ``sdesk`` console script's top line imports the whole CLI: 600 modules and 0.5 s of CPU in
    every parser process before its first message. ``python -m sdesk`` is skipped by
    multiprocessing itself (a ``__main__`` module is never re-imported).
    """
    main = sys.modules.get("__main__")
    with _START_LOCK:
        if main is None:
            yield
            return
        saved: dict[str, Any] = {
            k: main.__dict__[k] for k in ("__file__", "__spec__") if k in main.__dict__
        }
        main.__dict__.pop("__file__", None)
        main.__dict__["__spec__"] = None
        try:
            yield
        finally:
            main.__dict__.pop("__spec__", None)
            main.__dict__.update(saved)


def _child(
    work: Work, args: tuple[Any, ...], name: str, jobs: Any, results: Any, parent: int
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        for chunk in work(_incoming(jobs, parent) if jobs is not None else None, *args):
            _put(results, chunk, parent)
        _put(results, None, parent)
    except Exception as exc:  # reported to the parent, which decides how loudly to fail
        _put(results, f"{name} process failed: {exc!r}", parent)


def _incoming(jobs: Any, parent: int) -> Iterator[Any]:
    while True:
        try:
            job = jobs.get(timeout=POLL_S)
        except queue.Empty:
            if os.getppid() != parent:  # the parent is gone: nobody will send more
                os._exit(0)
            continue
        if job is None:
            return
        yield job


def _put(channel: Any, item: object, parent: int) -> None:
    while True:
        try:
            channel.put(item, timeout=POLL_S)
            return
        except queue.Full:
            if os.getppid() != parent:  # the parent is gone: nobody will read this
                os._exit(0)


# --- sdesk ingest ---------------------------------------------------------------------------------


def prepared_in_child(
    paths: list[Path], *, limits: EmailLimits, region: str, sqlite_path: str | None
) -> Iterator[Prepared]:
    """``prepare_all`` in a second process; the parent only stores what it yields."""
    with ChildProcess(
        _prepare_chunks, (paths, limits, region, sqlite_path), name="sdesk-ingest-parser"
    ) as child:
        while (chunk := child.receive()) is not None:
            yield from chunk


def _prepare_chunks(
    _jobs: None, paths: list[Path], limits: EmailLimits, region: str, sqlite_path: str | None
) -> Iterator[list[Prepared]]:
    from sdesk.channels.files.prepare import prepare_all

    chunk: list[Prepared] = []
    size = 0
    for prepared in prepare_all(paths, limits=limits, region=region, sqlite_path=sqlite_path):
        chunk.append(prepared)
        size += prepared.consumed
        if len(chunk) >= CHUNK_MESSAGES or size >= CHUNK_BYTES:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk


__all__ = ["ChildProcess", "PipelineError", "prepared_in_child"]
