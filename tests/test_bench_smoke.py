"""Every benchmark runs, end to end, in a few seconds, and produces its figures.

Timings are not asserted: these only keep the benchmarks from rotting. On PostgreSQL
(TEST_DATABASE_URL) each benchmark creates and drops a private database on that server.
"""

from __future__ import annotations

import importlib.util
import os

import pytest

from bench import ack, deflection, delivery, expertise, floor, growth, loops, timers

DB = "postgres" if os.environ.get("TEST_DATABASE_URL", "").strip() else "sqlite"


@pytest.fixture(autouse=True)
def _quiet_ok(capsys: pytest.CaptureFixture[str]) -> None:
    """The benchmarks print tables; pytest keeps them for a failing test."""


def test_ack_measures_serve_and_the_bare_baselines() -> None:
    # On PostgreSQL as two replicas, so the replicas' path is kept working too (SQLite serves one);
    # on SQLite on asyncio's loop, on PostgreSQL on the default (uvloop where it is installed).
    replicas, event_loop = (2, "auto") if DB == "postgres" else (1, "asyncio")
    quick = ["--quick", "--db", DB, "--rates", "10", "--seconds", "0.5"]
    result = ack.main([*quick, "--replicas", str(replicas), "--event-loop", event_loop])
    assert result["replicas"] == replicas
    for platform in ("slack", "teams"):
        phases = result["platforms"][platform]
        assert set(phases) == {"10/s", "saturation x16"}
        for figures in phases.values():
            assert figures["serve"]["n"] > 0 and figures["bare"]["n"] > 0
            assert figures["p99_ratio"] > 0 and figures["rps_ratio"] > 0
            if platform == "slack":  # and the durable floor: bare Bolt committing one row before its ack
                assert figures["floor"]["n"] > 0 and figures["rps_ratio_floor"] > 0
    assert result["footprint"]["startup_to_ready_s"] > 0
    assert result["footprint"]["rss_idle_mib"] > 0
    assert result["audit_actions"].get("opened", 0) > 0
    # serve and the baselines run on the loop asked for.
    expected = "asyncio" if event_loop == "asyncio" or not importlib.util.find_spec("uvloop") else "uvloop"
    assert result["event_loop"] == dict.fromkeys(("serve", "bare_slack", "bare_teams", "floor"), expected)


def test_ack_refuses_replicas_on_sqlite(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        ack.main(["--quick", "--db", "sqlite", "--replicas", "2"])
    assert exit_.value.code == 2
    assert "needs --db postgres" in capsys.readouterr().err


def test_timers_run_every_step_exactly_once() -> None:
    result = timers.main(["--quick", "--db", DB, "--count", "60", "--window", "2", "--lead", "3"])
    assert result is not None
    for run in result["runs"]:
        assert run["steps"] == 60 and run["missed"] == 0 and run["doubled"] == 0
        assert run["lateness_s"]["n"] == 60


def test_growth_measures_every_operation_with_explain() -> None:
    result = growth.main(["--quick", "--db", DB, "--sizes", "300,600"])
    for figures in result["sizes_measured"].values():
        assert figures["sweep_per_step_ms"] > 0
        assert figures["open_ms"]["n"] > 0 and figures["search_ms"]["n"] > 0 and figures["digest_ms"]["n"] > 0
    assert set(result["ratios_largest_vs_smallest"]) >= {"sweep_per_step", "open_p50", "search_p50", "digest_p50"}


def test_delivery_loses_nothing_under_the_rate_limit() -> None:
    result = delivery.main(["--quick", "--db", DB, "--effects", "20", "--channels", "10"])
    assert result["lost"] == 0
    assert result["outbox"] == {"sent": 40}  # the cards and their requesters' confirmations
    assert result["theoretical_min_s"] == 1.0


def test_deflection_compares_open_with_and_without_search() -> None:
    result = deflection.main(["--quick", "--db", DB, "--sizes", "100", "--opens", "5"])
    figures = result["sizes"]["100"]
    assert figures["deflection_on_ms"]["n"] == 5 and figures["deflection_off_ms"]["n"] == 5


def test_floor_measures_bolt_and_the_durable_writes() -> None:
    result = floor.main(["--quick", "--db", DB, "--count", "40"])
    assert set(result["cpu_ms"]) == {"bolt_ack", "empty_unit_of_work", "one_insert", "open_command", "reply_on_card"}
    assert all(ms > 0 for ms in result["cpu_ms"].values())
    assert result["budget_ms"] == round(2 * result["cpu_ms"]["bolt_ack"], 4)


def test_loops_measures_every_operation_on_both_event_loops() -> None:
    pytest.importorskip("uvloop", reason="uvloop is not installed on this platform (Windows)")
    result = loops.main(["--quick", "--db", DB, "--blocks", "2", "--calls", "4"])
    operations = {"bolt_ack", "bolt_http", "empty_unit_of_work", "one_insert", "open_command", "reply_on_card"}
    assert set(result["cpu_ms"]) == {"asyncio", "uvloop"}
    for figures in result["cpu_ms"].values():
        assert set(figures) == operations and all(ms > 0 for ms in figures.values())
    assert set(result["uvloop_over_asyncio"]) == operations
    assert all(r["median"] > 0 for r in result["uvloop_over_asyncio"].values())


def test_expertise_beats_the_baselines_and_measures_its_cost() -> None:
    result = expertise.main(["--quick", "--db", DB, "--sizes", "300"])
    scores = result["accuracy"]
    assert scores["expertise"]["top1"] > scores["round robin"]["top1"]
    assert scores["expertise"]["top3"] > scores["least loaded"]["top3"]
    figures = result["cost"]["300"]
    assert figures["evidence_search_ms"]["n"] > 0 and figures["assign_step_expertise_ms"]["n"] > 0
