"""``Desk``: the one entry point channels, the console, the CLI and the API call to change
anything. Each public method is one transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from sdesk.config import Settings, load_settings
from sdesk.core import (
    acts,
    alerts,
    arrival,
    bulk,
    calls,
    customer_acts,
    drafts,
    events,
    presence,
    replies,
    signin,
    triage,
    websession,
)
from sdesk.core.attachments import stage_files
from sdesk.core.bulk import BulkResult
from sdesk.core.chats import ChatBatch, chat_batch
from sdesk.core.clock import Clock, utcnow
from sdesk.core.compact import CompactReport, compact_raw
from sdesk.core.cursors import Cursor, set_acted_through, set_cursor
from sdesk.core.drafts import DraftRow
from sdesk.core.enums import Channel, Priority, RawState, Role, Status
from sdesk.core.errors import DeskError, PermissionDenied
from sdesk.core.idempotency import Requests
from sdesk.core.imports import ImportedTicket, import_ticket
from sdesk.core.inbound import Inbound
from sdesk.core.intake import IntakeResult, Outcome, intake, quarantine, raw_seen
from sdesk.core.permissions import require
from sdesk.core.phonecalls import Telephony
from sdesk.core.replies import ReplyResult
from sdesk.core.tokens import Tokens
from sdesk.store.engine import BULK_CACHE_KIB, Store, open_store
from sdesk.store.models import Agent, RawInbound
from sdesk.store.rawsql import RawSql


@dataclass(frozen=True, slots=True)
class QuarantinedRow:
    id: int
    channel: str
    source: str
    error: str | None
    received_at: datetime
    size: int


class Batch:
    """Many intakes in one transaction, each in a savepoint so one bad message costs only itself.

    The savepoints are plain SQL: intake writes through ``RawSql`` only, and SQLAlchemy's
    ``begin_nested`` would cost more than the intake itself.
    """

    def __init__(self, desk: Desk, session: Session) -> None:
        self._desk = desk
        self._session = session
        self._sql = RawSql(session)

    def _guarded(self, act: Callable[[], IntakeResult]) -> IntakeResult:
        self._sql.run("SAVEPOINT intake")
        try:
            result = act()
        except BaseException:
            self._sql.run("ROLLBACK TO SAVEPOINT intake")
            self._sql.run("RELEASE SAVEPOINT intake")
            raise
        self._sql.run("RELEASE SAVEPOINT intake")
        return result

    def intake(self, inbound: Inbound, *, history: bool = False) -> IntakeResult:
        return self._guarded(lambda: intake(self._sql, self._desk, inbound, history=history))

    def quarantine(
        self, *, channel: Channel, raw: bytes, error: str, source: str = ""
    ) -> IntakeResult:
        return self._guarded(
            lambda: quarantine(
                self._sql, self._desk, channel=channel, raw=raw, error=error, source=source
            )
        )

    def import_ticket(self, record: ImportedTicket) -> IntakeResult:
        return self._guarded(lambda: import_ticket(self._session, self._desk, record))

    def raw_seen(self, channel: Channel, digest: str) -> bool:
        return raw_seen(self._sql, channel, digest)

    def set_cursor(self, channel: Channel, account: str, folder: str, cursor: Cursor) -> None:
        """Move a channel's position in this batch's transaction (with what it covers)."""
        set_cursor(self._session, channel.value, account, folder, cursor, self._desk.clock())


class Desk:
    def __init__(
        self, store: Store, settings: Settings | None = None, clock: Clock = utcnow
    ) -> None:
        self.store = store
        self.settings = settings or load_settings()
        self.clock = clock

    @classmethod
    def open(cls, db: str | Path, settings: Settings | None = None) -> Desk:
        return cls(open_store(db), settings)

    def close(self) -> None:
        self.store.dispose()

    @cached_property
    def tokens(self) -> Tokens:
        """The REST API's bearer tokens (``core/tokens.py``)."""
        return Tokens(self)

    @cached_property
    def requests(self) -> Requests:
        """The API's Idempotency-Key claims and answers (``core/idempotency.py``)."""
        return Requests(self)

    @property
    def phone(self) -> Telephony:
        """The telephony acts: calls' states, inbound calls and texts (``core/phonecalls.py``)."""
        return Telephony(self)

    # -- intake --------------------------------------------------------------------------------

    def intake(self, inbound: Inbound) -> IntakeResult:
        with self.store.write() as session:
            return intake(RawSql(session), self, inbound)

    def quarantine(
        self, *, channel: Channel, raw: bytes, error: str, source: str = ""
    ) -> IntakeResult:
        with self.store.write() as session:
            return quarantine(
                RawSql(session), self, channel=channel, raw=raw, error=error, source=source
            )

    def quarantined(self, limit: int = 200) -> list[QuarantinedRow]:
        with self.store.read() as session:
            rows = session.execute(
                select(
                    col(RawInbound.id),
                    col(RawInbound.channel),
                    col(RawInbound.source),
                    col(RawInbound.error),
                    col(RawInbound.received_at),
                    func.coalesce(RawInbound.raw_size, func.length(RawInbound.raw)),
                )
                .where(col(RawInbound.state) == RawState.QUARANTINED.value)
                .order_by(col(RawInbound.id))
                .limit(limit)
            )
            return [QuarantinedRow(*r) for r in rows]

    def retry_quarantined(
        self, parse: Callable[[bytes], Inbound], ids: list[int] | None = None
    ) -> list[tuple[int, IntakeResult | str]]:
        """Parse quarantined messages again (after a fix); each success is stored on its ticket
        and leaves quarantine, each failure keeps its (new) error. One transaction a message."""
        with self.store.read() as session:
            query = select(col(RawInbound.id)).where(
                col(RawInbound.state) == RawState.QUARANTINED.value
            )
            if ids:
                query = query.where(col(RawInbound.id).in_(ids))
            todo = list(session.execute(query.order_by(col(RawInbound.id))).scalars())
        outcomes: list[tuple[int, IntakeResult | str]] = []
        for raw_id in todo:
            with self.store.write() as session:
                row = session.get(RawInbound, raw_id)
                if row is None or row.state != RawState.QUARANTINED.value:
                    continue
                try:  # the exact bytes that came in, whatever the codec (store/rawcodec.py)
                    inbound = parse(row.original(self.store.blobs.get))
                except Exception as exc:  # the parser's own error type varies by channel
                    row.error = str(exc)[:1000]
                    outcomes.append((raw_id, row.error))
                    continue
                result = intake(RawSql(session), self, inbound, quarantined_id=raw_id)
                if result.outcome is Outcome.DUPLICATE:  # it arrived intact meanwhile
                    row.state, row.error = RawState.STORED.value, None
                events.record(session, "message.requeued", at=self.clock(), raw=raw_id)
                outcomes.append((raw_id, result))
        return outcomes

    def compact_raw(self, stop: Callable[[], bool] | None = None) -> CompactReport:
        """Pack the raw messages kept as they came: stored before migration 0007, or by a
        large sync (``core/compact.py``); ``stop`` is asked between transactions."""
        return compact_raw(self, stop=stop)

    def chat_batch(self, size: int = 0, *, bulk: bool = False) -> AbstractContextManager[ChatBatch]:
        """A chat bot's batch of ``size`` updates with its cursor, one transaction
        (``core/chats.py``); ``bulk``: one of a backlog's batches (``Store.write``)."""
        return chat_batch(self, size=size, bulk=bulk)

    @contextmanager
    def batch(self) -> Iterator[Batch]:
        """Commits when the block ends; an exception rolls the whole batch back."""
        with self.store.write() as session:
            if self.store.is_sqlite:  # a bulk writer keeps the growing indexes in memory
                session.connection().exec_driver_sql(f"PRAGMA cache_size=-{BULK_CACHE_KIB}")
            yield Batch(self, session)

    # -- agents --------------------------------------------------------------------------------

    def add_agent(
        self,
        login: str,
        *,
        name: str = "",
        role: Role = Role.DISPATCHER,
        email: str | None = None,
        phone: str | None = None,
        by: str | None = None,
    ) -> None:
        """Add an operator. ``by`` must be an admin once the desk has any admin."""
        with self.store.write() as session:
            if not login or not login.isprintable() or " " in login or len(login) > 64:
                raise DeskError(f"bad agent login {login!r}: use letters, digits, . _ -")
            if session.execute(select(col(Agent.id)).where(col(Agent.login) == login)).first():
                raise DeskError(f"agent {login!r} already exists")
            has_admin = session.execute(
                select(col(Agent.id)).where(col(Agent.role) == Role.ADMIN.value)
            ).first()
            if has_admin:
                if by is None:
                    raise PermissionDenied("only an admin may add agents to this desk")
                require(acts.agent_by_login(session, by).role, "manage_agents", by)
            session.add(
                Agent(
                    login=login,
                    name=name or login,
                    role=role.value,
                    email=email,
                    phone=phone,
                    created_at=self.clock(),
                )
            )

    # -- alerts (sdesk.core.alerts) ---------------------------------------------------------------

    def acknowledge_alert(self, alert_id: int, by: str, how: str) -> alerts.Acked:
        """Stop an alert's escalation; ``how``: console, sms, voice, api or cli."""
        return alerts.acknowledge(self, alert_id, by, how)

    # -- acts (sdesk.core.acts, replies) ---------------------------------------------------------

    def reply(
        self,
        number: int,
        by: str,
        text: str,
        *,
        expected_version: int | None = None,
        files: Sequence[Path | str] = (),
        quote: bool | None = None,
    ) -> ReplyResult:
        """The stored reply's id and, when its channel cannot send yet, a warning to show
        (``core/routes.py``). ``files`` are copied into the blob store before the transaction:
        reading them never holds the database, and the queued reply no longer needs them."""
        cap = int(self.settings.email.max_attachments_mb * 1024 * 1024)
        staged = stage_files(self.store.blobs, files, cap) if files else ()
        with self.store.write() as s:
            return replies.reply(
                s,
                self,
                number,
                by,
                text,
                expected_version=expected_version,
                files=staged,
                quote=quote,
            )

    def add_note(
        self, number: int, by: str, text: str, *, expected_version: int | None = None
    ) -> int:
        with self.store.write() as s:
            return acts.add_note(s, self, number, by, text, expected_version=expected_version)

    def assign(
        self, number: int, by: str, to: str | None, *, expected_version: int | None = None
    ) -> None:
        with self.store.write() as s:
            acts.assign(s, self, number, by, to, expected_version=expected_version)

    def set_status(
        self,
        number: int,
        by: str,
        status: Status,
        *,
        until: datetime | None = None,
        pending_until: datetime | None = None,
        expected_version: int | None = None,
    ) -> None:
        """``until`` (or its older name ``pending_until``): when a pending ticket reopens by
        itself (``wake_pending``); the SLA clock stops while pending (core/pending.py)."""
        with self.store.write() as s:
            acts.set_status(
                s,
                self,
                number,
                by,
                status,
                pending_until=until or pending_until,
                expected_version=expected_version,
            )

    def set_priority(
        self, number: int, by: str, priority: Priority, *, expected_version: int | None = None
    ) -> None:
        with self.store.write() as s:
            acts.set_priority(s, self, number, by, priority, expected_version=expected_version)

    def merge(
        self, source: int, target: int, by: str, *, expected_version: int | None = None
    ) -> None:
        with self.store.write() as s:
            acts.merge(s, self, source, target, by, expected_version=expected_version)

    # -- bulk acts (sdesk.core.bulk): one transaction, one event per changed ticket -------------

    def bulk_assign(self, numbers: Sequence[int], agent: str | None, by: str) -> BulkResult:
        with self.store.write() as s:
            return bulk.assign(s, self, numbers, agent, by)

    def bulk_set_status(
        self,
        numbers: Sequence[int],
        status: Status,
        by: str,
        *,
        until: datetime | None = None,
    ) -> BulkResult:
        with self.store.write() as s:
            return bulk.set_status(s, self, numbers, status, by, until)

    def bulk_set_priority(self, numbers: Sequence[int], priority: Priority, by: str) -> BulkResult:
        with self.store.write() as s:
            return bulk.set_priority(s, self, numbers, priority, by)

    def merge_many(self, target: int, sources: Sequence[int], by: str) -> BulkResult:
        with self.store.write() as s:
            return bulk.merge_many(s, self, target, sources, by)

    # -- the queue (sdesk.core.triage) -----------------------------------------------------------

    def take_next(self, agent: str) -> int | None:
        """Assign the most urgent unassigned ticket to ``agent`` and return its number (None
        when nothing waits); two agents at once never get the same one."""
        with self.store.write() as s:
            return triage.take_next(s, self, agent)

    def wake_pending(self, now: datetime | None = None) -> list[int]:
        """Reopen the pending tickets whose ``until`` has passed; for the scheduler/poll loop."""
        with self.store.write() as s:
            return triage.wake_pending(s, self, now or self.clock())

    # -- drafts (sdesk.core.drafts): small transactions, the console saves while typing --------

    def save_draft(self, agent: str, number: int, text: str, *, kind: str = "reply") -> None:
        """Keep ``agent``'s unsent text on ticket ``number`` (a reply's or a note's: ``kind``);
        blank text deletes the draft."""
        with self.store.write() as s:
            drafts.save(s, agent, number, text, self.clock(), kind)

    def draft(self, agent: str, number: int) -> str | None:
        with self.store.read() as s:
            return drafts.load(s, agent, number)

    def drafts(self, agent: str) -> list[DraftRow]:
        """The agent's drafts, newest first."""
        with self.store.read() as s:
            return drafts.of_agent(s, agent)

    def drop_draft(self, agent: str, number: int) -> None:
        with self.store.write() as s:
            drafts.drop(s, agent, number)

    def call_customer(
        self, number: int, by: str, phone: str, *, expected_version: int | None = None
    ) -> int:
        with self.store.write() as s:
            return calls.call_customer(
                s, self, number, by, phone, expected_version=expected_version
            )

    def retry_delivery(self, message_id: int, by: str) -> None:
        with self.store.write() as s:
            replies.retry_delivery(s, self, message_id, by)

    def set_arrival(self, number: int, by: str, at: datetime) -> int | None:
        """The field engineer's arrival time; the customer is told at once (core/arrival.py).
        Returns the notice's message id, or None when it was off or skipped."""
        with self.store.write() as s:
            return arrival.set_arrival(s, self, number, by, at)

    def rate(self, number: int, score: int, comment: str = "", *, via: str = "agent") -> None:
        with self.store.write() as s:
            acts.rate(s, self, number, score, comment, via)

    # -- the customer's side: sign-in links and web sessions (core/signin.py, websession.py) --

    def request_signin_link(self, email: str, *, purpose: str, client: str = "") -> None:
        """Mail a one-time sign-in link when ``email`` is a customer's; silently nothing when
        not (no account enumeration). ``client``: the caller's IP, for its rate limit."""
        signin.request_link(self, email, purpose=purpose, client=client)

    def redeem_signin(self, code: str, *, purpose: str | None = None) -> int | None:
        """The customer a sign-in code names, once; None when unknown, used or expired."""
        return signin.redeem(self, code, purpose=purpose)

    def open_web_session(self, customer_id: int) -> str:
        return websession.open_session(self, customer_id)

    def web_session(self, token: str) -> websession.SessionInfo | None:
        return websession.lookup(self, token)

    def close_web_session(self, token: str) -> None:
        websession.close_session(self, token)

    def customer_request(
        self,
        customer_id: int,
        *,
        subject: str,
        text: str,
        key: str,
        files: Sequence[customer_acts.Upload] = (),
    ) -> int:
        """A signed-in customer opens a ticket (channel ``web``); returns its number."""
        return customer_acts.new_request(
            self, customer_id, subject=subject, text=text, key=key, files=files
        )

    def customer_message(
        self,
        customer_id: int,
        number: int,
        *,
        text: str,
        key: str,
        files: Sequence[customer_acts.Upload] = (),
    ) -> int:
        """A signed-in customer writes on their ticket; NotFound when it is not theirs."""
        return customer_acts.add_message(self, customer_id, number, text=text, key=key, files=files)

    def customer_rate(self, customer_id: int, number: int, score: int, comment: str = "") -> None:
        customer_acts.rate(self, customer_id, number, score, comment)

    def announce(self, agent: str, number: int | None, activity: str = presence.VIEWING) -> None:
        """Heartbeat for collision detection (see ``sdesk.core.presence``)."""
        with self.store.write() as s:
            presence.announce(s, agent, number, activity, self.clock())

    # -- channel bookkeeping: pollers write only through the desk (ARCHITECTURE.md, layers) ----

    def set_acted_through(
        self, channel: Channel, account: str, folder: str, validity: str, uid: int
    ) -> None:
        """How far the after-intake action (\\Seen, a move) got in ``folder`` (rule 1)."""
        with self.store.write() as s:
            set_acted_through(s, channel.value, account, folder, validity, uid, self.clock())

    def record_validity_change(self, account: str, folder: str, old: str | None, new: str) -> None:
        """A folder's UIDVALIDITY moved (rule 4): recorded for the operator, nothing deleted."""
        with self.store.write() as s:
            events.record(
                s,
                "mailbox.uidvalidity_changed",
                at=self.clock(),
                mailbox=account,
                folder=folder,
                old=old,
                new=new,
            )
