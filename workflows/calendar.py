"""Business time: timers count only working hours in the community's time zone.

Everything in and out is timezone-aware UTC; local time exists only inside this
module, so daylight-saving changes are handled in one place.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_lib
from pydantic import BaseModel, ConfigDict, field_validator, model_validator

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# A calendar with working days always finds a window well within this; the bound only
# protects against a holiday list that somehow covers every working day.
_MAX_DAYS_SCANNED = 3 * 366


class CalendarError(ValueError):
    pass


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise CalendarError("naive datetime given to the calendar; the core works in aware UTC")
    return moment.astimezone(UTC)


@lru_cache(maxsize=64)
def _holiday_dates(code: str, year: int) -> frozenset[date]:
    country, _, subdiv = code.partition("-")
    table = holidays_lib.country_holidays(country, subdiv=subdiv or None, years=year)
    return frozenset(table.keys())


def check_holiday_code(code: str) -> str:
    """The calendar's code as the ``holidays`` package knows it (``gb`` is ``GB``)."""
    country, dash, subdiv = code.strip().partition("-")
    # Country codes are upper case; a few subdivision codes are not, so those are tried as written first.
    candidates = dict.fromkeys((f"{country.upper()}{dash}{subdiv}", f"{country.upper()}{dash}{subdiv.upper()}"))
    error: Exception | None = None
    for candidate in candidates:
        try:
            _holiday_dates(candidate, 2026)
        except (NotImplementedError, KeyError, ValueError) as exc:
            error = exc
        else:
            return candidate
    raise CalendarError(
        f"unknown holiday calendar {code!r}: use a country code such as GB or US, "
        f"optionally with a subdivision such as US-CA ({error})"
    ) from None


class BusinessHours(BaseModel):
    """Working days and hours in one time zone, optionally minus public holidays."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    timezone: str
    days: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")
    start: time = time(9, 0)
    end: time = time(17, 0)
    holidays: str | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}: use an IANA name such as Europe/London or America/New_York"
            ) from None
        return value

    @field_validator("days", mode="before")
    @classmethod
    def _weekday_names(cls, value: object) -> tuple[str, ...]:
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",")]
        if not isinstance(value, (list, tuple)):
            raise ValueError("days must be a list such as [mon, tue, wed, thu, fri]")
        out = []
        for item in value:
            name = str(item).strip().lower()[:3]
            if name not in WEEKDAYS:
                raise ValueError(f"unknown day {item!r}: use mon, tue, wed, thu, fri, sat, sun")
            out.append(name)
        if not out:
            raise ValueError("business hours need at least one working day")
        return tuple(sorted(set(out), key=WEEKDAYS.index))

    @field_validator("holidays")
    @classmethod
    def _known_holidays(cls, value: str | None) -> str | None:
        if value:
            try:
                return check_holiday_code(value)
            except CalendarError as exc:
                raise ValueError(str(exc)) from None
        return None

    @model_validator(mode="after")
    def _start_before_end(self) -> BusinessHours:
        if self.end <= self.start:
            raise ValueError(f"business hours end ({self.end}) must be after start ({self.start})")
        return self

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_working_day(self, day: date) -> bool:
        if WEEKDAYS[day.weekday()] not in self.days:
            return False
        return not (self.holidays and day in _holiday_dates(self.holidays, day.year))

    def windows(self, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working windows (UTC start, UTC end) that end after ``moment``, in order."""
        zone = self.zone
        day = _utc(moment).astimezone(zone).date() - timedelta(days=1)
        for _ in range(_MAX_DAYS_SCANNED):
            if self.is_working_day(day):
                # Wall-clock times that fall into a DST gap resolve through fold=0,
                # which zoneinfo maps forward consistently on both edges.
                start = datetime.combine(day, self.start, tzinfo=zone).astimezone(UTC)
                end = datetime.combine(day, self.end, tzinfo=zone).astimezone(UTC)
                if end > moment:
                    yield start, end
            day += timedelta(days=1)
        raise CalendarError("no working time found within three years: check days and holidays")

    def is_open(self, moment: datetime) -> bool:
        moment = _utc(moment)
        for start, end in self.windows(moment):
            return start <= moment < end
        return False  # pragma: no cover - windows() raises instead

    def add(self, moment: datetime, duration: timedelta) -> datetime:
        """The instant at which ``duration`` of business time has passed since ``moment``."""
        cursor = _utc(moment)
        remaining = duration
        for start, end in self.windows(cursor):
            begin = max(start, cursor)
            available = end - begin
            if remaining <= available:
                return begin + remaining
            remaining -= available
        raise CalendarError("unreachable")  # pragma: no cover

    def elapsed(self, since: datetime, until: datetime) -> timedelta:
        """Business time between two instants (zero if ``until`` is not after ``since``)."""
        since, until = _utc(since), _utc(until)
        total = timedelta(0)
        if until <= since:
            return total
        for start, end in self.windows(since):
            if start >= until:
                break
            total += min(end, until) - max(start, since)
        return total


def add_time(hours: BusinessHours | None, moment: datetime, duration: timedelta) -> datetime:
    return hours.add(moment, duration) if hours else _utc(moment) + duration


def elapsed_time(hours: BusinessHours | None, since: datetime, until: datetime) -> timedelta:
    if hours:
        return hours.elapsed(since, until)
    return max(_utc(until) - _utc(since), timedelta(0))
