"""Who holds an escalation: claim, assign, reassign, accept, decline, move on, and the rotation's choice."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .commands import (
    Accept,
    Assign,
    Claim,
    Decline,
    MoveOn,
    Reassign,
    Roster,
)
from .decision import Decision, holds, require_manage, require_open
from .effects import (
    Action,
    Effect,
    Notice,
    ThreadReply,
)
from .errors import Reason, Refused
from .model import (
    SYSTEM,
    Escalation,
    Owner,
    Ownership,
    PersonRef,
    Status,
)
from .rotation import (
    cannot_hold,
    choose_expert,
    contact,
    mentions,
    nobody_available,
    why_chosen,
)
from .views import notify

# ---------------------------------------------------------------- ownership


def _claim(esc: Escalation, cmd: Claim, now: datetime) -> Decision:
    require_open(esc, "claimed")
    actor = cmd.actor
    community = esc.community
    expert = community.expert_for(actor)
    if expert is None and not community.policy.anyone_can_claim:
        raise Refused(Reason.forbidden, f"Only {community.name} experts can claim this question.")
    if esc.owner is not None and holds(esc, actor):
        if esc.owner.kind == Ownership.assigned:
            return _accept(esc, Accept(id=cmd.id, escalation_id=esc.id, actor=actor), now)
        return Decision(esc)
    effects: list[Effect] = []
    if esc.owner and esc.owner.kind != Ownership.assigned:
        raise Refused(
            Reason.conflict,
            f"{esc.owner.person.label()} has already claimed this; ask them, or reassign it.",
        )
    if esc.owner:  # assigned but not yet accepted: a pull takes over
        effects.append(
            notify(
                esc,
                esc.owner.person,
                Notice.unassigned,
                f"{actor.label()} claimed the question assigned to you; nothing more is needed from you.",
            )
        )
    key = expert.key if expert else actor.key
    owner = Owner(expert=key, person=actor, kind=Ownership.claimed, since=now, by=actor)
    # Taking it on by choice lifts an earlier decline: the owner is never also excluded.
    excluded = tuple(k for k in esc.excluded if k != key)
    new = esc.model_copy(update={"owner": owner, "owner_reminded": False, "excluded": excluded})
    if not esc.requester.same(actor):
        effects.append(notify(new, esc.requester, Notice.claimed, f"{actor.label()} is looking at your question."))
    return Decision(new, effects, "claimed", {"owner": key})


def _assign(esc: Escalation, cmd: Assign, now: datetime) -> Decision:
    require_open(esc, "assigned")
    require_manage(esc, cmd, "assign")
    target = cmd.assignee
    if holds(esc, target):
        return Decision(esc)
    expert = esc.community.expert_for(target)
    key = expert.key if expert else target.key
    return give(esc, key, target, cmd.actor, now, action="assigned", reassign=esc.owner is not None)


def _reassign(esc: Escalation, cmd: Reassign, now: datetime) -> Decision:
    require_open(esc, "reassigned")
    require_manage(esc, cmd, "reassign")
    if cmd.to is not None:
        if holds(esc, cmd.to):
            return Decision(esc)
        expert = esc.community.expert_for(cmd.to)
        key = expert.key if expert else cmd.to.key
        return give(esc, key, cmd.to, cmd.actor, now, action="reassigned", reassign=True)
    roster = cmd.roster or Roster()
    chosen = choose_expert(esc, roster, now)
    if chosen is None:
        raise Refused(Reason.nobody_left, "There is nobody left in the rotation to reassign this to.")
    because = why_chosen(esc, roster, chosen, now)
    to = contact(esc, chosen)
    return give(esc, chosen.key, to, cmd.actor, now, action="reassigned", reassign=True, because=because)


def give(
    esc: Escalation,
    key: str,
    person: PersonRef,
    by: PersonRef,
    now: datetime,
    *,
    action: str,
    reassign: bool,
    because: str | None = None,
    exclude_previous: bool = True,
) -> Decision:
    """Hand the escalation to someone who must still accept it. ``because``: why it goes
    there, told to everyone concerned. ``exclude_previous`` False: it was not the previous
    owner's choice (they left, or are away), so they may be chosen again later."""
    effects: list[Effect] = []
    excluded = esc.excluded
    previous = esc.owner
    if previous is not None:
        if previous.expert not in excluded and exclude_previous:
            excluded = (*excluded, previous.expert)
        if not previous.person.same(by):
            why = (
                f"The question you held moved to {person.label()}: {because}."
                if because and not exclude_previous
                else f"There was no update in time, so the bot moved the question you held to {person.label()}."
                if by == SYSTEM
                else f"{by.label()} moved the question you held to {person.label()}."
            )
            effects.append(notify(esc, previous.person, Notice.unassigned, why))
    # Rotation never picks an excluded expert; a person naming one explicitly lifts the exclusion.
    excluded = tuple(k for k in excluded if k != key)
    owner = Owner(expert=key, person=person, kind=Ownership.assigned, since=now, by=by, because=because)
    new = esc.model_copy(
        update={
            "owner": owner,
            "excluded": excluded,
            "owner_reminded": False,
            "assignments": esc.assignments + 1,
            "reassignments": esc.reassignments + (1 if reassign else 0),
            "first_push_at": esc.first_push_at or now,
        }
    )
    who = "The bot" if by == SYSTEM else by.label()  # it starts the sentence
    effects.append(
        notify(
            new,
            person,
            Notice.assigned,
            f"{who} assigned you a question from {esc.requester.label()} in {esc.community.name}. "
            + (f"It comes to you because {because}. " if because else "")
            + "Accept it, reassign it to someone better placed, or decline.",
            (Action.accept, Action.reassign, Action.decline),
        )
    )
    if not esc.requester.same(person) and not esc.requester.same(by):
        effects.append(
            notify(
                new,
                esc.requester,
                Notice.reassigned if previous else Notice.assigned,
                f"Your question is now assigned to {person.label()}" + (f", because {because}." if because else "."),
            )
        )
    detail: dict[str, Any] = {"owner": key, "by": by.key}
    if previous:
        detail["previous"] = previous.expert
    if because:
        detail["because"] = because
    return Decision(new, effects, action, detail)


