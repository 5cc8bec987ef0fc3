"""`escalation-bot report`: the figures over a period, as a table, CSV or JSON."""

from __future__ import annotations

import csv
import io
import json
import textwrap
from collections.abc import Mapping, Sequence
from datetime import datetime

from storage import Store
from workflows.metrics import AuditEvent, Report, compute
from workflows.model import Escalation

from .config import Directory

HANDED_ACTIONS = ("auto_assigned", "auto_reassigned", "assigned", "reassigned", "declined")
TABLES = ("communities", "experts")
WIDTH = 100  # the plain table fits a 100-column terminal; --wide shows every column

# What the less obvious columns mean: shown by `report --help`, under the table, and in the README.
LEGEND = (
    "pull: first response before any nudge or assignment; push: after one.",
    "handed: how often a question was put on the expert: assigned by rotation or by a colleague,"
    " reassigned to them, or passed to them when someone declined.",
    "out-of-hours interruptions: of those, how many came outside the expert's own working hours"
    " (people: hours/timezone), else the community's business hours (none known: none counted).",
    "out-of-hours avoided: assignments that passed over people outside their working hours.",
    "(bh): business hours only; reassign/esc: reassignments per escalation.",
)


async def collect(
    store: Store, since: datetime, until: datetime, community: str | None = None
) -> tuple[list[Escalation], list[AuditEvent]]:
    async with store.unit_of_work() as uow:
        escalations = await uow.escalations.touched_between(since, until, community)
        rows = await uow.audit.between(since, until, HANDED_ACTIONS)
    ids = {e.id for e in escalations}
    events = [
        AuditEvent(r.escalation_id, r.at, r.action, r.actor, dict(r.detail or {}))
        for r in rows
        if community is None or r.escalation_id in ids
    ]
    return escalations, events


async def build_report(store: Store, since: datetime, until: datetime, community: str | None = None) -> Report:
    escalations, events = await collect(store, since, until, community)
    return compute(escalations, events, since, until)


def names_of(escalations: Sequence[Escalation], current: Mapping[str, str] | None = None) -> dict[str, str]:
    """People's names by key: as each escalation recorded them, then as the configuration says now."""
    names: dict[str, str] = {}
    for esc in escalations:
        for expert in esc.community.experts:
            if expert.name:
                names[expert.key] = expert.name
                names.update({ref.key: expert.name for ref in expert.refs})
        for person in (esc.requester, esc.first_responder, esc.resolved_by):
            if person is not None and person.name:
                names.setdefault(person.key, person.name)
    names.update(current or {})
    return names


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
    "out-of-hours avoided",
)
# The plain table's columns; the rest are in --wide, CSV and JSON.
NARROW_COMMUNITY_COLUMNS = (*COMMUNITY_COLUMNS[:7], "first resp p50", "resolve p50")
EXPERT_COLUMNS = ("expert", "owned", "first responses", "resolved", "handed", "out-of-hours interruptions")
FIRST_COLUMN_WIDTH = {"community": 18, "expert": 28}


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
                d["out_of_hours_avoided"],
            ]
        )
    return out


def _expert_rows(report: Report, names: Mapping[str, str]) -> list[list[object]]:
    return [
        [names.get(e.expert, e.expert), e.owned, e.first_responses, e.resolved, e.handed, e.out_of_hours, e.expert]
        for _, e in sorted(report.experts.items(), key=lambda item: (names.get(item[0], item[0]).lower(), item[0]))
    ]


def render(
    report: Report,
    fmt: str,
    *,
    names: Mapping[str, str] | None = None,
    table: str | None = None,
    wide: bool = False,
) -> str:
    """``table`` picks one of TABLES (CSV is always one table: communities unless told)."""
    names = names or {}
    if fmt == "json":
        data = report.as_dict()
        for entry in data["experts"]:  # type: ignore[attr-defined]
            entry["name"] = names.get(entry["expert"])
        return json.dumps(data, indent=2)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        if table == "experts":
            writer.writerow([*EXPERT_COLUMNS, "expert id"])
            writer.writerows(_expert_rows(report, names))
        else:
            writer.writerow(COMMUNITY_COLUMNS)
            for row in _community_rows(report):
                writer.writerow(["" if v is None else v for v in row])
        return buffer.getvalue()
    return _table(report, names, table, wide)


