"""Human durations: ``45s``, ``30m``, ``2h``, ``1d``, ``1h30m``, or ISO 8601 (``PT2H``, ``P1D``)."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_SHORT = re.compile(r"^\s*(?:(\d+)\s*([smhdw])\s*)+$", re.IGNORECASE)
_SHORT_PART = re.compile(r"(\d+)\s*([smhdw])", re.IGNORECASE)
_ISO = re.compile(
    r"^P(?:(?P<w>\d+)W)?(?:(?P<d>\d+)D)?"
    r"(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$",
    re.IGNORECASE,
)


class DurationError(ValueError):
    """A duration that cannot be read; the message says what is accepted."""


OFF_WORDS = ("off", "never", "no")


def is_off(value: object) -> bool:
    """Whether a setting says "off": nothing, false (YAML reads a bare ``off`` or ``no`` as
    false), zero, or the words ``off``, ``never`` or ``no`` in any case."""
    if value is None or value is False:
        return True
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value == 0
    return isinstance(value, str) and value.strip().lower() in OFF_WORDS


def duration_or_off(value: str | int | float | timedelta | None) -> timedelta | None:
    """A duration as ``parse_duration`` reads it, or None where the setting says off (``is_off``)."""
    if value is None or is_off(value):
        return None
    return parse_duration(value)


def parse_duration(text: str | int | float | timedelta) -> timedelta:
    """Read a duration as written in configuration.

    Bare numbers are seconds. Zero and negative durations are refused because a
    timer that is due immediately, forever, is never what someone meant.
    """
    if isinstance(text, timedelta):
        value = text
    elif isinstance(text, bool):
        raise DurationError(f"{text!r} is not a duration")
    else:
        value = _read(text)
    if value <= timedelta(0):
        raise DurationError(f"{text!r} is not a positive duration")
    return value


def _read(text: str | int | float) -> timedelta:
    try:
        if isinstance(text, (int, float)):
            return timedelta(seconds=text)
        return _read_text(str(text).strip())
    except OverflowError:  # more days than a timedelta holds (999999999)
        raise DurationError(f"{str(text)[:40]!r} is longer than any duration this bot keeps") from None


def _read_text(raw: str) -> timedelta:
    if raw.isdigit():  # from an environment variable, a bare number is seconds as well
        return timedelta(seconds=int(raw))
    if _SHORT.match(raw):
        return timedelta(seconds=sum(int(n) * _UNITS[u.lower()] for n, u in _SHORT_PART.findall(raw)))
    m = _ISO.match(raw)
    if not m or raw.upper() in {"P", "PT"} or raw.upper().endswith("T"):
        raise DurationError(f"{raw!r} is not a duration: write e.g. 45s, 30m, 2h, 1d, 1h30m or ISO 8601 like PT2H")
    parts = {k: float(v) if v else 0.0 for k, v in m.groupdict().items()}
    return timedelta(weeks=parts["w"], days=parts["d"], hours=parts["h"], minutes=parts["m"], seconds=parts["s"])


def format_duration(value: timedelta) -> str:
    """The short form, largest units first: ``1d2h``, ``45m``, ``30s``."""
    total = int(value.total_seconds())
    if total <= 0:
        return "0s"
    out = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if total >= size:
            out.append(f"{total // size}{unit}")
            total %= size
    return "".join(out)


def humanize(value: timedelta) -> str:
    """Roughly, for people: ``12m``, ``3h``, ``2d`` (the largest unit only)."""
    total = int(value.total_seconds())
    if total < 60:
        return f"{max(total, 0)}s"
    if total < 3600:
        return f"{total // 60}m"
    if total < 86400:
        hours, minutes = divmod(total // 60, 60)
        return f"{hours}h{minutes}m" if minutes and hours < 10 else f"{hours}h"
    return f"{total // 86400}d"
