"""Follow the sun: each person's own time zone and working hours (``people``), who is inside
them now, the rotation preferring those, the audit naming who was passed over, and the
report counting interruptions against each expert's own hours."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from bot.config import ConfigError, parse_config
from tests.unit.helpers import ALICE, CAROL, T0, community, fire, opened
from workflows.calendar import BusinessHours
from workflows.commands import Roster
from workflows.metrics import AuditEvent, compute
from workflows.model import Community, Rotation, Step
from workflows.rotation import choose_expert, out_of_hours

LONDON_HOURS = BusinessHours(timezone="Europe/London")
TOKYO = BusinessHours(timezone="Asia/Tokyo", start=time(9), end=time(17, 30))
NEW_YORK = BusinessHours(timezone="America/New_York")
# Monday 5 January 2026: 02:00 UTC is 11:00 in Tokyo, 02:00 in London, 21:00 (Sunday) in New York.
NIGHT_IN_LONDON = datetime(2026, 1, 5, 2, 0, tzinfo=UTC)


def world(rotation: Rotation = Rotation.round_robin, hours: BusinessHours | None = LONDON_HOURS) -> Community:
    """Alice in Tokyo, Bob in New York, Carol on the community's (London) hours."""
    base = community(rotation=rotation, business_hours=hours)
    own = {"alice": TOKYO, "bob": NEW_YORK}
    return base.model_copy(
        update={"experts": tuple(e.model_copy(update={"hours": own.get(e.key)}) for e in base.experts)}
    )


@pytest.mark.parametrize(
    ("at", "hours", "expected"),
    [
        (NIGHT_IN_LONDON, LONDON_HOURS, ("bob", "carol", "lena")),  # only Tokyo is at work
        (datetime(2026, 1, 5, 10, 0, tzinfo=UTC), LONDON_HOURS, ("alice", "bob")),  # London's morning
        (datetime(2026, 1, 5, 15, 0, tzinfo=UTC), LONDON_HOURS, ("alice",)),  # London and New York overlap
        # A community without business hours: only those with their own hours can be out of them.
        (NIGHT_IN_LONDON, None, ("bob",)),
    ],
)
def test_who_is_out_of_their_working_hours(
    at: datetime, hours: BusinessHours | None, expected: tuple[str, ...]
) -> None:
    assert out_of_hours(world(hours=hours), at) == expected


@pytest.mark.parametrize(
    ("rotation", "off", "last", "loads", "expected"),
    [
        (Rotation.round_robin, (), None, {}, "alice"),
        (Rotation.round_robin, ("alice",), None, {}, "bob"),
        # Round robin goes on from the last one, among those inside their hours.
        (Rotation.round_robin, ("bob",), "alice", {}, "carol"),
        (Rotation.round_robin, ("bob", "carol"), "alice", {}, "alice"),
        # Least loaded: the least loaded of those inside their hours, even if busier.
        (Rotation.least_loaded, ("bob",), None, {"alice": 3, "bob": 0, "carol": 2}, "carol"),
        # Nobody inside their hours: everyone available, as before.
        (Rotation.least_loaded, ("alice", "bob", "carol"), None, {"alice": 3, "bob": 0, "carol": 2}, "bob"),
        (Rotation.round_robin, ("alice", "bob", "carol", "lena"), "alice", {}, "bob"),
    ],
)
def test_the_rotation_prefers_those_inside_their_working_hours(
    rotation: Rotation, off: tuple[str, ...], last: str | None, loads: dict[str, int], expected: str
) -> None:
    chosen = choose_expert(
        opened(community(rotation=rotation)), Roster(out_of_hours=off, last_assigned=last, loads=loads)
    )
    assert chosen is not None and chosen.key == expected


def test_away_still_wins_over_working_hours() -> None:
    roster = Roster(out_of_hours=("bob", "carol"), away={"alice": None})
    chosen = choose_expert(opened(), roster)
    assert chosen is not None and chosen.key == "bob"


def test_the_audit_names_who_was_passed_over_as_out_of_hours() -> None:
    esc = fire(opened()).escalation
    assert esc.next_step == Step.assign
    decision = fire(esc, Roster(out_of_hours=("alice", "bob")))
    assert decision.escalation.owner is not None and decision.escalation.owner.person == CAROL
    assert decision.detail["out_of_hours"] == ["alice", "bob"]
    assert decision.detail["owner_out_of_hours"] is False
    # Nobody inside their hours: nothing was avoided, nothing said; the interruption is recorded.
    decision = fire(esc, Roster(out_of_hours=("alice", "bob", "carol", "lena")))
    assert decision.escalation.owner is not None and decision.escalation.owner.person == ALICE
    assert "out_of_hours" not in decision.detail
    assert decision.detail["owner_out_of_hours"] is True


