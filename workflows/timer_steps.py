"""What a due timer does (nudge, assign, remind, reassign, close) and what a failed delivery does."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .calendar import elapsed_time
from .commands import (
    DeliveryFailed,
    Roster,
    Tick,
)
from .decision import Decision
from .durations import humanize
from .effects import (
    Action,
    Effect,
    Notice,
    ThreadReply,
)
from .model import (
    SYSTEM,
    Escalation,
    Ownership,
    Status,
    Step,
)
from .ownership import give, unowned
from .rotation import (
    choose_expert,
    contact,
    mentions,
    why_chosen,
)
from .transitions import release
from .views import notify

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
        return unowned(esc, now, "assign_failed", {}, "Nobody answered", roster)
    because = why_chosen(esc, roster, chosen, now)
    to = contact(esc, chosen)
    return give(esc, chosen.key, to, SYSTEM, now, action="auto_assigned", reassign=False, because=because)


def _step_owner_reminder(esc: Escalation, cmd: Tick, now: datetime) -> Decision:
    assert esc.owner is not None
    new = esc.model_copy(update={"owner_reminded": True})
    waited = humanize(elapsed_time(esc.policy.hours_for(esc.priority), esc.owner.since, now))
    actions = (Action.accept, Action.reassign, Action.decline) if esc.owner.kind == Ownership.assigned else ()
    effect = notify(
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
    return give(esc, chosen.key, to, SYSTEM, now, action="auto_reassigned", reassign=True, because=because)


def _step_requester_reminder(esc: Escalation, cmd: Tick, now: datetime) -> Decision:
    new = esc.model_copy(update={"requester_reminded": True})
    effect = notify(
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
    effect = notify(
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
        told = notify(esc, esc.requester, Notice.delivery_failed, f"{said} The community's lead has been told.")
        effects.append(told.model_copy(update={"about": cmd.outbox_key}))
    lead = esc.community.lead
    if lead is not None:
        lead_ref = contact(esc, lead)
        if cmd.person is None or not lead_ref.same(cmd.person):
            told = notify(
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
    Step.release: release,
}


HANDLERS: dict[type, Any] = {
    Tick: _tick,
    DeliveryFailed: _delivery_failed,
}
