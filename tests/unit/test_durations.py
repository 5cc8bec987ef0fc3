"""Durations as written in configuration, and as shown to people."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflows.durations import DurationError, duration_or_off, format_duration, humanize, parse_duration

S = timedelta(seconds=1)
M = timedelta(minutes=1)
H = timedelta(hours=1)
D = timedelta(days=1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("45s", 45 * S),
        ("90", 90 * S),  # a bare number, as an environment variable gives it, is seconds
        ("30m", 30 * M),
        ("2h", 2 * H),
        ("1d", D),
        ("1w", 7 * D),
        ("1h30m", 90 * M),
        ("1d2h3m4s", D + 2 * H + 3 * M + 4 * S),
        ("1h 30m", 90 * M),
        ("  15m  ", 15 * M),
        ("2H", 2 * H),
        ("90m", 90 * M),
        ("PT2H", 2 * H),
        ("P1D", D),
        ("P1W", 7 * D),
        ("PT30M", 30 * M),
        ("PT45S", 45 * S),
        ("P1DT2H", D + 2 * H),
        ("PT1H30M", 90 * M),
        ("PT1.5H", 90 * M),
        ("pt2h", 2 * H),
        (90, 90 * S),  # a bare number is seconds
        (3600, H),
        (1.5, timedelta(seconds=1.5)),
        (timedelta(minutes=5), 5 * M),
    ],
)
def test_parse_duration(text: str | int | float | timedelta, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "is not a duration"),
        ("   ", "is not a duration"),
        ("abc", "'abc' is not a duration"),
        ("0s", "not a positive duration"),
        ("0m0s", "not a positive duration"),
        ("PT0S", "not a positive duration"),
        ("-5m", "is not a duration"),
        ("P", "is not a duration"),
        ("PT", "is not a duration"),
        ("P1DT", "is not a duration"),
        ("5.5", "is not a duration"),  # text without a unit must be whole seconds
        ("5 minutes", "is not a duration"),
        ("1y", "is not a duration"),
        ("m30", "is not a duration"),
        (0, "not a positive duration"),
        (-5, "not a positive duration"),
        (timedelta(0), "not a positive duration"),
        (timedelta(minutes=-1), "not a positive duration"),
        (True, "is not a duration"),
        (False, "is not a duration"),
    ],
)
def test_parse_duration_refuses(text: str | int | timedelta, words: str) -> None:
    with pytest.raises(DurationError) as caught:
        parse_duration(text)
    assert words in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_refusal_says_what_is_accepted() -> None:
    with pytest.raises(DurationError, match=r"write e\.g\. 45s, 30m, 2h, 1d, 1h30m or ISO 8601 like PT2H"):
        parse_duration("soon")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (45 * S, "45s"),
        (30 * M, "30m"),
        (2 * H, "2h"),
        (D, "1d"),
        (90 * M, "1h30m"),
        (D + 2 * H, "1d2h"),
        (D + H + M + S, "1d1h1m1s"),
        (7 * D, "7d"),
        (timedelta(0), "0s"),
        (-5 * M, "0s"),
        (timedelta(seconds=59.9), "59s"),
    ],
)
def test_format_duration(value: timedelta, expected: str) -> None:
    assert format_duration(value) == expected


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=400 * 86400))
def test_format_then_parse_round_trips(seconds: int) -> None:
    value = timedelta(seconds=seconds)
    assert parse_duration(format_duration(value)) == value


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (timedelta(0), "0s"),
        (-30 * S, "0s"),
        (45 * S, "45s"),
        (59 * S, "59s"),
        (60 * S, "1m"),
        (12 * M + 30 * S, "12m"),
        (59 * M, "59m"),
        (H, "1h"),
        (90 * M, "1h30m"),
        (9 * H + 59 * M, "9h59m"),
        (10 * H + 30 * M, "10h"),  # past ten hours the minutes no longer matter
        (23 * H + 59 * M, "23h"),
        (D, "1d"),
        (2 * D + 23 * H, "2d"),
    ],
)
def test_humanize(value: timedelta, expected: str) -> None:
    assert humanize(value) == expected


# "A duration or off", as the policy and each priority read it: one rule for both.
OFF_OR_DURATION = [
    (None, None),
    (False, None),  # YAML's bare off and no
    (0, None),
    ("off", None),
    ("Off", None),
    ("never", None),
    ("no", None),  # quoted, so YAML kept it a word
    (" NO ", None),
    ("30m", 30 * M),
    (90, 90 * S),
    ("PT2H", 2 * H),
]


@pytest.mark.parametrize(("value", "expected"), OFF_OR_DURATION)
def test_a_duration_or_off(value: object, expected: timedelta | None) -> None:
    assert duration_or_off(value) == expected


@pytest.mark.parametrize("value", ["nope", "yes", True, "-5m", "0s"])
def test_neither_a_duration_nor_off_is_refused(value: object) -> None:
    with pytest.raises(DurationError):
        duration_or_off(value)


@pytest.mark.parametrize(("value", "expected"), OFF_OR_DURATION)
def test_the_policy_and_a_priority_read_a_timer_alike(value: object, expected: timedelta | None) -> None:
    from bot.config_file import PolicyConfig
    from bot.priorities import PriorityConfig

    assert PolicyConfig.model_validate({"nudge_after": value}).nudge_after == expected
    assert PriorityConfig.model_validate({"nudge_after": value}).nudge_after == expected


@pytest.mark.parametrize("text", ["100000000000w", "P99999999999W", 10**30, 1e300])
def test_a_duration_longer_than_any_timedelta_is_refused_in_words(text: object) -> None:
    with pytest.raises(DurationError, match="longer than any duration"):
        parse_duration(text)  # type: ignore[arg-type]
