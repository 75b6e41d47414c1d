"""SLA due times from a ticket's priority."""

from __future__ import annotations

from datetime import datetime, timedelta

from sdesk.config import SLAPolicy
from sdesk.core.enums import Priority


def due_times(policy: SLAPolicy, priority: Priority, start: datetime) -> tuple[datetime, datetime]:
    """(first response due, resolution due)."""
    response = getattr(policy, f"{priority.value}_response_minutes")
    resolution = getattr(policy, f"{priority.value}_resolution_minutes")
    return start + timedelta(minutes=response), start + timedelta(minutes=resolution)
