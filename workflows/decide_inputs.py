"""What ``decide`` needs from outside the escalation, as the service loads it inside the
command's transaction: the community's live roster, the rotation's memory and load with who
is away or out of hours, and the resolved questions related to a new one."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from .commands import BaseCommand, Decline, MoveOn, Open, Reassign, Tick
from .directory import Directory
from .effects import Suggestion
from .expertise import MAX_PRECEDENTS
from .model import Community, Escalation, Precedent, Step
from .ports import Scope
from .presence import away_now, people_of, with_members, zones_now
from .rotation import out_of_hours
from .user_groups import with_user_groups

# Seconds an open waits for its knowledge search at most. Where the community deflects, the
# requester's first answer depends on it, so it may take a good part of Slack's 3 s ack
# budget; where it only feeds the expertise evidence and the card's hint, it must cost the
# ack next to nothing (at 1M escalations a search measured p99 1.6 s: bench/README.md).
DEFLECTION_BOUND = 1.0
EVIDENCE_BOUND = 0.05


async def live_community(directory: Directory, uow: Any, key: str) -> Community | None:
    """The community as configured now, with its user groups' members as last read, and
    who joined or left its rotation if it is open."""
    community = directory.get(key)
    if community is not None and community.user_groups:
        community = with_user_groups(community, await uow.user_groups.members([g.key for g in community.user_groups]))
    if community is None or not community.open_roster:
        return community
    return with_members(community, await uow.roster_members.of(key))


def with_live_roster(esc: Escalation, live: Community | None) -> Escalation:
    """``esc`` with its community's experts and lead as they are now. The rest of the
    policy (timers, hours) stays as it was when the question opened."""
    if live is None or (live.experts, live.lead) == (esc.community.experts, esc.community.lead):
        return esc
    community = esc.community.model_copy(update={"experts": live.experts, "lead": live.lead})
    return esc.model_copy(update={"community": community})


def needs_roster(command: BaseCommand, esc: Escalation) -> bool:
    if isinstance(command, MoveOn):
        return True
    if isinstance(command, Tick):
        return command.step in (Step.assign, Step.reassign, Step.nudge)
    if isinstance(command, Reassign):
        return command.to is None
    return isinstance(command, Decline)


async def with_roster(uow: Any, command: BaseCommand, current: Escalation, now: datetime) -> BaseCommand:
    """``command`` with the rotation's memory and load, who is away and who is out of hours."""
    keys = [e.key for e in current.community.experts]
    if current.community.lead:
        keys.append(current.community.lead.key)
    roster = await uow.rotation.roster(current.community.key, keys, uow.escalations)
    away = await away_now(uow, people_of(current.community), now)
    zones = await zones_now(uow, people_of(current.community))
    off = out_of_hours(current.community, now, zones)
    return command.model_copy(update={"roster": roster.model_copy(update={"away": away, "out_of_hours": off})})


async def with_found_before(uow: Any, command: Open) -> Open:
    """A new question with what the knowledge base found before it."""
    # One search: its closest hits are the suggestions, who answered them the evidence.
    assert command.community is not None
    scope = Scope.of(command.actor)
    # Bounded: it runs on every open, before the platform's ack, and at a large
    # history a search can take far longer than the open itself (bench/README.md,
    # expertise). Past the bound the open goes on without evidence or suggestions:
    # the rotation falls back to the least loaded, the card to no hint.
    deflects = bool(command.community.policy.deflection_wait)
    bound = DEFLECTION_BOUND if deflects else EVIDENCE_BOUND
    hits = await uow.knowledge.related(command.question, scope, command.community_key, MAX_PRECEDENTS, within=bound)
    found_before: dict[str, Any] = {"precedents": await _precedents(uow, hits)}
    if deflects:
        close = uow.knowledge.close_to(command.question, hits)
        found_before["suggestions"] = tuple(await _as_suggestions(uow, close))
    return command.model_copy(update=found_before)


async def _as_suggestions(uow: Any, hits: Sequence[Any]) -> list[Suggestion]:
    """Knowledge hits with a link to each one's card, for people to read."""
    found = await uow.messages.for_escalations([hit.escalation_id for hit in hits], "card") if hits else {}
    out = []
    for hit in hits:
        cards = found.get(hit.escalation_id, [])
        out.append(
            Suggestion(
                escalation_id=hit.escalation_id,
                community_key=hit.community,
                question=hit.question,
                answer=hit.answer,
                card=cards[0][1] if cards else None,
                files=tuple(hit.files),
            )
        )
    return out


async def _precedents(uow: Any, related: Sequence[Any]) -> tuple[Precedent, ...]:
    """Who answered the resolved questions ``related`` to a new one, with a link to each one's
    card: the evidence ``rotation: expertise`` routes by, and every card shows."""
    hits = [hit for hit in related if hit.answered_by]
    found = await uow.messages.for_escalations([hit.escalation_id for hit in hits], "card") if hits else {}
    return tuple(
        Precedent(
            escalation_id=hit.escalation_id,
            question=hit.question,
            answered_by=hit.answered_by,
            resolved_at=hit.resolved_at,
            relevance=max(float(hit.score), 0.0),
            card=found[hit.escalation_id][0][1] if found.get(hit.escalation_id) else None,
        )
        for hit in hits
    )
