"""Running ``prepare`` in a second process, so reading and parsing overlap the writes.

The child sends prepared messages in chunks through a bounded queue (memory stays bounded),
ignores SIGINT (the parent decides what an interrupt means) and exits by itself when the parent
dies, even by SIGKILL.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sdesk.channels.email.parse import EmailLimits
from sdesk.channels.files.prepare import Prepared, prepare_all

CHUNK_MESSAGES = 64
CHUNK_BYTES = 4 * 1024 * 1024
QUEUE_CHUNKS = 8


class PipelineError(RuntimeError):
    pass


def prepared_in_child(
    paths: list[Path], *, limits: EmailLimits, region: str, sqlite_path: str | None
) -> Iterator[Prepared]:
    ctx = multiprocessing.get_context("spawn")  # no fork: the parent holds threads and sockets
    channel: Any = ctx.Queue(maxsize=QUEUE_CHUNKS)
    child = ctx.Process(
        target=_child,
        args=(paths, limits, region, sqlite_path, channel, os.getpid()),
        name="sdesk-ingest-parser",
        daemon=True,
    )
    child.start()
    try:
        while True:
            try:
                chunk = channel.get(timeout=1)
            except queue.Empty:
                if not child.is_alive():
                    raise PipelineError(
                        f"the parser process died (exit {child.exitcode})"
                    ) from None
                continue
            if chunk is None:
                return
            if isinstance(chunk, str):
                raise PipelineError(chunk)
            yield from chunk
    finally:
        if child.is_alive():
            child.terminate()
        child.join(5)
        channel.close()


def _child(
    paths: list[Path],
    limits: EmailLimits,
    region: str,
    sqlite_path: str | None,
    channel: Any,
    parent: int,
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    chunk: list[Prepared] = []
    size = 0
    try:
        for prepared in prepare_all(paths, limits=limits, region=region, sqlite_path=sqlite_path):
            chunk.append(prepared)
            size += prepared.consumed
            if len(chunk) >= CHUNK_MESSAGES or size >= CHUNK_BYTES:
                _put(channel, chunk, parent)
                chunk, size = [], 0
        _put(channel, chunk, parent)
        _put(channel, None, parent)
    except Exception as exc:  # reported to the parent, which fails the import loudly
        _put(channel, f"parser process failed: {exc!r}", parent)


def _put(channel: Any, item: object, parent: int) -> None:
    while True:
        try:
            channel.put(item, timeout=1)
            return
        except queue.Full:
            if os.getppid() != parent:  # the parent is gone: nobody will read this
                os._exit(0)
