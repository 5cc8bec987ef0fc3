"""The web console's read models and sign-in links (workflows/console.py's ports).

Every query is limited to a viewer's reach: the tenant (through the escalation's scopes,
as the chat's own queries are), and unless the viewer is an admin, their own questions
and their communities'. An escalation outside the reach reads as missing.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, String, and_, delete, literal, select, text, tuple_, update

from workflows.console import (
    AuditEntry,
    Delivery,
    EscalationDetail,
    EscalationFilter,
    EscalationPage,
    ListPlace,
    Reach,
)
from workflows.model import Escalation, PersonRef, Platform

from .console_figures import FigureQueries
from .question_words import question_has
from .reach import within as _within
from .tables import ConsoleSessionRow, EscalationRow, OutboxRow, SignInLinkRow, TeamsPersonRow
from .unit_of_work import Store


def _filtered(where: EscalationFilter, dialect: str) -> list[ColumnElement[bool]]:
    row = EscalationRow
    conditions: list[ColumnElement[bool]] = []
    if where.community:
        conditions.append(row.community == where.community)
    if where.status is not None:
        conditions.append(row.status == where.status.value)
    if where.owner:
        conditions.append(row.owner == where.owner)
    if where.requester:
        conditions.append(row.requester == where.requester)
    if where.priority is not None:
        conditions.append(row.priority == where.priority.value)
    if where.older_than is not None:
        conditions.append(row.created_at < where.older_than)
    if where.newer_than is not None:
        conditions.append(row.created_at >= where.newer_than)
    if where.words:
        conditions.append(question_has(where.words, dialect))
    return conditions


def _beyond(place: ListPlace, older: bool) -> list[ColumnElement[bool]]:
    """Escalations after ``place`` in the list (older) or before it (newer): a range of
    ix_escalations_created. The first condition alone is what a (community, created_at)
    index can use."""
    key = tuple_(EscalationRow.created_at, EscalationRow.id)
    at = tuple_(literal(place.created_at, EscalationRow.created_at.type), literal(place.id, String()))
    if older:
        return [EscalationRow.created_at <= place.created_at, key < at]
    return [EscalationRow.created_at >= place.created_at, key > at]


def list_query(reach: Reach, where: EscalationFilter, dialect: str) -> Select[tuple[dict[str, Any]]]:
    """The list's statement: one more than a page, so the page knows whether more follow."""
    row = EscalationRow
    conditions = [*_within(reach), *_filtered(where, dialect)]
    if where.after is not None:
        # The newer page: the nearest ones to the place first (the caller shows them newest first).
        conditions += _beyond(where.after, older=False)
        order = (row.created_at.asc(), row.id.asc())
    else:
        if where.before is not None:
            conditions += _beyond(where.before, older=True)
        order = (row.created_at.desc(), row.id.desc())
    query = select(row.data).where(and_(*conditions)).order_by(*order).limit(where.per_page + 1)
    if where.before is None and where.after is None and where.page > 1:
        query = query.offset((where.page - 1) * where.per_page)
    return query


def _delivery(row: OutboxRow) -> Delivery:
    return Delivery(
        id=row.id,
        escalation_id=row.escalation_id,
        kind=row.kind,
        platform=row.platform,
        target=row.target,
        status=row.status,
        attempts=row.attempts,
        created_at=row.created_at,
        next_attempt_at=row.next_attempt_at,
        error=row.last_error,
    )


