"""Every figure of the report, on a small history worked out by hand."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.report import build_report, render
from storage import Store
from tests.support import ADA, BEN, CHEN, LEE, SAM
from workflows.commands import Assign, Cancel, Open, Reassign, Reply, Resolve, Tick
from workflows.decide import Decision, decide
from workflows.metrics import median, parse_since, percentile
from workflows.model import Escalation

from .support import directory

ROOT = Path(__file__).resolve().parents[1]
CONFIG = """
communities:
  - key: sdk
    name: Mobile SDK
    slack: {channel: C0SDK0001}
    experts: ["slack:U0ADA", "slack:U0BEN", "slack:U0CHEN"]
    lead: "slack:U0LEE"
    policy: {nudge_after: 30m}
  - key: billing
    slack: {channel: C0BILL001}
    experts: ["slack:U0BILL1"]
  - key: ops
    slack: {channel: C0OPS0001}
    experts: ["slack:U0ADA", "slack:U0BEN"]
    lead: "slack:U0LEE"
    policy:
      business_hours: {timezone: UTC, days: [mon, tue, wed, thu, fri], start: "09:00", end: "17:00"}
"""


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)  # 2026-03-02 is a Monday


class History:
    def __init__(self) -> None:
        self.directory = directory(CONFIG)
        self.escalations: dict[str, Escalation] = {}
        self.audit: list[tuple[str, datetime, Decision, str]] = []
        self.n = 0

    def open(self, key: str, community: str, when: datetime) -> None:
        self.apply(
            None,
            Open(
                id=f"open-{key}",
                escalation_id=key,
                actor=SAM,
                tenant="slack:T0ACME",
                community_key=community,
                question=f"question {key}",
                community=self.directory.get(community),
            ),
            when,
        )

    def apply(self, key: str | None, command: object, when: datetime) -> None:
        current = self.escalations.get(key) if key else None
        decision = decide(current, command, when)  # type: ignore[arg-type]
        self.escalations[decision.escalation.id] = decision.escalation
        self.audit.append((decision.escalation.id, when, decision, command.actor.key))  # type: ignore[attr-defined]

    def do(self, key: str, make: type, when: datetime, **fields: object) -> None:
        self.n += 1
        self.apply(key, make(id=f"c{self.n}", escalation_id=key, **fields), when)


def history() -> History:
    h = History()
    # E1 sdk: Ada answers after 10 minutes, before any push (pull); Ada resolves at 10:00.
    h.open("E1", "sdk", at(2, 9))
    h.do("E1", Reply, at(2, 9, 10), actor=ADA, text="try this")
    h.do("E1", Resolve, at(2, 10), actor=ADA, answer="this")
    # E2 sdk: nudged at 09:30 (push), Ben answers at 11:00, Sam resolves at 12:00.
    h.open("E2", "sdk", at(2, 9))
    esc = h.escalations["E2"]
    assert esc.next_due_at is not None and esc.next_step is not None
    h.do("E2", Tick, esc.next_due_at, actor=SAM, step=esc.next_step, due_at=esc.next_due_at)
    h.do("E2", Reply, at(2, 11), actor=BEN, text="answer")
    h.do("E2", Resolve, at(2, 12), actor=SAM, answer="answer")
    # E3 billing: cancelled half an hour after opening.
    h.open("E3", "billing", at(2, 10))
    h.do("E3", Cancel, at(2, 10, 30), actor=SAM)
    # E4 sdk: Ada assigns it to Ben, who reassigns it to Chen (one reassignment).
    h.open("E4", "sdk", at(2, 9))
    h.do("E4", Assign, at(2, 9, 5), actor=ADA, assignee=BEN)
    h.do("E4", Reassign, at(2, 9, 10), actor=BEN, to=CHEN)
    # E5 ops (business hours 09-17 UTC, Mon-Fri): opened Friday 16:00, Ada answers Monday 10:00
    # (66 h wall, 2 h business) and resolves at 11:00 (67 h wall, 3 h business).
    h.open("E5", "ops", at(6, 16))
    h.do("E5", Reply, at(9, 10), actor=ADA, text="fixed")
    h.do("E5", Resolve, at(9, 11), actor=ADA, answer="fixed")
    # E6 ops: the lead assigns it to Ada on a Saturday: an out-of-hours interruption.
    h.open("E6", "ops", at(7, 10))
    h.do("E6", Assign, at(7, 10, 5), actor=LEE, assignee=ADA)
    return h


SINCE, UNTIL = at(2, 0), at(10, 0)


async def seeded(store: Store) -> None:
    h = history()
    async with store.unit_of_work() as uow:
        for esc in h.escalations.values():
            await uow.escalations.add(esc)
        for _esc_id, when, decision, actor in h.audit:
            if decision.action:
                await uow.audit.add(
                    decision.escalation,
                    at=when,
                    actor=SAM if actor == SAM.key else ADA,
                    action=decision.action,
                    command_id="x",
                    detail=decision.detail,
                )


def test_percentiles_by_hand() -> None:
    assert median([]) is None and percentile([], 90) is None
    assert median([600, 7200]) == 3900
    assert percentile([600, 7200], 90) == 7200
    assert percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90) == 9
    assert median([5, 1, 3]) == 3


def test_parse_since() -> None:
    now = at(31, 0)
    assert parse_since("30d", now) == at(1, 0)
    assert parse_since("2026-03-02", now) == at(2, 0)
    with pytest.raises(ValueError, match="neither a duration"):
        parse_since("yesterday", now)


async def test_every_figure_of_the_report(store: Store) -> None:
    await seeded(store)
    report = (await build_report(store, SINCE, UNTIL)).as_dict()
    sdk = report["communities"]["sdk"]  # type: ignore[index]
    assert sdk["opened"] == 3 and sdk["resolved"] == 2 and sdk["cancelled"] == 0 and sdk["deflected"] == 0
    assert sdk["pull_share"] == 0.5 and sdk["push_share"] == 0.5
    assert sdk["reassignments_per_escalation"] == round(1 / 3, 4)
    assert sdk["time_to_first_response"] == {
        "median_s": 3900.0,
        "p90_s": 7200.0,
        "median_business_s": 3900.0,  # 24/7 community: business time is wall time
        "p90_business_s": 7200.0,
    }
    assert sdk["time_to_resolution"]["median_s"] == 7200.0 and sdk["time_to_resolution"]["p90_s"] == 10800.0
    billing = report["communities"]["billing"]  # type: ignore[index]
    assert billing["opened"] == 1 and billing["cancelled"] == 1 and billing["pull_share"] is None
    ops = report["communities"]["ops"]  # type: ignore[index]
    assert ops["opened"] == 2 and ops["resolved"] == 1 and ops["pull_share"] == 1.0
    assert ops["time_to_first_response"]["median_s"] == 66 * 3600
    assert ops["time_to_first_response"]["median_business_s"] == 2 * 3600
    assert ops["time_to_resolution"]["median_s"] == 67 * 3600
    assert ops["time_to_resolution"]["median_business_s"] == 3 * 3600
    total = report["total"]  # type: ignore[index]
    assert total["opened"] == 6 and total["resolved"] == 3 and total["cancelled"] == 1
    assert total["pull_share"] == round(2 / 3, 4)
    experts = {e["expert"]: e for e in report["experts"]}  # type: ignore[union-attr]
    assert experts["slack:U0ADA"] == {
        "expert": "slack:U0ADA",
        "owned": 1,
        "first_responses": 2,
        "resolved": 2,
        "handed": 1,
        "out_of_hours_interruptions": 1,
    }
    assert experts["slack:U0BEN"]["first_responses"] == 1 and experts["slack:U0BEN"]["handed"] == 1
    assert experts["slack:U0BEN"]["out_of_hours_interruptions"] == 0
    assert experts["slack:U0CHEN"]["owned"] == 1 and experts["slack:U0CHEN"]["handed"] == 1


async def test_report_filters_by_community(store: Store) -> None:
    await seeded(store)
    report = (await build_report(store, SINCE, UNTIL, "ops")).as_dict()
    assert list(report["communities"]) == ["ops"]  # type: ignore[arg-type]
    assert report["total"]["opened"] == 2  # type: ignore[index]


async def test_report_in_three_formats(store: Store) -> None:
    await seeded(store)
    report = await build_report(store, SINCE, UNTIL)
    table = render(report, "table")
    assert "community" in table and "first resp p50" in table
    sdk_line = next(line for line in table.splitlines() if line.startswith("sdk "))
    assert "50%" in sdk_line and "1h05m" in sdk_line
    assert "out-of-hours interruptions" in table
    wide = next(line for line in render(report, "table", wide=True).splitlines() if line.startswith("sdk "))
    assert "0.33" in wide  # reassignments per escalation: in --wide only
    rows = list(csv.reader(io.StringIO(render(report, "csv"))))
    header = rows[0]
    sdk_row = next(r for r in rows if r[0] == "sdk")
    assert sdk_row[header.index("first resp p50")] == "3900.0"
    experts = list(csv.DictReader(io.StringIO(render(report, "csv", table="experts"))))
    ada = next(r for r in experts if r["expert id"] == "slack:U0ADA")
    assert ada["out-of-hours interruptions"] == "1"
    parsed = json.loads(render(report, "json"))
    assert parsed["total"]["opened"] == 6


async def test_report_command(store: Store, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    await seeded(store)
    env = {"DATABASE_URL": database_url, "PYTHONPATH": str(ROOT), "LOG_FORMAT": "text"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot.cli", "report", *args],
            capture_output=True,
            text=True,
            env={**os.environ, **env},
            timeout=60,
            check=False,
        )

    result = await asyncio.to_thread(run, "--since", "2026-03-01", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["total"]["opened"] == 6
    table = await asyncio.to_thread(run, "--since", "2026-03-01", "--community", "sdk")
    assert table.returncode == 0 and "sdk" in table.stdout and "ops" not in table.stdout
    bad = await asyncio.to_thread(run, "--since", "last tuesday")
    assert bad.returncode == 2 and "neither a duration" in bad.stderr


async def test_prometheus_endpoint(database_url: str) -> None:
    from aiohttp.test_utils import TestClient, TestServer

    from bot.app import build_app
    from bot.runtime import Runtime
    from tests.support import RecordingSender
    from tests.support import directory as support_directory
    from workflows.clock import FakeClock
    from workflows.model import Platform

    clock = FakeClock(at(2, 9))
    runtime = Runtime(Store(database_url), support_directory(), {Platform.slack: RecordingSender()}, clock=clock)
    esc = (await runtime.service.open(requester=SAM, community_key="sdk", question="q")).escalation
    assert esc is not None
    clock.advance(timedelta(minutes=12))
    await runtime.service.handle(Reply(id="r", escalation_id=esc.id, actor=ADA, text="a"))
    clock.advance(timedelta(minutes=3))
    await runtime.service.handle(Resolve(id="s", escalation_id=esc.id, actor=SAM, answer="a"))
    async with TestClient(TestServer(build_app(runtime, start_jobs=False))) as client:
        before = await (await client.get("/metrics")).text()
        # card, confirmation, update, DM, update
        assert 'escalation_outbox_rows{status="pending"} 5.0' in before
        await runtime.dispatch()
        body = await (await client.get("/metrics")).text()
    assert 'escalation_events_total{action="opened",community="sdk"} 1.0' in body
    assert 'escalation_events_total{action="resolved",community="sdk"} 1.0' in body
    assert 'escalation_time_to_first_response_seconds_sum{community="sdk"} 720.0' in body
    assert 'escalation_time_to_resolution_seconds_sum{community="sdk"} 900.0' in body
    assert 'escalation_outbox_deliveries_total{outcome="sent",platform="slack"} 5.0' in body
    assert 'escalation_outbox_rows{status="pending"} 0.0' in body
