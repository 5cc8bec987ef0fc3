"""Who is away, and until when: what people say (``away until friday``, ``away for 3d``),
read in their own time zone, and how the rest of the core words it (pure)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .durations import DurationError, parse_duration
from .model import Expert

AWAY_USAGE = (
    "away [until <date> | for <duration>] [keep] [note], e.g. away until friday, away for 3d keep,"
    " away until 2026-12-24"
)
MAX_NOTE = 200
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


class AwayError(ValueError):
    """What someone typed after ``away`` that cannot be used; ``str()`` says why, for them alone."""


@dataclass(frozen=True)
class Away:
    """``until`` None: away until they say ``back``. ``keep``: the questions they accepted or
    claimed stay theirs (else those move on too)."""

    until: datetime | None
    note: str | None
    keep: bool = False


def parse_away(words: str, now: datetime, zone: ZoneInfo) -> Away:
    """``until <date>``: back at the start of that day where the person is; ``for <duration>``:
    back that long from now. Then ``keep`` (or "keep my questions"): what they took on stays
    theirs. Anything after is a note for the people who look for them."""
    parts = words.split()
    until: datetime | None = None
    if parts and parts[0].lower() == "until":
        if len(parts) < 2:
            raise AwayError(f"Say until when. Usage: {AWAY_USAGE}")
        day = _day(parts[1], now.astimezone(zone).date())
        until = datetime.combine(day, time(0, 0), zone)
        parts = parts[2:]
    elif parts and parts[0].lower() == "for":
        if len(parts) < 2:
            raise AwayError(f"Say for how long. Usage: {AWAY_USAGE}")
        try:
            length = parse_duration(parts[1].rstrip(",.;"))
        except DurationError:
            raise AwayError(f"“{parts[1]}” is not a duration (like 3d, 1w or 4h). Usage: {AWAY_USAGE}") from None
        try:
            until = now + length
        except OverflowError:  # past the year 9999
            raise AwayError(f"“{parts[1]}” is longer than anyone is away. Usage: {AWAY_USAGE}") from None
        parts = parts[2:]
    if until is not None and until <= now:
        raise AwayError(f"{moment(until, zone)} has already begun; say a date still to come.")
    keep = bool(parts) and _bare(parts[0]) == "keep"
    if keep:
        parts = parts[1:]
        if [_bare(p) for p in parts[:2]] == ["my", "questions"]:
            parts = parts[2:]
    note = " ".join(parts).strip() or None
    if note and len(note) > MAX_NOTE:
        raise AwayError(f"Keep the note under {MAX_NOTE} characters.")
    return Away(until, note, keep)


def _bare(word: str) -> str:
    return word.lower().rstrip(",.;:")


def _day(word: str, today: date) -> date:
    text = word.lower().rstrip(",.")
    if text == "today":
        return today
    if text == "tomorrow":
        return today + timedelta(days=1)
    for index, name in enumerate(_WEEKDAYS):
        if len(text) >= 3 and name.startswith(text):
            # The next one to come: "until friday" on a Friday means a week on.
            return today + timedelta(days=(index - today.weekday() - 1) % 7 + 1)
    found = _ISO_DATE.match(text)
    if found:
        try:
            return date(int(found[1]), int(found[2]), int(found[3]))
        except ValueError:
            pass
    raise AwayError(f"“{word}” is not a date I know: write a weekday, tomorrow, or 2026-12-24. Usage: {AWAY_USAGE}")


def moment(at: datetime, zone: ZoneInfo | None = None) -> str:
    """ "Fri 11 Dec 2026 00:00 Europe/London", in ``zone`` (UTC when none is known)."""
    zone = zone or ZoneInfo("UTC")
    return f"{at.astimezone(zone):%a %d %b %Y %H:%M} {zone.key}"


def when(until: datetime | None, zone: ZoneInfo | None = None) -> str:
    """ "until Fri 11 Dec 2026 00:00 Europe/London", or "until they say they are back"."""
    return f"until {moment(until, zone)}" if until is not None else "until they say they are back"


def earliest_return(away: dict[str, datetime | None], experts: list[Expert]) -> datetime | None:
    """When the first of ``experts`` is back (None: none of them said)."""
    returns = [away[e.key] for e in experts if e.key in away and away[e.key] is not None]
    return min((r for r in returns if r is not None), default=None)


def status_away_until(
    emoji: str, text: str, expiration: int, statuses: Iterable[str], now: datetime
) -> datetime | None:
    """When a Slack status means away, until when: it has an expiry still to come, and its
    emoji (``:palm_tree:``) or its text ("Out of office until Monday") is on the list. A
    status without an expiry never counts (nobody could tell when it ends)."""
    if expiration <= 0:
        return None
    until = datetime.fromtimestamp(expiration, UTC)
    if until <= now:
        return None
    emoji, text = emoji.strip().lower(), text.strip().lower()
    for status in statuses:
        wanted = status.strip().lower()
        if wanted.startswith(":") and wanted.endswith(":") and len(wanted) > 2:
            if emoji == wanted:
                return until
        elif wanted and wanted in text:
            return until
    return None


def away_words(until: str, note: str) -> str:
    """A form's "Until when" and "Note" as the words ``away`` takes: "friday" is "until
    friday", "3d" is "for 3d"; what already says "until" or "for" is left alone."""
    until, note = until.strip(), note.strip()
    first = until.split()[0].lower() if until else ""
    if until and first not in ("until", "for"):
        try:
            parse_duration(first)
            until = f"for {until}"
        except DurationError:
            until = f"until {until}"
    return " ".join(part for part in (until, note) if part)
