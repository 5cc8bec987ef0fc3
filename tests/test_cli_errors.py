"""A wrong setting or a failing environment is one line on stderr naming the setting or the
cause, a non-zero exit, no traceback, and nothing left behind in the folder it ran in."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
CONFIG = """
communities:
  - key: sdk
    slack: {channel: C0SDK0001}
    experts: ["slack:U0ADA"]
"""
TEAMS_PACKAGE = ["teams-package", "--app-id", "00000000-0000-0000-0000-000000000001", "--host", "bot.example.com"]
# Every variable the bot reads: the tests set what they mean to, and nothing leaks in.
OURS = {field.validation_alias for field in Settings.model_fields.values()}


def run_in(folder: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k not in OURS}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=folder,
        env={
            **base,
            "PYTHONPATH": str(ROOT),
            "ESCALATION_CONFIG": "escalation.yaml",
            "HOST": "127.0.0.1",
            "PORT": str(free_port()),
            **(env or {}),
        },
        check=False,
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A folder holding only the configuration, as an admin's would."""
    (tmp_path / "escalation.yaml").write_text(CONFIG)
    return tmp_path


def assert_one_line(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode != 0, result
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for word in words:
        assert word in lines[0], lines[0]


def assert_nothing_left(folder: Path) -> None:
    assert sorted(p.name for p in folder.iterdir()) == ["escalation.yaml"]


@pytest.mark.parametrize(
    ("command", "env", "named"),
    [
        (["migrate"], {"DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1:1/x"}, "DATABASE_URL"),
        (["migrate"], {"DATABASE_URL": "not-a-url"}, "DATABASE_URL"),
        (["migrate"], {"DATABASE_URL": "mysql://admin:s3cret@db.example.com/bot"}, "DATABASE_URL"),
        (["migrate"], {"DATABASE_URL": "sqlite:///no-such-folder/bot.db"}, "DATABASE_URL"),
        (["migrate"], {"LOG_LEVEL": "verbose"}, "LOG_LEVEL"),
        (["migrate"], {"LOG_FORMAT": "xml"}, "LOG_FORMAT"),
        (["serve"], {"LOG_LEVEL": "verbose"}, "LOG_LEVEL"),
        (["serve"], {"PORT": "-5"}, "PORT"),
        (["serve"], {"PORT": "99999"}, "PORT"),
        (["serve"], {"PORT": "abc"}, "PORT"),
        (["serve"], {"DATABASE_URL": "sqlite:///no-such-folder/bot.db"}, "DATABASE_URL"),
        # Only `migrate` creates a database: the others do not leave an empty file behind.
        (["serve"], {}, "escalation-bot migrate"),
        (["report"], {}, "escalation-bot migrate"),
        (["outbox", "list"], {}, "escalation-bot migrate"),
        (
            [*TEAMS_PACKAGE, "-o", "/nonexistent/x.zip"],
            {},
            "/nonexistent/x.zip",
        ),
    ],
)
def test_a_bad_setting_is_one_line_and_leaves_nothing(
    folder: Path, command: list[str], env: dict[str, str], named: str
) -> None:
    result = run_in(folder, *command, env=env)
    assert_one_line(result, named)
    assert "s3cret" not in result.stderr  # a database URL's password is never echoed
    assert_nothing_left(folder)


def test_the_port_in_use_is_one_line_and_nothing_starts(folder: Path) -> None:
    assert run_in(folder, "migrate").returncode == 0
    (folder / "escalation-bot.db").rename(folder / "kept.db")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_in(
            folder, "serve", env={"HOST": "127.0.0.1", "PORT": str(port), "DATABASE_URL": "sqlite:///kept.db"}
        )
    assert_one_line(result, "PORT", str(port), "already in use")
    assert sorted(p.name for p in folder.iterdir()) == ["escalation.yaml", "kept.db"]  # no lock, no WAL


def test_a_closed_pipe_ends_the_output_quietly(folder: Path) -> None:
    read, write = os.pipe()
    os.close(read)  # the reader (`| head -1`) is gone before the first line is written
    try:
        result = subprocess.run(
            [sys.executable, "-m", "bot.cli", "config", "check", str(ROOT / "escalation.example.yaml")],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            cwd=folder,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            check=False,
        )
    finally:
        os.close(write)
    assert result.stderr == ""
    assert result.returncode == 141  # as a Unix tool ended by SIGPIPE


@pytest.mark.parametrize("command", [["config", "check"], ["demo"], ["migrate"], ["teams-package", "--help"]])
def test_a_setting_a_command_does_not_read_does_not_stop_it(folder: Path, command: list[str]) -> None:
    result = run_in(folder, *command, env={"PORT": "abc", "EVENT_LOOP": "tokio", "SWEEP_INTERVAL_SECONDS": "-1"})
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
