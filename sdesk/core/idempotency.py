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
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from sdesk.core.errors import DeskError
from sdesk.store.models import ApiRequest

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
                return Answer(row.status_code, row.response or b"")
            if row.created_at < now - timedelta(seconds=STALE_SECONDS):
                row.created_at = now  # its process died mid-act: ours now
                return None
            return _PENDING

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
