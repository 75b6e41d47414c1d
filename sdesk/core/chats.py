"""A chat bot's batch of updates in ONE transaction (ARCHITECTURE.md rules 1-2, transactions).

The Telegram channel hands each update here raw, with what it means (a new message, an edit of
a stored one, one more photo of an album, a step of the /new dialogue, a bot answer to queue),
and the cursor that confirms the batch. Everything commits together or not at all, so a crash
anywhere means the batch is fetched again and ``seen`` absorbs what was already taken.

No savepoint per update (like ``batch.intake_many``): a failure rolls the whole batch back, and
the channel then stores the batch update by update, quarantining the one that fails.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sdesk.core import events, ratings
from sdesk.core.batch import DEFER_FTS_FROM, _catch_up_fts, _defer_fts, _index_deferred
from sdesk.core.contacts import normalise
from sdesk.core.cursors import Cursor, set_cursor
from sdesk.core.enums import Channel, DeliveryState, MessageKind, RawState
from sdesk.core.inbound import ContactRef, Inbound, InboundAttachment, Sender
from sdesk.core.intake import (
    IntakeResult,
    Lookups,
    Outcome,
    TicketNumbers,
    customer_for,
    intake,
    quarantine,
    store_attachments,
)
from sdesk.core.threads import chat_key, open_chats
from sdesk.store.engine import BULK_CACHE_KIB
from sdesk.store.models import RawInbound
from sdesk.store.rawsql import RawSql

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from sdesk.core.desk import Desk

EDIT_NOTE_CHARS = 2000  # the earlier text kept in an edit's note


@dataclass(frozen=True, slots=True)
class PendingFile:
    """A file a message names, to download in a later pass (``telegram_file``)."""

    file_id: str
    filename: str
    content_type: str
    size: int | None = None


@dataclass(frozen=True, slots=True)
class OpenTicket:
    number: int
    status: str
    subject: str


class ChatBatch:
    """What a chat channel may write while storing a batch; every method joins the one
    transaction ``Desk.chat_batch`` opened."""

    def __init__(self, desk: Desk, session: Session) -> None:
        self.desk = desk
        self.session = session
        self.sql = RawSql(session)
        self.numbers = TicketNumbers()
        self.lookups = Lookups()
        self.at = desk.clock()
        # Set by ``chat_batch`` when this batch writes the full-text index once at its end.
        self.deferred_fts: tuple[list[int], list[str]] | None = None
        # (bot, media group) -> the message its first update made, for this batch's albums:
        # ``chat_batch`` writes ``telegram_update`` rows at its end, so they cannot be read.
        self._albums: dict[tuple[int, str], int] = {}
        # (bot, chat) -> the /new dialogue's state, for the chats ``expect`` read at once.
        self._dialogues: dict[tuple[int, str], dict[str, Any] | None] = {}

    # -- the raw updates -------------------------------------------------------------------

    def seen_among(self, bot_id: int, update_ids: list[int]) -> set[int]:
        """Which of ``update_ids`` are stored already (one query for a batch)."""
        rows = self._among(
            "SELECT update_id FROM telegram_update WHERE bot_id = ? AND update_id IN", bot_id,
            update_ids,
        )  # fmt: skip
        return {int(r[0]) for r in rows}

    def expect(self, inbounds: list[Inbound], bot_id: int, chat_ids: list[str]) -> None:
        """Read at once what each of the batch's messages would ask on its own: which of
        their external ids are stored already, their senders' customers, their chats' open
        tickets (``intake.Lookups``) and the /new dialogue of each chat."""
        lookups = self.lookups
        region = self.desk.settings.default_region
        for channel in {i.channel for i in inbounds}:
            keys = [i.external_id for i in inbounds if i.channel is channel and i.external_id]
            rows = self._among(
                "SELECT external_id FROM message WHERE channel = ? AND external_id IN",
                channel.value,
                keys,
            )
            lookups.absent.update(set(keys) - {str(r[0]) for r in rows})
        contacts: dict[str, list[str]] = {}
        for inbound in inbounds:
            for c in inbound.sender.contacts:
                value = normalise(c.kind, c.value, region)
                if value:
                    contacts.setdefault(c.kind.value, []).append(value)
        for kind, values in contacts.items():
            values = list(dict.fromkeys(values))
            for value in values:
                lookups.customers.setdefault((kind, value), None)
            rows = self._among(
                "SELECT c.kind, c.value, c.customer_id, cu.name FROM contact c JOIN customer cu "
                "ON cu.id = c.customer_id WHERE c.kind = ? AND c.value IN",
                kind,
                values,
            )
            for k, v, customer, name in rows:
                lookups.customers[(str(k), str(v))] = (int(customer), str(name))
        keys = list(dict.fromkeys(k for i in inbounds if (k := chat_key(i))))
        lookups.chats.update(open_chats(self.sql, keys))
        chats = list(dict.fromkeys(chat_ids))
        for chat in chats:
            self._dialogues[(bot_id, chat)] = None
        rows = self._among(
            "SELECT chat_id, state FROM telegram_dialogue WHERE bot_id = ? AND chat_id IN",
            bot_id,
            chats,
        )
        for chat, state in rows:
            self._dialogues[(bot_id, str(chat))] = _state(state)

    def _among(self, head: str, first: Any, values: list[Any]) -> list[tuple[Any, ...]]:
        """``head`` + `` (?, ...)`` over ``values``, 500 at a time."""
        rows: list[tuple[Any, ...]] = []
        for start in range(0, len(values), 500):
            part = values[start : start + 500]
            marks = ", ".join("?" for _ in part)
            rows += self.sql.all(f"{head} ({marks})", first, *part)
        return rows

    def record(
        self,
        bot_id: int,
        update_id: int,
        raw: bytes,
        *,
        kind: str,
        chat_id: str | None = None,
        media_group: str | None = None,
        message_id: int | None = None,
    ) -> None:
        """Keep the update raw; the unique (bot, update_id) makes a second take fail loudly."""
        if media_group is not None and message_id is not None:
            self._albums.setdefault((bot_id, media_group), message_id)
        self.sql.run(
            "INSERT INTO telegram_update (bot_id, update_id, kind, chat_id, media_group, "
            "message_id, raw, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            bot_id,
            update_id,
            kind,
            chat_id,
            media_group,
            message_id,
            raw,
            self.sql.time(self.at),
        )

    def unrecord(self, bot_id: int, update_id: int) -> str | None:
        """How the desk took ``update_id`` (its ``telegram_update`` kind; None: never). A
        quarantined record is removed, for the update's retry to record it anew."""
        kind = self.sql.scalar(
            "SELECT kind FROM telegram_update WHERE bot_id = ? AND update_id = ?", bot_id, update_id
        )
        if kind == "quarantined":
            self.sql.run(
                "DELETE FROM telegram_update WHERE bot_id = ? AND update_id = ?", bot_id, update_id
            )
        return str(kind) if kind is not None else None

    # -- quarantine, retried -------------------------------------------------------------------

    def quarantined(self, raw_id: int) -> tuple[bytes, str] | None:
        """The exact bytes and the source of quarantined raw ``raw_id`` (None: not quarantined)."""
        row = self.session.get(RawInbound, raw_id)
        if row is None or row.state != RawState.QUARANTINED.value:
            return None
        return row.original(self.desk.store.blobs.get), row.source

    def requeued(self, raw_id: int, external_id: str | None) -> None:
        """Quarantined raw ``raw_id`` was taken after all: out of quarantine, recorded."""
        self.sql.run(
            "UPDATE raw_inbound SET state = ?, error = NULL, external_id = ? WHERE id = ?",
            RawState.STORED.value,
            external_id,
            raw_id,
        )
        events.record(self.sql, "message.requeued", at=self.at, actor="telegram", raw=raw_id)

    def still_quarantined(self, raw_id: int, error: str) -> None:
        """A retry of ``raw_id`` failed again: its error is the new one."""
        self.sql.run("UPDATE raw_inbound SET error = ? WHERE id = ?", error[:1000], raw_id)

    # -- messages ------------------------------------------------------------------------------

    def intake(self, inbound: Inbound) -> IntakeResult:
        return intake(self.sql, self.desk, inbound, numbers=self.numbers, lookups=self.lookups)

    def quarantine(self, channel: Channel, raw: bytes, error: str, source: str) -> IntakeResult:
        return quarantine(self.sql, self.desk, channel=channel, raw=raw, error=error, source=source)

    def rate_by_button(self, chat_id: str, number: int, score: int) -> bool:
        """A satisfaction button pressed in a chat (core/ratings.py); False when stale."""
        hours = self.desk.settings.notify.rating_hours
        return ratings.button_rating(self.sql, chat_id, number, score, self.at, hours)

    def message_by_ref(self, channel: Channel, ref: str) -> tuple[int, int] | None:
        """(message row id, ticket id) of the message the channel knows as ``ref``."""
        row = self.sql.one(
            "SELECT id, ticket_id FROM message WHERE message_id = ? AND channel = ? "
            "ORDER BY id LIMIT 1",
            ref,
            channel.value,
        )
        return (int(row[0]), int(row[1])) if row else None

    def album_message(self, bot_id: int, media_group: str) -> int | None:
        """The message an album's first update made (its later photos join it)."""
        here = self._albums.get((bot_id, media_group))
        if here is not None:
            return here
        value = self.sql.scalar(
            "SELECT message_id FROM telegram_update WHERE bot_id = ? AND media_group = ? "
            "AND message_id IS NOT NULL ORDER BY id LIMIT 1",
            bot_id,
            media_group,
        )
        return int(value) if value is not None else None

    def edit(self, message_id: int, text: str, *, edited_at: datetime, actor: str) -> bool:
        """The customer changed a stored message: the new text replaces the old, which is kept
        in the message's notes (its history) and in a ``message.edited`` event. False when the
        text is the same (an edit of the media alone)."""
        row = self.sql.one("SELECT ticket_id, text, notes FROM message WHERE id = ?", message_id)
        if row is None:
            return False
        ticket_id, old, notes = row
        if old == text:
            return False
        before = old if len(old) <= EDIT_NOTE_CHARS else old[: EDIT_NOTE_CHARS - 1] + "…"
        note = f"edited {edited_at:%Y-%m-%d %H:%M} UTC; before: {before}"
        self._indexed(message_id)
        self.sql.run(
            "UPDATE message SET text = ?, notes = ? WHERE id = ?",
            text,
            f"{notes}\n{note}" if notes else note,
            message_id,
        )
        self._touch(ticket_id)
        events.record(
            self.sql,
            "message.edited",
            at=self.at,
            ticket_id=ticket_id,
            actor=actor,
            message=message_id,
            before=old[:EDIT_NOTE_CHARS],
        )
        return True

    def add_attachments(
        self,
        message_id: int,
        attachments: tuple[InboundAttachment, ...],
        *,
        text: str = "",
        notes: tuple[str, ...] = (),
        actor: str,
    ) -> None:
        """More parts of one message (an album's photos, a file fetched late): attached to the
        stored message, a caption added to its text."""
        row = self.sql.one("SELECT ticket_id, text, notes FROM message WHERE id = ?", message_id)
        if row is None:
            return
        ticket_id, old_text, old_notes = row
        new_text = f"{old_text}\n{text}" if text and old_text else (text or old_text)
        new_notes = "\n".join(n for n in (old_notes, *notes) if n)
        if new_text != old_text:
            self._indexed(message_id)
            self.sql.run(
                "UPDATE message SET text = ?, notes = ? WHERE id = ?",
                new_text,
                new_notes,
                message_id,
            )
        elif new_notes != old_notes:
            # Not ``SET text``: naming the column fires the FTS update trigger even when the
            # value is the same (a needless delete and insert in the index).
            self.sql.run("UPDATE message SET notes = ? WHERE id = ?", new_notes, message_id)
        store_attachments(self.sql, self.desk, attachments, message_id)
        self._touch(ticket_id)
        events.record(
            self.sql,
            "message.attached",
            at=self.at,
            ticket_id=ticket_id,
            actor=actor,
            message=message_id,
            files=len(attachments),
        )

    def pending_file(self, bot_id: int, message_id: int, file: PendingFile) -> None:
        self.sql.run(
            "INSERT INTO telegram_file (bot_id, message_id, file_id, filename, content_type, "
            "size, state, attempts, last_error, next_attempt_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            bot_id,
            message_id,
            file.file_id,
            file.filename,
            file.content_type,
            file.size,
            "pending",
            0,
            None,
            self.sql.time(self.at),
        )

    def _indexed(self, message_id: int) -> None:
        """Before the text of ``message_id`` changes: when this batch stored it with the
        full-text index deferred, index the batch's rows so far, so the update trigger removes
        text the index has (``batch._catch_up_fts``)."""
        deferred = self.deferred_fts
        if deferred is not None and message_id > deferred[0][0]:
            _catch_up_fts(self.sql, deferred)

    def _touch(self, ticket_id: int) -> None:
        # The console's live stamp and the inbox order notice the change (store/live.py).
        self.sql.run(
            "UPDATE ticket SET updated_at = ?, version = version + 1 WHERE id = ?",
            self.sql.time(self.at),
            ticket_id,
        )

    # -- customers and the bot's own conversation -------------------------------------------

    def add_contacts(self, contacts: tuple[ContactRef, ...], name: str | None) -> None:
        """A customer shared their own phone: it joins their contacts, so SMS and mail from
        that number find the same person (``intake.customer_for``). When the contacts already
        belong to two customers (the Telegram user wrote before; the phone came by SMS), they
        are one person, as Telegram vouches for the number: the newer customer joins the
        older, contacts, tickets and messages alike, recorded as ``customer.merged``."""
        region = self.desk.settings.default_region
        owners: set[int] = set()
        for ref in contacts:
            value = normalise(ref.kind, ref.value, region)
            found = self.sql.scalar(
                "SELECT customer_id FROM contact WHERE kind = ? AND value = ?",
                ref.kind.value,
                value,
            )
            if found is not None:
                owners.add(int(found))
        ordered = sorted(owners)
        keep = ordered[0] if ordered else None
        for other in ordered[1:]:
            self.sql.run("UPDATE contact SET customer_id = ? WHERE customer_id = ?", keep, other)
            self.sql.run("UPDATE ticket SET customer_id = ? WHERE customer_id = ?", keep, other)
            self.sql.run(
                "UPDATE message SET author_customer_id = ? WHERE author_customer_id = ?",
                keep,
                other,
            )
            self.sql.run("DELETE FROM customer WHERE id = ?", other)
            self.lookups.customers.clear()  # contacts moved: read them again
            events.record(self.sql, "customer.merged", at=self.at, actor="telegram",
                          customer=keep, merged=other)  # fmt: skip
        customer_for(
            self.sql, Sender(name=name, contacts=contacts), self.at, region,
            self.lookups.customers,
        )  # fmt: skip

    def open_tickets(self, contact: ContactRef, *, limit: int = 20) -> list[OpenTicket]:
        """The not closed tickets of the customer behind ``contact``, newest first."""
        rows = self.sql.all(
            "SELECT t.number, t.status, t.subject FROM ticket t JOIN contact c "
            "ON c.customer_id = t.customer_id WHERE c.kind = ? AND c.value = ? "
            "AND t.status != 'closed' AND t.merged_into_id IS NULL ORDER BY t.id DESC LIMIT ?",
            contact.kind.value,
            contact.value,
            limit,
        )
        return [OpenTicket(int(n), str(s), str(subj)) for n, s, subj in rows]

    def ticket_id(self, number: int) -> int | None:
        value = self.sql.scalar("SELECT id FROM ticket WHERE number = ?", number)
        return int(value) if value is not None else None

    def dialogue(self, bot_id: int, chat_id: str) -> dict[str, Any] | None:
        if (bot_id, chat_id) in self._dialogues:
            return self._dialogues[(bot_id, chat_id)]
        value = self.sql.scalar(
            "SELECT state FROM telegram_dialogue WHERE bot_id = ? AND chat_id = ?", bot_id, chat_id
        )
        return _state(value)

    def set_dialogue(self, bot_id: int, chat_id: str, state: dict[str, Any] | None) -> None:
        if (bot_id, chat_id) in self._dialogues:  # as it reads back from the row
            self._dialogues[(bot_id, chat_id)] = _state(json.dumps(state)) if state else None
        self.sql.run(
            "DELETE FROM telegram_dialogue WHERE bot_id = ? AND chat_id = ?", bot_id, chat_id
        )
        if state is not None:
            self.sql.run(
                "INSERT INTO telegram_dialogue (bot_id, chat_id, state, updated_at) "
                "VALUES (?, ?, ?, ?)",
                bot_id,
                chat_id,
                json.dumps(state, ensure_ascii=False),
                self.sql.time(self.at),
            )

    def queue_bot_message(
        self,
        *,
        channel: Channel,
        kind: str,
        recipient: str,
        payload: dict[str, Any],
        key: str,
        ticket_id: int | None = None,
        author: str = "bot",
    ) -> None:
        """An automatic answer (greeting, acknowledgement, /status, a dialogue step) as an
        outbox row in this transaction (ARCHITECTURE.md transactions). One tied to a ticket is
        also a message on it, so the operator sees what the bot said."""
        message_id = None
        if ticket_id is not None:
            message_id = self.sql.insert(
                "message",
                ticket_id=ticket_id,
                kind=MessageKind.SYSTEM.value,
                channel=channel.value,
                external_id=key,
                message_id=None,
                subject="",
                text=str(payload.get("text", "")),
                author_name=author,
                author_address=recipient,
                created_at=self.sql.time(self.at),
                received_at=self.sql.time(self.at),
                delivery_state=DeliveryState.QUEUED.value,
                notes="",
            )
        self.sql.run(
            "INSERT INTO outbox (kind, channel, ticket_id, message_id, recipient, payload, state, "
            "attempts, next_attempt_at, created_at, idempotency_key) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            kind,
            channel.value,
            ticket_id,
            message_id,
            recipient,
            json.dumps(payload, ensure_ascii=False),
            DeliveryState.QUEUED.value,
            0,
            self.sql.time(self.at),
            self.sql.time(self.at),
            key,
        )

    def set_cursor(self, channel: Channel, account: str, folder: str, cursor: Cursor) -> None:
        """``cursors.set_cursor`` in plain SQL: the ORM's select and flush were ~5% of a
        batch's store (bench/telegram.py)."""
        key = (channel.value, account, folder)
        self.sql.run(
            "UPDATE channel_cursor SET validity = ?, position = ?, updated_at = ? "
            "WHERE channel = ? AND account = ? AND folder = ?",
            cursor.validity, cursor.position, self.sql.time(self.at), *key,
        )  # fmt: skip
        if self.sql.changes() == 0:
            set_cursor(self.session, channel.value, account, folder, cursor, self.at)


