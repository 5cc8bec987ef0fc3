"""``decide(escalation, command, now)``: every business rule, as a pure function."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .commands import (
    BaseCommand,
    Command,
    Open,
)
from .decision import Decision
from .effects import (
    PostCard,
    UpdateCard,
)
from .errors import Reason, Refused
from .model import (
    SYSTEM,
    Escalation,
    Ownership,
)
from .ownership import HANDLERS as OWNERSHIP
from .rotation import (
    expertise_detail,
    skipped_away,
    skipped_out_of_hours,
)
from .source_notes import outcome_note
from .timer_steps import HANDLERS as TIMERS
from .timers import reschedule
from .transitions import HANDLERS as TRANSITIONS
from .transitions import open_escalation
from .views import card_view, refresh_view, status_line

APPLIED_MEMORY = 64


def decide(escalation: Escalation | None, command: Command | BaseCommand, now: datetime) -> Decision:
    if now.tzinfo is None:
        raise ValueError("decide() needs an aware UTC time")
    if isinstance(command, Open):
        if escalation is not None:
            if command.id in escalation.applied:
                return Decision(escalation)
            raise Refused(Reason.conflict, "This escalation already exists.")
        return open_escalation(command, now)
    if escalation is None:
        raise Refused(Reason.not_found, "That escalation does not exist (any more).")
    if command.id in escalation.applied:
        return Decision(escalation)
    handler = _HANDLERS.get(type(command))
    if handler is None:
        raise Refused(Reason.invalid, f"Unknown command {type(command).__name__}.")
    decision = handler(escalation, command, now)
    if not decision.changed:
        return decision
    if command.roster is not None and command.roster.away and decision.escalation.owner != escalation.owner:
        # The choice explained: who the rotation passed over because they are away.
        skipped = skipped_away(escalation, command.roster)
        if skipped:
            decision.detail["away"] = skipped
    owner = decision.escalation.owner
    if owner is not None and owner != escalation.owner and owner.kind == Ownership.assigned:
        evidence = expertise_detail(escalation, owner.expert, now)
        if evidence:
            decision.detail["expertise"] = evidence
        if command.roster is not None:
            # For the report: whether this interrupted them outside their hours, as known now
            # (their own, their platform's zone, or the community's).
            decision.detail["owner_out_of_hours"] = owner.expert in command.roster.out_of_hours
        if command.roster is not None and command.roster.out_of_hours and owner.by == SYSTEM:
            # Follow the sun, explained: who was passed over as outside their working hours.
            avoided = skipped_out_of_hours(escalation, command.roster, owner.expert)
            if avoided:
                decision.detail["out_of_hours"] = avoided
    esc = reschedule(decision.escalation)
    esc = esc.model_copy(
        update={
            "version": escalation.version + 1,
            "updated_at": now,
            "applied": (*escalation.applied, command.id)[-APPLIED_MEMORY:],
        }
    )
    effects = [refresh_view(effect, esc) for effect in decision.effects]
    effects += outcome_note(escalation, esc, card_view(esc))
    # Every visible change shows on the card in each channel, in place.
    if decision.card_changed and not any(isinstance(e, (UpdateCard, PostCard)) for e in effects):
        effects = [
            UpdateCard(escalation_id=esc.id, channel=ch, view=card_view(esc)) for ch in esc.community.channels
        ] + effects
    return Decision(esc, effects, decision.action, decision.detail)


_HANDLERS: dict[type, Any] = {**TRANSITIONS, **OWNERSHIP, **TIMERS}

__all__ = ["Decision", "card_view", "decide", "status_line"]