def test_the_report_takes_what_the_rotation_knew_over_the_configured_hours() -> None:
    esc = opened(world()).model_copy(update={"created_at": NIGHT_IN_LONDON, "updated_at": NIGHT_IN_LONDON})
    events = [
        # What the rotation knew (say, a zone from Slack) wins over Tokyo's and New York's hours.
        AuditEvent(esc.id, NIGHT_IN_LONDON, "auto_assigned", "system", {"owner": "alice", "owner_out_of_hours": True}),
        AuditEvent(esc.id, NIGHT_IN_LONDON, "auto_assigned", "system", {"owner": "bob", "owner_out_of_hours": False}),
    ]
    report = compute([esc], events, T0.replace(day=1), T0.replace(day=9))
    assert [report.experts[k].out_of_hours for k in ("alice", "bob")] == [1, 0]


def test_the_report_counts_against_the_experts_own_hours_and_what_was_avoided() -> None:
    esc = opened(world()).model_copy(update={"created_at": NIGHT_IN_LONDON, "updated_at": NIGHT_IN_LONDON})

    def handed(owner: str, **detail: object) -> AuditEvent:
        return AuditEvent(esc.id, NIGHT_IN_LONDON, "auto_assigned", "system", {"owner": owner, **detail})

    events = [handed("alice", out_of_hours=["bob", "carol"]), handed("bob"), handed("carol")]
    report = compute([esc], events, T0.replace(day=1), T0.replace(day=9))
    # Alice's own hours (Tokyo) are open at 02:00 UTC though London's are not; Bob's own are not.
    assert [report.experts[k].out_of_hours for k in ("alice", "bob", "carol")] == [0, 1, 1]
    assert report.total.out_of_hours_avoided == 1 and report.communities["db"].out_of_hours_avoided == 1


PEOPLE = """
people:
  - {name: Ada, slack: U0ADA, timezone: Asia/Tokyo, hours: "%s"}
  - {name: Ben, slack: U0BEN, timezone: %s}
communities:
  - key: sdk
    slack: {channel: C0123ABCD}
    experts: [ada, ben, "slack:U0CAT"]
    %s
"""
POLICY = "policy: {business_hours: {timezone: Europe/London, days: [mon, tue, wed, thu], start: '08:00', end: '16:00'}}"


def test_own_hours_from_the_people_entry() -> None:
    sdk = parse_config(PEOPLE % ("09:00-17:30", "America/New_York", POLICY)).get("sdk")
    assert sdk is not None
    ada, ben, cat = sdk.experts
    assert ada.hours == BusinessHours(
        timezone="Asia/Tokyo", days=("mon", "tue", "wed", "thu"), start=time(9), end=time(17, 30)
    )
    # A time zone alone: the community's days and hours, in their own zone.
    assert ben.hours == BusinessHours(
        timezone="America/New_York", days=("mon", "tue", "wed", "thu"), start=time(8), end=time(16)
    )
    assert cat.hours is None


@pytest.mark.parametrize(
    ("hours", "zone", "policy", "expected"),
    [
        ("9-5", "UTC", "", "field 'people.0.hours': hours '9-5' is not a span of the day: write it like 09:00-17:30"),
        ("17:00-09:00", "UTC", "", "the end must come after the start"),
        ("25:00-26:00", "UTC", "", "is not a span of the day"),
        ("09:00-17:00", "Mars/Olympus", "", "unknown time zone 'Mars/Olympus': use an IANA name"),
    ],
)
def test_bad_own_hours_are_one_clear_line(hours: str, zone: str, policy: str, expected: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config(PEOPLE % (hours, zone, policy), "e.yaml")
    assert expected in str(error.value) and "\n" not in str(error.value)


def test_hours_without_a_time_zone_anywhere_is_refused() -> None:
    text = PEOPLE.replace(", timezone: Asia/Tokyo", "") % ("09:00-17:00", "UTC", "")
    with pytest.raises(ConfigError) as error:
        parse_config(text, "e.yaml")
    assert str(error.value) == (
        "e.yaml: community 'sdk': Ada: hours needs a timezone (the community has no business_hours to take it from)"
    )


@pytest.mark.parametrize(
    ("zones", "hours", "expected"),
    [
        # Carol's zone from Slack: the community's hours (London's 09:00-17:00) read in Tokyo's clock.
        ({"carol": "Asia/Tokyo"}, LONDON_HOURS, ("bob", "lena")),
        # The configuration's own hours win over the platform's zone.
        ({"alice": "Europe/London", "carol": "Asia/Tokyo"}, LONDON_HOURS, ("bob", "lena")),
        # No community hours: 09:00-17:00 on weekdays in their zone; unknown people never out.
        ({"carol": "America/New_York"}, None, ("bob", "carol")),
        ({"carol": "Not/AZone"}, LONDON_HOURS, ("bob", "carol", "lena")),
    ],
)
def test_a_zone_from_the_platform_reads_the_communitys_hours_in_it(
    zones: dict[str, str], hours: BusinessHours | None, expected: tuple[str, ...]
) -> None:
    assert out_of_hours(world(hours=hours), NIGHT_IN_LONDON, zones) == expected
