"""A moment as words people read, in one named time zone: the person's where known, else
the community's (its business hours), else UTC. Pure; every adapter that cannot let the
client localise a time (Teams cards cannot: ``{{DATE()}}`` is not rendered there) uses it."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .model import Policy


def community_zone(policy: Policy) -> str | None:
    return policy.business_hours.timezone if policy.business_hours else None


def reading_zone(*zones: str | None) -> ZoneInfo:
    """The first of ``zones`` that names a real time zone (most specific first), else UTC."""
    for name in zones:
        if not name:
            continue
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue  # a client's zone we do not know: the next one will do
    return ZoneInfo("UTC")


def local_time(moment: datetime, zone: ZoneInfo) -> str:
    """``Mon 2 Mar 14:30 (Europe/Paris)``: the zone is named, since readers may be elsewhere."""
    local = moment.astimezone(UTC).astimezone(zone)
    return f"{local:%a} {local.day} {local:%b} {local:%H:%M} ({zone.key})"
