"""The console's overview: each community now, and over a period against the one before.

Pure computation, reusing the report's counting (``metrics.count``) for the period figures and
the digest's rules for what counts as unanswered, overdue or waiting on the requester."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from .console import History
from .digest import is_overdue
from .metrics import Facts, Figures, Report, count, median
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


def overview(open_escalations: Sequence[Escalation], touched: History, since: datetime, until: datetime) -> Overview:
    """``touched`` holds every escalation opened or closed since the previous period began."""
    history, events, documents = touched.facts, touched.events, touched.documents
    length = until - since
    previous_since = since - length
    starts = []
    start = previous_since
    while start < until:
        starts.append(start)
        start = min(start + WEEK, until)
    ends = [*starts[1:], until]
    # Each escalation goes to the weeks it was opened or closed in (an escalation outside
    # a week would only cost its count time), found once rather than once a week.
    # Opened and closed in the same week: there once.
    by_week: list[list[Facts]] = [[] for _ in starts]
    for fact in history:
        created, closed = fact.created_at, fact.closed_at
        opened_in = bisect_right(starts, created) - 1 if previous_since <= created < until else -1
        if opened_in >= 0:
            by_week[opened_in].append(fact)
        if closed is not None and previous_since <= closed < until:
            closed_in = bisect_right(starts, closed) - 1
            if closed_in != opened_in:
                by_week[closed_in].append(fact)
    weeks = [count(facts, events, s, e, documents) for facts, s, e in zip(by_week, starts, ends, strict=True)]
    return Overview(
        since=since,
        until=until,
        now=now_figures(open_escalations, until),
        current=count(_touched(history, since, until), events, since, until, documents),
        previous=count(_touched(history, previous_since, since), events, previous_since, since, documents),
        weeks=weeks,
    )


def _touched(history: Sequence[Facts], since: datetime, until: datetime) -> list[Facts]:
    return [
        f
        for f in history
        if since <= f.created_at < until or (f.closed_at is not None and since <= f.closed_at < until)
    ]


def first_response_by_expert(history: Iterable[Facts], since: datetime, until: datetime) -> dict[str, float]:
    """Median seconds to the first response, by the expert who gave it (their key), for
    questions opened in [since, until): who answers, and how fast."""
    waits: dict[str, list[float]] = {}
    for fact in history:
        if fact.first_responder is None or fact.first_response_s is None or not since <= fact.created_at < until:
            continue
        waits.setdefault(fact.first_responder, []).append(fact.first_response_s)
    return {key: value for key, values in waits.items() if (value := median(values)) is not None}


def figures_of(report: Report, community: str | None) -> Figures:
    return report.communities.get(community, Figures()) if community else report.total
