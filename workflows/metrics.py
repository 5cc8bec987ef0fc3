"""What escalation returns: speed, pull versus push, load. Pure computation over history."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from .calendar import BusinessHours, elapsed_time
from .model import SYSTEM, Escalation, Status

# Actions that interrupt an expert: being handed a question, or mentioned by a nudge.
_HANDED = {"auto_assigned", "auto_reassigned", "assigned", "reassigned", "declined"}


@dataclass(frozen=True)
class AuditEvent:
    escalation_id: str
    at: datetime
    action: str
    actor: str
    detail: dict[str, object]


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def median(values: Sequence[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


@dataclass
class Durations:
    wall: list[float] = field(default_factory=list)
    business: list[float] = field(default_factory=list)

    def add(self, hours: BusinessHours | None, since: datetime, until: datetime) -> None:
        self.wall.append((until - since).total_seconds())
        self.business.append(elapsed_time(hours, since, until).total_seconds())

    def summary(self) -> dict[str, float | None]:
        return {
            "median_s": median(self.wall),
            "p90_s": percentile(self.wall, 90),
            "median_business_s": median(self.business),
            "p90_business_s": percentile(self.business, 90),
        }


@dataclass
class Figures:
    opened: int = 0
    resolved: int = 0
    deflected: int = 0
    cancelled: int = 0
    pull: int = 0
    push: int = 0
    reassignments: int = 0
    # Assignments the rotation gave someone inside their working hours, passing over others outside theirs.
    out_of_hours_avoided: int = 0
    first_response: Durations = field(default_factory=Durations)
    resolution: Durations = field(default_factory=Durations)

    def as_dict(self) -> dict[str, object]:
        answered = self.pull + self.push
        return {
            "opened": self.opened,
            "resolved": self.resolved,
            "deflected": self.deflected,
            "cancelled": self.cancelled,
            "pull_share": round(self.pull / answered, 4) if answered else None,
            "push_share": round(self.push / answered, 4) if answered else None,
            "reassignments_per_escalation": round(self.reassignments / self.opened, 4) if self.opened else None,
            "time_to_first_response": self.first_response.summary(),
            "time_to_resolution": self.resolution.summary(),
            "out_of_hours_avoided": self.out_of_hours_avoided,
        }


@dataclass
class ExpertFigures:
    expert: str
    owned: int = 0  # escalations opened in the period that this expert ended up owning
    first_responses: int = 0
    resolved: int = 0
    handed: int = 0  # times the bot or a colleague gave them a question
    out_of_hours: int = 0  # of those, outside their own working hours where known, else the community's

    def as_dict(self) -> dict[str, object]:
        return {
            "expert": self.expert,
            "owned": self.owned,
            "first_responses": self.first_responses,
            "resolved": self.resolved,
            "handed": self.handed,
            "out_of_hours_interruptions": self.out_of_hours,
        }


@dataclass
class Report:
    since: datetime
    until: datetime
    communities: dict[str, Figures]
    experts: dict[str, ExpertFigures]
    total: Figures

    def as_dict(self) -> dict[str, object]:
        return {
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "total": self.total.as_dict(),
            "communities": {k: v.as_dict() for k, v in sorted(self.communities.items())},
            "experts": [v.as_dict() for _, v in sorted(self.experts.items())],
        }


def _in(moment: datetime | None, since: datetime, until: datetime) -> bool:
    return moment is not None and since <= moment < until


def compute(
    escalations: Iterable[Escalation], events: Iterable[AuditEvent], since: datetime, until: datetime
) -> Report:
    """Figures for escalations opened in [since, until); closings counted when they fall in it too.

    Durations are measured for escalations opened in the period whose first response /
    resolution happened (at any time up to ``until``).
    """
    communities: dict[str, Figures] = {}
    experts: dict[str, ExpertFigures] = {}
    total = Figures()
    by_id: dict[str, Escalation] = {}

    def expert(key: str) -> ExpertFigures:
        return experts.setdefault(key, ExpertFigures(key))

    for esc in escalations:
        by_id[esc.id] = esc
        hours = esc.policy.business_hours
        figures = communities.setdefault(esc.community.key, Figures())
        for target in (figures, total):
            if _in(esc.created_at, since, until):
                target.opened += 1
                target.reassignments += esc.reassignments
                if esc.first_response_at and esc.first_response_at < until:
                    target.first_response.add(hours, esc.created_at, esc.first_response_at)
                    if esc.first_response_pull:
                        target.pull += 1
                    else:
                        target.push += 1
                if esc.status == Status.resolved and esc.resolved_at and esc.resolved_at < until:
                    target.resolution.add(hours, esc.created_at, esc.resolved_at)
            closed_at = esc.resolved_at if esc.status == Status.resolved else esc.updated_at
            if _in(closed_at, since, until):
                if esc.status == Status.resolved:
                    target.resolved += 1
                elif esc.status == Status.deflected:
                    target.deflected += 1
                elif esc.status == Status.cancelled:
                    target.cancelled += 1
        if _in(esc.created_at, since, until):
            if esc.owner is not None:
                expert(esc.owner.expert).owned += 1
            if esc.first_responder is not None and _in(esc.first_response_at, since, until):
                found = esc.community.expert_for(esc.first_responder)
                expert(found.key if found else esc.first_responder.key).first_responses += 1
        resolver = esc.resolved_by
        if (
            esc.status == Status.resolved
            and _in(esc.resolved_at, since, until)
            and resolver is not None
            and resolver != SYSTEM
            and not esc.requester.same(resolver)
        ):
            found = esc.community.expert_for(resolver)
            expert(found.key if found else resolver.key).resolved += 1

    for event in events:
        if event.action not in _HANDED or not _in(event.at, since, until):
            continue
        owner = event.detail.get("owner")
        if not isinstance(owner, str):
            continue
        figures_of = expert(owner)
        figures_of.handed += 1
        esc_of = by_id.get(event.escalation_id)
        said = event.detail.get("owner_out_of_hours")
        if isinstance(said, bool):  # the rotation knew, with the zone Slack gave
            figures_of.out_of_hours += said
        elif (hours := _hours_of(esc_of, owner) if esc_of else None) is not None and not hours.is_open(event.at):
            figures_of.out_of_hours += 1
        if event.detail.get("out_of_hours") and esc_of is not None:
            for target in (communities.setdefault(esc_of.community.key, Figures()), total):
                target.out_of_hours_avoided += 1
    return Report(since, until, communities, experts, total)


def _hours_of(esc: Escalation, expert: str) -> BusinessHours | None:
    """The expert's own working hours as the escalation knew them, else the community's."""
    people = (*esc.community.experts, *([esc.community.lead] if esc.community.lead else []))
    own = next((e.hours for e in people if e.key == expert and e.hours is not None), None)
    return own or esc.policy.business_hours


def parse_since(text: str, now: datetime) -> datetime:
    """``30d``, ``12h``, ``2w`` back from now, or an ISO date/time."""
    from .durations import DurationError, parse_duration

    try:
        return now - parse_duration(text)
    except DurationError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{text!r} is neither a duration (30d, 12h) nor a date (2026-11-01)") from None
    if moment.tzinfo is None:
        from datetime import UTC

        moment = moment.replace(tzinfo=UTC)
    return moment
