"""`escalation-bot report`: the figures over a period, as a table, CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

from storage import Store
from workflows.metrics import AuditEvent, Report, compute

HANDED_ACTIONS = ("auto_assigned", "auto_reassigned", "assigned", "reassigned", "declined")


async def build_report(store: Store, since: datetime, until: datetime, community: str | None = None) -> Report:
    async with store.unit_of_work() as uow:
        escalations = await uow.escalations.touched_between(since, until, community)
        rows = await uow.audit.between(since, until, HANDED_ACTIONS)
    ids = {e.id for e in escalations}
    events = [
        AuditEvent(r.escalation_id, r.at, r.action, r.actor, dict(r.detail or {}))
        for r in rows
        if community is None or r.escalation_id in ids
    ]
    return compute(escalations, events, since, until)


def _duration(seconds: object) -> str:
    if not isinstance(seconds, (int, float)):
        return "-"
    seconds = int(seconds)
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    if seconds < 86400:
        return f"{seconds // 3600}h{(seconds % 3600) // 60:02d}m"
    return f"{seconds // 86400}d{(seconds % 86400) // 3600:02d}h"


def _share(value: object) -> str:
    return f"{value * 100:.0f}%" if isinstance(value, (int, float)) else "-"


COMMUNITY_COLUMNS = (
    "community",
    "opened",
    "resolved",
    "deflected",
    "cancelled",
    "pull",
    "push",
    "reassign/esc",
    "first resp p50",
    "first resp p90",
    "first resp p50 (bh)",
    "resolve p50",
    "resolve p90",
    "resolve p50 (bh)",
)
EXPERT_COLUMNS = ("expert", "owned", "first responses", "resolved", "handed", "out-of-hours interruptions")


def _community_rows(report: Report) -> list[list[object]]:
    out: list[list[object]] = []
    items = [*sorted(report.communities.items()), ("(all)", report.total)]
    for key, figures in items:
        d = figures.as_dict()
        first = d["time_to_first_response"]
        done = d["time_to_resolution"]
        assert isinstance(first, dict) and isinstance(done, dict)
        out.append(
            [
                key,
                d["opened"],
                d["resolved"],
                d["deflected"],
                d["cancelled"],
                d["pull_share"],
                d["push_share"],
                d["reassignments_per_escalation"],
                first["median_s"],
                first["p90_s"],
                first["median_business_s"],
                done["median_s"],
                done["p90_s"],
                done["median_business_s"],
            ]
        )
    return out


def _expert_rows(report: Report) -> list[list[object]]:
    return [
        [e.expert, e.owned, e.first_responses, e.resolved, e.handed, e.out_of_hours]
        for _, e in sorted(report.experts.items())
    ]


def render(report: Report, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(report.as_dict(), indent=2)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["section", *COMMUNITY_COLUMNS])
        for row in _community_rows(report):
            writer.writerow(["community", *("" if v is None else v for v in row)])
        writer.writerow(["section", *EXPERT_COLUMNS])
        for row in _expert_rows(report):
            writer.writerow(["expert", *row])
        return buffer.getvalue()
    return _table(report)


def _grid(header: tuple[str, ...], rows: list[list[str]]) -> list[str]:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows, strict=False)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append(
            "  ".join(
                str(c).rjust(w) if i else str(c).ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    return lines


def _table(report: Report) -> str:
    lines = [f"Escalations opened {report.since:%Y-%m-%d %H:%M} to {report.until:%Y-%m-%d %H:%M} UTC", ""]
    rows = []
    for row in _community_rows(report):
        rows.append(
            [
                str(row[0]),
                *(str(v) for v in row[1:5]),
                _share(row[5]),
                _share(row[6]),
                "-" if row[7] is None else f"{row[7]:.2f}",
                *(_duration(v) for v in row[8:]),
            ]
        )
    lines += _grid(COMMUNITY_COLUMNS, rows)
    lines.append("")
    experts = _expert_rows(report)
    if experts:
        lines += _grid(EXPERT_COLUMNS, [[str(c) for c in r] for r in experts])
    else:
        lines.append("No expert activity in this period.")
    lines.append("")
    lines.append("pull: first response before any nudge or assignment; (bh): business hours only.")
    return "\n".join(lines)
