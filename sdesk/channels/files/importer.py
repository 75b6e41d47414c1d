"""``sdesk ingest``: files in, tickets out, in committed batches so an interrupt loses nothing.

A re-run completes an interrupted one: every message is keyed (ARCHITECTURE.md rule 2) and exact
raw bytes already stored are skipped before parsing.

Intake is accounted for: every message an input holds ends in exactly one of the summary's counts
(created, appended, duplicate, quarantined, failed), and every file in a folder that holds no
message is counted and named as skipped, so the counts add up to what was read.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

from sdesk.channels.email.parse import EmailLimits
from sdesk.channels.files.pipeline import prepared_in_child
from sdesk.channels.files.prepare import Prepared, prepare_all
from sdesk.channels.files.readers import sniff, total_bytes
from sdesk.core.desk import Batch, Desk
from sdesk.core.enums import Channel
from sdesk.core.inbound import Inbound
from sdesk.core.intake import IntakeResult, Outcome

log = logging.getLogger(__name__)
BATCH_SIZE = 1000
PARALLEL_FROM_BYTES = 4 * 1024 * 1024


@dataclass
class Summary:
    created: int = 0
    appended: int = 0
    duplicates: int = 0
    auto: int = 0
    quarantined: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # files that hold no message
    interrupted: bool = False

    @property
    def seen(self) -> int:
        """Everything read: the sum of every category (auto-replies are also created/appended)."""
        return (
            self.created
            + self.appended
            + self.duplicates
            + self.quarantined
            + len(self.failed)
            + len(self.skipped)
        )

    def count(self, result: IntakeResult) -> None:
        if result.outcome is Outcome.CREATED:
            self.created += 1
        elif result.outcome is Outcome.APPENDED:
            self.appended += 1
        elif result.outcome is Outcome.DUPLICATE:
            self.duplicates += 1
        elif result.outcome is Outcome.QUARANTINED:
            self.quarantined += 1
        if result.auto is not None and result.outcome is not Outcome.DUPLICATE:
            self.auto += 1

    def add(self, other: Summary) -> None:
        self.created += other.created
        self.appended += other.appended
        self.duplicates += other.duplicates
        self.auto += other.auto
        self.quarantined += other.quarantined
        self.failed.extend(other.failed)
        self.skipped.extend(other.skipped)


# The store itself failing (disk full, locked, I/O error): not one message's fault, so the import
# stops (the batch rolls back) instead of counting every later message as failed.
_STORE_FAILURES = (
    sa_exc.OperationalError,
    sa_exc.InternalError,
    sqlite3.OperationalError,
    sqlite3.InternalError,
    OSError,
    MemoryError,
)


def _store_failure(exc: Exception) -> bool:
    return isinstance(exc, _STORE_FAILURES) or type(exc).__module__.startswith("sdesk.store")


def _apply(batch: Batch, prepared: Prepared, pending: Summary) -> None:
    if prepared.kind == "failed":
        pending.failed.append((prepared.source, prepared.error))
    elif prepared.kind == "skipped":
        pending.skipped.append((prepared.source, prepared.error))
    elif prepared.kind == "duplicate":
        pending.duplicates += 1
    elif prepared.kind == "quarantine":
        pending.count(
            batch.quarantine(
                channel=Channel.EMAIL,
                raw=prepared.payload,
                error=prepared.error,
                source=prepared.source,
            )
        )
    elif prepared.kind == "ticket":
        pending.count(batch.import_ticket(prepared.payload))
    else:
        inbound: Inbound = prepared.payload
        if inbound.raw is not None and batch.raw_seen(
            inbound.channel, hashlib.sha256(inbound.raw).hexdigest()
        ):
            pending.duplicates += 1
            return
        pending.count(batch.intake(inbound, history=True))


def _many_messages(paths: list[Path]) -> bool:
    """A second process pays off for folders, mboxes and JSON Lines, not for a few .eml files."""
    return len(paths) > 8 or any(p.is_dir() or sniff(p) in ("mbox", "jsonl") for p in paths)


def _sqlite_path(desk: Desk) -> str | None:
    url = make_url(desk.store.url)
    return url.database if url.get_backend_name() == "sqlite" else None


def ingest(
    desk: Desk,
    paths: list[Path],
    *,
    progress: Callable[[int], None] | None = None,
    batch_size: int = BATCH_SIZE,
    limits: EmailLimits | None = None,
    parallel: bool | None = None,
    summary: Summary | None = None,
) -> Summary:
    """Ingest everything under ``paths``; KeyboardInterrupt keeps what was committed.

    ``parallel`` (default: when there is more than a few MiB) parses in a second process.
    ``summary`` receives each batch's counts once the batch is committed: when the store fails
    (disk full, a lock held too long) the exception propagates and ``summary`` holds exactly what
    was committed before it.
    """
    limits = limits or EmailLimits()
    region = desk.settings.default_region
    if parallel is None:
        parallel = (
            (os.cpu_count() or 1) > 1
            and _many_messages(paths)
            and total_bytes(paths) > PARALLEL_FROM_BYTES
        )
    source = prepared_in_child if parallel else prepare_all
    stream = source(paths, limits=limits, region=region, sqlite_path=_sqlite_path(desk))
    summary = summary if summary is not None else Summary()
    exhausted = False
    try:
        while not exhausted:
            pending = Summary()
            consumed = 0
            with desk.batch() as batch:
                for _ in range(batch_size):
                    prepared = next(stream, None)
                    if prepared is None:
                        exhausted = True
                        break
                    consumed += prepared.consumed
                    try:
                        _apply(batch, prepared, pending)
                    except Exception as exc:  # a bug must cost one message, not the import
                        if _store_failure(exc):
                            raise
                        log.exception("ingest failed on %s", prepared.source)
                        pending.failed.append((prepared.source, f"internal error: {exc!r}"[:300]))
            summary.add(pending)
            if progress is not None:
                progress(consumed)
    except KeyboardInterrupt:
        summary.interrupted = True
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()
    return summary
