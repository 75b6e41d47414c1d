"""One holder per poller or scheduler (ARCHITECTURE.md rule 5): a lease row with an expiry. The
holder renews it well before it runs out; a holder that died is replaced once its lease expired,
or at once when it ran on this host: its process is gone (or its pid now belongs to another
process, told apart by the process's start time)."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import delete
from sqlalchemy.orm import Session
from sqlmodel import col

from sdesk.store.models import Lease

if TYPE_CHECKING:
    from sdesk.core.desk import Desk

DEFAULT_TTL = timedelta(seconds=60)


@dataclass(frozen=True)
class Holder:
    """Who holds a lease, parsed from ``host:pid:starttime:role`` (or the older
    ``host:pid:role``, whose start time is unknown)."""

    host: str
    pid: int
    start: str  # /proc/<pid>/stat starttime (clock ticks since boot); "" when unknown
    role: str

    def __str__(self) -> str:
        return f"pid {self.pid} on host {self.host}"


def holder_id(role: str) -> str:
    """Who holds a lease: host, process, the process's start time and role (`sdesk doctor`)."""
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{process_start(pid) or ''}:{role}"


def parse_holder(holder: str) -> Holder | None:
    parts = holder.split(":", 3)
    if len(parts) < 3 or not parts[1].isdigit():
        return None
    host, pid = parts[0], int(parts[1])
    if len(parts) == 4 and (parts[2].isdigit() or parts[2] == ""):
        return Holder(host, pid, parts[2], parts[3])
    return Holder(host, pid, "", ":".join(parts[2:]))  # the older format: no start time


def process_start(pid: int) -> str | None:
    """The process's start time (field 22 of /proc/<pid>/stat), None for no such process
    (or a zombie: killed, not yet reaped), "" where /proc cannot tell (not Linux)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read().decode("ascii", "replace")
    except FileNotFoundError:
        if os.path.isdir("/proc/self"):
            return None
        try:  # no /proc here: whether the pid exists is all we can tell
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return ""
    except OSError:
        return ""
    fields = stat[stat.rfind(")") + 2 :].split()  # the command name may hold spaces and ")"
    if len(fields) < 20 or fields[0] in ("Z", "X"):
        return None
    return fields[19]


def is_dead_here(holder: str) -> bool:
    """Whether ``holder`` ran on this host and its process is gone (or the pid was reused)."""
    parsed = parse_holder(holder)
    if parsed is None or parsed.host != socket.gethostname():
        return False
    start = process_start(parsed.pid)
    if start is None:
        return True
    return bool(parsed.start and start and start != parsed.start)


def _acquire(session: Session, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
    row = session.get(Lease, name)
    if row is None:
        session.add(Lease(name=name, holder=holder, expires_at=now + ttl))
        return True
    if row.holder != holder and row.expires_at > now and not is_dead_here(row.holder):
        return False
    row.holder, row.expires_at = holder, now + ttl
    return True


def acquire(desk: Desk, name: str, holder: str, ttl: timedelta = DEFAULT_TTL) -> bool:
    """Take or renew the lease; False when someone else holds a live one."""
    with desk.store.write() as session:
        return _acquire(session, name, holder, desk.clock(), ttl)


def release(desk: Desk, name: str, holder: str) -> None:
    with desk.store.write() as session:
        session.execute(delete(Lease).where(col(Lease.name) == name, col(Lease.holder) == holder))


def current(desk: Desk, name: str) -> tuple[str, datetime] | None:
    """The live holder of ``name`` and its expiry, if any."""
    with desk.store.read() as session:
        row = session.get(Lease, name)
        if row is None or row.expires_at <= desk.clock():
            return None
        return row.holder, row.expires_at


def describe(holder: str) -> str:
    """A holder for a message: "pid 123 on host box" (the raw id if it is not ours)."""
    parsed = parse_holder(holder)
    return str(parsed) if parsed is not None else holder
