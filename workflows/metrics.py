"""What escalation returns: speed, pull versus push, load. Pure computation over history."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from .calendar import BusinessHours, elapsed_time
from .model import SYSTEM, Escalation, PersonRef, Status

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
    return _percentile(sorted(values), q)


def median(values: Sequence[float]) -> float | None:
    return _median(sorted(values))


def _percentile(ordered: Sequence[float], q: float) -> float | None:
    if not ordered:
        return None
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def _median(ordered: Sequence[float]) -> float | None:
    if not ordered:
        return None
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


@dataclass
class Durations:
    wall: list[float] = field(default_factory=list)
    business: list[float] = field(default_factory=list)

    def add(self, hours: BusinessHours | None, since: datetime, until: datetime) -> None:
        self.wall.append(wall_seconds(since, until))
        self.business.append(business_seconds(hours, since, until))

    def summary(self) -> dict[str, float | None]:
        wall, business = sorted(self.wall), sorted(self.business)
        return {
            "median_s": _median(wall),
            "p90_s": _percentile(wall, 90),
            "median_business_s": _median(business),
            "p90_business_s": _percentile(business, 90),
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


def wall_seconds(since: datetime, until: datetime) -> float:
    return (until - since).total_seconds()


def business_seconds(hours: BusinessHours | None, since: datetime, until: datetime) -> float:
    return elapsed_time(hours, since, until).total_seconds()


class Facts(NamedTuple):
    """What one escalation contributes to the figures, as of its last change. The report
    derives them from documents (``fact_of``); storage keeps them as columns of the
    escalation's row, written with it, so the console counts without reading documents.
    ``count`` reads only these: one counting rule for both. (A tuple: tens of thousands
    are made for one page.)"""

    id: str
    community: str
    status: str  # a Status (a str: as stored)
    created_at: datetime
    # When it left open: its resolution, else its last change; None while open.
    closed_at: datetime | None
    owner: str | None  # expert key
    reassignments: int
    first_response_at: datetime | None
    first_response_pull: bool | None
    first_responder: str | None  # expert key, else person key
    resolver: str | None  # likewise; None unless resolved by someone other than the bot or the requester
    first_response_s: float | None  # wall and business seconds, business by the policy's hours
    first_response_business_s: float | None
    resolution_s: float | None
    resolution_business_s: float | None


def _expert_key(esc: Escalation, person: PersonRef) -> str:
    found = esc.community.expert_for(person)
    return found.key if found else person.key


def fact_of(esc: Escalation) -> Facts:
    hours = esc.policy.business_hours
    resolved = esc.status == Status.resolved
    closed_at = esc.resolved_at if resolved else None if esc.status == Status.open else esc.updated_at
    responded, done = esc.first_response_at, esc.resolved_at if resolved else None
    resolver = esc.resolved_by if resolved else None
    if resolver is not None and (resolver == SYSTEM or esc.requester.same(resolver)):
        resolver = None
    return Facts(
        id=esc.id,
        community=esc.community.key,
        status=esc.status,
        created_at=esc.created_at,
        closed_at=closed_at,
        owner=esc.owner.expert if esc.owner is not None else None,
        reassignments=esc.reassignments,
        first_response_at=responded,
        first_response_pull=esc.first_response_pull,
        first_responder=_expert_key(esc, esc.first_responder) if esc.first_responder is not None else None,
        resolver=_expert_key(esc, resolver) if resolver is not None else None,
        first_response_s=wall_seconds(esc.created_at, responded) if responded else None,
        first_response_business_s=business_seconds(hours, esc.created_at, responded) if responded else None,
        resolution_s=wall_seconds(esc.created_at, done) if done else None,
        resolution_business_s=business_seconds(hours, esc.created_at, done) if done else None,
    )


def _in(moment: datetime | None, since: datetime, until: datetime) -> bool:
    return moment is not None and since <= moment < until


def compute(
    escalations: Iterable[Escalation], events: Iterable[AuditEvent], since: datetime, until: datetime
) -> Report:
    """Figures for escalations opened in [since, until); closings counted when they fall in it too.

    Durations are measured for escalations opened in the period whose first response /
    resolution happened (at any time up to ``until``).
    """
    documents = {esc.id: esc for esc in escalations}
    return count([fact_of(esc) for esc in documents.values()], events, since, until, documents)


def needs_document(event: AuditEvent) -> bool:
    """Whether counting this event reads its escalation's document: a question handed to
    someone without saying whether it was outside their hours (the escalation's hours say)."""
    return (
        event.action in _HANDED
        and isinstance(event.detail.get("owner"), str)
        and not isinstance(event.detail.get("owner_out_of_hours"), bool)
    )


def count(
    facts: Iterable[Facts],
    events: Iterable[AuditEvent],
    since: datetime,
    until: datetime,
    documents: Mapping[str, Escalation],
) -> Report:
    """``compute`` over the escalations' facts; ``documents`` holds at least those of the
    escalations with an event that ``needs_document``."""
    communities: dict[str, Figures] = {}
    experts = _Experts()
    by_id: dict[str, Facts] = {}
    # Tens of thousands of facts per page, counted a few times each: the fields unpacked
    # once, the hot dicts and constants local.
    resolved, deflected, cancelled = Status.resolved, Status.deflected, Status.cancelled
    for fact in facts:
        (
            key,
            community,
            status,
            created_at,
            closed_at,
            owner,
            reassignments,
            responded,
            pulled,
            responder,
            resolver,
            response_s,
            response_business_s,
            resolution_s,
            resolution_business_s,
        ) = fact
        by_id[key] = fact
        figures = communities.get(community)
        if figures is None:
            figures = communities[community] = Figures()
        if since <= created_at < until:  # opened
            figures.opened += 1
            figures.reassignments += reassignments
            if responded and responded < until:
                first = figures.first_response
                first.wall.append(response_s or 0.0)
                first.business.append(response_business_s or 0.0)
                if pulled:
                    figures.pull += 1
                else:
                    figures.push += 1
                if responder is not None and since <= responded:
                    experts[responder].first_responses += 1
            if status == resolved and closed_at and closed_at < until:
                resolution = figures.resolution
                resolution.wall.append(resolution_s or 0.0)
                resolution.business.append(resolution_business_s or 0.0)
            if owner is not None:
                experts[owner].owned += 1
        if closed_at is not None and since <= closed_at < until:  # closed
            if status == resolved:
                figures.resolved += 1
                if resolver is not None:
                    experts[resolver].resolved += 1
            elif status == deflected:
                figures.deflected += 1
            elif status == cancelled:
                figures.cancelled += 1
    total = Figures()

    for event in events:
        if event.action not in _HANDED or not _in(event.at, since, until):
            continue
        handed_to = event.detail.get("owner")
        if not isinstance(handed_to, str):
            continue
        figures_of = experts[handed_to]
        figures_of.handed += 1
        fact_of_event = by_id.get(event.escalation_id)
        esc_of = documents.get(event.escalation_id) if fact_of_event is not None else None
        said = event.detail.get("owner_out_of_hours")
        if isinstance(said, bool):  # the rotation knew, with the zone Slack gave
            figures_of.out_of_hours += said
        elif (hours := _hours_of(esc_of, handed_to) if esc_of else None) is not None and not hours.is_open(event.at):
            figures_of.out_of_hours += 1
        if event.detail.get("out_of_hours") and fact_of_event is not None:
            communities.setdefault(fact_of_event.community, Figures()).out_of_hours_avoided += 1
    for figures in communities.values():  # the total: every community's counts and durations
        for name in ("opened", "resolved", "deflected", "cancelled", "pull", "push", "reassignments"):
            setattr(total, name, getattr(total, name) + getattr(figures, name))
        total.out_of_hours_avoided += figures.out_of_hours_avoided
        for mine, theirs in ((total.first_response, figures.first_response), (total.resolution, figures.resolution)):
            mine.wall += theirs.wall
            mine.business += theirs.business
    return Report(since, until, communities, dict(experts), total)


class _Experts(dict[str, ExpertFigures]):
    """Each expert's figures, begun at the first mention."""

    def __missing__(self, key: str) -> ExpertFigures:
        found = self[key] = ExpertFigures(key)
        return found


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
