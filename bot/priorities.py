"""The ``priority:`` part of a community's policy: how each priority changes its clock."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from workflows.durations import duration_or_off, is_off
from workflows.model import Priority, PriorityRule, Timers

# The policy's timers, by name; a priority may override each.
TIMER_FIELDS = tuple(Timers.model_fields)
_ON = ("on", "yes", True)


class TimerSettings(BaseModel):
    """The timers as the policy and each priority write them: each a duration or off."""

    model_config = ConfigDict(extra="forbid")

    nudge_after: timedelta | None = None
    assign_after: timedelta | None = None
    owner_reminder_after: timedelta | None = None
    reassign_after: timedelta | None = None
    requester_reminder_after: timedelta | None = None
    auto_close_after: timedelta | None = None

    # A DurationError is a ValueError: pydantic reports its sentence as the field's error.
    _duration = field_validator(*TIMER_FIELDS, mode="before")(duration_or_off)


class PriorityConfig(TimerSettings):
    """``urgent: {nudge_after: 5m, assign_after: 15m, business_hours: off, mention_lead: true}``"""

    business_hours: bool = True
    mention_lead: bool = False

    @field_validator("business_hours", mode="before")
    @classmethod
    def _on_off(cls, value: Any) -> Any:
        if value is not None and is_off(value):
            return False
        if value in _ON:
            return True
        raise ValueError("business_hours under a priority is on or off (the hours themselves are the policy's)")

    def rule(self) -> PriorityRule:
        # Only what is written overrides: an absent timer keeps the policy's.
        timers = {name: getattr(self, name) for name in TIMER_FIELDS if name in self.model_fields_set}
        return PriorityRule(timers=timers, business_hours=self.business_hours, mention_lead=self.mention_lead)


def priority_rules(config: dict[Priority, Any] | None) -> dict[Priority, PriorityRule]:
    """From validated ``PriorityConfig``s, or their dumps with only what was written."""
    return {
        Priority(level): (spec if isinstance(spec, PriorityConfig) else PriorityConfig.model_validate(spec)).rule()
        for level, spec in (config or {}).items()
    }


def describe_priorities(rules: dict[Priority, PriorityRule]) -> list[str]:
    """One line per priority with its own clock, for ``config check``."""
    from workflows.durations import format_duration

    lines = []
    for level in Priority:
        rule = rules.get(level)
        if rule is None:
            continue
        parts = [f"{name} {format_duration(value) if value else 'off'}" for name, value in rule.timers.items()]
        if not rule.business_hours:
            parts.append("round the clock")
        if rule.mention_lead:
            parts.append("nudge mentions the lead")
        lines.append(f"  priority {level.value}: {', '.join(parts) or 'as the policy'}")
    return lines
