"""Bearer tokens for the REST API: made by ``sdesk token create``, kept as their sha256 only.

A token is 256 random bits, so a plain sha256 is a safe store (no salt or slow hash needed:
there is nothing to guess). Three kinds: a customer's token sees only that customer's tickets,
an agent's acts with the agent's role through the core, an integration's opens tickets for
any customer.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import select, text
from sqlalchemy.orm import Session
from sqlmodel import col

from sdesk.core.enums import ContactKind
from sdesk.core.errors import DeskError, NotFound
from sdesk.store.contacts import contact_forms
from sdesk.store.models import Agent, ApiToken, Contact

if TYPE_CHECKING:
    from sdesk.core.desk import Desk

PREFIX = "sdk_"  # tells a leaked token apart in logs and secret scanners
NAME_CHARS = 64
CACHE_SECONDS = 2.0  # how long a looked-up token is trusted without asking the database
CACHE_SIZE = 10_000


class TokenKind(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"
    INTEGRATION = "integration"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a valid token speaks for."""

    token_id: int
    name: str
    kind: TokenKind
    customer_id: int | None = None
    agent_login: str | None = None
    agent_role: str | None = None


@dataclass(frozen=True, slots=True)
class TokenRow:
    name: str
    kind: str
    whose: str  # the customer's contact or the agent's login; "" for an integration
    created_at: datetime
    revoked_at: datetime | None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Tokens:
    """The desk's API tokens (``desk.tokens``); each write one transaction."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self._known: dict[str, tuple[Principal, float]] = {}  # token hash → (who, until)
        self._lock = threading.Lock()

    def create(
        self,
        name: str,
        kind: TokenKind,
        *,
        customer: str | None = None,
        customer_id: int | None = None,
        agent: str | None = None,
    ) -> str:
        """A new token (shown once, never stored). ``customer`` is an email or phone number of
        a known customer (or ``customer_id``), ``agent`` an active agent's login."""
        if not name or not name.isprintable() or len(name) > NAME_CHARS:
            raise DeskError(f"bad token name {name!r}: 1 to {NAME_CHARS} printable characters")
        token = PREFIX + secrets.token_urlsafe(32)
        with self.desk.store.write() as session:
            if session.execute(select(col(ApiToken.id)).where(col(ApiToken.name) == name)).first():
                raise DeskError(f"a token named {name!r} exists; revoke it or pick another name")
            agent_id = None
            if kind is TokenKind.CUSTOMER and customer_id is None:
                customer_id = self._customer_by_contact(session, customer or "")
            elif kind is TokenKind.AGENT:
                found = session.execute(
                    select(col(Agent.id)).where(col(Agent.login) == agent, col(Agent.active))
                ).first()
                if found is None:
                    raise NotFound(f"no active agent {agent!r}; add it with: sdesk agent add")
                agent_id = found[0]
            session.add(
                ApiToken(
                    name=name,
                    kind=kind.value,
                    token_hash=token_hash(token),
                    customer_id=customer_id if kind is TokenKind.CUSTOMER else None,
                    agent_id=agent_id,
                    created_at=self.desk.clock(),
                )
            )
        return token

    def _customer_by_contact(self, session: Session, contact: str) -> int:
        forms = contact_forms(contact, self.desk.settings.default_region)
        for kind, value in forms:
            if kind not in (ContactKind.EMAIL.value, ContactKind.PHONE.value):
                continue
            found = session.execute(
                select(col(Contact.customer_id)).where(
                    col(Contact.kind) == kind, col(Contact.value) == value
                )
            ).first()
            if found is not None:
                return int(found[0])
        raise NotFound(f"no customer with the email or phone {contact!r}")

    def revoke(self, name: str) -> None:
        with self.desk.store.write() as session:
            row = session.execute(
                select(ApiToken).where(col(ApiToken.name) == name)
            ).scalar_one_or_none()
            if row is None:
                raise NotFound(f"no token named {name!r} (see: sdesk token list)")
            if row.revoked_at is None:
                row.revoked_at = self.desk.clock()
        with self._lock:
            self._known.clear()  # this process stops at once; others within CACHE_SECONDS

    def list(self) -> list[TokenRow]:
        with self.desk.store.read() as session:
            rows = session.execute(
                select(
                    col(ApiToken.name),
                    col(ApiToken.kind),
                    col(ApiToken.customer_id),
                    col(Agent.login),
                    col(ApiToken.created_at),
                    col(ApiToken.revoked_at),
                )
                .outerjoin(Agent, col(Agent.id) == col(ApiToken.agent_id))
                .order_by(col(ApiToken.name))
            ).all()
            contacts: dict[int, str] = {}
            ids = [r[2] for r in rows if r[2] is not None]
            if ids:
                for customer_id, value in session.execute(
                    select(col(Contact.customer_id), col(Contact.value))
                    .where(col(Contact.customer_id).in_(ids))
                    .order_by(col(Contact.id))
                ):
                    contacts.setdefault(customer_id, value)
        return [
            TokenRow(
                name,
                kind,
                contacts.get(cid, f"customer {cid}") if cid is not None else (login or ""),
                created,
                revoked,
            )
            for name, kind, cid, login, created, revoked in rows
        ]

    def cached(self, token: str) -> Principal | None:
        """Who ``token`` speaks for if it was looked up less than ``CACHE_SECONDS`` ago."""
        found = self._known.get(token_hash(token))
        return found[0] if found is not None and found[1] > time.monotonic() else None

    def principal(self, token: str) -> Principal | None:
        """Who ``token`` speaks for; None when it is unknown, revoked, or its agent left.

        A valid answer is kept ``CACHE_SECONDS`` (``cached``): every API request asks, and a
        read per request cost the API a tenth of its speed. A revocation in this process
        clears it at once; one by ``sdesk token revoke`` counts within ``CACHE_SECONDS``."""
        if not token.startswith(PREFIX) or len(token) > 200:
            return None
        digest = token_hash(token)
        with self.desk.store.read() as session:
            row = session.execute(
                text(
                    "SELECT t.id, t.name, t.kind, t.customer_id, a.login, a.role, a.active, "
                    "t.revoked_at FROM api_token t LEFT JOIN agent a ON a.id = t.agent_id "
                    "WHERE t.token_hash = :hash"
                ),
                {"hash": digest},
            ).first()
        if row is None or row[7] is not None:
            return None
        kind = TokenKind(row[2])
        if kind is TokenKind.AGENT and not row[6]:
            return None
        who = Principal(row[0], row[1], kind, row[3], row[4], row[5])
        with self._lock:
            if len(self._known) >= CACHE_SIZE:
                self._known.clear()
            self._known[digest] = (who, time.monotonic() + CACHE_SECONDS)
        return who
