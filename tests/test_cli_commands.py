"""What the commands say: `migrate` tells what it did, logs keep their fields as text, every
option is explained and each command's help names the settings it reads."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.cli import READS, _parser
from bot.logs import setup_logging
from bot.migrate import head_revision, upgrade
from bot.settings import names
from storage.db import normalize_url
from tests.conftest import TEST_DATABASE_URL, _admin

ROOT = Path(__file__).resolve().parents[1]


def run_cli(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        check=False,
    )


@pytest.fixture
async def fresh_database_url(tmp_path: Path) -> AsyncIterator[str]:
    """A database with nothing in it: a new PostgreSQL database, or a SQLite file not yet made."""
    if not TEST_DATABASE_URL:
        yield f"sqlite:///{tmp_path / 'fresh.db'}"
        return
    name = f"eb_fresh_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    await _admin(TEST_DATABASE_URL, f'CREATE DATABASE "{name}"')
    try:
        yield make_url(normalize_url(TEST_DATABASE_URL)).set(database=name).render_as_string(hide_password=False)
    finally:
        await _admin(TEST_DATABASE_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def test_migrate_says_what_it_did(fresh_database_url: str, tmp_path: Path) -> None:
    head = head_revision()
    env = {"DATABASE_URL": fresh_database_url}
    created = await asyncio.to_thread(run_cli, "migrate", env=env, cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    assert f"created the schema at revision {head}" in created.stdout
    again = await asyncio.to_thread(run_cli, "migrate", env=env, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert f"already up to date at revision {head}" in again.stdout


async def test_migrate_names_the_revisions_it_upgraded_between(fresh_database_url: str, tmp_path: Path) -> None:
    await upgrade(fresh_database_url, "0005")
    result = await asyncio.to_thread(run_cli, "migrate", env={"DATABASE_URL": fresh_database_url}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"upgraded from revision 0005 to {head_revision()}" in result.stdout


def test_text_logs_keep_the_structured_fields(capsys: pytest.CaptureFixture[str]) -> None:
    setup_logging("text", "INFO")
    logging.getLogger("escalation_bot.test").info(
        "outbox row stuck", extra={"escalation_id": "E1", "age_s": 12.5, "error": "rate limited (429)", "ids": [1, 2]}
    )
    line = capsys.readouterr().err.strip()
    assert line.endswith('outbox row stuck escalation_id=E1 age_s=12.5 error="rate limited (429)" ids=1,2'), line


def _walk(parser: argparse.ArgumentParser, path: str = "escalation-bot") -> Iterator[tuple[str, argparse.Action]]:
    for action in parser._actions:
        yield path, action
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from _walk(child, f"{path} {name}")


def test_every_option_and_command_has_help() -> None:
    silent = []
    for path, action in _walk(_parser()):
        if isinstance(action, argparse._SubParsersAction):
            helped = {choice.dest for choice in action._choices_actions if choice.help}
            silent += [f"{path} {name}" for name in action.choices if name not in helped]
        elif not action.help or action.help == argparse.SUPPRESS:
            silent.append(f"{path} {'/'.join(action.option_strings) or action.dest}")
    assert not silent, f"without help text: {silent}"


@pytest.mark.parametrize("command", sorted(READS))
def test_each_command_help_names_the_settings_it_reads(command: str) -> None:
    subparsers = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    text = subparsers.choices[command].format_help()
    expected = names(*READS[command])
    assert all(name in " ".join(text.split()) for name in expected), text
    assert expected or "Reads no settings" in text
    assert command not in ("migrate", "report", "outbox") or "DATABASE_URL" in expected
    assert command not in ("config", "report", "serve") or "ESCALATION_CONFIG" in expected


def test_version() -> None:
    from importlib.metadata import version

    result = run_cli("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"escalation-bot {version('escalation-bot')}"
