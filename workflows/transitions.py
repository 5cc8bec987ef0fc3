"""What people's commands do to an escalation: open, deflection, replies, resolve, reopen, cancel, priority."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .attachments import files_line, kept, said
from .commands import (
    Cancel,
    ChangePriority,
    Deflect,
    Open,
    Release,
    Reopen,
    Reply,
    Resolve,
    Tick,
)
from .decision import Decision, holds, require_manage, require_open
from .durations import humanize
from .effects import (
    Action,
    Effect,
    Notice,
    Notify,
    PostCard,
)
from .errors import Reason, Refused
from .expertise import MAX_PRECEDENTS, title
from .model import (
    Ball,
    Escalation,
    Status,
)
from .source_notes import escalated_note
from .timers import reschedule
from .views import card_view, notify

# ---------------------------------------------------------------- open


def open_escalation(cmd: Open, now: datetime) -> Decision:
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
        shown = notify(
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


def release(esc: Escalation, cmd: Release | Tick, now: datetime) -> Decision:
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
    require_open(esc, "closed as answered")
    if esc.first_response_at is not None:
        raise Refused(Reason.conflict, "An expert has already replied to this one; resolve it instead.")
    new = esc.model_copy(
        update={"status": Status.deflected, "resolved_at": now, "resolved_by": cmd.actor, "closed_reason": "deflected"}
    )
    effects: list[Effect] = [
        notify(new, cmd.actor, Notice.deflected, "Glad an earlier answer helped. Nothing was sent to the experts.")
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
            effects.append(notify(esc, esc.requester, Notice.first_response, text, (Action.resolve,), files))
        elif _requester_cannot_see_thread(esc) and (cmd.text or files):
            text = said(actor.label() if cmd.text else f"{actor.label()} replied", cmd.text, files)
            effects.append(notify(esc, esc.requester, Notice.reply, text, (Action.resolve,), files))
        if files:
            update["files"] = kept(esc.files, files)
        if esc.ball == Ball.experts:
            status_changed = True
            update.update(ball=Ball.requester, requester_since=now, requester_reminded=False)
        elif esc.requester_since is not None:
            update.update(requester_since=now)  # the conversation is alive: restart the reminder
        if esc.owner is not None and holds(esc, actor):
            update.update(owner=esc.owner.model_copy(update={"since": now}), owner_reminded=False)
    new = esc.model_copy(update=update)
    return Decision(new, effects, "replied", detail, card_changed=status_changed)


def _requester_cannot_see_thread(esc: Escalation) -> bool:
    return all(ch.platform != esc.requester.platform for ch in esc.community.channels)


# ---------------------------------------------------------------- closing


def _resolve(esc: Escalation, cmd: Resolve, now: datetime) -> Decision:
    require_open(esc, "resolved")
    require_manage(esc, cmd, "resolve")
    if cmd.via_reaction and not (esc.requester.same(cmd.actor) or holds(esc, cmd.actor)):
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
        effects.append(notify(new, esc.requester, Notice.resolved, text, (Action.reopen,), esc.files))
    return Decision(new, effects, "resolved", {"answer": bool(answer)})


def _reopen(esc: Escalation, cmd: Reopen, now: datetime) -> Decision:
    if esc.status == Status.open:
        raise Refused(Reason.conflict, "This escalation is already open.")
    require_manage(esc, cmd, "reopen")
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
    if owner and not holds(esc, cmd.actor):
        effects.append(notify(new, owner.person, Notice.reopened, f"{cmd.actor.label()} reopened a question you held."))
    if not esc.requester.same(cmd.actor):
        effects.append(notify(new, esc.requester, Notice.reopened, f"{cmd.actor.label()} reopened your question."))
    return Decision(new, effects, "reopened", {"reason": cmd.reason} if cmd.reason else {})


def _cancel(esc: Escalation, cmd: Cancel, now: datetime) -> Decision:
    require_open(esc, "cancelled")
    require_manage(esc, cmd, "cancel")
    new = esc.model_copy(update={"status": Status.cancelled, "closed_reason": cmd.reason or "cancelled"})
    effects: list[Effect] = []
    for person in (esc.owner.person if esc.owner else None, esc.requester):
        if person is not None and not person.same(cmd.actor):
            effects.append(notify(new, person, Notice.cancelled, f"{cmd.actor.label()} cancelled the question."))
    return Decision(new, effects, "cancelled", {"reason": cmd.reason} if cmd.reason else {})


def _change_priority(esc: Escalation, cmd: ChangePriority, now: datetime) -> Decision:
    require_open(esc, "reprioritised")
    require_manage(esc, cmd, "change the priority of")
    if cmd.priority == esc.priority:
        return Decision(esc)
    # decide() reschedules after every change: the new priority's clock applies from here.
    new = esc.model_copy(update={"priority": cmd.priority})
    return Decision(new, [], "priority_changed", {"from": esc.priority.value, "to": cmd.priority.value})


HANDLERS: dict[type, Any] = {
    Reply: _reply,
    Resolve: _resolve,
    Reopen: _reopen,
    Cancel: _cancel,
    ChangePriority: _change_priority,
    Deflect: _deflect,
    Release: release,
}
