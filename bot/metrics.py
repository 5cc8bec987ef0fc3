"""Prometheus metrics at ``GET /metrics``: counters and histograms per process, gauges
read from the database at scrape time (so every replica reports the same backlog)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from workflows.decide import Decision
from workflows.model import Escalation, Status

if TYPE_CHECKING:
    from .runtime import Runtime

_DURATION_BUCKETS = (60, 300, 900, 1800, 3600, 2 * 3600, 4 * 3600, 8 * 3600, 86400, 2 * 86400, 7 * 86400)
_LATENESS_BUCKETS = (0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 3600)
_LOOP_LAG_BUCKETS = (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.events = Counter(
            "escalation_events", "State changes, by community and action", ["community", "action"], registry=r
        )
        self.first_response = Histogram(
            "escalation_time_to_first_response_seconds",
            "Wall time from opening to the first response",
            ["community"],
            buckets=_DURATION_BUCKETS,
            registry=r,
        )
        self.resolution = Histogram(
            "escalation_time_to_resolution_seconds",
            "Wall time from opening to resolution",
            ["community"],
            buckets=_DURATION_BUCKETS,
            registry=r,
        )
        self.lateness = Histogram(
            "escalation_timer_lateness_seconds",
            "How long after its due time a timer step ran",
            ["step"],
            buckets=_LATENESS_BUCKETS,
            registry=r,
        )
        self.loop_lag = Histogram(
            "escalation_event_loop_lag_seconds",
            "How late the event loop ran a callback that was due (every request waits this long too)",
            buckets=_LOOP_LAG_BUCKETS,
            registry=r,
        )
        self.deliveries = Counter(
            "escalation_outbox_deliveries", "Outbox delivery attempts by outcome", ["platform", "outcome"], registry=r
        )
        self.outbox_rows = Gauge("escalation_outbox_rows", "Outbox rows by status", ["status"], registry=r)
        self.oldest_undelivered = Gauge(
            "escalation_outbox_oldest_undelivered_seconds", "Age of the oldest undelivered outbox row", registry=r
        )
        self.most_overdue = Gauge(
            "escalation_most_overdue_timer_seconds", "How far past due the most overdue timer is", registry=r
        )

    def committed(self, esc: Escalation, decision: Decision) -> None:
        community = esc.community.key
        self.events.labels(community, decision.action or "changed").inc()
        detail = decision.detail
        if decision.detail.get("first_response") and esc.first_response_at:
            self.first_response.labels(community).observe((esc.first_response_at - esc.created_at).total_seconds())
        if decision.action == "resolved" and esc.status == Status.resolved and esc.resolved_at:
            self.resolution.labels(community).observe((esc.resolved_at - esc.created_at).total_seconds())
        late = detail.get("late_s")
        if isinstance(late, (int, float)) and isinstance(detail.get("step"), str):
            self.lateness.labels(str(detail["step"])).observe(float(late))

    def delivery(self, platform: str, outcome: str) -> None:
        self.deliveries.labels(platform, outcome).inc()


async def metrics_endpoint(request: web.Request) -> web.Response:
    from .app import RUNTIME

    runtime: Runtime = request.app[RUNTIME]
    metrics = runtime.metrics
    now = runtime.clock.now()
    async with runtime.store.unit_of_work() as uow:
        counts = await uow.outbox.counts()
        oldest = await uow.outbox.oldest_pending()
        overdue = await uow.escalations.oldest_overdue(now)
    for status in ("pending", "sent", "failed"):
        metrics.outbox_rows.labels(status).set(counts.get(status, 0))
    metrics.oldest_undelivered.set((now - oldest).total_seconds() if oldest else 0)
    metrics.most_overdue.set((now - overdue).total_seconds() if overdue else 0)
    body = generate_latest(metrics.registry)
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
