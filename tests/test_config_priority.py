"""``priority:`` in a community's policy: read, checked with one line per mistake, shown by ``config check``."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import ConfigError, load_config, parse_config
from workflows.model import Priority

ROOT = Path(__file__).resolve().parents[1]
BASE = "communities: [{key: sdk, slack: {channel: C0123ABCD}, experts: ['slack:U1'], policy: {priority: %s}}]"


def test_the_example_config_has_an_urgent_clock() -> None:
    community = load_config(ROOT / "escalation.example.yaml").get("sdk")
    assert community is not None
    urgent = community.policy.timers_for(Priority.urgent)
    assert urgent.nudge_after == timedelta(minutes=5) and urgent.assign_after == timedelta(minutes=15)
    # Not named under urgent: the policy's (the defaults' 1d).
    assert urgent.reassign_after == timedelta(days=1)
    assert community.policy.hours_for(Priority.urgent) is None
    assert community.policy.hours_for(Priority.normal) is not None
    assert community.policy.mentions_lead(Priority.urgent) and not community.policy.mentions_lead(Priority.normal)
    low = community.policy.timers_for(Priority.low)
    assert low.nudge_after is None and low.assign_after == timedelta(days=1)


def test_config_check_shows_each_priority_clock(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "check", str(ROOT / "escalation.example.yaml")]) == 0
    out = capsys.readouterr().out
    assert "priority urgent: nudge_after 5m, assign_after 15m, round the clock, nudge mentions the lead" in out
    assert "priority low: nudge_after off, assign_after 1d" in out


def test_defaults_give_every_community_the_priorities_unless_it_has_its_own() -> None:
    text = (
        "defaults: {policy: {nudge_after: 30m, priority: {urgent: {nudge_after: 1m}}}}\n"
        "communities:\n"
        "  - {key: a, slack: {channel: C0123ABCD}, experts: ['slack:U1']}\n"
        "  - {key: b, slack: {channel: C0123ABCE}, experts: ['slack:U1'],\n"
        "     policy: {priority: {high: {nudge_after: 9m}}}}\n"
    )
    directory = parse_config(text)
    a, b = directory.get("a"), directory.get("b")
    assert a is not None and b is not None
    assert a.policy.timers_for(Priority.urgent).nudge_after == timedelta(minutes=1)
    assert b.policy.timers_for(Priority.urgent).nudge_after == timedelta(minutes=30)
    assert b.policy.timers_for(Priority.high).nudge_after == timedelta(minutes=9)


@pytest.mark.parametrize(
    ("rules", "expected"),
    [
        ("{urgnt: {nudge_after: 5m}}", "field 'policy.priority.urgnt.[key]': Input should be 'low', 'normal'"),
        ("{urgent: {nudge_after: soon}}", "field 'policy.priority.urgent.nudge_after': 'soon' is not a duration"),
        ("{urgent: {page_after: 5m}}", "field 'policy.priority.urgent.page_after': unknown field"),
        ("{urgent: {business_hours: maybe}}", "business_hours under a priority is on or off"),
        ("{urgent: 5m}", "field 'policy.priority.urgent'"),
    ],
)
def test_a_bad_priority_is_one_line_naming_it(
    tmp_path: Path, rules: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BASE % rules)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    lines = str(error.value).splitlines()
    assert len(lines) == 1 and expected in lines[0], lines
    assert main(["config", "check", str(path)]) == 2
    assert expected in capsys.readouterr().err
