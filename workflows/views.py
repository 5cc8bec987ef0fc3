"""What the card and a notice show of an escalation, as the core sees it (no platform's format)."""

from __future__ import annotations

from .effects import (
    Action,
    Answerer,
    CardView,
    Effect,
    Notice,
    Notify,
    PostCard,
    SourceNote,
    UpdateCard,
)
from .expertise import title
from .local_time import community_zone
from .model import (
    Attachment,
    Ball,
    Escalation,
    Ownership,
    PersonRef,
    Status,
)
from .rotation import (
    likely_experts,
)

# ---------------------------------------------------------------- views


def notify(
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


def refresh_view(effect: Effect, esc: Escalation) -> Effect:
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
