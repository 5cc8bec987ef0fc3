"""Refusals: typed, with a sentence meant for the person who asked."""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    forbidden = "forbidden"
    closed = "closed"
    conflict = "conflict"
    not_found = "not_found"
    unknown_community = "unknown_community"
    nobody_left = "nobody_left"
    invalid = "invalid"


class Refused(Exception):
    """A command that the rules do not allow. ``message`` is shown to its sender alone."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message

    def __repr__(self) -> str:
        return f"Refused({self.reason.value!r}, {self.message!r})"
