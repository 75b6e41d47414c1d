"""The web cabinet's sessions: a customer signed in by a one-time link (``core/signin.py``).

The cookie carries a random token (256 bits); the desk keeps only its sha256, so a copy of the
database opens no one's cabinet, and signing out deletes the row (a stolen cookie dies with
it). Sessions are rows rather than signed cookies: no server secret to keep and rotate, and
every process serving the desk (SQLite or PostgreSQL) sees the same sessions.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlmodel import col

from sdesk.core import events
from sdesk.store.models import Customer, WebSession

if TYPE_CHECKING:
    from sdesk.core.desk import Desk

LIFETIME = timedelta(days=7)
MAX_TOKEN_CHARS = 100


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """Who a cookie signs in, and the CSRF token every form of that session carries."""

    customer_id: int
    name: str
    csrf: str
    expires_at: datetime


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def csrf_token(token: str) -> str:
    """Derived from the session's secret token: unknowable to another site, the same on every
    form of the session, and no state to keep."""
    return hmac.new(token.encode("ascii"), b"sdesk-cabinet-csrf", hashlib.sha256).hexdigest()


def csrf_ok(token: str, given: str) -> bool:
    return bool(given) and hmac.compare_digest(csrf_token(token), given)


def _usable(token: str) -> bool:
    return bool(token) and len(token) <= MAX_TOKEN_CHARS and token.isascii()


def open_session(desk: Desk, customer_id: int) -> str:
    """A new session for the customer; returns the token for the cookie (shown once)."""
    token = secrets.token_urlsafe(32)
    with desk.store.write() as session:
        now = desk.clock()
        session.execute(delete(WebSession).where(col(WebSession.expires_at) <= now))
        session.add(
            WebSession(
                token_hash=_digest(token),
                customer_id=customer_id,
                created_at=now,
                expires_at=now + LIFETIME,
            )
        )
        events.record(session, "web.signed_in", at=now, actor="web", customer=customer_id)
    return token


def lookup(desk: Desk, token: str) -> SessionInfo | None:
    """The live session a cookie names, or None (unknown, expired or signed out)."""
    if not _usable(token):
        return None
    with desk.store.read() as session:
        found = session.execute(
            select(col(WebSession.customer_id), col(WebSession.expires_at), col(Customer.name))
            .join(Customer, col(Customer.id) == col(WebSession.customer_id))
            .where(col(WebSession.token_hash) == _digest(token))
        ).one_or_none()
    if found is None:
        return None
    customer_id, expires_at, name = found
    if expires_at <= desk.clock():
        return None
    return SessionInfo(int(customer_id), name or "", csrf_token(token), expires_at)


def close_session(desk: Desk, token: str) -> None:
    """Sign out: the row goes, so the cookie opens nothing any more."""
    if not _usable(token):
        return
    with desk.store.write() as session:
        where = col(WebSession.token_hash) == _digest(token)
        customer_id = session.execute(select(col(WebSession.customer_id)).where(where)).scalar()
        if customer_id is not None:
            session.execute(delete(WebSession).where(where))
            events.record(
                session, "web.signed_out", at=desk.clock(), actor="web", customer=customer_id
            )
