"""The data the core works with: identities, commands, effects, views and the clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from pydantic import TypeAdapter, ValidationError

from tests.unit.helpers import (
    ALICE,
    BOB,
    CHANNEL,
    ESC_ID,
    LENA,
    RITA,
    SAM,
    T0,
    TEAMS_CHANNEL,
    assign,
    cancel,
    claim,
    community,
    decline,
    expert,
    fire,
    open_cmd,
    opened,
    person,
    reply,
    resolve,
    run,
)
from workflows.clock import FakeClock, SystemClock
from workflows.commands import Claim, Command, Open, Tick
from workflows.decide import card_view, decide, status_line
from workflows.effects import EFFECT_ADAPTER, Action, Notice, Notify, ThreadReply, effect_target
from workflows.model import SYSTEM, Escalation, PersonRef, Platform, Status, Step

M = timedelta(minutes=1)


# ---------------------------------------------------------------- people


def test_a_person_is_the_same_whatever_name_is_known() -> None:
    named = PersonRef(platform=Platform.slack, id="U1", tenant="T1", name="Ada")
    bare = PersonRef(platform=Platform.slack, id="U1", tenant="T1")
    assert named == bare
    assert hash(named) == hash(bare)
    assert len({named, bare}) == 1


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        (("slack", "U1", "T1"), ("slack", "U1", "T1"), True),
        (("slack", "U1", ""), ("slack", "U1", "T1"), True),  # configured without a tenant: any tenant
        (("slack", "U1", "T1"), ("slack", "U1", ""), True),
        (("slack", "U1", "T1"), ("slack", "U1", "T2"), False),
        (("slack", "U1", "T1"), ("slack", "U2", "T1"), False),
        (("slack", "U1", "T1"), ("teams", "U1", "T1"), False),
    ],
)
def test_same_person(a: tuple[str, str, str], b: tuple[str, str, str], same: bool) -> None:
    left = PersonRef(platform=Platform(a[0]), id=a[1], tenant=a[2])
    right = PersonRef(platform=Platform(b[0]), id=b[1], tenant=b[2])
    assert left.same(right) is same
    assert right.same(left) is same


def test_same_as_nobody() -> None:
    assert not ALICE.same(None)


def test_tenantless_is_not_equal_but_is_the_same() -> None:
    configured = PersonRef(platform=Platform.slack, id="alice")
    assert configured != ALICE
    assert configured.same(ALICE)


def test_person_key_and_label() -> None:
    anonymous = PersonRef(platform=Platform.teams, id="29:abc", tenant="tid")
    assert anonymous.key == "teams:29:abc"
    assert anonymous.label() == "teams:29:abc"
    assert ALICE.label() == "Alice"
    assert SYSTEM.label() == "escalation-bot"


def test_expert_across_platforms() -> None:
    teams = person("alice-aad", Platform.teams, "tid")
    alice = expert(ALICE, teams)
    assert alice.is_(ALICE) and alice.is_(teams)
    assert not alice.is_(BOB) and not alice.is_(None)
    assert alice.ref_on(Platform.teams) == teams
    assert alice.ref_on(Platform.slack) == ALICE
    assert alice.ref_on(Platform.console) is None
    assert alice.label() == "Alice"


def test_community_knows_experts_and_lead() -> None:
    comm = community()
    found = comm.expert_for(BOB)
    assert found is not None and found.key == "bob"
    lead = comm.expert_for(LENA)
    assert lead is not None and lead.key == "lena"
    assert comm.expert_for(SAM) is None
    assert comm.is_expert(BOB) and not comm.is_expert(LENA)
    assert comm.is_lead(LENA) and not comm.is_lead(BOB)
    assert not community(lead=None).is_lead(LENA)


def test_models_are_frozen_and_strict() -> None:
    esc = opened()
    with pytest.raises(ValidationError):
        esc.status = Status.resolved  # type: ignore[misc]
    with pytest.raises(ValidationError):
        PersonRef(platform=Platform.slack, id="U1", nickname="x")  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        PersonRef(platform="irc", id="U1")  # type: ignore[arg-type]


def test_escalation_helpers() -> None:
    esc = opened()
    assert esc.short_id() == ESC_ID[:8]
    assert esc.is_open
    assert esc.policy == esc.community.policy
    assert not run(esc, (cancel(RITA), T0)).is_open


def test_policy_is_a_copy_taken_at_opening() -> None:
    comm = community()
    esc = opened(comm)
    edited = comm.model_copy(update={"policy": comm.policy.model_copy(update={"anyone_can_claim": True})})
    assert edited.policy.anyone_can_claim
    assert not esc.policy.anyone_can_claim


# ---------------------------------------------------------------- commands


COMMAND = TypeAdapter(Command)


def test_commands_parse_by_kind() -> None:
    actor = {"platform": "slack", "id": "alice", "tenant": "T1"}
    parsed = COMMAND.validate_python({"kind": "claim", "id": "c1", "escalation_id": ESC_ID, "actor": actor})
    assert isinstance(parsed, Claim)
    tick = COMMAND.validate_python(
        {
            "kind": "tick",
            "id": "t1",
            "escalation_id": ESC_ID,
            "actor": actor,
            "step": "nudge",
            "due_at": "2026-01-05T09:30:00Z",
        }
    )
    assert isinstance(tick, Tick)
    assert tick.step == Step.nudge
    assert tick.due_at == T0 + 30 * M


def test_command_round_trips_through_json() -> None:
    original = decline(ALICE, "busy")
    assert COMMAND.validate_json(COMMAND.dump_json(original)) == original


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "fly", "id": "x", "escalation_id": ESC_ID},
        {"kind": "claim", "escalation_id": ESC_ID},
        {"kind": "open", "id": "x", "escalation_id": ESC_ID, "tenant": "T1", "community_key": "db", "question": ""},
        {
            "kind": "open",
            "id": "x",
            "escalation_id": ESC_ID,
            "tenant": "T1",
            "community_key": "db",
            "question": "q" * 40_001,
        },
        {"kind": "reply", "id": "x", "escalation_id": ESC_ID, "text": "t" * 40_001},
        {"kind": "decline", "id": "x", "escalation_id": ESC_ID, "reason": "r" * 2001},
    ],
    ids=["unknown-kind", "no-id", "empty-question", "long-question", "long-reply", "long-reason"],
)
def test_invalid_commands_are_rejected(data: dict[str, object]) -> None:
    data = {"actor": {"platform": "slack", "id": "alice"}, **data}
    with pytest.raises(ValidationError):
        COMMAND.validate_python(data)


def test_open_limits_customer_and_link() -> None:
    base = {
        "id": "x",
        "escalation_id": ESC_ID,
        "actor": RITA,
        "tenant": "T1",
        "community_key": "db",
        "question": "q",
    }
    with pytest.raises(ValidationError):
        Open(**base, customer="c" * 501)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        Open(**base, link="l" * 2001)  # type: ignore[arg-type]


# ---------------------------------------------------------------- effects


def test_effects_round_trip_through_the_outbox_json() -> None:
    esc = opened()
    decisions = [
        decide(None, open_cmd(), T0),
        decide(esc, claim(ALICE), T0 + M),
        fire(esc),
    ]
    effects = [e for d in decisions for e in d.effects]
    assert {e.kind for e in effects} == {"post_card", "update_card", "notify", "thread_reply"}
    for effect in effects:
        assert EFFECT_ADAPTER.validate_json(EFFECT_ADAPTER.dump_json(effect)) == effect


def test_effect_target() -> None:
    esc = opened(community(channels=(CHANNEL, TEAMS_CHANNEL)))
    decision = decide(esc, claim(ALICE), T0 + M)
    targets = [effect_target(e) for e in decision.effects]
    assert targets == [
        (Platform.slack, "C1"),
        (Platform.teams, TEAMS_CHANNEL.id),
        (Platform.slack, "dm:rita"),
    ]
    nudge = fire(esc)
    assert {effect_target(e) for e in nudge.effects if isinstance(e, ThreadReply)} == {
        (Platform.slack, "C1"),
        (Platform.teams, TEAMS_CHANNEL.id),
    }


def test_thread_mentions_use_each_platforms_identity() -> None:
    alice_teams = person("alice-aad", Platform.teams, "tid")
    comm = community(channels=(CHANNEL, TEAMS_CHANNEL))
    comm = comm.model_copy(update={"experts": (expert(ALICE, alice_teams), *comm.experts[1:])})
    nudge = fire(opened(comm))
    by_channel = {e.channel.id: e.mentions for e in nudge.effects if isinstance(e, ThreadReply)}
    assert by_channel["C1"] == (ALICE, BOB, person("carol"))
    assert by_channel[TEAMS_CHANNEL.id] == (alice_teams,)


# ---------------------------------------------------------------- card view and status line


def status_of(esc: Escalation) -> str:
    return status_line(esc)


def test_status_lines_through_a_life() -> None:
    esc = opened()
    assert status_of(esc) == "Unclaimed"
    assert status_of(run(esc, (claim(ALICE), T0))) == "Claimed by Alice"
    assigned = run(esc, (assign(LENA, BOB), T0))
    assert status_of(assigned) == "Assigned to Bob (not yet accepted)"
    accepted = run(assigned, (claim(BOB), T0 + M))
    assert status_of(accepted) == "Bob is on it"
    assert status_of(run(esc, (reply(ALICE), T0))) == "Waiting on Rita"
    assert status_of(run(esc, (resolve(ALICE), T0))) == "Resolved by Alice"
    assert status_of(run(esc, (cancel(RITA), T0))) == "Cancelled"
    assert status_of(esc.model_copy(update={"status": Status.deflected})) == "Answered by the knowledge base"
    closed = fire(fire(run(esc, (reply(ALICE), T0))).escalation).escalation
    assert status_of(closed) == "Resolved (closed automatically after no reply)"
    assert status_of(esc.model_copy(update={"status": Status.resolved})) == "Resolved by someone"


def test_card_view_reflects_the_escalation() -> None:
    esc = run(opened(community(channels=(CHANNEL,))), (claim(ALICE), T0 + M))
    view = card_view(esc)
    assert view.escalation_id == ESC_ID
    assert view.version == esc.version == 2
    assert view.community_key == "db" and view.community_name == "Databases"
    assert view.owner == ALICE
    assert view.status_line == "Claimed by Alice"
    assert view.next_step == Step.owner_reminder
    assert view.next_due_at == esc.next_due_at
    assert view.experts == tuple(e.refs[0] for e in esc.community.experts)
    assert view.actions == (
        Action.claim,
        Action.assign,
        Action.resolve,
        Action.reassign,
        Action.priority,
        Action.cancel,
    )
    done = card_view(run(esc, (resolve(ALICE, "42"), T0 + 2 * M)))
    assert done.actions == (Action.reopen,)
    assert done.answer == "42"
    assert done.resolved_by == ALICE


def test_private_messages_carry_the_card_as_it_now_is() -> None:
    decision = decide(opened(), reply(ALICE), T0 + M)
    [note] = [e for e in decision.effects if isinstance(e, Notify)]
    assert note.notice == Notice.first_response
    assert note.view == card_view(decision.escalation)
    assert note.view.first_responder == ALICE


# ---------------------------------------------------------------- clocks


def test_fake_clock_moves_only_when_told() -> None:
    clock = FakeClock(T0)
    assert clock.now() == T0
    assert clock.now() == T0
    assert clock.advance(timedelta(hours=2)) == T0 + timedelta(hours=2)
    assert clock.now() == T0 + timedelta(hours=2)
    clock.set(datetime(2026, 7, 1, 12, 0, tzinfo=ZoneInfo("Europe/London")))
    assert clock.now() == datetime(2026, 7, 1, 11, 0, tzinfo=UTC)
    assert clock.now().tzinfo == UTC


def test_fake_clock_default_and_conversion() -> None:
    assert FakeClock().now() == datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    start = datetime(2026, 1, 5, 9, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert FakeClock(start).now() == datetime(2026, 1, 5, 14, 0, tzinfo=UTC)


def test_system_clock_is_aware_utc() -> None:
    before = datetime.now(UTC)
    now = SystemClock().now()
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)
    assert before <= now <= datetime.now(UTC)
