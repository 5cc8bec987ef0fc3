"""``escalate_reactions``: read at the top level and per channel, checked with one line per
mistake, shown by ``config check``."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.config import ConfigError, parse_config

COMMUNITIES = """
communities:
  - key: sdk
    name: Mobile SDK
    slack: {channel: C0123ABCD}
    policy: {claim_reactions: [eyes], resolve_reactions: [white_check_mark]}
  - {key: billing, name: Billing, slack: {channel: C0456EFGH}}
"""


def test_the_map_everywhere_and_per_channel() -> None:
    directory = parse_config(
        COMMUNITIES
        + "escalate_reactions: {':sos:': sdk}\n"
        + "channels: {C0SUPPORT1: {escalate_reactions: {moneybag: billing, sos: billing}}}\n"
    )
    reactions = directory.escalate_reactions
    assert reactions.community_for("C0SUPPORT1", "moneybag") == "billing"
    assert reactions.community_for("C0SUPPORT1", "sos") == "billing"  # the channel's own wins
    assert reactions.community_for("C0OTHER001", "sos") == "sdk"
    assert reactions.community_for("C0OTHER001", "moneybag") is None
    assert parse_config(COMMUNITIES).escalate_reactions.community_for("C0SUPPORT1", "sos") is None


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (
            "escalate_reactions: {sos: sdkk}",
            "escalate_reactions: :sos: goes to 'sdkk', which is no community (known: billing, sdk)",
        ),
        (
            "escalate_reactions: {eyes: sdk}",
            "escalate_reactions: :eyes: is also a claim reaction (community 'sdk'); pick another emoji",
        ),
        (
            "channels: {C0SUPPORT1: {escalate_reactions: {white_check_mark: billing}}}",
            "channels.C0SUPPORT1.escalate_reactions: :white_check_mark: is also a resolve reaction (community 'sdk')",
        ),
        (
            "escalate_reactions: {raising_hand: billing}",  # the default claim emoji of billing
            ":raising_hand: is also a claim reaction (community 'billing')",
        ),
        ("channels: {'19:abc@thread.tacv2': {escalate_reactions: {sos: sdk}}}", "works in Slack only"),
        ("escalate_reactions: {'two words': sdk}", "'two words' is not an emoji name"),
    ],
)
def test_mistakes_are_one_line_each(extra: str, says: str) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_config(COMMUNITIES + extra + "\n", "escalation.yaml")
    assert says in str(refused.value)
    assert "\n" not in str(refused.value)


def test_config_check_shows_the_map_and_refuses_a_clash(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "escalation.yaml"
    path.write_text(
        COMMUNITIES
        + "escalate_reactions: {sos: sdk}\nchannels: {C0SUPPORT1: {escalate_reactions: {moneybag: billing}}}\n"
    )
    assert main(["config", "check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "in every channel the bot is in: :sos: -> sdk (Mobile SDK)" in out
    assert "in C0SUPPORT1: :moneybag: -> billing (Billing)" in out
    path.write_text(COMMUNITIES + "escalate_reactions: {eyes: sdk}\n")
    assert main(["config", "check", str(path)]) == 2
    assert ":eyes: is also a claim reaction" in capsys.readouterr().err
