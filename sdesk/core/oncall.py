"""Who is on call: weekly rotations with overrides (``[[alerts.rotations]]``,
``[[alerts.overrides]]``). Pure arithmetic over the settings: nothing is stored."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sdesk.config_alerts import AlertSettings, Rotation


@dataclass(frozen=True, slots=True)
class Shift:
    rotation: str
    agent: str | None
    start: datetime | None  # when this person's turn began (None: unknown, before the start)
    end: datetime | None  # when it ends


def _rotation(settings: AlertSettings, name: str) -> Rotation | None:
    return next((r for r in settings.rotations if r.name == name), None)


def on_call(settings: AlertSettings, name: str, at: datetime) -> Shift:
    """Who is on call in rotation ``name`` at ``at``; an override wins over the rotation."""
    rotation = _rotation(settings, name)
    if rotation is None:
        return Shift(name, None, None, None)
    for o in reversed(settings.overrides):  # the last one written wins
        if o.rotation == name and o.start <= at < o.end:
            return Shift(name, o.agent, o.start, o.end)
    period = timedelta(days=rotation.period_days)
    turn = math.floor((at - rotation.start) / period)
    start = rotation.start + turn * period
    end = start + period
    # An override starting inside this turn ends it early, as far as "until" goes.
    for o in settings.overrides:
        if o.rotation == name and at < o.start < end:
            end = o.start
    return Shift(name, rotation.agents[turn % len(rotation.agents)], start, end)


def now_and_next(settings: AlertSettings, name: str, at: datetime) -> tuple[Shift, Shift | None]:
    """The shift at ``at`` and the one after it (None when nobody follows)."""
    now = on_call(settings, name, at)
    if now.end is None:
        return now, None
    return now, on_call(settings, name, now.end)