def _state(value: Any) -> dict[str, Any] | None:
    state = json.loads(value) if value is not None else None
    return state if isinstance(state, dict) else None


@contextmanager
def chat_batch(desk: Desk, *, size: int = 0, bulk: bool = False) -> Iterator[ChatBatch]:
    """One write transaction for a batch of ``size`` updates; commits when the block ends.
    ``bulk``: one of many batches in a row (a backlog): checkpointed less often."""
    with desk.store.write(bulk=bulk) as session:
        batch = ChatBatch(desk, session)
        sql = batch.sql
        if sql.sqlite:
            sql.run(f"PRAGMA cache_size=-{BULK_CACHE_KIB}")
        deferred = _defer_fts(sql) if sql.sqlite and size >= DEFER_FTS_FROM else None
        batch.deferred_fts = deferred
        # Rows nothing in the batch reads back (the albums' first messages are kept in the batch).
        sql.defer_inserts("event", "attachment", "telegram_update", "telegram_file")
        yield batch
        sql.flush_deferred()
        if deferred is not None:
            _index_deferred(sql, deferred)


def pending_files(
    desk: Desk, bot_id: int, *, after: int = 0, limit: int = 1000
) -> list[tuple[int, int, PendingFile]]:
    """(row id, message id, file) of the downloads due now, of rows above ``after``."""
    with desk.store.read() as session:
        sql = RawSql(session)
        rows = sql.all(
            "SELECT id, message_id, file_id, filename, content_type, size FROM telegram_file "
            "WHERE bot_id = ? AND state = 'pending' AND next_attempt_at <= ? AND id > ? "
            "ORDER BY id LIMIT ?",
            bot_id,
            sql.time(desk.clock()),
            after,
            limit,
        )
    return [(int(r[0]), int(r[1]), PendingFile(r[2], r[3], r[4], r[5])) for r in rows]


