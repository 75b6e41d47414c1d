"""The audit log: every act records what happened, who did it and when."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from sdesk.store.models import Event


def record(
    session: Session,
    kind: str,
    *,
    at: datetime,
    ticket_id: int | None = None,
    actor: str = "system",
    **data: Any,
) -> None:
    session.execute(
        insert(Event).values(
            kind=kind,
            ticket_id=ticket_id,
            actor=actor,
            data=json.dumps(data, ensure_ascii=False, default=str),
            created_at=at,
        )
    )
