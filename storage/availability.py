"""Who is away: the ``absences`` table, read by every replica before it assigns or nudges."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from workflows.model import PersonRef

from .direct import Repository
from .tables import AbsenceRow, AuditRow, PersonZoneRow, RosterMemberRow

# The audit trail's actions for a person joining or leaving an open rotation themselves.
ROSTER_JOINED = "roster_joined"
ROSTER_LEFT = "roster_left"


@dataclass(frozen=True)
class Absence:
    person: str  # PersonRef.key
    until: datetime | None
    note: str | None
    set_by: str
    set_at: datetime


class AbsenceRepository(Repository):
    async def set(
        self, person: PersonRef, until: datetime | None, note: str | None, by: PersonRef, at: datetime
    ) -> None:
        insert = pg_insert if self._postgres else sqlite_insert
        values = {"until": until, "note": note, "set_by": by.key, "set_at": at}
        stmt = insert(AbsenceRow).values(person=person.key, tenant=person.tenant, **values)
        stmt = stmt.on_conflict_do_update(index_elements=[AbsenceRow.person], set_=values)
        await self.session.execute(stmt)

    async def clear(self, person: PersonRef) -> bool:
        """``back``: True when they had said they were away."""
        res = await self.session.execute(delete(AbsenceRow).where(AbsenceRow.person == person.key))
        return bool(res.rowcount)  # type: ignore[attr-defined]

    async def clear_set_by(self, person: PersonRef, by: PersonRef) -> bool:
        """End an absence only if ``by`` set it (a Slack status never ends one said in words)."""
        res = await self.session.execute(
            delete(AbsenceRow).where(AbsenceRow.person == person.key, AbsenceRow.set_by == by.key)
        )
        return bool(res.rowcount)  # type: ignore[attr-defined]

    async def away(self, now: datetime, person_keys: Sequence[str] | None = None) -> list[Absence]:
        """Who is away at ``now`` (of ``person_keys``; everyone when None). A past end date
        simply stops counting: nobody has to say ``back``."""
        query = select(AbsenceRow).where(or_(AbsenceRow.until.is_(None), AbsenceRow.until > now))
        if person_keys is not None:
            if not person_keys:
                return []
            query = query.where(AbsenceRow.person.in_(list(person_keys)))
        rows = (await self.session.execute(query.order_by(AbsenceRow.person))).scalars()
        return [Absence(r.person, r.until, r.note, r.set_by, r.set_at) for r in rows]


class RosterMemberRepository(Repository):
    """Joins and leaves of open communities' rotations."""

    async def set(self, community: str, person: PersonRef, member: bool, at: datetime) -> None:
        insert = pg_insert if self._postgres else sqlite_insert
        values = {"ref": person.model_dump(mode="json"), "member": member, "set_at": at}
        stmt = insert(RosterMemberRow).values(community=community, person=person.key, **values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[RosterMemberRow.community, RosterMemberRow.person], set_=values
        )
        await self.session.execute(stmt)
        # The row holds only the latest word; the audit trail keeps each join and leave, under
        # the community (there is no escalation), in the same transaction.
        self.session.add(
            AuditRow(
                escalation_id=f"community:{community}"[:64],
                tenant=person.tenant,
                at=at,
                actor=person.key,
                platform=person.platform.value,
                action=ROSTER_JOINED if member else ROSTER_LEFT,
                command_id=f"roster:{community}:{person.key}:{at.isoformat()}"[:300],
                version=0,
                detail=None,
            )
        )
        await self.session.flush()

    async def of(self, community: str) -> list[tuple[PersonRef, bool]]:
        """Each person who joined (True) or left (False) ``community``, in the order they did."""
        query = (
            select(RosterMemberRow.ref, RosterMemberRow.member)
            .where(RosterMemberRow.community == community)
            .order_by(RosterMemberRow.set_at, RosterMemberRow.person)
        )
        return [
            (PersonRef.model_validate(ref), bool(member)) for ref, member in (await self.session.execute(query)).all()
        ]


class PersonZoneRepository(Repository):
    """People's time zones as Slack last said them."""

    async def set(self, person: PersonRef, timezone: str, at: datetime) -> None:
        insert = pg_insert if self._postgres else sqlite_insert
        values = {"timezone": timezone, "set_at": at}
        stmt = insert(PersonZoneRow).values(person=person.key, **values)
        stmt = stmt.on_conflict_do_update(index_elements=[PersonZoneRow.person], set_=values)
        await self.session.execute(stmt)

    async def of(self, person_keys: Sequence[str]) -> dict[str, str]:
        """Person key -> their time zone, for those of ``person_keys`` whose zone is known."""
        if not person_keys:
            return {}
        query = select(PersonZoneRow.person, PersonZoneRow.timezone).where(PersonZoneRow.person.in_(list(person_keys)))
        return {person: zone for person, zone in (await self.session.execute(query)).all()}
