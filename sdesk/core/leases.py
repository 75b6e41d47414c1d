"""One holder per poller or scheduler (DESIGN rule 5): a lease row with an expiry. The holder
renews it well before it runs out; a holder that died is replaced once its lease expired."""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete
from sqlalchemy.orm import Session

from sdesk.store.models import Lease

if TYPE_CHECKING:
    from sdesk.core.desk import Desk

DEFAULT_TTL = timedelta(seconds=60)


def holder_id(role: str) -> str:
    """Who holds a lease: host, process and role, readable in `sdesk doctor`."""
    return f"{socket.gethostname()}:{os.getpid()}:{role}"


def _acquire(session: Session, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    row = session.get(Lease, name)
    if row is None:
        session.add(Lease(name=name, holder=holder, expires_at=now + ttl))
        return True
    if row.holder != holder and row.expires_at > now:
        return False
    row.holder, row.expires_at = holder, now + ttl
    return True


def acquire(desk: Desk, name: str, holder: str, ttl: timedelta = DEFAULT_TTL) -> bool:
    """Take or renew the lease; False when someone else holds a live one."""
    with desk.store.write() as session:
        return _acquire(session, name, holder, desk.clock(), ttl)


def release(desk: Desk, name: str, holder: str) -> None:
    with desk.store.write() as session:
        session.execute(delete(Lease).where(Lease.name == name, Lease.holder == holder))


def current(desk: Desk, name: str) -> tuple[str, datetime] | None:
    """The live holder of ``name`` and its expiry, if any."""
    with desk.store.read() as session:
        row = session.get(Lease, name)
        if row is None or row.expires_at <= desk.clock():
            return None
        return row.holder, row.expires_at
