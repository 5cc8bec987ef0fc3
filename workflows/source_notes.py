"""What the conversation a question was escalated from hears of it, in that message's thread.

Only questions escalated with an emoji report back (``Escalation.source_thread``): the person
reacted in a customer-facing conversation, and its people should see the outcome where it
started, without anyone copying it back by hand."""

from __future__ import annotations

from .effects import CardView, Notice, SourceNote
from .model import SYSTEM, Escalation, Status


def escalated_note(esc: Escalation, view: CardView) -> list[SourceNote]:
    """When the question's card is posted (at once, or after the requester looked at similar
    answers): say where it went."""
    return _note(esc, view, Notice.escalated, f"Escalated to {esc.community.name} experts.")


def outcome_note(before: Escalation, after: Escalation, view: CardView) -> list[SourceNote]:
    """When a posted question is closed or reopened: say so, with the answer if there is one."""
    if before.held or before.status == after.status:
        return []
    if after.status == Status.resolved:
        by = after.resolved_by
        if after.answer:
            who = f" by {by.label()}" if by is not None and by != SYSTEM else ""
            return _note(after, view, Notice.resolved, f"Answered{who}: {after.answer}")
        if by is None or by == SYSTEM:
            return _note(after, view, Notice.resolved, "Resolved: the answer is in the question's thread.")
        return _note(after, view, Notice.resolved, f"Resolved by {by.label()}: the answer is in the question's thread.")
    if after.status == Status.cancelled:
        return _note(after, view, Notice.cancelled, "The escalation was cancelled.")
    if after.status == Status.deflected:
        return _note(after, view, Notice.deflected, "Closed: an earlier answer solved it.")
    if after.status == Status.open:
        return _note(after, view, Notice.reopened, f"Reopened: back with the {after.community.name} experts.")
    return []


def _note(esc: Escalation, view: CardView, notice: Notice, text: str) -> list[SourceNote]:
    if esc.source is None or esc.source_thread is None:
        return []
    return [
        SourceNote(
            escalation_id=esc.id, source=esc.source, thread=esc.source_thread, notice=notice, text=text, view=view
        )
    ]
