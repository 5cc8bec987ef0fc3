"""Shared helpers: databases, statistics, tables, the final JSON line, the machine."""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bot.migrate import upgrade
from storage.db import normalize_url

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def postgres_server_url() -> str:
    """Where a private benchmark database is created (BENCH_DATABASE_URL, else TEST_DATABASE_URL)."""
    return (
        os.environ.get("BENCH_DATABASE_URL", "").strip()
        or os.environ.get("TEST_DATABASE_URL", "").strip()
        or DEFAULT_POSTGRES
    )


def parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true", help="small sizes: seconds, for CI and a first look")
    p.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    return p


async def _admin(url: str, statement: str) -> None:
    import asyncpg

    parsed = make_url(normalize_url(url))
    conn = await asyncpg.connect(
        user=parsed.username or "postgres",
        password=parsed.password,
        host=parsed.host or "127.0.0.1",
        port=parsed.port or 5432,
        database=parsed.database or "postgres",
    )
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


@asynccontextmanager
async def database(kind: str, *, migrate: bool = True) -> AsyncIterator[str]:
    """A fresh, migrated database for one benchmark run; removed afterwards."""
    if kind == "postgres":
        server = postgres_server_url()
        name = f"eb_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        await _admin(server, f'CREATE DATABASE "{name}"')
        url = make_url(normalize_url(server)).set(database=name).render_as_string(hide_password=False)
        try:
            if migrate:
                await upgrade(url)
            yield url
        finally:
            await _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        return
    with tempfile.TemporaryDirectory(prefix="eb-bench-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        if migrate:
            await upgrade(url)
        yield url


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def summary(values: Sequence[float]) -> dict[str, float]:
    """p50, p99, max and mean, rounded for printing."""
    if not values:
        return {"n": 0, "p50": float("nan"), "p99": float("nan"), "max": float("nan"), "mean": float("nan")}
    return {
        "n": len(values),
        "p50": round(percentile(values, 50), 3),
        "p99": round(percentile(values, 99), 3),
        "max": round(max(values), 3),
        "mean": round(statistics.fmean(values), 3),
    }


def ratio(value: float, baseline: float) -> float:
    return round(value / baseline, 2) if baseline else float("inf")


def table(title: str, headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [[str(h) for h in headers], *[[_cell(v) for v in row] for row in rows]]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    print(f"\n{title}")
    for n, row in enumerate(cells):
        print(
            "  " + "  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
        )
        if n == 0:
            print("  " + "  ".join("-" * w for w in widths))
    sys.stdout.flush()


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) < 100 else f"{value:.1f}"
    return str(value)


def machine() -> dict[str, Any]:
    load = os.getloadavg()
    mem = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "memory": mem,
        "python": platform.python_version(),
        "load_avg": [round(x, 2) for x in load],
        "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }


def emit(name: str, args: argparse.Namespace, figures: dict[str, Any]) -> dict[str, Any]:
    """The final line: one JSON object with everything, for scripts and the smoke tests."""
    result = {"bench": name, "db": args.db, "quick": args.quick, "machine": machine(), **figures}
    print(json.dumps(result, default=str))
    sys.stdout.flush()
    return result


def rss_kib(pid: int) -> dict[str, int]:
    """Resident memory now (VmRSS) and at its peak (VmHWM), from /proc/<pid>/status."""
    out: dict[str, int] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            key, value = line.split(":", 1)
            out[key] = int(value.split()[0])
    return out
