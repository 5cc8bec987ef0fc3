"""open_roster and away_statuses in a community's configuration."""

from __future__ import annotations

from bot.config import parse_config
from workflows.model import DEFAULT_AWAY_STATUSES

TEXT = """
communities:
  - {key: a, slack: {channel: C0123ABCD}, experts: ['slack:U1'], open_roster: true, away_statuses: [':beach:', sick]}
  - {key: b, slack: {channel: C0123ABCE}, experts: ['slack:U1']}
"""


def test_open_roster_and_away_statuses() -> None:
    directory = parse_config(TEXT)
    a, b = directory.get("a"), directory.get("b")
    assert a is not None and b is not None
    assert a.open_roster and not b.open_roster
    assert a.away_statuses == (":beach:", "sick")
    assert b.away_statuses == DEFAULT_AWAY_STATUSES