def _accept(esc: Escalation, cmd: Accept, now: datetime) -> Decision:
    require_open(esc, "accepted")
    owner = esc.owner
    if owner is None or not holds(esc, cmd.actor):
        holder = f"assigned to {owner.person.label()}" if owner else "not assigned to anyone"
        raise Refused(Reason.forbidden, f"This question is {holder}, so you can't accept it.")
    if owner.kind != Ownership.assigned:
        return Decision(esc)
    new = esc.model_copy(
        update={"owner": owner.model_copy(update={"kind": Ownership.accepted, "since": now}), "owner_reminded": False}
    )
    effects: list[Effect] = []
    if not esc.requester.same(cmd.actor):
        effects.append(notify(new, esc.requester, Notice.accepted, f"{cmd.actor.label()} is working on your question."))
    return Decision(new, effects, "accepted", {"owner": owner.expert})


def _decline(esc: Escalation, cmd: Decline, now: datetime) -> Decision:
    require_open(esc, "declined")
    owner = esc.owner
    if owner is None or not holds(esc, cmd.actor):
        raise Refused(Reason.forbidden, "Only the person holding this question can decline it.")
    excluded = esc.excluded if owner.expert in esc.excluded else (*esc.excluded, owner.expert)
    released = esc.model_copy(update={"owner": None, "excluded": excluded, "owner_reminded": False})
    detail: dict[str, Any] = {"declined_by": owner.expert}
    if cmd.reason:
        detail["reason"] = cmd.reason
    roster = cmd.roster or Roster()
    chosen = choose_expert(released, roster, now)
    if chosen is None:
        return unowned(released, now, "declined", detail, f"{cmd.actor.label()} declined", roster)
    because = why_chosen(released, roster, chosen, now)
    to = contact(esc, chosen)
    decision = give(released, chosen.key, to, SYSTEM, now, action="declined", reassign=True, because=because)
    decision.detail.update(detail)
    return decision


def _move_on(esc: Escalation, cmd: MoveOn, now: datetime) -> Decision:
    """An assigned owner who can no longer hold the question (left the roster, went away): it moves
    on at once. Claimed and accepted questions stay (their owner took them on and may still
    answer) unless ``cmd.taken``: they went away without saying they keep them."""
    owner = esc.owner
    if esc.status != Status.open or owner is None or (owner.kind != Ownership.assigned and not cmd.taken):
        return Decision(esc)
    roster = cmd.roster or Roster()
    reason = cannot_hold(esc, owner.expert, roster)
    if reason is None:
        return Decision(esc)
    because = f"{owner.person.label()} {reason}"
    chosen = choose_expert(esc, roster, now)
    if chosen is not None:
        nobody = nobody_available(esc, roster)
        because = f"{because}, and {nobody}" if nobody else because
        to = contact(esc, chosen)
        return give(
            esc, chosen.key, to, SYSTEM, now, action="moved_on", reassign=True, because=because, exclude_previous=False
        )
    released = esc.model_copy(update={"owner": None, "owner_reminded": False})
    decision = unowned(released, now, "moved_on", {"previous": owner.expert, "because": because}, because, roster)
    decision.effects.append(
        notify(released, owner.person, Notice.unassigned, f"The question you held is no longer yours: {because}.")
    )
    if "nobody_available" not in decision.detail:
        decision.effects.append(
            notify(released, esc.requester, Notice.unowned, f"Your question is unassigned again: {because}.")
        )
    return decision


def unowned(
    esc: Escalation, now: datetime, action: str, detail: dict[str, Any], what: str, roster: Roster | None = None
) -> Decision:
    """Nobody can be given the question: say so in the channel, and stop pushing."""
    new = esc.model_copy(update={"experts_since": now, "nudges": 1})
    nobody = nobody_available(esc, roster) if roster is not None else None
    effects: list[Effect] = [
        ThreadReply(
            escalation_id=esc.id,
            channel=ch,
            notice=Notice.unowned,
            text=f"{what} and {nobody or 'nobody is left in the rotation'}: this question needs someone to claim it.",
            mentions=mentions(esc, ch.platform, include_lead=True, roster=roster),
        )
        for ch in esc.community.channels
    ]
    if nobody:
        effects.append(
            notify(
                new,
                esc.requester,
                Notice.unowned,
                f"Nobody can take your question now: {nobody}. It stays open for anyone to claim.",
            )
        )
        detail = {**detail, "nobody_available": nobody}
    detail = {**detail, "unowned": True}
    return Decision(new, effects, action, detail)


HANDLERS: dict[type, Any] = {
    Claim: _claim,
    Assign: _assign,
    Reassign: _reassign,
    Accept: _accept,
    Decline: _decline,
    MoveOn: _move_on,
}