def _wrap(text: str, width: int | None) -> list[str]:
    return (textwrap.wrap(text, width, break_on_hyphens=False) or [""]) if width else [text]


def _grid(header: Sequence[str], rows: list[list[str]], first_width: int | None) -> list[str]:
    """Columns two spaces apart; a first cell longer than ``first_width`` wraps onto more lines."""
    wrapped = [_wrap(row[0], first_width) for row in rows]
    widths = [max(len(c) for c in col) for col in zip(header, *rows, strict=False)]
    widths[0] = max([len(header[0]), *(len(part) for parts in wrapped for part in parts)])
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row, parts in zip(rows, wrapped, strict=True):
        cells = [parts[0].ljust(widths[0]), *(c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True))]
        lines.append("  ".join(cells))
        lines += [part for part in parts[1:]]
    return lines


def _table(report: Report, names: Mapping[str, str], table: str | None, wide: bool) -> str:
    lines = [f"Escalations opened {report.since:%Y-%m-%d %H:%M} to {report.until:%Y-%m-%d %H:%M} UTC", ""]
    if table in (None, "communities"):
        columns = COMMUNITY_COLUMNS if wide else NARROW_COMMUNITY_COLUMNS
        rows = []
        for row in _community_rows(report):
            shown = [
                str(row[0]),
                *(str(v) for v in row[1:5]),
                _share(row[5]),
                _share(row[6]),
                "-" if row[7] is None else f"{row[7]:.2f}",
                *(_duration(v) for v in row[8:14]),
                str(row[14]),
            ]
            rows.append([shown[COMMUNITY_COLUMNS.index(c)] for c in columns])
        lines += _grid(columns, rows, None if wide else FIRST_COLUMN_WIDTH["community"])
        if report.total.out_of_hours_avoided:
            lines.append(
                f"Out-of-hours avoided: {report.total.out_of_hours_avoided} assignment(s) went to someone inside"
                " their working hours, passing over people outside theirs."
            )
        lines.append("")
    if table in (None, "experts"):
        experts = _expert_rows(report, names)
        if experts:
            lines += _grid(EXPERT_COLUMNS, [[str(c) for c in r[:-1]] for r in experts], FIRST_COLUMN_WIDTH["expert"])
        else:
            lines.append("No expert activity in this period.")
        lines.append("")
    for line in LEGEND:
        lines += textwrap.wrap(line, WIDTH, subsequent_indent="  ")
    return "\n".join(lines)


async def run_report(
    database_url: str,
    directory: Directory | None,
    *,
    since_text: str,
    community: str | None,
    fmt: str,
    table: str | None,
    wide: bool,
) -> str:
    """The report as asked for, or a CliError saying which option is wrong."""
    from sqlalchemy import select

    from storage.tables import EscalationRow
    from workflows.clock import SystemClock
    from workflows.metrics import parse_since

    from .database import open_store, reaching
    from .errors import CliError

    now = SystemClock().now()
    try:
        since = parse_since(since_text, now)
    except ValueError as exc:
        raise CliError(f"--since: {exc}") from None
    if since > now:
        raise CliError(f"--since {since_text} is in the future (it is {now:%Y-%m-%d %H:%M} UTC now)")
    # The configuration (``directory``) names people as they are called today; without it,
    # the names the escalations recorded serve.
    current = {
        key: expert.name
        for c in (directory.all() if directory else [])
        for expert in c.experts
        if expert.name
        for key in (expert.key, *(ref.key for ref in expert.refs))
    }
    store = await open_store(database_url)
    try:
        with reaching(database_url):
            escalations, events = await collect(store, since, now, community)
            if community and not escalations and (directory is None or directory.get(community) is None):
                async with store.unit_of_work() as uow:
                    query = select(EscalationRow.id).where(EscalationRow.community == community).limit(1)
                    known = (await uow.session.execute(query)).first() is not None
                if not known:
                    keys = sorted(c.key for c in directory.all()) if directory else []
                    hint = f" (the configuration has {', '.join(keys)})" if keys else ""
                    raise CliError(f"--community {community}: no such community{hint}")
    finally:
        await store.close()
    report = compute(escalations, events, since, now)
    return render(report, fmt, names=names_of(escalations, current), table=table, wide=wide)
