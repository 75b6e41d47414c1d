"""Settings of agent alerts (``[alerts]``): rules, escalation policies, on-call rotations,
business hours and holidays, storm limits. A leaf beside ``sdesk.config``: pydantic only.

A target names who is told: ``agent:LOGIN``, ``group:NAME``, ``oncall:ROTATION``, ``team``
(every active agent) or ``assignee`` (the ticket's agent).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, field_validator, model_validator

Tier = Literal["ordinary", "fast", "urgent", "emergency"]
TIERS: tuple[Tier, ...] = ("ordinary", "fast", "urgent", "emergency")
# What each tier sends: ordinary = email, fast = push + the console's toast, urgent = SMS,
# emergency = a voice call.
TIER_MEDIA: dict[str, tuple[str, ...]] = {
    "ordinary": ("email",),
    "fast": ("push", "console"),
    "urgent": ("sms",),
    "emergency": ("voice",),
}
AlertEvent = Literal[
    "ticket.created",
    "message.received",
    "ticket.assigned",
    "sla.warning",
    "sla.breached",
    "ticket.unassigned",
    "delivery.failed",
    "channel.down",
]
_TARGET = re.compile(r"^(team|assignee|(agent|group|oncall):[A-Za-z0-9_.@-]+)$")


def _targets(values: list[str]) -> list[str]:
    for value in values:
        if not _TARGET.match(value):
            raise ValueError(
                f"target {value!r}: use agent:LOGIN, group:NAME, oncall:ROTATION, team or assignee"
            )
    return values


class AlertRule(BaseModel):
    """Event × priority × business hours → tier and targets (and an escalation policy)."""

    name: str = Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_.-]+$")
    event: AlertEvent
    priorities: list[Literal["low", "normal", "high", "urgent"]] = Field(
        default_factory=list, description="Empty: any priority."
    )
    hours: Literal["any", "business", "outside"] = "any"
    after_minutes: int = Field(
        0, ge=0, le=7 * 24 * 60, description="ticket.unassigned: minutes without an assignee."
    )
    tier: Tier
    targets: list[str] = Field(min_length=1)
    escalation: str | None = Field(None, description="A policy's name; none: told once.")

    @field_validator("targets")
    @classmethod
    def _check_targets(cls, value: list[str]) -> list[str]:
        return _targets(value)


class EscalationStep(BaseModel):
    """Tell ``targets`` (default: the rule's) by ``tier`` (default: the rule's), then wait."""

    targets: list[str] = Field(default_factory=list)
    tier: Tier | None = None
    wait_minutes: float = Field(5, ge=0, le=24 * 60)

    @field_validator("targets")
    @classmethod
    def _check_targets(cls, value: list[str]) -> list[str]:
        return _targets(value)


class EscalationPolicy(BaseModel):
    """Steps run in turn until someone acknowledges; the whole list ``repeat`` more times."""

    name: str = Field(min_length=1, max_length=60)
    steps: list[EscalationStep] = Field(min_length=1)
    repeat: int = Field(0, ge=0, le=20)


class Rotation(BaseModel):
    """A weekly (``period_days``) rotation: ``agents`` take turns from ``start`` on."""

    name: str = Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_.-]+$")
    agents: list[str] = Field(min_length=1)
    start: datetime = Field(description="When the first agent's turn begins (with a zone).")
    period_days: float = Field(7, gt=0, le=366)

    @field_validator("start")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError("give a time zone, e.g. 2026-11-02T09:00:00+01:00")
        return value


class Override(BaseModel):
    """Someone else on call for a while (holiday, swap)."""

    rotation: str
    agent: str
    start: datetime
    end: datetime

    @model_validator(mode="after")
    def _ordered(self) -> Override:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("override times need a time zone")
        if self.end <= self.start:
            raise ValueError("override end must be after its start")
        return self


class BusinessHours(BaseModel):
    """The desk's working week, in its time zone, minus holidays."""

    timezone: str = "UTC"
    days: list[int] = Field(default_factory=lambda: [0, 1, 2, 3, 4], description="0 = Monday.")
    start: time = time(9, 0)
    end: time = time(18, 0)
    holidays: list[date] = Field(default_factory=list)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @model_validator(mode="after")
    def _sane(self) -> BusinessHours:
        if self.end <= self.start:
            raise ValueError("business hours: end must be after start")
        if not self.days or any(d < 0 or d > 6 for d in self.days):
            raise ValueError("business hours: days are 0 (Monday) to 6")
        return self


