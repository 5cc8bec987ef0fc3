"""A decision, and who may take it: shared by the transitions and the timer steps."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .commands import (
    BaseCommand,
)
from .effects import (
    Effect,
)
from .errors import Reason, Refused
from .model import (
    SYSTEM,
    Escalation,
    PersonRef,
    Status,
)


@dataclass
class Decision:
    escalation: Escalation
    effects: list[Effect] = field(default_factory=list)
    action: str | None = None  # what happened, for the audit trail; None: nothing changed
    detail: dict[str, Any] = field(default_factory=dict)
    # False when what changed does not show on the card (a reply that keeps the ball
    # where it was, a private reminder): no card update is sent then.
    card_changed: bool = True

    @property
    def changed(self) -> bool:
        return self.action is not None


# ---------------------------------------------------------------- permissions


def holds(esc: Escalation, person: PersonRef | None) -> bool:
    """Whether ``person`` is the owner, under any of the owner's identities."""
    if esc.owner is None or person is None:
        return False
    if esc.owner.person.same(person):
        return True
    expert = esc.community.expert_for(person)
    return expert is not None and expert.key == esc.owner.expert


def _may_manage(esc: Escalation, actor: PersonRef) -> bool:
    if actor == SYSTEM:
        return True
    if holds(esc, actor):
        return True
    if esc.requester.same(actor):
        return True
    return esc.community.is_expert(actor) or esc.community.is_lead(actor)


def require_manage(esc: Escalation, cmd: BaseCommand, doing: str) -> None:
    if not cmd.admin and not _may_manage(esc, cmd.actor):
        raise Refused(
            Reason.forbidden,
            f"Only the requester, the owner or the {esc.community.name} experts can {doing} this escalation.",
        )


def require_open(esc: Escalation, doing: str) -> None:
    if esc.status != Status.open:
        raise Refused(Reason.closed, f"This escalation is {esc.status.value}; it can't be {doing}.")
