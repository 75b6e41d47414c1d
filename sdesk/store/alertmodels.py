"""The alert tables (migration 0013): an alert with its frozen escalation, one row per step
that ran, and one per notice sent (or held back) to a person.

``alert.open_key`` is the dedup key while the alert is active and NULL after (NULLs never
collide), so a second alert with the same key while one is active is refused by the database
itself. ``alert_step`` is unique per (alert, step, repeat): a step's decision and its notices
are written in one transaction with that row, so a step taken twice (a scheduler killed after
the commit, its job still stored) is refused and never notifies twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Float, Index, LargeBinary, Table, Unicode, UniqueConstraint
from sqlmodel import Field, SQLModel

from sdesk.store.types import UTCDateTime


class Alert(SQLModel, table=True):
    __table_args__ = (
        UniqueConstraint("open_key", name="uq_alert_open_key"),
        Index("ix_alert_state_next", "state", "next_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(index=True)  # the dedup key: rule and what it is about
    open_key: str | None = None  # = key while active
    rule: str
    event: str
    event_id: int | None = None  # the event that opened it
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    tier: str
    title: str = ""
    state: str = Field(default="active")  # active | acknowledged | done
    count: int = 1  # occurrences grouped into it (a burst is one alert)
    plan: str = "{}"  # JSON: the escalation frozen when the alert started
    step: int = 0  # the next step to take ...
    repeat: int = 0  # ... in this round
    next_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # NULL: no step left
    created_at: datetime = Field(sa_type=UTCDateTime)
    last_seen_at: datetime = Field(sa_type=UTCDateTime)
    acked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    acked_by: str | None = None
    acked_how: str | None = None  # console | sms | voice | api | cli


class AlertStep(SQLModel, table=True):
    __tablename__ = "alert_step"
    __table_args__ = (UniqueConstraint("alert_id", "step", "repeat", name="uq_alert_step"),)

    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(foreign_key="alert.id")
    step: int
    repeat: int
    ran_at: datetime = Field(sa_type=UTCDateTime)
    due_at: datetime = Field(sa_type=UTCDateTime)  # when it should have run (its lag)


class AlertNotice(SQLModel, table=True):
    """One person told (or held back from being told) one way in one step."""

    __tablename__ = "alert_notice"
    __table_args__ = (
        Index("ix_alert_notice_alert", "alert_id"),
        Index("ix_alert_notice_agent", "agent", "medium", "created_at"),
        Index("ix_alert_notice_state", "state", "medium"),
    )

    id: int | None = Field(default=None, primary_key=True)
    alert_id: int = Field(foreign_key="alert.id")
    step: int
    repeat: int
    agent: str  # login
    medium: str  # email | push | console | sms | voice
    address: str = ""  # where it went: address, push URL, phone
    state: str = "queued"  # queued | sent | failed | held | seen (console) | cancelled
    reason: str | None = None  # why held or failed, one line
    cost: float = 0.0
    attempts: int = 0
    ref: str | None = None  # the upstream id (Twilio's SID)
    created_at: datetime = Field(sa_type=UTCDateTime)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


# APScheduler 3's SQLAlchemyJobStore table (the step timers), declared here as the job store
# declares it so the desk's schema has one description (migration 0013 makes it).
APSCHEDULER_JOBS = Table(
    "apscheduler_jobs",
    SQLModel.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)
