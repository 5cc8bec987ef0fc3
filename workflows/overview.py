"""The console's overview: each community now, and over a period against the one before.

Pure computation, reusing the report's (``metrics.compute``) for the period figures and
the digest's rules for what counts as unanswered, overdue or waiting on the requester."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from .digest import is_overdue
from .metrics import AuditEvent, Figures, Report, compute, median
from .model import Ball, Escalation

WEEK = timedelta(days=7)


@dataclass
class NowFigures:
    open: int = 0
    unanswered: int = 0
    overdue: int = 0
    waiting_on_requester: int = 0


def now_figures(open_escalations: Iterable[Escalation], now: datetime) -> dict[str, NowFigures]:
    """By community key, and under "" all of them together."""
    out: dict[str, NowFigures] = {"": NowFigures()}
    for esc in open_escalations:
        if not esc.is_open:
            continue
        for figures in (out.setdefault(esc.community.key, NowFigures()), out[""]):
            figures.open += 1
            if esc.held:
                continue
            if esc.owner is None and esc.ball == Ball.experts and esc.first_response_at is None:
                figures.unanswered += 1
            if is_overdue(esc, now):
                figures.overdue += 1
            if esc.ball == Ball.requester:
                figures.waiting_on_requester += 1
    return out


@dataclass(frozen=True)
class Overview:
    since: datetime
    until: datetime
    now: dict[str, NowFigures]
    current: Report
    previous: Report  # the period of the same length just before
    weeks: list[Report]  # week by week over both periods, oldest first

    @property
    def previous_since(self) -> datetime:
        return self.previous.since


def overview(
    open_escalations: Sequence[Escalation],
    history: Sequence[Escalation],
    events: Sequence[AuditEvent],
    since: datetime,
    until: datetime,
) -> Overview:
    """``history`` holds every escalation touched since the previous period began."""
    length = until - since
    previous_since = since - length
    weeks = []
    start = previous_since
    while start < until:
        end = min(start + WEEK, until)
        weeks.append(compute(_touched(history, start, end), events, start, end))
        start = end
    return Overview(
        since=since,
        until=until,
        now=now_figures(open_escalations, until),
        current=compute(_touched(history, since, until), events, since, until),
        previous=compute(_touched(history, previous_since, since), events, previous_since, since),
        weeks=weeks,
    )


def _touched(history: Sequence[Escalation], since: datetime, until: datetime) -> list[Escalation]:
    """Those ``compute`` counts anything of in [since, until): opened, or closed, in it (an
    escalation outside the window would only cost it time)."""
    return [
        e
        for e in history
        if since <= e.created_at < until
        or (e.resolved_at is not None and since <= e.resolved_at < until)
        or (not e.is_open and since <= e.updated_at < until)
    ]


def first_response_by_expert(history: Iterable[Escalation], since: datetime, until: datetime) -> dict[str, float]:
    """Median seconds to the first response, by the expert who gave it (their key), for
    questions opened in [since, until): who answers, and how fast."""
    waits: dict[str, list[float]] = {}
    for esc in history:
        if esc.first_responder is None or esc.first_response_at is None or not since <= esc.created_at < until:
            continue
        expert = esc.community.expert_for(esc.first_responder)
        key = expert.key if expert is not None else esc.first_responder.key
        waits.setdefault(key, []).append((esc.first_response_at - esc.created_at).total_seconds())
    return {key: value for key, values in waits.items() if (value := median(values)) is not None}


def figures_of(report: Report, community: str | None) -> Figures:
    return report.communities.get(community, Figures()) if community else report.total