class ConsoleStore(FigureQueries):
    """``ConsoleQueries`` and ``SignInLinks`` over the bot's own database (the figures'
    queries in storage/console_figures.py)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def escalations(self, reach: Reach, where: EscalationFilter) -> EscalationPage:
        """A page of the list, newest first: the one after ``where.before``, the one before
        ``where.after``, or (old links) the ``where.page``-th counted from the newest."""
        dialect = self.store.engine.dialect.name
        query = list_query(reach, where, dialect)
        async with self.store.unit_of_work() as uow:
            if dialect == "postgresql":
                # Planned for its own values every time: asyncpg prepares the statement, and
                # after five runs PostgreSQL may keep one generic plan for any words or filter,
                # made for common ones (walk the list in order and test each row), which reads
                # the whole history for words no question holds (200 ms at 10k).
                await uow.session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
            rows = list((await uow.session.execute(query)).scalars())
        found = [Escalation.model_validate(d) for d in rows[: where.per_page]]
        more = len(rows) > where.per_page
        if where.after is not None:
            return EscalationPage(found[::-1], where.page, has_next=True, has_newer=more)
        newer = where.before is not None or where.page > 1
        return EscalationPage(found, max(where.page, 1), has_next=more, has_newer=newer)

    async def _visible(self, uow: Any, reach: Reach, escalation_id: str) -> Escalation | None:
        query = select(EscalationRow.data).where(EscalationRow.id == escalation_id, *_within(reach))
        data = (await uow.session.execute(query)).scalar_one_or_none()
        return Escalation.model_validate(data) if data is not None else None

    async def detail(self, reach: Reach, escalation_id: str) -> EscalationDetail | None:
        async with self.store.unit_of_work() as uow:
            esc = await self._visible(uow, reach, escalation_id)
            if esc is None:
                return None
            audit = [
                AuditEntry(
                    at=row.at, actor=row.actor, platform=row.platform, action=row.action, detail=row.detail or {}
                )
                for row in await uow.audit.for_escalation(escalation_id)
            ]
            messages = [(kind, ref) for kind, ref, _ in await uow.messages.for_escalation(escalation_id)]
            query = select(OutboxRow).where(OutboxRow.escalation_id == escalation_id).order_by(OutboxRow.id)
            deliveries = [_delivery(row) for row in (await uow.session.execute(query)).scalars()]
        return EscalationDetail(esc, audit, messages, deliveries)

    async def deliveries(self, reach: Reach, status: str, limit: int = 100) -> list[Delivery]:
        query = (
            select(OutboxRow)
            .join(EscalationRow, EscalationRow.id == OutboxRow.escalation_id)
            .where(OutboxRow.status == status, *_within(reach))
            .order_by(OutboxRow.id.desc())
            .limit(limit)
        )
        async with self.store.unit_of_work() as uow:
            return [_delivery(row) for row in (await uow.session.execute(query)).scalars()]

    async def known_as(self, person: PersonRef) -> PersonRef | None:
        if person.platform != Platform.teams or not person.aad or not person.tenant:
            return None
        query = select(TeamsPersonRow.user_id).where(
            TeamsPersonRow.tenant == person.tenant, TeamsPersonRow.aad_object_id == person.aad
        )
        async with self.store.unit_of_work() as uow:
            user_id = (await uow.session.execute(query)).scalar_one_or_none()
        if user_id is None:
            return None
        return PersonRef(platform=Platform.teams, id=user_id, tenant=person.tenant, aad=person.aad)

    # ------------------------------------------------------------ sign-in links

    async def issue(self, token_hash: str, person: PersonRef, now: datetime, expires_at: datetime) -> None:
        async with self.store.unit_of_work() as uow:
            uow.session.add(
                SignInLinkRow(
                    token_hash=token_hash,
                    person=person.model_dump(mode="json"),
                    created_at=now,
                    expires_at=expires_at,
                    used_at=None,
                )
            )
            await uow.session.flush()

    async def redeem(self, token_hash: str, now: datetime) -> PersonRef | None:
        """The link's person, once: the update that marks it used is the check, so two
        requests racing with one link cannot both get in."""
        async with self.store.unit_of_work() as uow:
            marked = await uow.session.execute(
                update(SignInLinkRow)
                .where(
                    SignInLinkRow.token_hash == token_hash,
                    SignInLinkRow.used_at.is_(None),
                    SignInLinkRow.expires_at > now,
                )
                .values(used_at=now)
            )
            if getattr(marked, "rowcount", 0) != 1:
                return None
            person = (
                await uow.session.execute(select(SignInLinkRow.person).where(SignInLinkRow.token_hash == token_hash))
            ).scalar_one()
        return PersonRef.model_validate(person)

    # ------------------------------------------------------------ sessions

    async def start(self, id_hash: str, person: PersonRef, now: datetime, expires_at: datetime) -> None:
        """A new session's row; rows of sessions expired a day ago go (they can never be live)."""
        async with self.store.unit_of_work() as uow:
            await uow.session.execute(
                delete(ConsoleSessionRow).where(ConsoleSessionRow.expires_at < now - timedelta(days=1))
            )
            uow.session.add(
                ConsoleSessionRow(
                    id_hash=id_hash, person=person.key, created_at=now, expires_at=expires_at, ended_at=None
                )
            )
            await uow.session.flush()

    async def live(self, id_hash: str, now: datetime) -> bool:
        query = select(ConsoleSessionRow.id_hash).where(
            ConsoleSessionRow.id_hash == id_hash,
            ConsoleSessionRow.ended_at.is_(None),
            ConsoleSessionRow.expires_at > now,
        )
        async with self.store.unit_of_work() as uow:
            return (await uow.session.execute(query)).scalar_one_or_none() is not None

    async def end(self, id_hash: str, now: datetime) -> None:
        async with self.store.unit_of_work() as uow:
            await uow.session.execute(
                update(ConsoleSessionRow)
                .where(ConsoleSessionRow.id_hash == id_hash, ConsoleSessionRow.ended_at.is_(None))
                .values(ended_at=now)
            )
