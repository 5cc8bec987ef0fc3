"""A person's own time zone and working hours (``people``: ``timezone``, ``hours``): who is
inside their working hours now is what "follow the sun" assignment prefers."""

from __future__ import annotations

import re
from datetime import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from workflows.calendar import BusinessHours

_SPAN = re.compile(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*")


def check_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {value!r}: use an IANA name such as Asia/Tokyo or America/New_York"
        ) from None
    return value


def parse_span(value: str) -> tuple[time, time]:
    """``09:00-17:30``: when a working day starts and ends, in the person's own zone."""
    found = _SPAN.fullmatch(value)
    try:
        if found is None:
            raise ValueError
        h1, m1, h2, m2 = (int(g) for g in found.groups())
        start, end = time(h1, m1), time(h2, m2)
    except ValueError:
        raise ValueError(f"hours {value!r} is not a span of the day: write it like 09:00-17:30") from None
    if end <= start:
        raise ValueError(f"hours {value!r}: the end must come after the start (no spans over midnight)")
    return start, end


def own_hours(zone: str | None, span: str | None, community: BusinessHours | None) -> BusinessHours | None:
    """The person's working hours: the community's working days, at their own hours (else the
    community's, else 09:00-17:00) in their own zone. Public holidays are the community's
    country's, so they are left out. None when the person says neither."""
    if zone is None and span is None:
        return None
    days = community.days if community else BusinessHours.model_fields["days"].default
    start, end = parse_span(span) if span else (community.start, community.end) if community else (time(9), time(17))
    timezone = zone or (community.timezone if community else None)
    if timezone is None:
        raise ValueError("hours needs a timezone (the community has no business_hours to take it from)")
    return BusinessHours(timezone=timezone, days=days, start=start, end=end)
