"""The platform-neutral core: it decides, and does no I/O."""

from .commands import (
    Accept,
    Assign,
    Cancel,
    Claim,
    Command,
    Decline,
    Open,
    Reassign,
    Reopen,
    Reply,
    Resolve,
    Roster,
    Tick,
)
from .decide import Decision, card_view, decide, status_line
from .errors import Reason, Refused
from .rotation import choose_expert
from .timers import schedule

__all__ = [
    "Accept",
    "Assign",
    "Cancel",
    "Claim",
    "Command",
    "Decision",
    "Decline",
    "Open",
    "Reason",
    "Reassign",
    "Refused",
    "Reopen",
    "Reply",
    "Resolve",
    "Roster",
    "Tick",
    "card_view",
    "choose_expert",
    "decide",
    "schedule",
    "status_line",
]
