"""Channel positions (IMAP UIDVALIDITY + last UID per folder, Telegram offset). A cursor moves in
the same transaction as the intake of what it covers (ARCHITECTURE.md transactions), so a crash
between the two can only make the next run fetch again what intake's keys then absorb.

IMAP folders have a second cursor, "acted through": the last UID whose after-intake action
(\\Seen or a move) the server confirmed. It moves only after that action succeeded, so a crash
between the intake commit and the action leaves (acted, stored] for the next sync to finish.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from sdesk.store.models import ChannelCursor

ACTED = ".acted"  # suffix of the channel that holds a folder's "acted through" cursor


@dataclass(frozen=True, slots=True)
class Cursor:
    validity: str | None
    position: str


def get_cursor(session: Session, channel: str, account: str, folder: str = "") -> Cursor | None:
    row = session.execute(
        select(col(ChannelCursor.validity), col(ChannelCursor.position)).where(
            col(ChannelCursor.channel) == channel,
            col(ChannelCursor.account) == account,
            col(ChannelCursor.folder) == folder,
        )
    ).first()
    return Cursor(row[0], row[1]) if row else None


def set_cursor(
    session: Session,
    channel: str,
    account: str,
    folder: str,
    cursor: Cursor,
    at: datetime,
) -> None:
    row = session.execute(
        select(ChannelCursor).where(
            col(ChannelCursor.channel) == channel,
            col(ChannelCursor.account) == account,
            col(ChannelCursor.folder) == folder,
        )
    ).scalar_one_or_none()
    if row is None:
        row = ChannelCursor(channel=channel, account=account, folder=folder, updated_at=at)
        session.add(row)
    row.validity, row.position, row.updated_at = cursor.validity, cursor.position, at
    session.flush()


def acted_through(session: Session, channel: str, account: str, folder: str, validity: str) -> int:
    """The last UID acted on under ``validity``; 0 when nothing was (or under another one)."""
    cursor = get_cursor(session, channel + ACTED, account, folder)
    if cursor is None or cursor.validity != validity:
        return 0
    return int(cursor.position or 0)


def set_acted_through(
    session: Session, channel: str, account: str, folder: str, validity: str, uid: int, at: datetime
) -> None:
    set_cursor(session, channel + ACTED, account, folder, Cursor(validity, str(uid)), at)
