"""Who a question can move to next, and who is told about it (pure)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from .availability import earliest_return, when
from .calendar import BusinessHours
from .commands import Roster
from .expertise import Standing, by_expertise, reason, standings
from .model import Community, Escalation, Expert, PersonRef, Platform, Rotation


def candidates(esc: Escalation) -> list[Expert]:
    """Who the question could move to next, in roster order; the lead comes last."""
    current = esc.owner.expert if esc.owner else None
    out = [
        e for e in esc.community.experts if e.key not in esc.excluded and e.key != current and not e.is_(esc.requester)
    ]
    lead = esc.community.lead
    if (
        lead is not None
        and lead.key != current
        and lead.key not in esc.excluded
        and not lead.is_(esc.requester)
        and all(e.key != lead.key for e in out)
    ):
        out.append(lead)
    return out


def zone_of(esc: Escalation) -> ZoneInfo:
    """Where the community's times are said: its business hours' zone, else UTC."""
    hours = esc.policy.business_hours
    return hours.zone if hours else ZoneInfo("UTC")


def cannot_hold(esc: Escalation, expert_key: str, roster: Roster | None = None) -> str | None:
    """Why the expert with ``expert_key`` can no longer hold ``esc``, to follow their name
    ("is no longer in the … rotation", "is away until …"; None: they can), from the roster
    the escalation carries and who is away, which the service keeps current."""
    community = esc.community
    if roster is not None and expert_key in roster.away:
        return f"is away {when(roster.away[expert_key], zone_of(esc))}"
    if any(e.key == expert_key for e in community.experts):
        return None
    if community.lead is not None and community.lead.key == expert_key:
        return None
    return f"is no longer in the {community.name} rotation"


def _rotating(esc: Escalation) -> list[Expert]:
    """The candidates who are in the rotation itself (the lead only when also an expert)."""
    lead = esc.community.lead
    return [e for e in candidates(esc) if lead is None or e.key != lead.key or esc.community.is_expert(e.refs[0])]


def choose_expert(esc: Escalation, roster: Roster, now: datetime | None = None) -> Expert | None:
    """The next expert by the community's rotation, never one who is away; the lead when
    the roster is spent or everyone in it is away. ``now``: how old the evidence is for
    ``rotation: expertise`` (the escalation's last change when not given)."""
    pool = candidates(esc)
    lead = esc.community.lead
    experts = [e for e in _rotating(esc) if e.key not in roster.away]
    if not experts:
        return next((e for e in pool if lead is not None and e.key == lead.key), None)
    # Follow the sun: those inside their working hours now first, everyone available when nobody is.
    experts = [e for e in experts if e.key not in roster.out_of_hours] or experts
    order = [e.key for e in esc.community.experts]
    start = order.index(roster.last_assigned) + 1 if roster.last_assigned in order else 0

    def position(expert: Expert) -> int:
        return (order.index(expert.key) - start) % len(order)

    if esc.policy.rotation == Rotation.least_loaded:
        return min(experts, key=lambda e: (roster.loads.get(e.key, 0), position(e)))
    if esc.policy.rotation == Rotation.expertise:
        return by_expertise(sorted(experts, key=position), esc.precedents, roster.loads, now or esc.updated_at)[0]
    return min(experts, key=position)


def expertise_of(esc: Escalation, expert: Expert, now: datetime) -> Standing | None:
    """Why ``rotation: expertise`` chose ``expert``: their similar answers (None: it did not)."""
    if esc.policy.rotation != Rotation.expertise:
        return None
    found = standings([expert], esc.precedents, now)
    return found[0] if found else None


def why_chosen(esc: Escalation, roster: Roster, chosen: Expert, now: datetime) -> str | None:
    """What the people concerned are told about the choice: that nobody in the rotation is
    available; else who answered similar questions before, and who was passed over as away."""
    nobody = nobody_available(esc, roster)
    if nobody:
        return nobody
    standing = expertise_of(esc, chosen, now)
    reasons = [reason(standing)] if standing else []
    away = away_reason(esc, roster)
    return "; ".join([*reasons, away] if away else reasons) or None


def expertise_detail(esc: Escalation, chosen: str, now: datetime) -> dict[str, Any] | None:
    """For the audit: the evidence behind a choice by expertise."""
    people = (*esc.community.experts, *([esc.community.lead] if esc.community.lead else []))
    expert = next((e for e in people if e.key == chosen), None)
    standing = expertise_of(esc, expert, now) if expert else None
    if standing is None:
        return None
    return {"answered": standing.answered, "score": round(standing.score, 3), "latest": standing.latest.escalation_id}


def likely_experts(esc: Escalation, now: datetime, limit: int = 3) -> list[Standing]:
    """The community's people who answered questions like this one, best first."""
    people = list(esc.community.experts)
    lead = esc.community.lead
    if lead is not None and all(e.key != lead.key for e in people):
        people.append(lead)
    return [s for s in standings(people, esc.precedents, now) if not s.expert.is_(esc.requester)][:limit]


def nobody_available(esc: Escalation, roster: Roster) -> str | None:
    """When everyone the question could go to in the rotation is away: "nobody in the …
    rotation is available until <when the first is back>". None when someone is there."""
    rotating = _rotating(esc)
    if not rotating or any(e.key not in roster.away for e in rotating):
        return None
    back = earliest_return(roster.away, rotating)
    until = when(back, zone_of(esc)) if back else "(everyone is away)"
    return f"nobody in the {esc.community.name} rotation is available {until}"


def away_reason(esc: Escalation, roster: Roster) -> str | None:
    """Why the rotation's choice is not the next in line, in words: nobody available (the
    lead gets it), or who it passed over for being away. None when nobody was away."""
    nobody = nobody_available(esc, roster)
    if nobody:
        return nobody
    zone = zone_of(esc)
    away = [f"{e.label()} is away {when(roster.away[e.key], zone)}" for e in _rotating(esc) if e.key in roster.away]
    return "; ".join(away[:3]) + ("; and others are away" if len(away) > 3 else "") if away else None


def skipped_away(esc: Escalation, roster: Roster) -> dict[str, str]:
    """For the audit: who the rotation passed over because they are away, and until when."""
    return {
        e.key: (until.isoformat() if until else "until back")
        for e in candidates(esc)
        if e.key in roster.away
        for until in (roster.away[e.key],)
    }


def out_of_hours(community: Community, now: datetime, zones: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """Who is outside their working hours at ``now``: their own where the configuration says
    them; else the community's hours in their own zone where their platform told it
    (``zones``: expert key -> time zone); else the community's business hours (none: never)."""
    people = (*community.experts, *([community.lead] if community.lead else []))
    return tuple(
        dict.fromkeys(
            e.key
            for e in people
            for hours in (e.hours or _in_zone(community.policy.business_hours, (zones or {}).get(e.key)),)
            if hours is not None and not hours.is_open(now)
        )
    )


def _in_zone(hours: BusinessHours | None, zone: str | None) -> BusinessHours | None:
    """The community's working days and hours (09:00-17:00 on weekdays without any) in
    ``zone``; its public holidays are its country's, so they stay behind."""
    if zone is None:
        return hours
    try:
        if hours is None:
            return BusinessHours(timezone=zone)
        return BusinessHours.model_validate({**hours.model_dump(), "timezone": zone, "holidays": None})
    except ValueError:
        return hours


def skipped_out_of_hours(esc: Escalation, roster: Roster, chosen: str) -> list[str]:
    """For the audit: who the rotation passed over because they are outside their working
    hours, when it chose someone inside theirs (empty: nothing was avoided)."""
    if chosen in roster.out_of_hours:
        return []
    return [e.key for e in _rotating(esc) if e.key in roster.out_of_hours and e.key not in roster.away]


def contact(esc: Escalation, expert: Expert) -> PersonRef:
    """The expert's identity on the platform of the community's first channel, if any."""
    for channel in esc.community.channels:
        ref = expert.ref_on(channel.platform)
        if ref is not None:
            return ref
    return expert.refs[0]


def mentions(
    esc: Escalation, platform: Platform, *, include_lead: bool = False, roster: Roster | None = None
) -> tuple[PersonRef, ...]:
    """Who a message in the channel calls on: the experts (and the lead), never one who is away."""
    people = list(esc.community.experts)
    if include_lead and esc.community.lead:
        people.append(esc.community.lead)
    # Those who answered questions like this one are called on first.
    likely = [s.expert.key for s in standings(people, esc.precedents, esc.updated_at)]
    people.sort(key=lambda e: likely.index(e.key) if e.key in likely else len(likely))
    out: list[PersonRef] = []
    for expert in people:
        if roster is not None and expert.key in roster.away:
            continue
        ref = expert.ref_on(platform)
        if ref is not None and not ref.same(esc.requester) and ref not in out:
            out.append(ref)
    return tuple(out)