class StormLimits(BaseModel):
    """What keeps an outage from sending 500 SMS."""

    sms_per_target: int = Field(5, ge=1, description="Most SMS to one agent per window.")
    sms_window_minutes: float = Field(10, gt=0)
    calls_per_target: int = Field(3, ge=1, description="Most calls to one agent per window.")
    calls_window_minutes: float = Field(30, gt=0)
    hourly_cost_limit: float = Field(5.0, ge=0, description="SMS + calls per hour, in money.")
    sms_cost: float = Field(0.05, ge=0)
    call_cost: float = Field(0.20, ge=0)


DEFAULT_RULES = [
    AlertRule(
        name="high-ticket-push",
        event="ticket.created",
        priorities=["high", "urgent"],
        tier="fast",
        targets=["team"],
    ),
    AlertRule(
        name="urgent-unassigned-sms",
        event="ticket.unassigned",
        priorities=["urgent"],
        after_minutes=10,
        tier="urgent",
        targets=["oncall:primary"],
        escalation="page",
    ),
    AlertRule(
        name="urgent-sla-breach-call",
        event="sla.breached",
        priorities=["urgent"],
        tier="emergency",
        targets=["oncall:primary"],
        escalation="page",
    ),
    AlertRule(
        name="assigned-email", event="ticket.assigned", tier="ordinary", targets=["assignee"]
    ),
]
DEFAULT_POLICIES = [
    EscalationPolicy(
        name="page",
        steps=[EscalationStep(wait_minutes=5), EscalationStep(tier="emergency", wait_minutes=10)],
        repeat=2,
    )
]


class AlertSettings(BaseModel):
    """``[alerts]``: who is told what, how, and how long until the next person is."""

    enabled: bool = True
    rules: list[AlertRule] = Field(default_factory=lambda: list(DEFAULT_RULES))
    policies: list[EscalationPolicy] = Field(default_factory=lambda: list(DEFAULT_POLICIES))
    rotations: list[Rotation] = Field(default_factory=list)
    overrides: list[Override] = Field(default_factory=list)
    business_hours: BusinessHours = BusinessHours()
    sla_business_hours: bool = Field(
        False, description="SLA deadlines count business hours only (holidays skipped)."
    )
    sla_warning_percent: int = Field(80, ge=1, le=99, description="sla.warning at this share.")
    storm: StormLimits = StormLimits()
    poll_seconds: float = Field(0.25, gt=0, le=60, description="How often new events are read.")

    @model_validator(mode="after")
    def _references(self) -> AlertSettings:
        policies = {p.name for p in self.policies}
        rotations = {r.name for r in self.rotations}
        names = [r.name for r in self.rules]
        if len(names) != len(set(names)):
            raise ValueError("two alert rules have the same name")
        for rule in self.rules:
            if rule.escalation and rule.escalation not in policies:
                raise ValueError(f"rule {rule.name}: no escalation policy {rule.escalation!r}")
        for override in self.overrides:
            if override.rotation not in rotations:
                raise ValueError(f"override: no rotation {override.rotation!r}")
        return self

    def rule(self, name: str) -> AlertRule | None:
        return next((r for r in self.rules if r.name == name), None)

    def policy(self, name: str | None) -> EscalationPolicy | None:
        return next((p for p in self.policies if p.name == name), None)
