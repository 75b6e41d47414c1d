"""``sdesk ingest``: files in, tickets out, in committed batches so an interrupt loses nothing.

A re-run completes an interrupted one: every message is keyed (DESIGN rule 2) and exact raw bytes
already stored are skipped before parsing.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from sdesk.channels.email.parse import EmailLimits, UnparseableEmail, parse_email
from sdesk.channels.files.readers import Item, iter_items
from sdesk.channels.files.records import RecordError, is_ticket, to_inbound, to_ticket
from sdesk.core.desk import Batch, Desk
from sdesk.core.enums import Channel
from sdesk.core.intake import IntakeResult, Outcome

log = logging.getLogger(__name__)
BATCH_SIZE = 500


@dataclass
class Summary:
    created: int = 0
    appended: int = 0
    duplicates: int = 0
    auto: int = 0
    quarantined: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    interrupted: bool = False

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


def _one(batch: Batch, desk: Desk, item: Item, limits: EmailLimits, pending: Summary) -> None:
    if item.kind == "error":
        pending.failed.append((item.source, item.error))
        return
    if item.kind == "email":
        digest = hashlib.sha256(item.raw).hexdigest()
        if batch.raw_seen(Channel.EMAIL, digest):
            pending.duplicates += 1
            return
        try:
            inbound = parse_email(item.raw, limits=limits, source=item.source)
        except UnparseableEmail as exc:
            pending.count(
                batch.quarantine(
                    channel=Channel.EMAIL, raw=item.raw, error=str(exc), source=item.source
                )
            )
            return
        # History keeps its own time: the ticket is as old as the mail, not as the import.
        when = inbound.sent_at or desk.clock()
        pending.count(batch.intake(replace(inbound, received_at=when)))
        return
    record = item.record
    if not isinstance(record, dict):
        pending.failed.append((item.source, "each line must be a JSON object"))
        return
    base = Path(item.source.rsplit(":", 1)[0]).parent
    region = desk.settings.default_region
    try:
        if is_ticket(record):
            pending.count(batch.import_ticket(to_ticket(record, base=base, region=region)))
        else:
            pending.count(
                batch.intake(to_inbound(record, source=item.source, base=base, region=region))
            )
    except RecordError as exc:
        pending.failed.append((item.source, str(exc)))


def ingest(
    desk: Desk,
    paths: list[Path],
    *,
    progress: Callable[[int], None] | None = None,
    batch_size: int = BATCH_SIZE,
    limits: EmailLimits | None = None,
) -> Summary:
    """Ingest everything under ``paths``; KeyboardInterrupt keeps what was committed."""
    limits = limits or EmailLimits()
    summary = Summary()
    items = iter_items(paths, max_message_bytes=limits.max_message_bytes)
    exhausted = False
    try:
        while not exhausted:
            pending = Summary()
            consumed = 0
            with desk.batch() as batch:
                for _ in range(batch_size):
                    item = next(items, None)
                    if item is None:
                        exhausted = True
                        break
                    consumed += item.consumed
                    try:
                        _one(batch, desk, item, limits, pending)
                    except Exception as exc:  # a bug must cost one message, not the import
                        log.exception("ingest failed on %s", item.source)
                        pending.failed.append((item.source, f"internal error: {exc!r}"[:300]))
            summary.add(pending)
            if progress is not None:
                progress(consumed)
    except KeyboardInterrupt:
        summary.interrupted = True
    return summary
