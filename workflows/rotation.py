"""Who a question can move to next, and who is told about it (pure)."""

from __future__ import annotations

from .commands import Roster
from .model import Escalation, Expert, PersonRef, Platform, Rotation


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


def cannot_hold(esc: Escalation, expert_key: str) -> str | None:
    """Why the expert with ``expert_key`` can no longer hold ``esc``, to follow their name
    ("is no longer in the … rotation"; None: they can), from
    the roster the escalation carries, which the service keeps current."""
    community = esc.community
    if any(e.key == expert_key for e in community.experts):
        return None
    if community.lead is not None and community.lead.key == expert_key:
        return None
    return f"is no longer in the {community.name} rotation"


def choose_expert(esc: Escalation, roster: Roster) -> Expert | None:
    """The next expert by the community's rotation; the lead when the roster is spent."""
    pool = candidates(esc)
    lead = esc.community.lead
    experts = [e for e in pool if lead is None or e.key != lead.key or esc.community.is_expert(e.refs[0])]
    if not experts:
        return pool[0] if pool else None
    order = [e.key for e in esc.community.experts]
    start = order.index(roster.last_assigned) + 1 if roster.last_assigned in order else 0

    def position(expert: Expert) -> int:
        return (order.index(expert.key) - start) % len(order)

    if esc.policy.rotation == Rotation.least_loaded:
        return min(experts, key=lambda e: (roster.loads.get(e.key, 0), position(e)))
    return min(experts, key=position)


def contact(esc: Escalation, expert: Expert) -> PersonRef:
    """The expert's identity on the platform of the community's first channel, if any."""
    for channel in esc.community.channels:
        ref = expert.ref_on(channel.platform)
        if ref is not None:
            return ref
    return expert.refs[0]


def mentions(esc: Escalation, platform: Platform, *, include_lead: bool = False) -> tuple[PersonRef, ...]:
    people = list(esc.community.experts)
    if include_lead and esc.community.lead:
        people.append(esc.community.lead)
    out: list[PersonRef] = []
    for expert in people:
        ref = expert.ref_on(platform)
        if ref is not None and not ref.same(esc.requester) and ref not in out:
            out.append(ref)
    return tuple(out)
