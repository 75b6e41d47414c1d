"""Channel positions (IMAP UIDVALIDITY + last UID per folder, Telegram offset). A cursor moves in
the same transaction as the intake of what it covers (DESIGN: cursors), so a crash between the
two can only make the next run fetch again what intake's keys then absorb."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from sdesk.store.models import ChannelCursor


@dataclass(frozen=True, slots=True)
class Cursor:
    validity: str | None
    position: str


def get_cursor(session: Session, channel: str, account: str, folder: str = "") -> Cursor | None:
    row = session.execute(
        select(ChannelCursor.validity, ChannelCursor.position).where(
            ChannelCursor.channel == channel,
            ChannelCursor.account == account,
            ChannelCursor.folder == folder,
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
            ChannelCursor.channel == channel,
            ChannelCursor.account == account,
            ChannelCursor.folder == folder,
        )
    ).scalar_one_or_none()
    if row is None:
        row = ChannelCursor(channel=channel, account=account, folder=folder, updated_at=at)
        session.add(row)
    row.validity, row.position, row.updated_at = cursor.validity, cursor.position, at
    session.flush()
