"""Business hours and holidays: whether a moment is inside them, and a deadline that counts
only working minutes (an SLA of 4 hours given at 17:00 on a Friday is due Monday 12:00)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sdesk.config_alerts import BusinessHours

MAX_DAYS = 3700  # a deadline further than ten years of working days away is a config mistake


def _working_day(hours: BusinessHours, day: date) -> bool:
    return day.weekday() in hours.days and day not in hours.holidays


def _window(hours: BusinessHours, day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    start = datetime.combine(day, hours.start, tzinfo=zone).astimezone(UTC)
    return start, datetime.combine(day, hours.end, tzinfo=zone).astimezone(UTC)


def in_business(hours: BusinessHours, at: datetime) -> bool:
    zone = ZoneInfo(hours.timezone)
    local = at.astimezone(zone)
    if not _working_day(hours, local.date()):
        return False
    start, end = _window(hours, local.date(), zone)
    return start <= at < end


def add_business_minutes(hours: BusinessHours, start: datetime, minutes: float) -> datetime:
    """``start`` plus ``minutes`` of business time (outside hours the clock stands still)."""
    zone = ZoneInfo(hours.timezone)
    left = timedelta(minutes=minutes)
    cursor = start.astimezone(UTC)
    day = cursor.astimezone(zone).date()
    for _ in range(MAX_DAYS):
        if _working_day(hours, day):
            begin, end = _window(hours, day, zone)
            cursor = max(cursor, begin)
            if cursor < end:
                if left <= end - cursor:
                    return cursor + left
                left -= end - cursor
        day += timedelta(days=1)
        cursor = max(cursor, datetime.combine(day, datetime.min.time(), tzinfo=zone))
    raise ValueError("business hours: no working time within ten years (check days/holidays)")
