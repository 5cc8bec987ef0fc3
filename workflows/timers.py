"""When an escalation's next timer step falls due, from its own state (pure)."""

from __future__ import annotations

from datetime import datetime, timedelta

from .calendar import add_time
from .model import Ball, Escalation, Status, Step
from .rotation import candidates


def schedule(esc: Escalation) -> tuple[Step, datetime] | None:
    """The next timer step and when it is due, from the escalation's own state."""
    if esc.status != Status.open:
        return None
    # The priority picks the clock, so changing it moves the timers still to come.
    timers = esc.policy.timers_for(esc.priority)
    hours = esc.policy.hours_for(esc.priority)
    due: list[tuple[datetime, int, Step]] = []
    if esc.held:
        wait = esc.policy.deflection_wait or timedelta(0)
        return Step.release, esc.created_at + wait

    def at(order: int, step: Step, since: datetime, after: timedelta | None) -> None:
        if after is not None:
            due.append((add_time(hours, since, after), order, step))

    if esc.ball == Ball.experts:
        if esc.owner is None:
            if esc.nudges == 0:
                at(0, Step.nudge, esc.experts_since, timers.nudge_after)
            if candidates(esc):
                at(1, Step.assign, esc.experts_since, timers.assign_after)
        else:
            if not esc.owner_reminded:
                at(2, Step.owner_reminder, esc.owner.since, timers.owner_reminder_after)
            if candidates(esc):
                at(3, Step.reassign, esc.owner.since, timers.reassign_after)
    else:
        since = esc.requester_since or esc.updated_at
        if not esc.requester_reminded:
            at(4, Step.requester_reminder, since, timers.requester_reminder_after)
        at(5, Step.auto_close, since, timers.auto_close_after)
    if not due:
        return None
    when, _, step = min(due)
    return step, when


def reschedule(esc: Escalation) -> Escalation:
    nxt = schedule(esc)
    step, due = nxt if nxt else (None, None)
    if esc.next_step == step and esc.next_due_at == due:
        return esc
    return esc.model_copy(update={"next_step": step, "next_due_at": due})
