"""Business time: working hours in a time zone, minus weekends and public holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays as holidays_lib
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from workflows.calendar import BusinessHours, CalendarError, add_time, check_holiday_code, elapsed_time

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
H = timedelta(hours=1)
M = timedelta(minutes=1)

UK = BusinessHours(timezone="Europe/London")
UK_HOLIDAYS = BusinessHours(timezone="Europe/London", holidays="GB")
ENGLAND = BusinessHours(timezone="Europe/London", holidays="GB-ENG")
NY = BusinessHours(timezone="America/New_York", holidays="US")


def at(zone: ZoneInfo, y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    """A local wall-clock time, as the aware UTC instant the core works with."""
    return datetime(y, mo, d, h, mi, tzinfo=zone).astimezone(UTC)


def london(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return at(LONDON, y, mo, d, h, mi)


def ny(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return at(NEW_YORK, y, mo, d, h, mi)


# ---------------------------------------------------------------- add()


@pytest.mark.parametrize(
    ("start", "duration", "expected"),
    [
        (london(2026, 1, 9, 17, 0), H, london(2026, 1, 12, 10, 0)),  # Friday close + 1h: Monday 10:00
        (london(2026, 1, 9, 16, 30), H, london(2026, 1, 12, 9, 30)),  # half today, half Monday
        (london(2026, 1, 10, 12, 0), H, london(2026, 1, 12, 10, 0)),  # from Saturday
        (london(2026, 1, 5, 10, 0), 2 * H, london(2026, 1, 5, 12, 0)),  # within one day
        (london(2026, 1, 5, 7, 0), H, london(2026, 1, 5, 10, 0)),  # before opening
        (london(2026, 1, 5, 20, 0), H, london(2026, 1, 6, 10, 0)),  # after closing
        (london(2026, 1, 5, 9, 0), 8 * H, london(2026, 1, 5, 17, 0)),  # exactly a working day ends at close
        (london(2026, 1, 5, 9, 0), 9 * H, london(2026, 1, 6, 10, 0)),
        (london(2026, 1, 5, 9, 0), 40 * H, london(2026, 1, 9, 17, 0)),  # a working week
        (london(2026, 1, 5, 9, 0), 41 * H, london(2026, 1, 12, 10, 0)),
        (london(2026, 1, 5, 9, 0), timedelta(days=1), london(2026, 1, 7, 17, 0)),  # 1d = 24 working hours
        (london(2026, 1, 5, 12, 0), timedelta(0), london(2026, 1, 5, 12, 0)),
        (london(2026, 1, 5, 12, 0), timedelta(seconds=1), london(2026, 1, 5, 12, 0) + timedelta(seconds=1)),
    ],
    ids=[
        "friday-close",
        "across-weekend",
        "saturday",
        "same-day",
        "before-opening",
        "after-closing",
        "full-day",
        "full-day-plus-one",
        "week",
        "week-plus-one",
        "one-d",
        "zero",
        "one-second",
    ],
)
def test_add_in_london_winter(start: datetime, duration: timedelta, expected: datetime) -> None:
    assert UK.add(start, duration) == expected
    assert UK.elapsed(start, expected) == duration


@pytest.mark.parametrize(
    ("hours", "start", "duration", "expected"),
    [
        # Europe/London springs forward on Sunday 29 March 2026: 16:00 GMT on Friday,
        # 10:00 BST on Monday, which is 09:00 UTC.
        (UK, london(2026, 3, 27, 16, 0), 2 * H, london(2026, 3, 30, 10, 0)),
        (UK, datetime(2026, 3, 27, 16, 0, tzinfo=UTC), 2 * H, datetime(2026, 3, 30, 9, 0, tzinfo=UTC)),
        # ...and falls back on Sunday 25 October 2026.
        (UK, london(2026, 10, 23, 16, 0), 2 * H, london(2026, 10, 26, 10, 0)),
        (UK, datetime(2026, 10, 23, 15, 0, tzinfo=UTC), 2 * H, datetime(2026, 10, 26, 10, 0, tzinfo=UTC)),
        # America/New_York springs forward on 8 March and falls back on 1 November 2026.
        (NY, ny(2026, 3, 6, 16, 0), 2 * H, ny(2026, 3, 9, 10, 0)),
        (NY, datetime(2026, 3, 6, 21, 0, tzinfo=UTC), 2 * H, datetime(2026, 3, 9, 14, 0, tzinfo=UTC)),
        (NY, ny(2026, 10, 30, 16, 0), 2 * H, ny(2026, 11, 2, 10, 0)),
        (NY, datetime(2026, 10, 30, 20, 0, tzinfo=UTC), 2 * H, datetime(2026, 11, 2, 15, 0, tzinfo=UTC)),
        # A whole working week across the change still counts 8 hours a day.
        (UK, london(2026, 3, 23, 9, 0), 48 * H, london(2026, 3, 30, 17, 0)),
        (NY, ny(2026, 10, 26, 9, 0), 48 * H, ny(2026, 11, 2, 17, 0)),
    ],
    ids=[
        "london-spring-local",
        "london-spring-utc",
        "london-autumn-local",
        "london-autumn-utc",
        "ny-spring-local",
        "ny-spring-utc",
        "ny-autumn-local",
        "ny-autumn-utc",
        "london-week-across-spring",
        "ny-week-across-autumn",
    ],
)
def test_add_across_daylight_saving_changes(
    hours: BusinessHours, start: datetime, duration: timedelta, expected: datetime
) -> None:
    assert hours.add(start, duration) == expected
    assert hours.elapsed(start, expected) == duration


def test_working_window_on_the_day_the_clocks_change_has_its_real_length() -> None:
    # Open every day 00:30-03:00 local: on the spring-forward night 01:00-02:00 does not
    # exist, so the window is 1h30 long; on the fall-back night 01:00-02:00 happens twice,
    # so it is 3h30 long.
    every_day = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    night = BusinessHours(timezone="Europe/London", days=every_day, start=time(0, 30), end=time(3, 0))  # type: ignore[arg-type]
    spring_open = london(2026, 3, 29, 0, 30)
    assert spring_open == datetime(2026, 3, 29, 0, 30, tzinfo=UTC)
    assert night.elapsed(spring_open, spring_open + 20 * H) == timedelta(hours=1, minutes=30)
    assert night.add(spring_open, timedelta(hours=1, minutes=30)) == datetime(2026, 3, 29, 2, 0, tzinfo=UTC)
    # Half an hour more spills into the next night, which opens at 00:30 BST (23:30 UTC).
    assert night.add(spring_open, 2 * H) == datetime(2026, 3, 30, 0, 0, tzinfo=UTC)

    autumn_open = london(2026, 10, 25, 0, 30)
    assert autumn_open == datetime(2026, 10, 24, 23, 30, tzinfo=UTC)
    assert night.elapsed(autumn_open, autumn_open + 20 * H) == timedelta(hours=3, minutes=30)
    assert night.add(autumn_open, 3 * H) == datetime(2026, 10, 25, 2, 30, tzinfo=UTC)
    assert night.is_open(datetime(2026, 10, 25, 1, 30, tzinfo=UTC))  # the second 01:30


def test_opening_time_inside_the_spring_gap_moves_forward() -> None:
    # 01:30 does not exist in London on 29 March 2026; the window opens at 02:30 BST.
    gap = BusinessHours(timezone="Europe/London", days="sun", start=time(1, 30), end=time(4, 0))  # type: ignore[arg-type]
    assert not gap.is_open(datetime(2026, 3, 29, 1, 15, tzinfo=UTC))  # 02:15 BST
    assert gap.is_open(datetime(2026, 3, 29, 1, 30, tzinfo=UTC))  # 02:30 BST
    assert gap.elapsed(datetime(2026, 3, 29, 0, 0, tzinfo=UTC), datetime(2026, 3, 30, tzinfo=UTC)) == 90 * M


# ---------------------------------------------------------------- public holidays


def test_gb_holidays_of_2026_are_what_the_package_says() -> None:
    # The calendar relies on the holidays package; these are the dates the tests below use.
    gb = holidays_lib.country_holidays("GB", years=2026)
    assert {date(2026, 12, 25), date(2026, 12, 26), date(2026, 12, 28), date(2026, 4, 3)} <= set(gb)
    assert date(2026, 4, 6) not in gb  # Easter Monday is not a holiday in Scotland
    assert date(2026, 4, 6) in holidays_lib.country_holidays("GB", subdiv="ENG", years=2026)


@pytest.mark.parametrize(
    ("hours", "start", "duration", "expected"),
    [
        # Christmas Day is a Friday, Boxing Day a Saturday, observed on Monday the 28th.
        (UK_HOLIDAYS, london(2026, 12, 24, 16, 30), H, london(2026, 12, 29, 9, 30)),
        (UK, london(2026, 12, 24, 16, 30), H, london(2026, 12, 25, 9, 30)),  # no holidays configured
        (UK_HOLIDAYS, london(2026, 12, 23, 9, 0), 24 * H, london(2026, 12, 29, 17, 0)),
        # Good Friday for all of GB; Easter Monday only in England (GB-ENG).
        (UK_HOLIDAYS, london(2026, 4, 2, 16, 30), H, london(2026, 4, 6, 9, 30)),
        (ENGLAND, london(2026, 4, 2, 16, 30), H, london(2026, 4, 7, 9, 30)),
        # New Year's Day 2027 comes from the next year's table.
        (UK_HOLIDAYS, london(2026, 12, 31, 16, 30), H, london(2027, 1, 4, 9, 30)),
        # Thanksgiving in New York.
        (NY, ny(2026, 11, 25, 16, 30), H, ny(2026, 11, 27, 9, 30)),
    ],
    ids=[
        "christmas",
        "christmas-no-holidays",
        "christmas-week",
        "good-friday",
        "easter-monday-eng",
        "new-year",
        "thanksgiving",
    ],
)
def test_add_skips_public_holidays(
    hours: BusinessHours, start: datetime, duration: timedelta, expected: datetime
) -> None:
    assert hours.add(start, duration) == expected
    assert hours.elapsed(start, expected) == duration


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (date(2026, 12, 24), True),
        (date(2026, 12, 25), False),
        (date(2026, 12, 26), False),
        (date(2026, 12, 27), False),
        (date(2026, 12, 28), False),
        (date(2026, 12, 29), True),
        (date(2026, 5, 4), False),  # Early May bank holiday
        (date(2026, 5, 25), False),  # Spring bank holiday
        (date(2026, 8, 31), True),  # Summer bank holiday is England-only
    ],
)
def test_working_days_in_gb(day: date, working: bool) -> None:
    assert UK_HOLIDAYS.is_working_day(day) is working


def test_summer_bank_holiday_is_english() -> None:
    assert not ENGLAND.is_working_day(date(2026, 8, 31))


def test_holiday_with_subdivision_code() -> None:
    check_holiday_code("US-CA")
    ca = BusinessHours(timezone="America/Los_Angeles", holidays="US-CA")
    assert not ca.is_working_day(date(2026, 3, 31))  # César Chávez Day, California only
    assert NY.is_working_day(date(2026, 3, 31))


# ---------------------------------------------------------------- is_open()


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (london(2026, 1, 5, 9, 0), True),  # opening minute counts
        (london(2026, 1, 5, 8, 59), False),
        (london(2026, 1, 5, 12, 0), True),
        (london(2026, 1, 5, 16, 59), True),
        (london(2026, 1, 5, 17, 0), False),  # closing time is closed
        (london(2026, 1, 10, 12, 0), False),  # Saturday
        (london(2026, 1, 11, 12, 0), False),  # Sunday
        (london(2026, 12, 25, 12, 0), False),  # Christmas
        (london(2026, 12, 28, 12, 0), False),  # Boxing Day observed
        (datetime(2026, 6, 1, 8, 30, tzinfo=UTC), True),  # 09:30 BST
        (datetime(2026, 6, 1, 16, 30, tzinfo=UTC), False),  # 17:30 BST
        (datetime(2026, 1, 5, 16, 30, tzinfo=UTC), True),  # 16:30 GMT
    ],
)
def test_is_open(moment: datetime, expected: bool) -> None:
    assert UK_HOLIDAYS.is_open(moment) is expected


def test_is_open_accepts_any_aware_time() -> None:
    tokyo = datetime(2026, 1, 5, 19, 0, tzinfo=ZoneInfo("Asia/Tokyo"))  # 10:00 in London
    assert UK.is_open(tokyo)


@pytest.mark.parametrize("method", ["is_open", "add", "elapsed"])
def test_naive_times_are_refused(method: str) -> None:
    naive = datetime(2026, 1, 5, 10, 0)
    with pytest.raises(CalendarError, match="naive"):
        if method == "is_open":
            UK.is_open(naive)
        elif method == "add":
            UK.add(naive, H)
        else:
            UK.elapsed(naive, london(2026, 1, 6))


# ---------------------------------------------------------------- elapsed()


@pytest.mark.parametrize(
    ("since", "until", "expected"),
    [
        (london(2026, 1, 9, 16, 0), london(2026, 1, 12, 10, 0), 2 * H),  # over a weekend
        (london(2026, 1, 10, 9, 0), london(2026, 1, 11, 17, 0), timedelta(0)),  # only weekend
        (london(2026, 1, 5, 18, 0), london(2026, 1, 6, 8, 0), timedelta(0)),  # only night
        (london(2026, 1, 5, 12, 0), london(2026, 1, 5, 11, 0), timedelta(0)),  # backwards
        (london(2026, 1, 5, 12, 0), london(2026, 1, 5, 12, 0), timedelta(0)),
        (london(2026, 1, 5, 0, 0), london(2026, 1, 12, 0, 0), 40 * H),  # a week
        (london(2026, 12, 21, 0, 0), london(2027, 1, 4, 0, 0), 56 * H),  # two weeks less three holidays
    ],
)
def test_elapsed(since: datetime, until: datetime, expected: timedelta) -> None:
    assert UK_HOLIDAYS.elapsed(since, until) == expected


zones = st.sampled_from(["Europe/London", "America/New_York", "Asia/Kolkata", "Australia/Sydney", "UTC"])
calendars = st.builds(
    BusinessHours,
    timezone=zones,
    days=st.lists(st.sampled_from(["mon", "tue", "wed", "thu", "fri", "sat", "sun"]), min_size=1, unique=True),
    start=st.sampled_from([time(0, 0), time(7, 30), time(9, 0), time(1, 15)]),
    end=st.sampled_from([time(17, 0), time(18, 45), time(23, 59)]),
    holidays=st.sampled_from([None, "GB", "US"]),
)
moments = st.datetimes(min_value=datetime(2025, 12, 1), max_value=datetime(2027, 1, 31), timezones=st.just(UTC))
durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=200)).map(
    lambda d: timedelta(seconds=int(d.total_seconds()))
)


@settings(max_examples=200, deadline=None)
@given(hours=calendars, start=moments, duration=durations)
def test_elapsed_undoes_add(hours: BusinessHours, start: datetime, duration: timedelta) -> None:
    end = hours.add(start, duration)
    assert end >= start
    assert end.utcoffset() == timedelta(0)
    assert hours.elapsed(start, end) == duration
    if duration > timedelta(0):
        # The moment the time runs out is always inside working hours (or at its close).
        assert hours.is_open(end - timedelta(microseconds=1))


@settings(max_examples=200, deadline=None)
@given(hours=calendars, a=moments, b=moments, c=moments)
def test_elapsed_is_additive(hours: BusinessHours, a: datetime, b: datetime, c: datetime) -> None:
    a, b, c = sorted((a, b, c))
    assert hours.elapsed(a, c) == hours.elapsed(a, b) + hours.elapsed(b, c)
    assert hours.elapsed(a, c) <= c - a


# ---------------------------------------------------------------- without business hours


def test_no_business_hours_is_plain_time() -> None:
    start = datetime(2026, 1, 9, 17, 0, tzinfo=UTC)
    assert add_time(None, start, H) == datetime(2026, 1, 9, 18, 0, tzinfo=UTC)
    assert elapsed_time(None, start, start + 3 * H) == 3 * H
    assert elapsed_time(None, start + 3 * H, start) == timedelta(0)


def test_helpers_use_business_hours_when_given() -> None:
    start = london(2026, 1, 9, 17, 0)
    assert add_time(UK, start, H) == london(2026, 1, 12, 10, 0)
    assert elapsed_time(UK, start, london(2026, 1, 12, 10, 0)) == H


def test_add_time_converts_other_zones_to_utc() -> None:
    tokyo = datetime(2026, 1, 5, 19, 0, tzinfo=ZoneInfo("Asia/Tokyo"))
    result = add_time(None, tokyo, H)
    assert result == datetime(2026, 1, 5, 11, 0, tzinfo=UTC)
    assert result.utcoffset() == timedelta(0)


# ---------------------------------------------------------------- configuration


def test_defaults_are_weekdays_nine_to_five() -> None:
    hours = BusinessHours(timezone="Europe/London")
    assert hours.days == ("mon", "tue", "wed", "thu", "fri")
    assert (hours.start, hours.end) == (time(9, 0), time(17, 0))
    assert hours.holidays is None
    assert hours.zone == LONDON


@pytest.mark.parametrize(
    ("given_days", "expected"),
    [
        ("mon, tue", ("mon", "tue")),
        (["Friday", "Monday", "monday"], ("mon", "fri")),  # full names, any case, deduplicated, ordered
        (("SUN", "sat"), ("sat", "sun")),
    ],
)
def test_day_names_are_normalised(given_days: object, expected: tuple[str, ...]) -> None:
    assert BusinessHours(timezone="UTC", days=given_days).days == expected  # type: ignore[arg-type]


def test_times_parse_from_strings() -> None:
    hours = BusinessHours(timezone="UTC", start="08:30", end="17:30")  # type: ignore[arg-type]
    assert (hours.start, hours.end) == (time(8, 30), time(17, 30))


def test_empty_holidays_means_none() -> None:
    assert BusinessHours(timezone="UTC", holidays="").holidays is None


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, "unknown time zone 'Mars/Olympus_Mons'"),
        ({"timezone": "../etc/passwd"}, "unknown time zone"),
        ({"timezone": "Europe/London", "days": ["mon", "funday"]}, "unknown day 'funday'"),
        ({"timezone": "Europe/London", "days": []}, "at least one working day"),
        ({"timezone": "Europe/London", "days": 5}, "days must be a list"),
        ({"timezone": "Europe/London", "start": "17:00", "end": "09:00"}, "must be after start"),
        ({"timezone": "Europe/London", "start": "09:00", "end": "09:00"}, "must be after start"),
        ({"timezone": "Europe/London", "holidays": "XX"}, "unknown holiday calendar 'XX'"),
        ({"timezone": "Europe/London", "holidays": "GB-XYZ"}, "unknown holiday calendar 'GB-XYZ'"),
    ],
    ids=[
        "unknown-zone",
        "path-as-zone",
        "unknown-day",
        "no-days",
        "days-not-a-list",
        "end-before-start",
        "end-equals-start",
        "unknown-country",
        "unknown-subdivision",
    ],
)
def test_invalid_business_hours(fields: dict[str, object], words: str) -> None:
    with pytest.raises(ValidationError) as caught:
        BusinessHours(**fields)  # type: ignore[arg-type]
    assert words in str(caught.value)


def test_unknown_holiday_code_explains_what_is_expected() -> None:
    with pytest.raises(CalendarError, match="use a country code such as GB or US"):
        check_holiday_code("Narnia")


def test_business_hours_are_immutable() -> None:
    with pytest.raises(ValidationError):
        UK.timezone = "UTC"  # type: ignore[misc]


def test_a_holiday_on_the_only_working_day_skips_a_whole_week() -> None:
    fridays = BusinessHours(timezone="Europe/London", days=["fri"], holidays="GB")  # type: ignore[arg-type]
    # Christmas and New Year's Day 2027 both fall on a Friday.
    assert fridays.add(london(2026, 12, 24, 12, 0), H) == london(2027, 1, 8, 10, 0)
