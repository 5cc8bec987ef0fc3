"""The overview: each community now, and the chosen period against the one before it,
with the weekly speed as charts (numbers beside them). The figures are the report's."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

from aiohttp import web

from workflows.metrics import Figures
from workflows.overview import figures_of, overview
from workflows.presence import people_of

from ..console import console_of, render, viewer_of

PERIODS = {"7d": timedelta(days=7), "28d": timedelta(days=28), "90d": timedelta(days=90)}


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "\u2013"
    seconds = int(seconds)
    if seconds < 3600:
        return f"{seconds // 60}m"
    if seconds < 86400:
        return f"{seconds // 3600}h {(seconds % 3600) // 60:02d}m"
    return f"{seconds // 86400}d {(seconds % 86400) // 3600}h"


def share(value: object) -> str:
    return f"{value * 100:.0f}%" if isinstance(value, (int, float)) else "\u2013"


def _rows(current: Figures, previous: Figures) -> list[tuple[str, str, str, str]]:
    """(what, this period, previous period, lower is better?) for the table beside the charts."""
    now, before = current.as_dict(), previous.as_dict()
    rows: list[tuple[str, str, str, str]] = []
    for label, key in (("Opened", "opened"), ("Resolved", "resolved"), ("Deflected by earlier answers", "deflected")):
        rows.append((label, str(now[key]), str(before[key]), ""))
    rows.append(("Answered by pull (not pushed)", share(now["pull_share"]), share(before["pull_share"]), "higher"))
    reassign_now, reassign_before = now["reassignments_per_escalation"], before["reassignments_per_escalation"]
    rows.append(("Reassignments per escalation", str(reassign_now or 0), str(reassign_before or 0), "lower"))
    for label, key in (("First response", "time_to_first_response"), ("Resolution", "time_to_resolution")):
        a, b = now[key], before[key]
        assert isinstance(a, dict) and isinstance(b, dict)
        for which, field in (
            ("p50", "median_s"),
            ("p90", "p90_s"),
            ("p50, business hours", "median_business_s"),
            ("p90, business hours", "p90_business_s"),
        ):
            rows.append((f"{label} {which}", duration(a[field]), duration(b[field]), "lower"))
    return rows


def _chart(weeks: list[Any], community: str | None) -> dict[str, str]:
    xs = [int(week.since.timestamp()) for week in weeks]
    figures = [figures_of(week, community).as_dict() for week in weeks]

    def series(key: str, field: str) -> list[float | None]:
        out = []
        for week in figures:
            value = week[key]
            assert isinstance(value, dict)
            seconds = value[field]
            out.append(round(seconds / 3600, 2) if isinstance(seconds, (int, float)) else None)
        return out

    def chart(key: str) -> str:
        data = [xs, series(key, "median_s"), series(key, "p90_s"), series(key, "median_business_s")]
        return json.dumps({"unit": "hours", "series": ["p50", "p90", "p50 business"], "data": data})

    return {"first_response": chart("time_to_first_response"), "resolution": chart("time_to_resolution")}


async def overview_page(request: web.Request) -> web.StreamResponse:
    console, viewer = console_of(request), viewer_of(request)
    period = request.query.get("period", "28d")
    length = PERIODS.get(period, PERIODS["28d"])
    visible = viewer.visible_communities(console.communities())
    keys = {c.key for c in visible}
    chosen = request.query.get("community", "")
    community = chosen if chosen in keys else None
    until = console.clock.now()
    since = until - length
    reach = viewer.reach()
    chosen_keys = [community] if community else sorted(keys)
    # Independent reads, at once (each its own connection on PostgreSQL).
    open_now, history, away = await asyncio.gather(
        console.queries.open_now(reach, chosen_keys),
        console.queries.history(reach, since - length, until, chosen_keys),
        console.queries.away([p for c in visible for p in people_of(c)], until),
    )
    view = overview(open_now, history, since, until)
    away_in = {c.key: sum(1 for p in people_of(c) if p.key in away) for c in visible}
    context = {
        "period": period if period in PERIODS else "28d",
        "periods": list(PERIODS),
        "communities": visible,
        "community": community or "",
        "now": view.now,
        "away": away_in,
        "rows": _rows(figures_of(view.current, community), figures_of(view.previous, community)),
        "charts": _chart(view.weeks, community),
        "since": since,
        "previous_since": view.previous_since,
        "until": until,
    }
    return render(request, "overview.html", context)


def routes(app: web.Application) -> None:
    app.router.add_get("/overview", overview_page)
