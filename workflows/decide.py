"""``decide(escalation, command, now)``: every business rule, as a pure function."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .attachments import files_line, kept, said
from .calendar import elapsed_time
from .commands import (
    Accept,
    Assign,
    BaseCommand,
    Cancel,
    ChangePriority,
    Claim,
    Command,
    Decline,
    Deflect,
    DeliveryFailed,
    MoveOn,
    Open,
    Reassign,
    Release,
    Reopen,
    Reply,
    Resolve,
    Roster,
    Tick,
)
from .durations import humanize
from .effects import (
    Action,
    Answerer,
    CardView,
    Effect,
    Notice,
    Notify,
    PostCard,
    SourceNote,
    ThreadReply,
    UpdateCard,
)
from .errors import Reason, Refused
from .expertise import MAX_PRECEDENTS, title
from .local_time import community_zone
from .model import (
    SYSTEM,
    Attachment,
    Ball,
    Escalation,
    Owner,
    Ownership,
    PersonRef,
    Status,
    Step,
)
from .rotation import (
    cannot_hold,
    choose_expert,
    contact,
    expertise_detail,
    likely_experts,
    mentions,
    nobody_available,
    skipped_away,
    skipped_out_of_hours,
    why_chosen,
)
from .source_notes import escalated_note, outcome_note
from .timers import reschedule

APPLIED_MEMORY = 64


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


def decide(escalation: Escalation | None, command: Command | BaseCommand, now: datetime) -> Decision:
    if now.tzinfo is None:
        raise ValueError("decide() needs an aware UTC time")
    if isinstance(command, Open):
        if escalation is not None:
            if command.id in escalation.applied:
                return Decision(escalation)
            raise Refused(Reason.conflict, "This escalation already exists.")
        return _open(command, now)
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
    effects = [_refresh_view(effect, esc) for effect in decision.effects]
    effects += outcome_note(escalation, esc, card_view(esc))
    # Every visible change shows on the card in each channel, in place.
    if decision.card_changed and not any(isinstance(e, (UpdateCard, PostCard)) for e in effects):
        effects = [
            UpdateCard(escalation_id=esc.id, channel=ch, view=card_view(esc)) for ch in esc.community.channels
        ] + effects
    return Decision(esc, effects, decision.action, decision.detail)


# ---------------------------------------------------------------- permissions


def _holds(esc: Escalation, person: PersonRef | None) -> bool:
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
    if _holds(esc, actor):
        return True
    if esc.requester.same(actor):
        return True
    return esc.community.is_expert(actor) or esc.community.is_lead(actor)


def _require_manage(esc: Escalation, cmd: BaseCommand, doing: str) -> None:
    if not cmd.admin and not _may_manage(esc, cmd.actor):
        raise Refused(
            Reason.forbidden,
            f"Only the requester, the owner or the {esc.community.name} experts can {doing} this escalation.",
        )


def _require_open(esc: Escalation, doing: str) -> None:
    if esc.status != Status.open:
        raise Refused(Reason.closed, f"This escalation is {esc.status.value}; it can't be {doing}.")


# ---------------------------------------------------------------- open


def _open(cmd: Open, now: datetime) -> Decision:
    community = cmd.community
    if community is None or community.key != cmd.community_key:
        raise Refused(Reason.unknown_community, f"There is no community called {cmd.community_key!r}.")
    if not community.channels:
        raise Refused(Reason.invalid, f"The {community.name} community has no channel to post in.")
    question = cmd.question.strip()
    if not question:
        raise Refused(Reason.invalid, "The question is empty: say what you need help with.")
    esc = Escalation(
        id=cmd.escalation_id,
        tenant=cmd.tenant,
        community=community,
        requester=cmd.actor,
        question=question,
        priority=cmd.priority,
        customer=(cmd.customer or "").strip() or None,
        link=(cmd.link or "").strip() or None,
        source=cmd.source,
        source_thread=cmd.source_thread if cmd.source else None,
        created_at=now,
        updated_at=now,
        experts_since=now,
        applied=(cmd.id,),
        # Bounded: the escalation is read on every command; a title is all any view shows.
        precedents=tuple(p.model_copy(update={"question": title(p.question)}) for p in cmd.precedents[:MAX_PRECEDENTS]),
    )
    if cmd.suggestions and community.policy.deflection_wait:
        # Show what already answers similar questions first; the card waits a little.
        esc = reschedule(esc.model_copy(update={"held": True}))
        shown = _notify(
            esc,
            cmd.actor,
            Notice.suggestions,
            "Before this goes to the experts: these answered questions look similar. "
            "If one answers yours, say so; otherwise it is escalated "
            f"in {humanize(community.policy.deflection_wait)} anyway.",
            (Action.deflect, Action.escalate),
        ).model_copy(update={"suggestions": cmd.suggestions})
        detail = {"community": community.key, "priority": cmd.priority.value, "suggestions": len(cmd.suggestions)}
        return Decision(esc, [shown], "opened", detail, card_changed=False)
    esc = reschedule(esc)
    return Decision(esc, _post_cards(esc), "opened", {"community": community.key, "priority": cmd.priority.value})


def _post_cards(esc: Escalation) -> list[Effect]:
    """The cards, then the requester's confirmation: it comes after them in the escalation's
    queue, so it can link to the card, and it is an effect like any other (delivered at least
    once, looked up before a retry), because the requester was promised it when they asked."""
    view = card_view(esc)
    cards: list[Effect] = [PostCard(escalation_id=esc.id, channel=ch, view=view) for ch in esc.community.channels]
    confirmation = Notify(
        escalation_id=esc.id,
        person=esc.requester,
        notice=Notice.posted,
        text=f"Your question is posted for the {esc.community.name} experts. "
        "I'll tell you here when someone picks it up.",
        view=view,
    )
    # After the cards: the note and the confirmation link to one, so they go once a card is posted.
    return [*cards, *escalated_note(esc, view), confirmation]


# ---------------------------------------------------------------- deflection


def _release(esc: Escalation, cmd: Release | Tick, now: datetime) -> Decision:
    """Post the held question to the experts; its timers start now."""
    if not esc.held or esc.status != Status.open:
        return Decision(esc)
    if isinstance(cmd, Release) and not esc.requester.same(cmd.actor):
        raise Refused(Reason.forbidden, "Only the person who asked can send this on to the experts.")
    new = reschedule(esc.model_copy(update={"held": False, "experts_since": now}))
    return Decision(new, _post_cards(new), "released", {"by": cmd.actor.key})


def _deflect(esc: Escalation, cmd: Deflect, now: datetime) -> Decision:
    if not esc.requester.same(cmd.actor):
        raise Refused(Reason.forbidden, "Only the person who asked can say an earlier answer solved it.")
    _require_open(esc, "closed as answered")
    if esc.first_response_at is not None:
        raise Refused(Reason.conflict, "An expert has already replied to this one; resolve it instead.")
    new = esc.model_copy(
        update={"status": Status.deflected, "resolved_at": now, "resolved_by": cmd.actor, "closed_reason": "deflected"}
    )
    effects: list[Effect] = [
        _notify(new, cmd.actor, Notice.deflected, "Glad an earlier answer helped. Nothing was sent to the experts.")
    ]
    if not esc.held:
        effects = []  # the card says it on its own update
    return Decision(new, effects, "deflected", {"held": esc.held}, card_changed=not esc.held)


# ---------------------------------------------------------------- replies


def _reply(esc: Escalation, cmd: Reply, now: datetime) -> Decision:
    if esc.status != Status.open:
        return Decision(esc)  # talk in a closed thread is just talk
    actor = cmd.actor
    update: dict[str, Any] = {"replies": esc.replies + 1, "last_reply_at": now}
    effects: list[Effect] = []
    detail: dict[str, Any] = {"files": len(cmd.attachments)} if cmd.attachments else {}
    status_changed = False
    files = cmd.attachments
    if esc.requester.same(actor):
        if esc.ball == Ball.requester:
            status_changed = True
            update.update(ball=Ball.experts, experts_since=now, nudges=0, requester_since=None)
            if esc.owner:
                update.update(owner=esc.owner.model_copy(update={"since": now}), owner_reminded=False)
        detail["side"] = "requester"
    else:
        detail["side"] = "experts"
        if esc.first_response_at is None:
            pull = esc.first_push_at is None
            update.update(first_response_at=now, first_responder=actor, first_response_pull=pull)
            detail["first_response"] = True
            detail["pull"] = pull
            status_changed = True
            text = said(f"{actor.label()} replied to your question", cmd.text, files)
            effects.append(_notify(esc, esc.requester, Notice.first_response, text, (Action.resolve,), files))
        elif _requester_cannot_see_thread(esc) and (cmd.text or files):
            text = said(actor.label() if cmd.text else f"{actor.label()} replied", cmd.text, files)
            effects.append(_notify(esc, esc.requester, Notice.reply, text, (Action.resolve,), files))
        if files:
            update["files"] = kept(esc.files, files)
        if esc.ball == Ball.experts:
            status_changed = True
            update.update(ball=Ball.requester, requester_since=now, requester_reminded=False)
        elif esc.requester_since is not None:
            update.update(requester_since=now)  # the conversation is alive: restart the reminder
        if esc.owner is not None and _holds(esc, actor):
            update.update(owner=esc.owner.model_copy(update={"since": now}), owner_reminded=False)
    new = esc.model_copy(update=update)
    return Decision(new, effects, "replied", detail, card_changed=status_changed)


def _requester_cannot_see_thread(esc: Escalation) -> bool:
    return all(ch.platform != esc.requester.platform for ch in esc.community.channels)


# ---------------------------------------------------------------- ownership


def _claim(esc: Escalation, cmd: Claim, now: datetime) -> Decision:
    _require_open(esc, "claimed")
    actor = cmd.actor
    community = esc.community
    expert = community.expert_for(actor)
    if expert is None and not community.policy.anyone_can_claim:
        raise Refused(Reason.forbidden, f"Only {community.name} experts can claim this question.")
    if esc.owner is not None and _holds(esc, actor):
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
            _notify(
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
        effects.append(_notify(new, esc.requester, Notice.claimed, f"{actor.label()} is looking at your question."))
    return Decision(new, effects, "claimed", {"owner": key})


def _assign(esc: Escalation, cmd: Assign, now: datetime) -> Decision:
    _require_open(esc, "assigned")
    _require_manage(esc, cmd, "assign")
    target = cmd.assignee
    if _holds(esc, target):
        return Decision(esc)
    expert = esc.community.expert_for(target)
    key = expert.key if expert else target.key
    return _give(esc, key, target, cmd.actor, now, action="assigned", reassign=esc.owner is not None)


def _reassign(esc: Escalation, cmd: Reassign, now: datetime) -> Decision:
    _require_open(esc, "reassigned")
    _require_manage(esc, cmd, "reassign")
    if cmd.to is not None:
        if _holds(esc, cmd.to):
            return Decision(esc)
        expert = esc.community.expert_for(cmd.to)
        key = expert.key if expert else cmd.to.key
        return _give(esc, key, cmd.to, cmd.actor, now, action="reassigned", reassign=True)
    roster = cmd.roster or Roster()
    chosen = choose_expert(esc, roster, now)
    if chosen is None:
        raise Refused(Reason.nobody_left, "There is nobody left in the rotation to reassign this to.")
    because = why_chosen(esc, roster, chosen, now)
    to = contact(esc, chosen)
    return _give(esc, chosen.key, to, cmd.actor, now, action="reassigned", reassign=True, because=because)


def _give(
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
            effects.append(_notify(esc, previous.person, Notice.unassigned, why))
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
        _notify(
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
            _notify(
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
    _require_open(esc, "accepted")
    owner = esc.owner
    if owner is None or not _holds(esc, cmd.actor):
        holder = f"assigned to {owner.person.label()}" if owner else "not assigned to anyone"
        raise Refused(Reason.forbidden, f"This question is {holder}, so you can't accept it.")
    if owner.kind != Ownership.assigned:
        return Decision(esc)
    new = esc.model_copy(
        update={"owner": owner.model_copy(update={"kind": Ownership.accepted, "since": now}), "owner_reminded": False}
    )
    effects: list[Effect] = []
    if not esc.requester.same(cmd.actor):
        effects.append(
            _notify(new, esc.requester, Notice.accepted, f"{cmd.actor.label()} is working on your question.")
        )
    return Decision(new, effects, "accepted", {"owner": owner.expert})


def _decline(esc: Escalation, cmd: Decline, now: datetime) -> Decision:
    _require_open(esc, "declined")
    owner = esc.owner
    if owner is None or not _holds(esc, cmd.actor):
        raise Refused(Reason.forbidden, "Only the person holding this question can decline it.")
    excluded = esc.excluded if owner.expert in esc.excluded else (*esc.excluded, owner.expert)
    released = esc.model_copy(update={"owner": None, "excluded": excluded, "owner_reminded": False})
    detail: dict[str, Any] = {"declined_by": owner.expert}
    if cmd.reason:
        detail["reason"] = cmd.reason
    roster = cmd.roster or Roster()
    chosen = choose_expert(released, roster, now)
    if chosen is None:
        return _unowned(released, now, "declined", detail, f"{cmd.actor.label()} declined", roster)
    because = why_chosen(released, roster, chosen, now)
    to = contact(esc, chosen)
    decision = _give(released, chosen.key, to, SYSTEM, now, action="declined", reassign=True, because=because)
    decision.detail.update(detail)
    return decision


def _move_on(esc: Escalation, cmd: MoveOn, now: datetime) -> Decision:
    """An assigned owner who can no longer hold the question (left the roster): it moves on at once.
    Claimed and accepted questions stay: their owner took them on and may still answer."""
    owner = esc.owner
    if esc.status != Status.open or owner is None or owner.kind != Ownership.assigned:
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
        return _give(
            esc, chosen.key, to, SYSTEM, now, action="moved_on", reassign=True, because=because, exclude_previous=False
        )
    released = esc.model_copy(update={"owner": None, "owner_reminded": False})
    decision = _unowned(released, now, "moved_on", {"previous": owner.expert, "because": because}, because, roster)
    decision.effects.append(
        _notify(released, owner.person, Notice.unassigned, f"The question you held is no longer yours: {because}.")
    )
    if "nobody_available" not in decision.detail:
        decision.effects.append(
            _notify(released, esc.requester, Notice.unowned, f"Your question is unassigned again: {because}.")
        )
    return decision


def _unowned(
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
            _notify(
                new,
                esc.requester,
                Notice.unowned,
                f"Nobody can take your question now: {nobody}. It stays open for anyone to claim.",
            )
        )
        detail = {**detail, "nobody_available": nobody}
    detail = {**detail, "unowned": True}
    return Decision(new, effects, action, detail)


# ---------------------------------------------------------------- closing


def _resolve(esc: Escalation, cmd: Resolve, now: datetime) -> Decision:
    _require_open(esc, "resolved")
    _require_manage(esc, cmd, "resolve")
    if cmd.via_reaction and not (esc.requester.same(cmd.actor) or _holds(esc, cmd.actor)):
        raise Refused(
            Reason.forbidden,
            "A resolve reaction counts only from the owner or the requester; use the Resolve button instead.",
        )
    answer = (cmd.answer or "").strip() or None
    new = esc.model_copy(
        update={
            "status": Status.resolved,
            "resolved_at": now,
            "resolved_by": cmd.actor,
            "answer": answer,
            "answer_ref": cmd.answer_ref,
            "closed_reason": "resolved",
        }
    )
    effects: list[Effect] = []
    if not esc.requester.same(cmd.actor):
        text = f"{cmd.actor.label()} resolved your question."
        if answer:
            text += f" Answer: {answer}"
        if esc.files:
            text += f"\n{files_line(esc.files)}"
        effects.append(_notify(new, esc.requester, Notice.resolved, text, (Action.reopen,), esc.files))
    return Decision(new, effects, "resolved", {"answer": bool(answer)})


def _reopen(esc: Escalation, cmd: Reopen, now: datetime) -> Decision:
    if esc.status == Status.open:
        raise Refused(Reason.conflict, "This escalation is already open.")
    _require_manage(esc, cmd, "reopen")
    owner = esc.owner.model_copy(update={"since": now}) if esc.owner else None
    new = esc.model_copy(
        update={
            "status": Status.open,
            "ball": Ball.experts,
            "experts_since": now,
            "requester_since": None,
            "nudges": 0,
            "owner": owner,
            "owner_reminded": False,
            "requester_reminded": False,
            "resolved_at": None,
            "resolved_by": None,
            "closed_reason": None,
            # The earlier answer did not hold; a new one is captured at the next resolve.
            "answer": None,
            "answer_ref": None,
        }
    )
    effects: list[Effect] = []
    if owner and not _holds(esc, cmd.actor):
        effects.append(
            _notify(new, owner.person, Notice.reopened, f"{cmd.actor.label()} reopened a question you held.")
        )
    if not esc.requester.same(cmd.actor):
        effects.append(_notify(new, esc.requester, Notice.reopened, f"{cmd.actor.label()} reopened your question."))
    return Decision(new, effects, "reopened", {"reason": cmd.reason} if cmd.reason else {})


def _cancel(esc: Escalation, cmd: Cancel, now: datetime) -> Decision:
    _require_open(esc, "cancelled")
    _require_manage(esc, cmd, "cancel")
    new = esc.model_copy(update={"status": Status.cancelled, "closed_reason": cmd.reason or "cancelled"})
    effects: list[Effect] = []
    for person in (esc.owner.person if esc.owner else None, esc.requester):
        if person is not None and not person.same(cmd.actor):
            effects.append(_notify(new, person, Notice.cancelled, f"{cmd.actor.label()} cancelled the question."))
    return Decision(new, effects, "cancelled", {"reason": cmd.reason} if cmd.reason else {})


def _change_priority(esc: Escalation, cmd: ChangePriority, now: datetime) -> Decision:
    _require_open(esc, "reprioritised")
    _require_manage(esc, cmd, "change the priority of")
    if cmd.priority == esc.priority:
        return Decision(esc)
    # decide() reschedules after every change: the new priority's clock applies from here.
    new = esc.model_copy(update={"priority": cmd.priority})
    return Decision(new, [], "priority_changed", {"from": esc.priority.value, "to": cmd.priority.value})


# ---------------------------------------------------------------- timers


def _tick(esc: Escalation, cmd: Tick, now: datetime) -> Decision:
    if esc.status != Status.open or esc.next_step != cmd.step or esc.next_due_at != cmd.due_at:
        return Decision(esc)  # already done, or no longer due: a repeated tick is harmless
    if now < cmd.due_at:
        return Decision(esc)
    late = now - cmd.due_at
    decision = _STEPS[cmd.step](esc, cmd, now)
    decision.detail.update(step=cmd.step.value, due_at=cmd.due_at.isoformat(), late_s=round(late.total_seconds(), 3))
    return decision


def _step_nudge(esc: Escalation, cmd: Tick, now: datetime) -> Decision:
    waited = humanize(elapsed_time(esc.policy.hours_for(esc.priority), esc.experts_since, now))
    new = esc.model_copy(update={"nudges": esc.nudges + 1, "first_push_at": esc.first_push_at or now})
    effects: list[Effect] = [
        ThreadReply(
            escalation_id=esc.id,
            channel=ch,
            notice=Notice.nudge,
            text=f"This question has waited {waited} without an answer. Can one of you take it?",
            mentions=mentions(esc, ch.platform, include_lead=esc.policy.mentions_lead(esc.priority), roster=cmd.roster),
        )
        for ch in esc.community.channels
    ]
    return Decision(new, effects, "nudged", {})


def _step_assign(esc: Escalation, cmd: Tick, now: datetime) -> Decision:
    roster = cmd.roster or Roster()
    chosen = choose_expert(esc, roster, now)
    if chosen is None:
        return _unowned(esc, now, "assign_failed", {}, "Nobody answered", roster)
    because = why_chosen(esc, roster, chosen, now)
    to = contact(esc, chosen)
    return _give(esc, chosen.key, to, SYSTEM, now, action="auto_assigned", reassign=False, because=because)


def _step_owner_reminder(esc: Escalation, cmd: Tick, now: datetime) -> Decision:
    assert esc.owner is not None
    new = esc.model_copy(update={"owner_reminded": True})
    waited = humanize(elapsed_time(esc.policy.hours_for(esc.priority), esc.owner.since, now))
    actions = (Action.accept, Action.reassign, Action.decline) if esc.owner.kind == Ownership.assigned else ()
    effect = _notify(
        new,
        esc.owner.person,
        Notice.owner_reminder,
        f"Reminder: you have held this question for {waited} without an update.",
        (*actions, Action.resolve),
    )
    return Decision(new, [effect], "owner_reminded", {"owner": esc.owner.expert}, card_changed=False)


def _step_reassign(esc: Escalation, cmd: Tick, now: datetime) -> Decision:
    roster = cmd.roster or Roster()
    chosen = choose_expert(esc, roster, now)
    if chosen is None:  # the roster emptied since this was scheduled: stop pushing
        return Decision(esc.model_copy(update={"owner_reminded": True}), [], "reassign_skipped", {}, card_changed=False)
    because = why_chosen(esc, roster, chosen, now)
    to = contact(esc, chosen)
    return _give(esc, chosen.key, to, SYSTEM, now, action="auto_reassigned", reassign=True, because=because)


def _step_requester_reminder(esc: Escalation, cmd: Tick, now: datetime) -> Decision:
    new = esc.model_copy(update={"requester_reminded": True})
    effect = _notify(
        new,
        esc.requester,
        Notice.requester_reminder,
        "Has your question been answered? Resolve it if so, or reply in the thread if you still need help.",
        (Action.resolve,),
    )
    return Decision(new, [effect], "requester_reminded", {}, card_changed=False)


def _step_auto_close(esc: Escalation, cmd: Tick, now: datetime) -> Decision:
    new = esc.model_copy(
        update={
            "status": Status.resolved,
            "resolved_at": now,
            "resolved_by": SYSTEM,
            "closed_reason": "auto_closed",
        }
    )
    effect = _notify(
        new,
        esc.requester,
        Notice.auto_closed,
        "Your question was closed because it was answered and there was no reply. Reopen it if you still need help.",
        (Action.reopen,),
    )
    return Decision(new, [effect], "auto_closed", {})


def _delivery_failed(esc: Escalation, cmd: DeliveryFailed, now: datetime) -> Decision:
    """Tell the people concerned by another route, and the lead; never loop on failures.

    People are told in plain words: the error itself (a code, a setting to fix) is for the
    admin, in the audit detail, the logs and ``outbox list``. Each notice carries the failed
    message's outbox key (``about``), so a notice still queued when an admin's ``outbox retry``
    has since delivered that message is dropped at delivery instead of reporting a fixed failure.
    """
    if cmd.notice == Notice.delivery_failed.value:
        return Decision(esc)  # a failure report that itself failed: logged and listed, not repeated
    effects: list[Effect] = []
    platform = {"slack": "Slack", "teams": "Teams"}.get(cmd.platform, cmd.platform)
    where = "privately" if cmd.person else f"in the {esc.community.name} channel on {platform}"
    if cmd.effect == "source_note":
        where = f"in the thread of the message it was escalated from, on {platform}"
    who = cmd.person.label() if cmd.person else None
    if cmd.person is not None:
        # A private message failed: say it in the thread, where the person may still see it.
        text = f"I could not reach {who} privately."
        if cmd.notice == Notice.assigned.value:
            text = f"I could not reach {who} privately to hand them this question; {who}, please look here."
        effects += [
            ThreadReply(
                escalation_id=esc.id,
                channel=ch,
                notice=Notice.delivery_failed,
                text=text,
                mentions=(cmd.person,) if cmd.person.platform == ch.platform else (),
                about=cmd.outbox_key,
            )
            for ch in esc.community.channels
            if not (cmd.platform == ch.platform.value and cmd.target == ch.id)
        ]
    elif not esc.requester.same(SYSTEM):
        said = f"Your question could not be posted {where}."
        if cmd.effect == "source_note":
            said = f"I could not post what became of your question {where}; the question itself is fine."
        told = _notify(esc, esc.requester, Notice.delivery_failed, f"{said} The community's lead has been told.")
        effects.append(told.model_copy(update={"about": cmd.outbox_key}))
    lead = esc.community.lead
    if lead is not None:
        lead_ref = contact(esc, lead)
        if cmd.person is None or not lead_ref.same(cmd.person):
            told = _notify(
                esc,
                lead_ref,
                Notice.delivery_failed,
                f"A message about a {esc.community.name} question could not be delivered {where}"
                + (f" to {who}" if who else "")
                + ". An admin can see why, and send it again, with `escalation-bot outbox`.",
            )
            effects.append(told.model_copy(update={"about": cmd.outbox_key}))
    detail: dict[str, Any] = {"effect": cmd.effect, "target": f"{cmd.platform}:{cmd.target}", "error": cmd.error}
    return Decision(esc, effects, "delivery_failed", detail, card_changed=False)


_STEPS = {
    Step.nudge: _step_nudge,
    Step.assign: _step_assign,
    Step.owner_reminder: _step_owner_reminder,
    Step.reassign: _step_reassign,
    Step.requester_reminder: _step_requester_reminder,
    Step.auto_close: _step_auto_close,
    Step.release: _release,
}

_HANDLERS: dict[type, Any] = {
    Reply: _reply,
    Claim: _claim,
    Assign: _assign,
    Reassign: _reassign,
    Accept: _accept,
    Decline: _decline,
    Resolve: _resolve,
    Reopen: _reopen,
    Cancel: _cancel,
    ChangePriority: _change_priority,
    MoveOn: _move_on,
    Tick: _tick,
    DeliveryFailed: _delivery_failed,
    Deflect: _deflect,
    Release: _release,
}

# ---------------------------------------------------------------- views


def _notify(
    esc: Escalation,
    person: PersonRef,
    notice: Notice,
    text: str,
    actions: tuple[Action, ...] = (),
    files: tuple[Attachment, ...] = (),
) -> Notify:
    return Notify(
        escalation_id=esc.id, person=person, notice=notice, text=text, view=card_view(esc), actions=actions, files=files
    )


def _refresh_view(effect: Effect, esc: Escalation) -> Effect:
    """Effects were built mid-decision; give them the final version of the card."""
    if isinstance(effect, (PostCard, UpdateCard, Notify, SourceNote)):
        return effect.model_copy(update={"view": card_view(esc)})
    return effect


def status_line(esc: Escalation) -> str:
    if esc.status == Status.resolved:
        if esc.closed_reason == "auto_closed":
            return "Resolved (closed automatically after no reply)"
        by = esc.resolved_by.label() if esc.resolved_by else "someone"
        return f"Resolved by {by}"
    if esc.status == Status.cancelled:
        return "Cancelled"
    if esc.status == Status.deflected:
        return "Answered by the knowledge base"
    if esc.held:
        return f"{esc.requester.label()} is checking similar answers first"
    if esc.ball == Ball.requester:
        return f"Waiting on {esc.requester.label()}"
    if esc.owner is None:
        return "Unclaimed"
    who = esc.owner.person.label()
    if esc.owner.kind == Ownership.claimed:
        return f"Claimed by {who}"
    if esc.owner.kind == Ownership.assigned:
        because = f", because {esc.owner.because}" if esc.owner.because else ""
        return f"Assigned to {who} (not yet accepted){because}"
    return f"{who} is on it"


def card_actions(esc: Escalation) -> tuple[Action, ...]:
    if esc.status != Status.open:
        return (Action.reopen,)
    return (Action.claim, Action.assign, Action.resolve, Action.reassign, Action.priority, Action.cancel)


def card_view(esc: Escalation) -> CardView:
    return CardView(
        escalation_id=esc.id,
        version=esc.version,
        tenant=esc.tenant,
        community_key=esc.community.key,
        community_name=esc.community.name,
        question=esc.question,
        requester=esc.requester,
        priority=esc.priority,
        customer=esc.customer,
        link=esc.link,
        source=esc.source,
        status=esc.status,
        ball=esc.ball,
        owner=esc.owner.person if esc.owner else None,
        ownership=esc.owner.kind if esc.owner else None,
        because=esc.owner.because if esc.owner and esc.owner.kind == Ownership.assigned else None,
        status_line=status_line(esc),
        created_at=esc.created_at,
        next_step=esc.next_step,
        next_due_at=esc.next_due_at,
        answer=esc.answer,
        answer_files=esc.files if esc.status == Status.resolved else (),
        resolved_by=esc.resolved_by,
        first_responder=esc.first_responder,
        experts=tuple(r for e in esc.community.experts for r in e.refs),
        likely=tuple(
            Answerer(
                name=s.expert.name or s.expert.refs[0].name,
                refs=s.expert.refs,
                answered=s.answered,
                latest_question=title(s.latest.question),
                latest_card=s.latest.card,
            )
            for s in likely_experts(esc, esc.updated_at)
        )
        if esc.status == Status.open
        else (),
        actions=card_actions(esc),
        time_zone=community_zone(esc.policy),
    )
