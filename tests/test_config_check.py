"""`config check`: warnings for configuration that is valid but quietly does harm, and
errors that say how to fix a typo."""

from __future__ import annotations

import logging
import textwrap
from pathlib import Path

import pytest

from bot.app import RUNTIME
from bot.cli import main
from bot.config import ConfigError, parse_config
from bot.settings import Settings
from bot.wiring import build_server
from storage import Store
from workflows.model import Platform

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "escalation.example.yaml"
PLATFORM_SETTINGS = (
    "SLACK_BOT_TOKEN",
    "SLACK_SIGNING_SECRET",
    "SLACK_APP_TOKEN",
    "MICROSOFT_APP_ID",
    "MICROSOFT_APP_PASSWORD",
    "TEAMS_ENABLED",
)


@pytest.fixture
def only_slack(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in PLATFORM_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "s")


def check(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["config", "check", *args])
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "escalation.yaml"
    path.write_text(textwrap.dedent(text))
    return str(path)


# ----------------------------------------------------------- a platform that is not on


def test_the_example_with_only_slack_names_the_teams_channel(
    only_slack: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = check(capsys, str(EXAMPLE))
    assert code == 0
    [warning] = err.splitlines()
    assert warning.startswith("warning: community 'sdk': its teams channel 19:abc@thread.tacv2 is not used")
    assert "MICROSOFT_APP_ID" in warning
    assert "OK, 2 communities, 1 warning(s)" in out
    assert "teams:19:abc@thread.tacv2 (not used: platform not configured)" in out


def test_strict_refuses_the_example_with_only_slack(only_slack: None, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = check(capsys, "--strict", str(EXAMPLE))
    assert code == 1
    assert "community 'sdk'" in err and "teams channel 19:abc@thread.tacv2" in err
    assert "refused (--strict)" in err and "OK" not in out


def test_with_both_platforms_the_example_is_clean(
    only_slack: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("MICROSOFT_APP_ID", "00000000-0000-0000-0000-000000000001")
    monkeypatch.setenv("MICROSOFT_APP_PASSWORD", "p")
    code, out, err = check(capsys, "--strict", str(EXAMPLE))
    assert (code, err) == (0, "")
    assert "OK, 2 communities\n" in out


def test_a_community_and_people_only_on_a_platform_that_is_off(
    only_slack: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(
        tmp_path,
        """
        communities:
          - key: web
            teams: {channel: "19:web@thread.tacv2"}
            experts: ["teams:29:1ada"]
          - key: sdk
            slack: {channel: C0123ABCD}
            experts: ["slack:U0ADA", "teams:29:1ben"]
        """,
    )
    code, _, err = check(capsys, path)
    assert code == 0
    assert "community 'web': has no channel on a configured platform: questions to it are refused" in err
    assert "community 'sdk': expert teams:29:1ben is only on teams, which is not configured here" in err


async def test_serve_names_the_channel_and_never_addresses_it(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings.model_validate(
        {"DATABASE_URL": "sqlite://", "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
    )
    directory = parse_config(EXAMPLE.read_text(), str(EXAMPLE))
    with caplog.at_level(logging.WARNING, logger="escalation_bot.wiring"):
        app = await build_server(settings, directory, store, start_jobs=False)
    assert any(
        "community 'sdk'" in r.getMessage() and "teams channel 19:abc@thread.tacv2" in r.getMessage()
        for r in caplog.records
    )
    served = app[RUNTIME].service.directory
    # What the file says beyond communities stays as it is.
    assert (served.admins, served.escalate_reactions) == (directory.admins, directory.escalate_reactions)
    sdk = served.get("sdk")
    assert sdk is not None
    assert [c.platform for c in sdk.channels] == [Platform.slack]
    assert all(ref.platform == Platform.slack for e in sdk.experts for ref in e.refs)
    for hook in app.on_cleanup:
        await hook(app)


async def test_a_reloaded_file_is_served_like_the_first(
    store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "escalation.yaml"
    path.write_text(EXAMPLE.read_text())
    settings = Settings.model_validate(
        {
            "DATABASE_URL": "sqlite://",
            "ESCALATION_CONFIG": str(path),
            "SLACK_BOT_TOKEN": "x",
            "SLACK_SIGNING_SECRET": "s",
        }
    )
    app = await build_server(settings, parse_config(path.read_text(), str(path)), store, start_jobs=False)
    runtime = app[RUNTIME]
    path.write_text(EXAMPLE.read_text().replace("name: Mobile SDK", "name: Mobile SDKs"))
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="escalation_bot.config"):
        assert runtime.config_reloader is not None and await runtime.config_reloader.reload("test")
    sdk = runtime.service.directory.get("sdk")
    assert sdk is not None and sdk.name == "Mobile SDKs"
    assert [c.platform for c in sdk.channels] == [Platform.slack]
    assert any("teams channel 19:abc@thread.tacv2 is not used" in r.getMessage() for r in caplog.records)
    for hook in app.on_cleanup:
        await hook(app)


# ----------------------------------------------------------- policy warnings


BASE = """
communities:
  - key: sdk
    slack: {{channel: C0123ABCD}}
    experts: [{experts}]
    policy: {{{policy}}}
"""


@pytest.mark.parametrize(
    ("experts", "policy", "expected"),
    [
        (
            '"slack:U0ADA"',
            "nudge_after: 2h, assign_after: 30m",
            "community 'sdk': nudge_after (2h) is longer than assign_after (30m)",
        ),
        (
            '"slack:U0ADA"',
            "nudge_after: 10m, assign_after: 1h, priority: {urgent: {nudge_after: 20m, assign_after: 15m}}",
            "community 'sdk', priority urgent: nudge_after (20m) is longer than assign_after (15m)",
        ),
        (
            '"slack:U0ADA"',
            "claim_reactions: [eyes, white_check_mark], resolve_reactions: [white_check_mark]",
            "community 'sdk': :white_check_mark: is in both claim_reactions and resolve_reactions",
        ),
        (
            '"slack:u0ada"',
            "digest_at: off",
            "community 'sdk': slack:u0ada is not a Slack id as Slack writes it: Slack ids are upper case (slack:U0ADA)",
        ),
    ],
)
def test_config_check_warns_and_strict_refuses(
    only_slack: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], experts: str, policy: str, expected: str
) -> None:
    path = write(tmp_path, BASE.format(experts=experts, policy=policy))
    code, out, err = check(capsys, path)
    assert code == 0 and "OK" in out
    assert f"warning: {expected}" in err
    code, _, err = check(capsys, "--strict", path)
    assert code == 1 and expected in err


def test_a_sound_policy_has_no_warning(only_slack: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, BASE.format(experts='"slack:U0ADA"', policy="nudge_after: 30m, assign_after: 30m"))
    assert check(capsys, "--strict", path)[:3:2] == (0, "")


# ----------------------------------------------------------- what is accepted, and typos


def test_holidays_take_the_country_code_in_any_case() -> None:
    config = parse_config(
        "communities: [{key: sdk, slack: {channel: C0123ABCD}, policy: "
        "{business_hours: {timezone: Europe/London, holidays: gb}}}]"
    )
    sdk = config.get("sdk")
    assert sdk is not None and sdk.policy.business_hours is not None
    assert sdk.policy.business_hours.holidays == "GB"


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        (
            "communities: [{key: sdk, slack: {channel: C0123ABCD}, experts: ['slack:U1'], policy: {nudge_afer: 5m}}]",
            "community 'sdk', field 'policy.nudge_afer': unknown field; did you mean `nudge_after`?",
        ),
        (
            "defaults: {policy: {asign_after: 1h}}\ncommunities: [{key: sdk, slack: {channel: C0123ABCD}}]",
            "field 'defaults.policy.asign_after': unknown field; did you mean `assign_after`?",
        ),
        (
            "communities: [{key: sdk, slack: {channel: C0123ABCD}, expert: ['slack:U1']}]",
            "community 'sdk', field 'expert': unknown field; did you mean `experts`?",
        ),
        (
            "communities: [{key: sdk, slack: {chanel: C0123ABCD}}]",
            "community 'sdk', field 'slack.chanel': unknown field; did you mean `channel`?",
        ),
        (
            "communities: [{key: sdk, slack: {channel: C0123ABCD}, policy: "
            "{business_hours: {timezone: UTC, holiday: GB}}}]",
            "community 'sdk', field 'policy.business_hours.holiday': unknown field; did you mean `holidays`?",
        ),
        (
            "communities: [{key: sdk, slack: {channel: C0123ABCD}, colour: red}]",
            "community 'sdk', field 'colour': unknown field",
        ),
    ],
)
def test_a_mistyped_field_gets_one_line_with_a_suggestion(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], yaml_text: str, expected: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml_text)
    assert main(["config", "check", str(path)]) == 2
    err = capsys.readouterr().err
    assert err == f"escalation-bot: {path}: {expected}\n"


PEOPLE = """
people:
  - {name: Ada, slack: U0ADA, teams: "29:1ada"}
  - {name: Ben, slack: U0BEN}
communities:
  - key: sdk
    slack: {channel: C0123ABCD}
    experts: [%s]
    lead: %s
"""


def test_experts_and_the_lead_may_be_named_by_their_people_name() -> None:
    sdk = parse_config(PEOPLE % ("ada, Ben, 'slack:U0ADA'", "BEN")).get("sdk")
    assert sdk is not None
    assert [(e.key, e.name) for e in sdk.experts] == [("slack:U0ADA", "Ada"), ("slack:U0BEN", "Ben")]
    assert {r.key for r in sdk.experts[0].refs} == {"slack:U0ADA", "teams:29:1ada"}
    assert sdk.lead is not None and sdk.lead.key == "slack:U0BEN"


@pytest.mark.parametrize(
    ("experts", "lead", "where"),
    [("ada, Eve", "Ben", "experts[1]"), ("ada", "Lee", "lead")],
)
def test_an_unknown_name_is_a_clear_error(experts: str, lead: str, where: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config(PEOPLE % (experts, lead), "e.yaml")
    message = str(error.value)
    assert message.startswith(f"e.yaml: community 'sdk', {where}: ")
    assert "is not a person: no one in people is called that (Ada, Ben)" in message
    assert "\n" not in message


def test_config_check_says_the_digest_time_zone(only_slack: None, capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = check(capsys, str(EXAMPLE))
    assert "digest at: 09:00 Europe/London" in out  # sdk: its business hours' zone
    assert "digest at: 09:00 UTC" in out  # billing: no business hours