FILE_RETRY = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(hours=1),
)
FILE_ATTEMPTS = 8


def file_fetched(
    desk: Desk,
    row_id: int,
    message_id: int,
    attachment: InboundAttachment | None,
    error: str = "",
    *,
    final: bool = False,
) -> None:
    """A late download's result: attached to its message, or retried later (failed for good
    when ``final`` or after ``FILE_ATTEMPTS``, with the reason in the message's notes)."""
    with desk.store.write() as session:
        batch = ChatBatch(desk, session)
        sql = batch.sql
        row = sql.one("SELECT attempts, filename FROM telegram_file WHERE id = ?", row_id)
        if row is None:
            return
        attempts, filename = int(row[0]) + 1, row[1]
        if attachment is not None:
            sql.run("UPDATE telegram_file SET state = 'done', attempts = ? WHERE id = ?",
                    attempts, row_id)  # fmt: skip
            batch.add_attachments(
                message_id, (attachment,), notes=(f"file {filename} fetched",), actor="telegram"
            )
            return
        if final or attempts >= FILE_ATTEMPTS:
            sql.run(
                "UPDATE telegram_file SET state = 'failed', attempts = ?, last_error = ? "
                "WHERE id = ?",
                attempts,
                error[:300],
                row_id,
            )
            batch.add_attachments(
                message_id, (), notes=(f"file {filename} could not be fetched: {error[:200]}",),
                actor="telegram",
            )  # fmt: skip
            return
        wait = FILE_RETRY[min(attempts, len(FILE_RETRY)) - 1]
        sql.run(
            "UPDATE telegram_file SET attempts = ?, last_error = ?, next_attempt_at = ? "
            "WHERE id = ?",
            attempts,
            error[:300],
            sql.time(desk.clock() + wait),
            row_id,
        )


def stored_among(desk: Desk, bot_id: int, update_ids: list[int]) -> set[int]:
    """Which of ``update_ids`` the desk already took (their files need no download)."""
    if not update_ids:
        return set()
    with desk.store.read() as session:
        sql = RawSql(session)
        marks = ", ".join("?" for _ in update_ids)
        rows = sql.all(
            f"SELECT update_id FROM telegram_update WHERE bot_id = ? AND update_id IN ({marks})",
            bot_id,
            *update_ids,
        )
    return {int(r[0]) for r in rows}


def stored_update_ids(desk: Desk, bot_id: int | None = None) -> set[int]:
    """Every update id the desk took (of ``bot_id``, or of any bot): what tests and the bench
    count."""
    with desk.store.read() as session:
        sql = RawSql(session)
        if bot_id is None:
            return {int(r[0]) for r in sql.all("SELECT update_id FROM telegram_update")}
        return {
            int(r[0])
            for r in sql.all("SELECT update_id FROM telegram_update WHERE bot_id = ?", bot_id)
        }


__all__ = [
    "ChatBatch",
    "OpenTicket",
    "Outcome",
    "PendingFile",
    "chat_batch",
    "file_fetched",
    "pending_files",
    "stored_among",
    "stored_update_ids",
]
