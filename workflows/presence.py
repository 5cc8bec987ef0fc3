"""Saying you are away, and coming back: stored for every replica, honoured by the rotation
and the nudge (the service passes who is away into ``decide``), and what an owner who goes
away held moves on at once."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .availability import AwayError, moment, parse_away, status_away_until, when
from .commands import MoveOn
from .console import OPERATOR
from .directory import Directory, is_admin
from .errors import Reason, Refused
from .model import SYSTEM, Community, Expert, PersonRef, Platform
from .requests import Away, Back, Join, Leave

if TYPE_CHECKING:
    from .service import EscalationService


# Who set an absence read from a person's Slack status.
SLACK_STATUS = PersonRef(platform=Platform.system, id="slack-status", name="Slack status")

# The audit trail's actions for saying someone is away or back (themself in the chat, or
# an admin or lead in the console), under ``person:<key>``: there is no escalation.
AWAY_SET = "away_set"
AWAY_ENDED = "away_ended"


def availability_subject(person: PersonRef | str) -> str:
    """The audit trail's subject for ``person``'s (or that key's) away and back."""
    return f"person:{person if isinstance(person, str) else person.key}"[:64]


def may_set_availability(directory: Directory, actor: PersonRef, community: Community, person: Expert) -> bool:
    """Who may say ``person`` of ``community`` is away or back: they themself, an admin (or
    the operator at the server), or that community's lead."""
    if any(ref.same(actor) for ref in person.refs) or actor == OPERATOR or is_admin(directory, actor):
        return True
    return community.is_lead(actor) and any(p.key == person.key for p in people_of(community))


def with_members(community: Community, changes: Sequence[tuple[PersonRef, bool]]) -> Community:
    """An open community's rotation after who joined (True) and who left (False), in order."""
    experts = list(community.experts)
    for person, member in changes:
        if not member:
            experts = [e for e in experts if not e.is_(person)]
        elif not any(e.is_(person) for e in experts):
            experts.append(Expert(key=person.key, refs=(person,), name=person.name))
    return community.model_copy(update={"experts": tuple(experts)})


def _known_zone(name: str) -> bool:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def people_of(community: Community) -> list[Expert]:
    return [*community.experts, *([community.lead] if community.lead else [])]


async def away_now(uow: Any, experts: Sequence[Expert], now: datetime) -> dict[str, datetime | None]:
    """Expert key -> when they are back (None: until they say so), for those away at ``now``.
    Someone known on two platforms is away if they said so on either."""
    by_ref = {ref.key: expert for expert in experts for ref in expert.refs}
    away: dict[str, datetime | None] = {}
    for absence in await uow.absences.away(now, sorted(by_ref)):
        key = by_ref[absence.person].key
        if key not in away:
            away[key] = absence.until
        elif (known := away[key]) is not None:
            away[key] = None if absence.until is None else max(known, absence.until)
    return away


async def zones_now(uow: Any, experts: Sequence[Expert]) -> dict[str, str]:
    """Expert key -> the time zone their platform last told us (the first of their ids that did)."""
    known = await uow.person_zones.of(sorted({ref.key for expert in experts for ref in expert.refs}))
    return {
        e.key: zone for e in experts for zone in [next((known[r.key] for r in e.refs if r.key in known), None)] if zone
    }


@dataclass(frozen=True)
class Said:
    """What to answer the person, privately."""

    text: str
    moved: int = 0


class Presence:
    def __init__(self, service: EscalationService) -> None:
        self.service = service

    async def respond(
        self, person: PersonRef, request: Away | Back | Join | Leave, zone_name: str | None = None
    ) -> Said:
        """What the person typed (``away``, ``back``, ``join``, ``leave``), done; raises
        ``Refused`` with a sentence for them alone when it cannot be."""
        if isinstance(request, Away):
            return await self.away(person, request.words, zone_name)
        if isinstance(request, Back):
            return await self.back(person)
        return await self.membership(person, request.community, isinstance(request, Join))

    async def membership(self, person: PersonRef, key: str, join: bool) -> Said:
        community = self.service.directory.get(key)
        if community is None:
            known = ", ".join(c.key for c in self.service.directory.all() if c.open_roster) or "none"
            raise Refused(Reason.unknown_community, f"There is no community called “{key}”. Open to join: {known}.")
        if not community.open_roster:
            lead = f" (its lead is {community.lead.label()})" if community.lead else ""
            raise Refused(
                Reason.forbidden,
                f"The {community.name} rotation is not open to join or leave yourself: ask its lead{lead}.",
            )
        now = self.service.clock.now()
        async with self.service.store.unit_of_work() as uow:
            live = await self.service.live_community(uow, key)
            assert live is not None
            if live.is_expert(person) == join:
                already = "already in" if join else "not in"
                return Said(f"You are {already} the {community.name} rotation; nothing changed.")
            await uow.roster_members.set(key, person, join, now)
        if join:
            return Said(f"You joined the {community.name} rotation: questions may be assigned to you from now on.")
        moved, _ = await self._move_on_from(person)
        text = f"You left the {community.name} rotation."
        if moved:
            text += f" {moved} question{'s' if moved != 1 else ''} assigned to you moved on to the next expert."
        return Said(text, moved)

    def _zone(self, person: PersonRef, zone_name: str | None) -> ZoneInfo:
        """The person's own zone when their platform says it; else their community's hours'."""
        if zone_name:
            try:
                return ZoneInfo(zone_name)
            except (ZoneInfoNotFoundError, ValueError):
                pass
        for community in self.service.directory.all():
            hours = community.policy.business_hours
            if hours is not None and community.expert_for(person) is not None:
                return hours.zone
        return ZoneInfo("UTC")

    async def set_for(
        self, actor: PersonRef, community: Community, person: Expert, words: str | None, *, via: str
    ) -> Said:
        """``actor`` says ``person`` of ``community`` is away (``words``) or back (None), from
        ``via`` ("console"); raises ``Refused`` (forbidden) before anything changes unless
        they may (``may_set_availability``)."""
        if not may_set_availability(self.service.directory, actor, community, person):
            raise Refused(
                Reason.forbidden,
                f"You can set your own availability; only an admin or the {community.name} lead can set"
                " someone else's.",
            )
        if words is None:
            return await self.back(*person.refs, by=actor, via=via)
        return await self.away(person.refs[0], words, by=actor, via=via)

    async def away(
        self,
        person: PersonRef,
        words: str,
        zone_name: str | None = None,
        *,
        by: PersonRef | None = None,
        via: str | None = None,
    ) -> Said:
        """``by``: someone else who says so for them, allowed by ``set_for``; ``via``: where it
        was said (the person's chat platform unless told), both audited."""
        now = self.service.clock.now()
        if zone_name is None:  # their platform told us before (Slack's profile), if ever
            async with self.service.store.unit_of_work() as uow:
                zone_name = (await uow.person_zones.of([person.key])).get(person.key)
        zone = self._zone(person, zone_name)
        try:
            said = parse_away(words, now, zone)
        except AwayError as exc:
            raise Refused(Reason.invalid, str(exc)) from None
        actor = by or person
        detail = {
            "person": person.key,
            "until": said.until.isoformat() if said.until else None,
            "words": words,
            "via": via or actor.platform.value,
            "by_name": actor.label(),
        }
        async with self.service.store.unit_of_work() as uow:
            await uow.absences.set(person, said.until, said.note, actor, now)
            await uow.audit.add_about(
                availability_subject(person),
                tenant=person.tenant,
                at=now,
                actor=actor,
                action=AWAY_SET,
                command_id=f"away:{uuid.uuid4().hex}",
                detail=detail,
            )
        moved, kept = await self._move_on_from(person, taken=not said.keep)
        text = f"You are away {when(said.until, zone)}" if said.until else "You are away until you say `back`"
        text += f" ({said.note})." if said.note else "."
        text += " Nobody will assign you questions or mention you in nudges until then."
        if moved:
            text += f" {_questions(moved)} you held moved on to the next expert."
        if kept:
            text += f" You keep {_questions(kept)} you took on."
        return Said(text, moved)

    async def slack_status(
        self, person: PersonRef, emoji: str, text: str, expiration: int, zone: str | None = None
    ) -> bool:
        """Slack told us ``person``'s status changed (an event, cached here: no Web API call per
        assignment). Away until it expires when a community they are in lists it; True when
        that changed whether they are away. ``zone``: their profile's time zone, kept for
        follow-the-sun assignment."""
        communities = await self._communities_of(person)
        if not communities:
            return False  # Slack sends everyone's profile changes: only the rotations' people count
        statuses = {s for c in communities for s in c.away_statuses}
        now = self.service.clock.now()
        if zone and _known_zone(zone):
            async with self.service.store.unit_of_work() as uow:
                await uow.person_zones.set(person, zone, now)
        until = status_away_until(emoji, text, expiration, statuses, now)
        async with self.service.store.unit_of_work() as uow:
            if until is None:
                return bool(await uow.absences.clear_set_by(person, SLACK_STATUS))
            await uow.absences.set(person, until, (text or emoji).strip()[:200] or None, SLACK_STATUS, now)
        await self._move_on_from(person)  # a status cannot say keep: what they took on stays theirs
        return True

    async def _communities_of(self, person: PersonRef) -> list[Community]:
        """The communities whose rotation ``person`` is in now: named in the configuration, a
        member of one of its user groups, or joined (only those are read from the database)."""
        configured = self.service.directory.all()
        named = [c for c in configured if c.expert_for(person) is not None]
        others = [c for c in configured if c.expert_for(person) is None and (c.user_groups or c.open_roster)]
        if not others:
            return named
        async with self.service.store.unit_of_work() as uow:
            live = [await self.service.live_community(uow, c.key) for c in others]
        return named + [c for c in live if c is not None and c.expert_for(person) is not None]

    async def back(self, *people: PersonRef, by: PersonRef | None = None, via: str | None = None) -> Said:
        """``people``: the ids of one person (the console ends all of theirs); ``by`` and
        ``via`` as for ``away``, audited for each id that was away."""
        now = self.service.clock.now()
        was_away = False
        async with self.service.store.unit_of_work() as uow:
            for person in people:
                if not await uow.absences.clear(person):
                    continue
                was_away = True
                actor = by or person
                await uow.audit.add_about(
                    availability_subject(person),
                    tenant=person.tenant,
                    at=now,
                    actor=actor,
                    action=AWAY_ENDED,
                    command_id=f"back:{uuid.uuid4().hex}",
                    detail={"person": person.key, "via": via or actor.platform.value},
                )
        if not was_away:
            return Said("You were not away; nothing changed.")
        return Said(f"Welcome back: you are in the rotation again from {moment(now)}.")

    async def _move_on_from(self, person: PersonRef, *, taken: bool = False) -> tuple[int, int]:
        """How many of the open questions ``person`` holds moved on, and how many stay theirs.
        ``taken``: what they accepted or claimed moves on too."""
        keys = self.service.owner_keys(person)
        async with self.service.store.unit_of_work() as uow:
            held = await uow.escalations.open_held_by(keys)
        moved = 0
        for escalation_id in held:
            command = MoveOn(id=f"move_on:{uuid.uuid4().hex}", escalation_id=escalation_id, actor=SYSTEM, taken=taken)
            try:
                outcome = await self.service.handle(command)
            except Refused:
                continue
            moved += outcome.changed
        return moved, len(held) - moved


def _questions(count: int) -> str:
    return f"{count} question{'s' if count != 1 else ''}"
