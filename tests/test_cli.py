"""The `escalation-bot` command as an operator meets it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from bot.app import build_app
from bot.cli import main
from bot.config import ConfigError, load_config, parse_config
from bot.migrate import SchemaNotCurrent, check_current
from bot.runtime import Runtime
from storage import Store
from tests.support import RecordingSender, directory
from workflows.clock import FakeClock
from workflows.model import Platform

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd or ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        check=False,
    )


def test_demo_tells_the_whole_story_and_exits_zero() -> None:
    result = run_cli("demo")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for moment in ("escalates", "nudges", "assigns by rotation", "reassigns", "accepts", "answers", "resolves"):
        assert moment in out
    # The question mentions <!channel>; the console shows it as text, and nothing is left undelivered.
    assert "Status: resolved" in out and "undelivered: 0" in out
    assert "Traceback" not in result.stderr


def test_config_check_prints_effective_policy(tmp_path: Path) -> None:
    result = run_cli("config", "check", str(ROOT / "escalation.example.yaml"))
    assert result.returncode == 0, result.stderr
    assert "sdk — Mobile SDK" in result.stdout
    assert "nudge_after: 15m" in result.stdout  # the community's own value
    assert "assign_after: 2h" in result.stdout  # inherited from defaults
    assert "business hours: mon, tue, wed, thu, fri 09:00-17:30 Europe/London, holidays GB" in result.stdout


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        (
            "communities: [{key: sdk, slack: {channel: C0123ABCD}, experts: ['slack:U1'], policy: {nudge_after: 5q}}]",
            "community 'sdk', field 'policy.nudge_after': '5q' is not a duration",
        ),
        (
            "communities: [{key: sdk, slack: {channel: C0123ABCD}, experts: ['slack:U1'],"
            " policy: {business_hours: {timezone: Mars/Olympus}}}]",
            "unknown time zone 'Mars/Olympus'",
        ),
        (
            "defaults: {policy: {assign_after: 1h}}\ncommunities: [{key: sdk, slack: {channel: C0123ABCD}}]",
            "community 'sdk': auto-assignment is on (assign_after/reassign_after) but there are no experts",
        ),
        ("communities: [{key: sdk}]", "community 'sdk': needs a slack or a teams channel"),
        ("communities: [{key: sdk, slack: {channel: '#general'}}]", "is not a Slack channel id"),
        ("communities: [{key: sdk, slack: {channel: C0123ABCD}, experts: ['U1']}]", "is not a person"),
        ("communities: [{key: sdk, slack: {channel: C0123ABCD}, colour: red}]", "field 'colour': unknown field"),
        ("communities: [\n  - key: [", "not valid YAML"),
        (
            "communities: [{key: sdk, slack: {channel: C0123ABCD}, experts: ['slack:U1'],"
            " policy: {business_hours: {timezone: UTC, holidays: XX}}}]",
            "unknown holiday calendar 'XX'",
        ),
    ],
)
def test_bad_configuration_names_file_community_and_field(
    tmp_path: Path, yaml_text: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml_text)
    with pytest.raises(ConfigError) as error:
        load_config(path)
    assert str(path) in str(error.value)
    assert expected in str(error.value)
    assert main(["config", "check", str(path)]) == 2
    assert expected in capsys.readouterr().err


def test_bad_configuration_from_the_shell_has_no_traceback(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("communities: [{key: sdk, slack: {channel: C0123ABCD}, policy: {nudge_after: soon}}]")
    result = run_cli("config", "check", str(path))
    assert result.returncode == 2
    assert "'soon' is not a duration" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_config_file_is_explained(tmp_path: Path) -> None:
    result = run_cli("config", "check", str(tmp_path / "absent.yaml"))
    assert result.returncode == 2
    assert "configuration file not found" in result.stderr


def test_people_map_one_expert_across_platforms() -> None:
    text = textwrap.dedent(
        """
        people: [{name: Ada, slack: U0ADA, teams: "29:1ada"}]
        communities:
          - key: sdk
            slack: {channel: C0123ABCD}
            experts: ["slack:U0ADA", "teams:29:1ada", "slack:U0BEN"]
        """
    )
    community = parse_config(text).get("sdk")
    assert community is not None
    assert [e.key for e in community.experts] == ["slack:U0ADA", "slack:U0BEN"]
    assert {r.key for r in community.experts[0].refs} == {"slack:U0ADA", "teams:29:1ada"}


def test_migrate_then_serve_checks_pass(tmp_path: Path) -> None:
    from tests.test_cli_errors import free_port

    database = tmp_path / "bot.db"
    config = tmp_path / "escalation.yaml"
    config.write_text((ROOT / "escalation.example.yaml").read_text())
    env = {"DATABASE_URL": f"sqlite:///{database}", "ESCALATION_CONFIG": str(config), "HOST": "127.0.0.1"}
    # A database that was never migrated is refused with the fix in the message, and not created.
    serve = run_cli("serve", "--port", str(free_port()), env=env)
    assert serve.returncode == 2
    assert "no database" in serve.stderr and "escalation-bot migrate" in serve.stderr
    assert not database.exists()
    migrated = run_cli("migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    assert "created the schema at revision" in migrated.stdout


def test_main_returns_2_for_bad_config_in_process(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("communities: []")
    assert main(["config", "check", str(path)]) == 2
    assert "no communities" in capsys.readouterr().err


async def test_health_and_readiness(database_url: str, clock: FakeClock, tmp_path: Path) -> None:
    runtime = Runtime(Store(database_url), directory(), {Platform.slack: RecordingSender()}, clock=clock)
    app = build_app(runtime, start_jobs=False)
    async with TestClient(TestServer(app)) as client:
        health = await client.get("/healthz")
        assert health.status == 200
        ready = await client.get("/readyz")
        body = await ready.json()
        assert ready.status == 200, body
        assert body["database"] == "ok" and body["migrations"] == "current"
        assert body["oldest_undelivered_s"] == 0
    # A database without the schema is not ready, and says why.
    empty = Store(f"sqlite:///{tmp_path / 'empty.db'}")
    try:
        with pytest.raises(SchemaNotCurrent):
            await check_current(empty.engine)
        app = build_app(Runtime(empty, directory(), {}, clock=clock), start_jobs=False)
        async with TestClient(TestServer(app)) as client:
            ready = await client.get("/readyz")
            assert ready.status == 503
            assert "escalation-bot migrate" in (await ready.json())["migrations"]
    finally:
        await empty.close()


def test_off_switches_digest_and_deflection_off() -> None:
    text = """
communities:
  - {key: a, slack: {channel: C0123ABCD}, policy: {digest_at: off, deflection_wait: off}}
  - {key: b, slack: {channel: C0123ABCD}}
"""
    d = parse_config(text)
    a, b = d.get("a"), d.get("b")
    assert a is not None and b is not None
    assert a.policy.digest_at is None and a.policy.deflection_wait is None
    assert b.policy.digest_at is not None and b.policy.deflection_wait is not None
