"""Availability in the core: what ``away …`` means, and who the rotation, the nudge and a
move-on pass over because they are away (explained in the audit detail)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.unit.helpers import (
    ALICE,
    BOB,
    CAROL,
    ESC_ID,
    LENA,
    RITA,
    T0,
    accept,
    assign,
    cid,
    claim,
    community,
    decline,
    fire,
    notices_to,
    opened,
    run,
    summary,
)
from workflows.availability import Away, AwayError, parse_away, status_away_until, when
from workflows.commands import MoveOn, Roster
from workflows.decide import card_view, decide
from workflows.effects import ThreadReply, UpdateCard
from workflows.model import DEFAULT_AWAY_STATUSES, SYSTEM, Ownership, Rotation, Step
from workflows.rotation import choose_expert

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
WEDNESDAY = datetime(2026, 12, 9, 15, 0, tzinfo=UTC)  # Wednesday 9 December 2026, 15:00 in London
BACK = datetime(2026, 1, 7, 9, 0, tzinfo=UTC)
M = timedelta(minutes=1)


# ---------------------------------------------------------------- what people type


@pytest.mark.parametrize(
    ("words", "zone", "expected"),
    [
        ("", LONDON, Away(None, None)),
        ("on paternity leave", LONDON, Away(None, "on paternity leave")),
        ("until friday", LONDON, Away(datetime(2026, 12, 11, tzinfo=LONDON), None)),
        ("until Fri", LONDON, Away(datetime(2026, 12, 11, tzinfo=LONDON), None)),
        # On a Wednesday, "until wednesday" is the next one.
        ("until wednesday", LONDON, Away(datetime(2026, 12, 16, tzinfo=LONDON), None)),
        ("until tomorrow", LONDON, Away(datetime(2026, 12, 10, tzinfo=LONDON), None)),
        (
            "until 2026-12-24 Christmas, ask Ben",
            LONDON,
            Away(datetime(2026, 12, 24, tzinfo=LONDON), "Christmas, ask Ben"),
        ),
        ("until 2026-12-24", NEW_YORK, Away(datetime(2026, 12, 24, tzinfo=NEW_YORK), None)),
        ("for 3d", LONDON, Away(WEDNESDAY + timedelta(days=3), None)),
        ("for 4h at the dentist", LONDON, Away(WEDNESDAY + timedelta(hours=4), "at the dentist")),
        ("for 3d keep", LONDON, Away(WEDNESDAY + timedelta(days=3), None, keep=True)),
        ("until friday, keep my questions", LONDON, Away(datetime(2026, 12, 11, tzinfo=LONDON), None, keep=True)),
        ("for 3d, keep my questions", LONDON, Away(WEDNESDAY + timedelta(days=3), None, keep=True)),
        ("Keep, skiing", LONDON, Away(None, "skiing", keep=True)),
        # Only right after the date: a note that says keep is a note.
        ("for 3d keep calm", LONDON, Away(WEDNESDAY + timedelta(days=3), "calm", keep=True)),
        ("for 3d skiing, keep trying", LONDON, Away(WEDNESDAY + timedelta(days=3), "skiing, keep trying")),
    ],
)
def test_away_words(words: str, zone: ZoneInfo, expected: Away) -> None:
    assert parse_away(words, WEDNESDAY, zone) == expected


def test_dates_are_the_person_s_own() -> None:
    # 03:00 UTC on Thursday is still Wednesday evening in New York: "tomorrow" is Thursday there.
    late = datetime(2026, 12, 10, 3, 0, tzinfo=UTC)
    assert parse_away("until tomorrow", late, NEW_YORK).until == datetime(2026, 12, 10, tzinfo=NEW_YORK)
    assert parse_away("until tomorrow", late, LONDON).until == datetime(2026, 12, 11, tzinfo=LONDON)


@pytest.mark.parametrize(
    ("words", "message"),
    [
        ("until 2026-12-01", "Tue 01 Dec 2026 00:00 Europe/London has already begun"),
        ("until today", "has already begun"),
        ("until someday", "“someday” is not a date I know"),
        ("until 2026-02-30", "“2026-02-30” is not a date I know"),
        ("until", "Say until when."),
        ("for soon", "“soon” is not a duration"),
        ("for", "Say for how long."),
        ("for 0d", "“0d” is not a duration"),
        ("note " + "x" * 300, "under 200 characters"),
    ],
)
def test_away_words_that_cannot_be_used_say_why(words: str, message: str) -> None:
    with pytest.raises(AwayError, match=message):
        parse_away(words, WEDNESDAY, LONDON)


def test_when() -> None:
    assert when(None) == "until they say they are back"
    assert when(datetime(2026, 12, 24, tzinfo=LONDON), LONDON) == "until Thu 24 Dec 2026 00:00 Europe/London"


# ---------------------------------------------------------------- the rotation


@pytest.mark.parametrize(
    ("rotation", "away", "last", "loads", "expected"),
    [
        (Rotation.round_robin, {}, None, {}, "alice"),
        (Rotation.round_robin, {"alice": BACK}, None, {}, "bob"),
        (Rotation.round_robin, {"bob": None}, "alice", {}, "carol"),
        (Rotation.least_loaded, {}, None, {"alice": 2, "bob": 0, "carol": 1}, "bob"),
        (Rotation.least_loaded, {"bob": BACK}, None, {"alice": 2, "bob": 0, "carol": 1}, "carol"),
        # Everyone in the rotation away: the lead.
        (Rotation.round_robin, {"alice": BACK, "bob": None, "carol": BACK}, None, {}, "lena"),
    ],
)
def test_the_rotation_never_chooses_someone_away(
    rotation: Rotation, away: dict[str, datetime | None], last: str | None, loads: dict[str, int], expected: str
) -> None:
    esc = opened(community(rotation=rotation))
    chosen = choose_expert(esc, Roster(away=away, last_assigned=last, loads=loads))
    assert chosen is not None and chosen.key == expected


def test_the_nudge_does_not_mention_who_is_away() -> None:
    decision = fire(opened(), Roster(away={"alice": BACK}))
    [nudge] = [e for e in decision.effects if isinstance(e, ThreadReply)]
    assert ALICE not in nudge.mentions and {BOB, CAROL} <= set(nudge.mentions)


def test_assignment_explains_who_was_passed_over() -> None:
    esc = fire(opened()).escalation
    assert esc.next_step == Step.assign
    decision = fire(esc, Roster(away={"alice": BACK}))
    assert decision.escalation.owner is not None and decision.escalation.owner.person == BOB
    assert decision.detail["away"] == {"alice": BACK.isoformat()}


def test_everyone_away_the_lead_gets_it_and_the_requester_hears_until_when() -> None:
    esc = fire(opened()).escalation
    away = {"alice": BACK, "bob": BACK + timedelta(days=2), "carol": None}
    decision = fire(esc, Roster(away=away))
    assert decision.escalation.owner is not None and decision.escalation.owner.person == LENA
    nobody = "nobody in the Databases rotation is available until Wed 07 Jan 2026 09:00 UTC"
    assert decision.detail["because"] == nobody
    [to_rita] = notices_to(decision.effects, RITA)
    assert to_rita.text == f"Your question is now assigned to Lena, because {nobody}."
    [to_lena] = notices_to(decision.effects, LENA)
    assert f"It comes to you because {nobody}." in to_lena.text


def test_everyone_away_and_no_lead_nobody_is_assigned_and_the_requester_is_told() -> None:
    esc = fire(opened(community(lead=None))).escalation
    decision = fire(esc, Roster(away={"alice": BACK, "bob": BACK, "carol": BACK}))
    assert decision.escalation.owner is None and decision.detail["unowned"] is True
    [to_rita] = notices_to(decision.effects, RITA)
    assert to_rita.text.startswith("Nobody can take your question now: nobody in the Databases rotation is available")
    [reply] = [e for e in decision.effects if isinstance(e, ThreadReply)]
    assert reply.mentions == ()  # everyone is away: nobody to call on


def test_a_decline_passes_over_who_is_away() -> None:
    esc = run(opened(), (assign(LENA, ALICE), T0 + M))
    decision = decide(esc, decline(ALICE, roster=Roster(away={"bob": BACK})), T0 + 2 * M)
    assert decision.escalation.owner is not None and decision.escalation.owner.person == CAROL


# ---------------------------------------------------------------- an owner who goes away


def move_on(away: dict[str, datetime | None], *, taken: bool = False) -> MoveOn:
    return MoveOn(id=cid(), escalation_id=ESC_ID, actor=SYSTEM, roster=Roster(away=away), taken=taken)


def test_an_assigned_owner_who_goes_away_hands_it_on_at_once() -> None:
    esc = run(opened(), (assign(LENA, ALICE), T0 + M))
    decision = decide(esc, move_on({"alice": BACK}), T0 + 2 * M)
    new = decision.escalation
    assert decision.action == "moved_on"
    assert new.owner is not None and new.owner.person == BOB
    because = "Alice is away until Wed 07 Jan 2026 09:00 UTC"
    assert decision.detail["because"] == because
    assert "alice" not in new.excluded  # back from holiday, they may be chosen again
    assert summary(notices_to(decision.effects, RITA)) == [("notify", "reassigned", "rita")]
    [to_bob] = notices_to(decision.effects, BOB)
    assert f"because {because}" in to_bob.text


@pytest.mark.parametrize(
    ("taken_on", "keep", "moves"),
    [
        ("assigned", True, True),  # keep never covers what they did not accept
        ("assigned", False, True),
        ("accepted", True, False),
        ("accepted", False, True),
        ("claimed", True, False),
        ("claimed", False, True),
    ],
)
def test_an_owner_who_goes_away_keeps_only_what_they_took_on_and_said_keep(
    taken_on: str, keep: bool, moves: bool
) -> None:
    esc = run(opened(), (assign(LENA, ALICE), T0 + M))
    if taken_on == "accepted":
        esc = run(esc, (accept(ALICE), T0 + 2 * M))
    elif taken_on == "claimed":
        esc = run(opened(), (claim(ALICE), T0 + M))
    decision = decide(esc, move_on({"alice": BACK}, taken=not keep), T0 + 3 * M)
    assert decision.changed == moves
    if moves:
        new = decision.escalation
        assert decision.action == "moved_on"
        assert new.owner is not None and new.owner.person == BOB and new.owner.kind == Ownership.assigned
        because = "Alice is away until Wed 07 Jan 2026 09:00 UTC"
        [to_rita] = notices_to(decision.effects, RITA)
        assert to_rita.text == f"Your question is now assigned to Bob, because {because}."
        [to_bob] = notices_to(decision.effects, BOB)
        assert f"It comes to you because {because}." in to_bob.text


def test_an_owner_who_is_not_away_keeps_it() -> None:
    esc = run(opened(), (assign(LENA, ALICE), T0 + M))
    assert not decide(esc, move_on({"bob": BACK}), T0 + 2 * M).changed


# ---------------------------------------------------------------- on the card


def test_the_card_says_why_it_went_where_it_went() -> None:
    esc = fire(opened()).escalation
    decision = fire(esc, Roster(away={"alice": BACK}))
    [card] = [e for e in decision.effects if isinstance(e, UpdateCard)]
    assert card.view.status_line == (
        "Assigned to Bob (not yet accepted), because Alice is away until Wed 07 Jan 2026 09:00 UTC"
    )
    [to_rita] = notices_to(decision.effects, RITA)
    assert (
        to_rita.text == "Your question is now assigned to Bob, because Alice is away until Wed 07 Jan 2026 09:00 UTC."
    )
    # Accepted: the reason has done its work.
    accepted = run(decision.escalation, (accept(BOB), T0 + 2 * timedelta(hours=1)))
    assert card_view(accepted).status_line == "Bob is on it"


def test_a_reassignment_by_the_timer_still_tells_the_owner_there_was_no_update() -> None:
    esc = run(opened(), (assign(LENA, ALICE), T0 + M))
    esc = fire(esc).escalation  # the owner reminder
    decision = fire(esc, Roster(away={"bob": BACK}))
    assert decision.escalation.owner is not None and decision.escalation.owner.person == CAROL
    [to_alice] = notices_to(decision.effects, ALICE)
    assert to_alice.text.startswith("There was no update in time")


# ---------------------------------------------------------------- a Slack status


NOW_TS = int(WEDNESDAY.timestamp())


@pytest.mark.parametrize(
    ("emoji", "text", "expiration", "expected"),
    [
        (":palm_tree:", "", NOW_TS + 3600, WEDNESDAY + timedelta(hours=1)),
        (":PALM_TREE:", "", NOW_TS + 3600, WEDNESDAY + timedelta(hours=1)),
        (":house:", "Out of office until Monday", NOW_TS + 3600, WEDNESDAY + timedelta(hours=1)),
        (":palm_tree:", "", 0, None),  # no expiry
        (":palm_tree:", "", NOW_TS - 1, None),  # expired
        (":coffee:", "lunch", NOW_TS + 3600, None),
        ("", "", NOW_TS + 3600, None),
    ],
)
def test_a_slack_status_means_away(emoji: str, text: str, expiration: int, expected: datetime | None) -> None:
    assert status_away_until(emoji, text, expiration, DEFAULT_AWAY_STATUSES, WEDNESDAY) == expected
