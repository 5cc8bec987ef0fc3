"""Timers: which step is due next and when, and ticks that must do nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.unit.helpers import (
    ALICE,
    BOB,
    CAROL,
    LENA,
    RITA,
    T0,
    TIMERS,
    accept,
    assign,
    claim,
    community,
    decline,
    fire,
    opened,
    reply,
    resolve,
    run,
    tick,
    tick_due,
)
from workflows.calendar import BusinessHours
from workflows.clock import FakeClock
from workflows.commands import Roster
from workflows.decide import decide
from workflows.model import Ball, Escalation, Owner, Ownership, Status, Step, Timers
from workflows.timers import schedule

M = timedelta(minutes=1)
H = timedelta(hours=1)
D = timedelta(days=1)
LONDON = ZoneInfo("Europe/London")


def timers(**changes: timedelta | None) -> Timers:
    return TIMERS.model_copy(update=changes)


def esc_with(**timer_changes: timedelta | None) -> Escalation:
    return opened(community(timers=timers(**timer_changes)))


# ---------------------------------------------------------------- schedule()


def test_fresh_question_is_nudged_first() -> None:
    assert schedule(esc_with()) == (Step.nudge, T0 + 30 * M)


def test_without_nudge_the_first_step_is_assign() -> None:
    assert schedule(esc_with(nudge_after=None)) == (Step.assign, T0 + H)


def test_earliest_step_wins() -> None:
    assert schedule(esc_with(assign_after=10 * M)) == (Step.assign, T0 + 10 * M)


def test_tie_goes_to_the_nudge() -> None:
    assert schedule(esc_with(assign_after=30 * M)) == (Step.nudge, T0 + 30 * M)


def test_after_the_nudge_comes_assign_counted_from_when_experts_got_the_ball() -> None:
    esc = fire(esc_with()).escalation
    assert esc.nudges == 1
    assert schedule(esc) == (Step.assign, T0 + H)


def test_no_timers_no_schedule() -> None:
    esc = opened(community(timers=Timers()))
    assert schedule(esc) is None
    assert (esc.next_step, esc.next_due_at) == (None, None)


def test_no_assign_when_nobody_can_be_assigned() -> None:
    esc = opened(community(experts=(), lead=None))
    assert schedule(esc) == (Step.nudge, T0 + 30 * M)
    nudged = fire(esc).escalation
    assert schedule(nudged) is None


def test_owner_reminder_counts_from_when_ownership_began() -> None:
    esc = run(esc_with(), (claim(ALICE), T0 + 20 * M))
    assert schedule(esc) == (Step.owner_reminder, T0 + 20 * M + 2 * H)


def test_accepting_restarts_the_owner_clock() -> None:
    esc = run(esc_with(), (assign(LENA, ALICE), T0 + 5 * M), (accept(ALICE), T0 + H))
    assert schedule(esc) == (Step.owner_reminder, T0 + 3 * H)


def test_after_the_owner_reminder_comes_reassign() -> None:
    esc = run(esc_with(), (claim(ALICE), T0))
    reminded = fire(esc).escalation
    assert reminded.owner_reminded
    assert schedule(reminded) == (Step.reassign, T0 + 4 * H)


def test_reassign_before_reminder_when_shorter() -> None:
    esc = run(esc_with(reassign_after=H), (claim(ALICE), T0))
    assert schedule(esc) == (Step.reassign, T0 + H)


def test_no_reassign_when_nobody_else_is_left() -> None:
    esc = run(opened(community(experts=(ALICE,), lead=None)), (claim(ALICE), T0))
    reminded = fire(esc).escalation
    assert reminded.owner_reminded
    assert schedule(reminded) is None


def test_owner_without_owner_timers_has_nothing_due() -> None:
    esc = run(esc_with(owner_reminder_after=None, reassign_after=None), (claim(ALICE), T0))
    assert schedule(esc) is None


def test_expert_timers_stop_while_the_ball_is_with_the_requester() -> None:
    held = run(esc_with(), (claim(ALICE), T0), (reply(ALICE), T0 + 10 * M))
    assert held.ball == Ball.requester
    assert schedule(held) == (Step.requester_reminder, T0 + 10 * M + D)
    unowned = run(esc_with(), (reply(BOB), T0 + 10 * M))
    assert schedule(unowned) == (Step.requester_reminder, T0 + 10 * M + D)


def test_requester_reminder_then_auto_close() -> None:
    esc = run(esc_with(), (reply(ALICE), T0 + 10 * M))
    reminded = fire(esc).escalation
    assert reminded.requester_reminded
    assert schedule(reminded) == (Step.auto_close, T0 + 10 * M + 3 * D)


def test_auto_close_only_when_configured() -> None:
    esc = run(esc_with(auto_close_after=None), (reply(ALICE), T0 + 10 * M))
    assert schedule(esc) == (Step.requester_reminder, T0 + 10 * M + D)
    reminded = fire(esc).escalation
    assert schedule(reminded) is None
    assert reminded.status == Status.open


def test_auto_close_without_reminder() -> None:
    esc = run(esc_with(requester_reminder_after=None), (reply(ALICE), T0 + 10 * M))
    assert schedule(esc) == (Step.auto_close, T0 + 10 * M + 3 * D)


def test_auto_close_first_when_shorter_than_the_reminder() -> None:
    esc = run(esc_with(auto_close_after=H), (reply(ALICE), T0))
    assert schedule(esc) == (Step.auto_close, T0 + H)


def test_new_expert_reply_restarts_the_requester_clock() -> None:
    esc = run(esc_with(), (reply(ALICE), T0 + 10 * M), (reply(BOB), T0 + 5 * H))
    assert schedule(esc) == (Step.requester_reminder, T0 + 5 * H + D)


def test_requester_reply_restarts_the_expert_clock_and_the_nudge() -> None:
    esc = run(esc_with(), (reply(ALICE), T0 + 10 * M))
    esc = fire(esc).escalation  # reminded the requester
    back = run(esc, (reply(RITA), T0 + 2 * D))
    assert back.ball == Ball.experts
    assert schedule(back) == (Step.nudge, T0 + 2 * D + 30 * M)


@pytest.mark.parametrize("status", [Status.resolved, Status.cancelled, Status.deflected])
def test_closed_escalations_have_nothing_due(status: Status) -> None:
    esc = esc_with().model_copy(update={"status": status})
    assert schedule(esc) is None


def test_requester_clock_falls_back_to_last_update() -> None:
    esc = esc_with().model_copy(update={"ball": Ball.requester, "requester_since": None, "updated_at": T0 + H})
    assert schedule(esc) == (Step.requester_reminder, T0 + H + D)


def test_schedule_is_a_pure_read_of_state() -> None:
    owner = Owner(expert="bob", person=BOB, kind=Ownership.accepted, since=T0 + 3 * H)
    esc = esc_with().model_copy(update={"owner": owner, "owner_reminded": True, "excluded": ("alice",)})
    assert schedule(esc) == (Step.reassign, T0 + 7 * H)


# ---------------------------------------------------------------- ticks that do nothing


def assert_no_op(esc: Escalation, command: object, at: datetime) -> None:
    decision = decide(esc, command, at)  # type: ignore[arg-type]
    assert not decision.changed
    assert decision.escalation == esc
    assert decision.effects == []


def test_tick_before_due_is_a_no_op() -> None:
    esc = esc_with()
    assert_no_op(esc, tick(Step.nudge, T0 + 30 * M), T0 + 29 * M)


def test_tick_for_another_step_is_a_no_op() -> None:
    esc = esc_with()
    assert_no_op(esc, tick(Step.assign, T0 + 30 * M), T0 + 2 * H)


def test_tick_for_another_due_time_is_a_no_op() -> None:
    esc = esc_with()
    assert_no_op(esc, tick(Step.nudge, T0 + 20 * M), T0 + 2 * H)


def test_repeated_tick_is_a_no_op() -> None:
    esc = esc_with()
    command, at = tick_due(esc)
    first = decide(esc, command, at)
    assert first.action == "nudged"
    assert_no_op(first.escalation, command, at + M)  # the same delivery again


def test_second_tick_for_a_step_already_done_is_a_no_op() -> None:
    esc = esc_with()
    first = fire(esc)
    # Another replica's sweeper saw the same due row: a new command, same step and time.
    assert_no_op(first.escalation, tick(Step.nudge, T0 + 30 * M), T0 + 31 * M)


def test_tick_made_stale_by_a_claim_is_a_no_op() -> None:
    esc = esc_with()
    command, at = tick_due(esc)
    claimed = run(esc, (claim(ALICE), T0 + 20 * M))
    assert_no_op(claimed, command, at)


def test_tick_on_a_resolved_question_is_a_no_op() -> None:
    esc = esc_with()
    command, at = tick_due(esc)
    done = run(esc, (resolve(RITA), T0 + 5 * M))
    assert_no_op(done, command, at)


def test_late_tick_still_runs_and_says_how_late() -> None:
    esc = esc_with()
    command, at = tick_due(esc)
    decision = decide(esc, command, at + 2 * H)
    assert decision.action == "nudged"
    assert decision.detail["step"] == "nudge"
    assert decision.detail["late_s"] == 7200.0
    # A late nudge does not push the assign timer back: it counts from when the ball arrived.
    assert decision.escalation.next_step == Step.assign
    assert decision.escalation.next_due_at == T0 + H


def test_assign_tick_with_an_emptied_roster_says_unowned() -> None:
    # Cannot be scheduled from a consistent state; guard against a stale row anyway.
    esc = opened(community(experts=(), lead=None)).model_copy(update={"next_step": Step.assign, "next_due_at": T0 + H})
    decision = decide(esc, tick(Step.assign, T0 + H), T0 + H)
    assert decision.action == "assign_failed"
    assert decision.escalation.owner is None
    assert decision.escalation.next_step is None
    assert [e.kind for e in decision.effects] == ["update_card", "thread_reply"]


def test_reassign_tick_with_nobody_left_stops_pushing() -> None:
    esc = run(opened(community(experts=(ALICE,), lead=None)), (claim(ALICE), T0))
    esc = esc.model_copy(update={"next_step": Step.reassign, "next_due_at": T0 + H})
    decision = decide(esc, tick(Step.reassign, T0 + H), T0 + H)
    assert decision.action == "reassign_skipped"
    assert decision.escalation.owner is not None and decision.escalation.owner.expert == "alice"
    assert decision.escalation.next_step is None
    assert decision.effects == []


# ---------------------------------------------------------------- a whole timeline on a fake clock


def test_unanswered_question_walks_the_whole_ladder() -> None:
    clock = FakeClock(T0)
    esc = opened(at=clock.now())
    roster = Roster()
    seen: list[tuple[str | None, str | None, datetime]] = []
    for _ in range(40):
        if esc.next_due_at is None:
            break
        clock.set(esc.next_due_at)
        decision = fire(esc, roster)
        assert decision.changed
        esc = decision.escalation
        owner = esc.owner.expert if esc.owner else None
        if owner and decision.action in {"auto_assigned", "auto_reassigned"}:
            roster = Roster(last_assigned=owner)
        seen.append((decision.action, owner, clock.now()))
    assert seen == [
        ("nudged", None, T0 + 30 * M),
        ("auto_assigned", "alice", T0 + H),
        ("owner_reminded", "alice", T0 + 3 * H),
        ("auto_reassigned", "bob", T0 + 5 * H),
        ("owner_reminded", "bob", T0 + 7 * H),
        ("auto_reassigned", "carol", T0 + 9 * H),
        ("owner_reminded", "carol", T0 + 11 * H),
        ("auto_reassigned", "lena", T0 + 13 * H),
        ("owner_reminded", "lena", T0 + 15 * H),
    ]
    assert esc.excluded == ("alice", "bob", "carol")
    assert esc.next_step is None  # the lead holds it and nobody is left to move it to
    assert esc.status == Status.open


def test_decline_with_nobody_left_stops_every_timer() -> None:
    esc = run(
        opened(),
        (assign(LENA, ALICE), T0),
        (decline(ALICE), T0 + M),
        (decline(BOB), T0 + 2 * M),
        (decline(CAROL), T0 + 3 * M),
        (decline(LENA), T0 + 4 * M),
    )
    assert esc.owner is None
    assert schedule(esc) is None
    assert esc.next_due_at is None


# ---------------------------------------------------------------- business hours in decide()


LONDON_HOURS = BusinessHours(timezone="Europe/London", holidays="GB")


def local(y: int, mo: int, d: int, h: int, mi: int = 0, zone: ZoneInfo = LONDON) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=zone).astimezone(UTC)


@pytest.mark.parametrize(
    ("opened_at", "nudge_at"),
    [
        (local(2026, 1, 9, 16, 45), local(2026, 1, 12, 9, 15)),  # winter, GMT
        (local(2026, 6, 5, 16, 45), local(2026, 6, 8, 9, 15)),  # summer, BST
        (local(2026, 3, 27, 16, 45), local(2026, 3, 30, 9, 15)),  # clocks go forward on Sunday
        (local(2026, 10, 23, 16, 45), local(2026, 10, 26, 9, 15)),  # clocks go back on Sunday
        (local(2026, 12, 24, 16, 45), local(2026, 12, 29, 9, 15)),  # Christmas, Boxing Day observed
    ],
    ids=["winter", "summer", "dst-forward", "dst-back", "christmas"],
)
def test_friday_evening_question_is_nudged_monday_morning(opened_at: datetime, nudge_at: datetime) -> None:
    esc = opened(community(business_hours=LONDON_HOURS), at=opened_at)
    assert esc.next_step == Step.nudge
    assert esc.next_due_at == nudge_at
    assert esc.next_due_at.tzinfo is not None and esc.next_due_at.utcoffset() == timedelta(0)
    # Not a minute early, over the weekend.
    assert not decide(esc, tick(Step.nudge, nudge_at), nudge_at - M).changed
    decision = decide(esc, tick(Step.nudge, nudge_at), nudge_at)
    assert decision.action == "nudged"
    # The message counts business time, not the weekend.
    assert "waited 30m" in decision.effects[-1].text  # type: ignore[union-attr]
    # The assign step, an hour of business time after opening.
    assert decision.escalation.next_step == Step.assign
    assert decision.escalation.next_due_at == nudge_at + 30 * M


def test_requester_reminder_counts_business_days() -> None:
    friday = local(2026, 1, 9, 15, 0)
    esc = run(opened(community(business_hours=LONDON_HOURS), at=friday - H), (reply(ALICE), friday))
    # With business hours, 1d means 24 working hours: Fri 15-17, Mon 8h, Tue 8h, Wed 09-15.
    assert esc.next_step == Step.requester_reminder
    assert esc.next_due_at == local(2026, 1, 14, 15, 0)


def test_owner_reminder_counts_business_time() -> None:
    thursday = local(2026, 1, 8, 16, 0)
    esc = run(opened(community(business_hours=LONDON_HOURS), at=thursday), (claim(ALICE), thursday))
    assert esc.next_due_at == local(2026, 1, 9, 10, 0)


def test_question_opened_out_of_hours_counts_from_opening_time() -> None:
    saturday = local(2026, 1, 10, 11, 0)
    esc = opened(community(business_hours=LONDON_HOURS), at=saturday)
    assert esc.next_due_at == local(2026, 1, 12, 9, 30)
    assert esc.experts_since == saturday
    # Nothing but the configured clock: a New York community counts New York hours.
    ny = BusinessHours(timezone="America/New_York", holidays="US")
    esc = opened(community(business_hours=ny), at=saturday)
    assert esc.next_due_at == local(2026, 1, 12, 9, 30, ZoneInfo("America/New_York"))


def test_reassignment_chain_under_business_hours_skips_nights() -> None:
    monday = local(2026, 1, 5, 9, 0)
    comm = community(business_hours=LONDON_HOURS)
    esc = run(opened(comm, at=monday), (claim(ALICE), monday))
    reminder = fire(esc)
    assert reminder.escalation.next_step == Step.reassign
    assert esc.next_due_at == local(2026, 1, 5, 11, 0)
    assert reminder.escalation.next_due_at == local(2026, 1, 5, 13, 0)
    moved = fire(reminder.escalation, Roster(last_assigned="alice")).escalation
    assert moved.owner is not None and moved.owner.expert == "bob"
    # Bob got it at 13:00: his reminder is two business hours later, the same afternoon...
    assert moved.next_due_at == local(2026, 1, 5, 15, 0)
    reminded = fire(moved).escalation
    # ...and the reassign four business hours after 13:00 falls exactly at closing time,
    # not the next morning.
    assert reminded.next_step == Step.reassign
    assert reminded.next_due_at == local(2026, 1, 5, 17, 0)
    assert reminded.owner is not None and reminded.owner.since == local(2026, 1, 5, 13, 0)
    moved_again = fire(reminded, Roster(last_assigned="bob")).escalation
    assert moved_again.owner is not None and moved_again.owner.expert == "carol"
    # Carol got it at closing time: her reminder is two hours into Tuesday.
    assert moved_again.next_due_at == local(2026, 1, 6, 11, 0)
