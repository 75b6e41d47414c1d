"""The audit log: every act records what happened, who did it and when."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from sdesk.store.rawsql import RawSql


def record(
    target: Session | RawSql,
    kind: str,
    *,
    at: datetime,
    ticket_id: int | None = None,
    actor: str = "system",
    **data: Any,
) -> None:
    sql = target if isinstance(target, RawSql) else RawSql(target)
    sql.run(
        "INSERT INTO event (ticket_id, kind, actor, data, created_at) VALUES (?, ?, ?, ?, ?)",
        ticket_id,
        kind,
        actor,
        json.dumps(data, ensure_ascii=False, default=str),
        sql.time(at),
    )
