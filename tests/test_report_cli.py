"""`escalation-bot report` as an admin runs it: wrong options refused in one line, a table that
fits 100 columns, its columns explained, CSV as one table with experts by name."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from storage import Store
from tests.test_metrics import CONFIG, seeded

Run = Callable[..., Awaitable[subprocess.CompletedProcess[str]]]
ROOT = Path(__file__).resolve().parents[1]
NAMED = CONFIG.replace(
    "communities:",
    "people:\n  - {name: Ada Lovelace, slack: U0ADA}\n  - {name: Ben Okri, slack: U0BEN}\ncommunities:",
    1,
)


@pytest.fixture
async def report(store: Store, database_url: str, tmp_path: Path) -> Run:
    await seeded(store)
    config = tmp_path / "escalation.yaml"
    config.write_text(NAMED)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "DATABASE_URL": database_url, "ESCALATION_CONFIG": str(config)}

    async def run(*args: str) -> subprocess.CompletedProcess[str]:
        return await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "bot.cli", "report", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )

    return run


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--community", "mobile"], "--community mobile: no such community (the configuration has billing, ops, sdk)"),
        (["--since", "2999-01-01"], "--since 2999-01-01 is in the future"),
    ],
)
async def test_a_wrong_option_is_one_line(report: Run, args: list[str], expected: str) -> None:
    result = await report(*args)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"escalation-bot: {expected}"), line


async def test_the_table_fits_100_columns_and_wide_has_every_column(report: Run) -> None:
    plain = await report("--since", "2026-03-01")
    assert plain.returncode == 0, plain.stderr
    assert max(len(line) for line in plain.stdout.splitlines()) <= 100
    assert "Ada Lovelace" in plain.stdout and "slack:U0ADA" not in plain.stdout
    assert "handed: how often a question was put on the expert" in plain.stdout
    wide = await report("--since", "2026-03-01", "--wide")
    assert "reassign/esc" in wide.stdout and "resolve p90" in wide.stdout
    assert "reassign/esc" not in plain.stdout.split("\n\n")[1]  # the communities table itself


async def test_csv_is_one_table_with_experts_by_name(report: Run) -> None:
    communities = await report("--since", "2026-03-01", "--format", "csv")
    rows = list(csv.reader(io.StringIO(communities.stdout)))
    assert rows[0][0] == "community" and {r[0] for r in rows[1:]} == {"billing", "ops", "sdk", "(all)"}
    assert all(len(r) == len(rows[0]) for r in rows)
    experts = await report("--since", "2026-03-01", "--format", "csv", "--table", "experts")
    by_name = {r["expert"]: r for r in csv.DictReader(io.StringIO(experts.stdout))}
    assert by_name["Ada Lovelace"]["expert id"] == "slack:U0ADA"
    assert by_name["Ada Lovelace"]["out-of-hours interruptions"] == "1"
    assert "Ben Okri" in by_name


def test_help_and_readme_explain_handed_and_out_of_hours() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "report", "--help"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
        check=False,
    )
    help_text = " ".join(result.stdout.split())
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    for text in (help_text, readme):
        assert "handed" in text and "how often a question was put on the expert" in text
        assert "out-of-hours interruptions" in text and "outside the expert's own working hours" in text
