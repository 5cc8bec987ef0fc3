"""Priority changes the clock: per-priority timer overrides, round-the-clock urgent questions,
the lead mentioned in an urgent nudge, and a changed priority rescheduling what is still to come."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.unit.helpers import (
    ALICE,
    BOB,
    ESC_ID,
    LENA,
    POLICY,
    RITA,
    SAM,
    T0,
    cancel,
    cid,
    claim,
    community,
    fire,
    open_cmd,
    run,
)
from workflows.calendar import BusinessHours
from workflows.commands import ChangePriority
from workflows.decide import decide
from workflows.effects import ThreadReply, UpdateCard
from workflows.errors import Refused
from workflows.model import Escalation, PersonRef, Policy, Priority, PriorityRule, Step
from workflows.timers import schedule

M = timedelta(minutes=1)
H = timedelta(hours=1)
D = timedelta(days=1)
FRIDAY_4PM = datetime(2026, 1, 9, 16, 0, tzinfo=ZoneInfo("Europe/London"))
OFFICE = BusinessHours(days=("mon", "tue", "wed", "thu", "fri"), start="09:00", end="17:00", timezone="Europe/London")
RULES = {
    Priority.urgent: PriorityRule(
        timers={"nudge_after": 5 * M, "assign_after": 15 * M}, business_hours=False, mention_lead=True
    ),
    Priority.low: PriorityRule(timers={"nudge_after": None, "assign_after": D}),
}
POLICY_WITH_RULES = POLICY.model_copy(update={"priorities": RULES, "business_hours": OFFICE})


def opened_as(priority: Priority, *, at: datetime = T0, policy: Policy = POLICY_WITH_RULES) -> Escalation:
    return decide(None, open_cmd(community(policy=policy), priority=priority), at).escalation


def change(actor: PersonRef, priority: Priority) -> ChangePriority:
    return ChangePriority(id=cid(), escalation_id=ESC_ID, actor=actor, priority=priority)


# ---------------------------------------------------------------- the clock per priority

# Opened Friday 16:00 London: office hours end at 17:00 and start again Monday 09:00.
assert OFFICE.add(FRIDAY_4PM, D) > datetime(2026, 1, 14, tzinfo=ZoneInfo("Europe/London"))
MONDAY_9AM = datetime(2026, 1, 12, 9, 0, tzinfo=ZoneInfo("Europe/London"))


@pytest.mark.parametrize(
    ("priority", "expected"),
    [
        # The policy's own clock: 30m nudge inside office hours.
        (Priority.normal, (Step.nudge, FRIDAY_4PM + 30 * M)),
        (Priority.high, (Step.nudge, FRIDAY_4PM + 30 * M)),
        # Urgent: 5 minutes, round the clock.
        (Priority.urgent, (Step.nudge, FRIDAY_4PM + 5 * M)),
        # Low: no nudge; assigned after a day of office time (24 office hours), still in office hours.
        (Priority.low, (Step.assign, OFFICE.add(FRIDAY_4PM, D))),
    ],
)
def test_each_priority_has_its_own_first_step(priority: Priority, expected: tuple[Step, datetime]) -> None:
    assert schedule(opened_as(priority, at=FRIDAY_4PM)) == expected


def test_urgent_runs_round_the_clock_over_the_weekend() -> None:
    esc = fire(opened_as(Priority.urgent, at=FRIDAY_4PM + 55 * M)).escalation  # nudged at 17:00
    assert schedule(esc) == (Step.assign, FRIDAY_4PM + 70 * M)  # 17:10 Friday, outside office hours
    normal = fire(opened_as(Priority.normal, at=FRIDAY_4PM + 55 * M)).escalation
    step, due = schedule(normal) or (None, None)
    assert step == Step.assign and due is not None and due > MONDAY_9AM


def test_a_priority_without_rules_uses_the_policy() -> None:
    plain = POLICY.model_copy(update={"business_hours": OFFICE})
    for priority in Priority:
        assert schedule(opened_as(priority, at=FRIDAY_4PM, policy=plain)) == (Step.nudge, FRIDAY_4PM + 30 * M)


def test_an_override_changes_only_what_it_names() -> None:
    assert POLICY_WITH_RULES.timers_for(Priority.urgent).owner_reminder_after == POLICY.timers.owner_reminder_after
    assert POLICY_WITH_RULES.timers_for(Priority.low).nudge_after is None
    assert POLICY_WITH_RULES.hours_for(Priority.low) == OFFICE
    assert POLICY_WITH_RULES.hours_for(Priority.urgent) is None


@pytest.mark.parametrize(("priority", "lead_mentioned"), [(Priority.urgent, True), (Priority.normal, False)])
def test_the_urgent_nudge_mentions_the_lead(priority: Priority, lead_mentioned: bool) -> None:
    decision = fire(opened_as(priority))
    [nudge] = [e for e in decision.effects if isinstance(e, ThreadReply)]
    assert {ALICE, BOB} <= set(nudge.mentions)
    assert (LENA in nudge.mentions) is lead_mentioned


# ---------------------------------------------------------------- changing the priority


@pytest.mark.parametrize(
    ("start", "to", "minutes_in", "expected"),
    [
        # Raised 2 minutes in: the urgent nudge is due at 5 minutes from when the experts got it.
        (Priority.normal, Priority.urgent, 2, (Step.nudge, T0 + 5 * M)),
        # Raised 10 minutes in: the urgent nudge is already overdue, so it is due at once (at its time).
        (Priority.normal, Priority.urgent, 10, (Step.nudge, T0 + 5 * M)),
        # Lowered: no nudge any more; assignment a day of office time out.
        (Priority.urgent, Priority.low, 2, (Step.assign, T0 + D)),
        (Priority.urgent, Priority.normal, 2, (Step.nudge, T0 + 30 * M)),
    ],
)
def test_changing_the_priority_reschedules(
    start: Priority, to: Priority, minutes_in: int, expected: tuple[Step, datetime]
) -> None:
    esc = opened_as(start, policy=POLICY_WITH_RULES.model_copy(update={"business_hours": None}))
    decision = decide(esc, change(RITA, to), T0 + minutes_in * M)
    assert decision.action == "priority_changed"
    assert decision.detail == {"from": start.value, "to": to.value}
    assert decision.escalation.priority == to
    assert (decision.escalation.next_step, decision.escalation.next_due_at) == expected
    # The card shows the new priority and the new next step.
    [card] = [e for e in decision.effects if isinstance(e, UpdateCard)]
    assert card.view.priority == to and card.view.next_due_at == expected[1]


def test_an_owned_question_keeps_its_owner_clock_under_a_new_priority() -> None:
    rules = {Priority.urgent: PriorityRule(timers={"owner_reminder_after": 10 * M})}
    policy = POLICY.model_copy(update={"priorities": rules})
    esc = run(opened_as(Priority.normal, policy=policy), (claim(ALICE), T0 + M))
    assert esc.next_step == Step.owner_reminder and esc.next_due_at == T0 + M + 2 * H
    esc = run(esc, (change(ALICE, Priority.urgent), T0 + 3 * M))
    assert (esc.next_step, esc.next_due_at) == (Step.owner_reminder, T0 + 11 * M)


def test_the_same_priority_changes_nothing() -> None:
    esc = opened_as(Priority.high)
    assert not decide(esc, change(RITA, Priority.high), T0 + M).changed


@pytest.mark.parametrize(("who", "allowed"), [(RITA, True), (ALICE, True), (LENA, True), (SAM, False)])
def test_who_may_change_the_priority(who: PersonRef, allowed: bool) -> None:
    esc = opened_as(Priority.normal)
    if allowed:
        assert decide(esc, change(who, Priority.urgent), T0 + M).changed
    else:
        with pytest.raises(Refused, match="change the priority of"):
            decide(esc, change(who, Priority.urgent), T0 + M)


def test_a_closed_question_keeps_its_priority() -> None:
    esc = run(opened_as(Priority.normal), (cancel(RITA), T0 + M))
    with pytest.raises(Refused, match="reprioritised"):
        decide(esc, change(RITA, Priority.urgent), T0 + 2 * M)
