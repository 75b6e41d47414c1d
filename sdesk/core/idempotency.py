"""``Idempotency-Key`` for the REST API's POSTs (ARCHITECTURE.md rule 2): a retry gets the first
answer, the same key with another request is refused, and two requests at once with one key run
the act once.

The key is claimed in its own small transaction before the act (a ``pending`` row, unique per
token and key), and the answer written after it. The claim is in the database, so it holds
across processes and restarts. A second request finding the key pending waits for the first
one's answer. A claim left pending by a crashed process is taken over after ``STALE_SECONDS``;
a ticket create is safe even then, since its intake is keyed on the same Idempotency-Key.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlmodel import col

from sdesk.core.errors import DeskError
from sdesk.core.group import GroupCommit
from sdesk.core.inbound import Inbound
from sdesk.core.intake import IntakeResult, intake
from sdesk.store.models import ApiRequest
from sdesk.store.rawsql import RawSql

if TYPE_CHECKING:
    from sdesk.core.desk import Desk

STALE_SECONDS = 120  # a pending claim this old was left by a process that died mid-act
WAIT_SECONDS = 30.0  # how long a second request waits for the first one's answer
POLL_SECONDS = 0.02
MAX_KEY_CHARS = 200


@dataclass(frozen=True, slots=True)
class Answer:
    """A stored answer: its HTTP status and JSON body."""

    status: int
    body: bytes
    replayed: bool = False  # the first request's answer, sent again


class KeyReused(DeskError):
    """The key came before with another request (method, path or body)."""


class KeyInFlight(DeskError):
    """The first request with this key is still running after the wait."""


class Requests:
    """The claims and answers (``desk.requests``)."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk

    def claim(
        self, token_id: int, key: str, digest: str, *, wait: float = WAIT_SECONDS
    ) -> Answer | None:
        """None: the key is now ours, run the act and ``finish``. An ``Answer``: the first
        request's, to send again."""
        deadline = time.monotonic() + wait
        while True:
            try:
                answer = self._try_claim(token_id, key, digest)
            except IntegrityError:  # PostgreSQL: another request inserted the key just now
                answer = None
                pending = True
            else:
                pending = answer is _PENDING
            if not pending:
                return answer
            if time.monotonic() >= deadline:
                raise KeyInFlight(
                    "a request with this Idempotency-Key is still being processed; retry later"
                )
            time.sleep(POLL_SECONDS)

    def _try_claim(self, token_id: int, key: str, digest: str) -> Answer | None:
        now = self.desk.clock()
        with self.desk.store.write() as session:
            row = session.execute(
                select(ApiRequest).where(
                    col(ApiRequest.token_id) == token_id, col(ApiRequest.key) == key
                )
            ).scalar_one_or_none()
            if row is None:
                session.add(
                    ApiRequest(token_id=token_id, key=key, request_hash=digest, created_at=now)
                )
                return None
            if row.request_hash != digest:
                raise KeyReused(
                    "this Idempotency-Key was used with a different request; use a new key"
                )
            if row.state == "done" and row.status_code is not None:
                return Answer(row.status_code, row.response or b"", replayed=True)
            if row.created_at < now - timedelta(seconds=STALE_SECONDS):
                row.created_at = now  # its process died mid-act: ours now
                return None
            return _PENDING

    def intake_once(
        self,
        inbound: Inbound,
        respond: Callable[[Session, IntakeResult], Answer],
        claim: tuple[int, str, str] | None = None,
    ) -> Answer:
        """Intake, its answer and the key's check and record (``claim``: token id, key,
        request hash) in one transaction, shared with the creates that arrive at the same
        time (``core/group.py``): a new ticket by the API costs a share of one write.
        ``respond`` reads what the answer shows in that transaction (read only).

        Two requests at once with one key: their jobs run one after the other (in one group
        or two), so the second finds the first's answer. On PostgreSQL two processes may
        race: the second's intake meets the unique (channel, external id) of the first's
        message, and its retry finds the answer."""
        for attempt in range(3):
            try:
                return self._group.run(lambda s: self._once(s, inbound, respond, claim))
            except IntegrityError:
                if claim is None or attempt == 2:
                    raise
        raise AssertionError("unreachable")

    async def intake_once_async(
        self,
        inbound: Inbound,
        respond: Callable[[Session, IntakeResult], Answer],
        claim: tuple[int, str, str] | None = None,
    ) -> Answer:
        """``intake_once`` for an event loop: it waits for the writer without a thread."""
        for attempt in range(3):
            try:
                return await self._group.run_async(lambda s: self._once(s, inbound, respond, claim))
            except IntegrityError:
                if claim is None or attempt == 2:
                    raise
        raise AssertionError("unreachable")

    @cached_property
    def _group(self) -> GroupCommit[Answer]:
        return GroupCommit(self.desk.store)

    def _once(
        self,
        session: Session,
        inbound: Inbound,
        respond: Callable[[Session, IntakeResult], Answer],
        claim: tuple[int, str, str] | None,
    ) -> Answer:
        sql = RawSql(session)
        row = None
        if claim is not None:
            token_id, key, digest = claim
            row = sql.one(
                "SELECT request_hash, state, status_code, response FROM api_request "
                "WHERE token_id = ? AND key = ?",
                token_id,
                key,
            )
            if row is not None and row[0] != digest:
                raise KeyReused(
                    "this Idempotency-Key was used with a different request; use a new key"
                )
            if row is not None and row[1] == "done" and row[2] is not None:
                return Answer(row[2], bytes(row[3] or b""), replayed=True)
        answer = respond(session, intake(sql, self.desk, inbound))
        if claim is not None:
            if row is not None:  # a claim whose process died mid-act: the answer replaces it
                sql.run(
                    "DELETE FROM api_request WHERE token_id = ? AND key = ?", claim[0], claim[1]
                )
            sql.insert(
                "api_request",
                token_id=claim[0],
                key=claim[1],
                request_hash=claim[2],
                state="done",
                status_code=answer.status,
                response=answer.body,
                created_at=sql.time(self.desk.clock()),
            )
        return answer

    def finish(self, token_id: int, key: str, answer: Answer) -> None:
        with self.desk.store.write() as session:
            row = session.execute(
                select(ApiRequest).where(
                    col(ApiRequest.token_id) == token_id, col(ApiRequest.key) == key
                )
            ).scalar_one_or_none()
            if row is not None:
                row.state, row.status_code, row.response = "done", answer.status, answer.body

    def release(self, token_id: int, key: str) -> None:
        """The act failed before it could answer (the desk busy, a bug): a retry runs it."""
        with self.desk.store.write() as session:
            session.execute(
                delete(ApiRequest).where(
                    col(ApiRequest.token_id) == token_id,
                    col(ApiRequest.key) == key,
                    col(ApiRequest.state) == "pending",
                )
            )


_PENDING = Answer(0, b"")  # a marker: someone else holds the key
