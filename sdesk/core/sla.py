"""SLA due times from a ticket's priority, counted in business hours when the desk says so
(``alerts.sla_business_hours``: evenings, weekends and holidays do not count)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sdesk.config import Settings, SLAPolicy
from sdesk.config_alerts import BusinessHours
from sdesk.core.enums import Priority
from sdesk.core.hours import add_business_minutes


def hours_of(settings: Settings) -> BusinessHours | None:
    """The business hours SLA deadlines count, or None for the wall clock."""
    alerts = settings.alerts
    return alerts.business_hours if alerts.sla_business_hours else None


def due_times(
    policy: SLAPolicy, priority: Priority, start: datetime, hours: BusinessHours | None = None
) -> tuple[datetime, datetime]:
    """(first response due, resolution due)."""
    response = getattr(policy, f"{priority.value}_response_minutes")
    resolution = getattr(policy, f"{priority.value}_resolution_minutes")
    if hours is not None:
        return (
            add_business_minutes(hours, start, response),
            add_business_minutes(hours, start, resolution),
        )
    return start + timedelta(minutes=response), start + timedelta(minutes=resolution)
