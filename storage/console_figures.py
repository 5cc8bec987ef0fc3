"""The console's figures (overview, communities): each escalation's facts as narrow columns of
its row (storage/figures.py), never its document, within the viewer's reach.

The tenant check here is a probe of ``pk_escalation_scopes`` per escalation row of the
window: PostgreSQL would otherwise flatten the EXISTS into a hash semi-join and read every
scopes row of the history to build its hash (a million rows for a month's 17 thousand).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Text, and_, func, literal, not_, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from workflows.console import AwaySaid, History, Reach
from workflows.metrics import AuditEvent, Facts, needs_document
from workflows.model import Escalation, Expert, Status
from workflows.ports import Scope
from workflows.presence import AWAY_SET, availability_subject, away_now

from .figures import SELECTED, SELECTED_POSTGRES, facts_of_row
from .reach import within as reach_within
from .tables import AuditRow, EscalationRow, ScopeRow
from .unit_of_work import Store

# Being handed a question (the report's interruptions).
HANDED_ACTIONS = ("auto_assigned", "auto_reassigned", "assigned", "reassigned", "declined")
_CHUNK = 500


def _scope_probe(scope: Scope) -> ColumnElement[bool]:
    """Visible from the scope through a scopes row (as storage/console.py's ``_within``),
    as a subplan run once per escalation row: ``OFFSET 0`` keeps PostgreSQL from pulling
    the subquery up into a join (SQLite runs EXISTS per row anyway)."""
    return (
        select(literal(1))
        .where(
            ScopeRow.escalation_id == EscalationRow.id,
            ScopeRow.platform == scope.platform,
            or_(ScopeRow.tenant == scope.tenant, ScopeRow.tenant == ""),
        )
        .offset(0)
        .exists()
    )


def within(reach: Reach) -> list[ColumnElement[bool]]:
    """storage/reach.py's, with the tenant check as ``_scope_probe``."""
    conditions = reach_within(Reach(scope=None, requester=reach.requester, communities=reach.communities))
    return [_scope_probe(reach.scope), *conditions] if reach.scope is not None else conditions


class FigureQueries:
    """``ConsoleQueries``' figures: history, open_now, loads, away."""

    store: Store

    async def open_now(self, reach: Reach, communities: Sequence[str]) -> list[Escalation]:
        """Open escalations of these communities (a range of the (community, status) index each)."""
        if not communities:
            return []
        row = EscalationRow
        query = select(row.data).where(row.community.in_(list(communities)), row.status == Status.open.value)
        async with self.store.unit_of_work() as uow:
            found = (await uow.session.execute(query.where(*within(reach)))).scalars()
            return [Escalation.model_validate(d) for d in found]

    async def loads(self, reach: Reach, expert_keys: Sequence[str]) -> dict[str, int]:
        """Open escalations each expert holds (by expert key)."""
        if not expert_keys:
            return {}
        query = (
            select(EscalationRow.owner, func.count())
            .where(EscalationRow.owner.in_(list(expert_keys)), EscalationRow.status == Status.open.value)
            .where(*within(reach))
            .group_by(EscalationRow.owner)
        )
        async with self.store.unit_of_work() as uow:
            return {str(owner): int(n) for owner, n in (await uow.session.execute(query)).all()}

    async def away(self, experts: Sequence[Expert], now: datetime) -> dict[str, datetime | None]:
        """Expert key -> when they are back (None: until they say so), for those away now."""
        async with self.store.unit_of_work() as uow:
            return await away_now(uow, experts, now)

    async def away_said(self, experts: Sequence[Expert], now: datetime) -> dict[str, AwaySaid]:
        """Expert key -> since when, by whom and where the absence in force now was said: its
        audit row (the same actor and moment; one set by a Slack status has none)."""
        by_ref = {ref.key: expert for expert in experts for ref in expert.refs}
        async with self.store.unit_of_work() as uow:
            absences = {availability_subject(a.person): a for a in await uow.absences.away(now, sorted(by_ref))}
            if not absences:
                return {}
            query = (
                select(AuditRow)
                .where(AuditRow.escalation_id.in_(list(absences)), AuditRow.action == AWAY_SET)
                .order_by(AuditRow.id)
            )
            rows = (await uow.session.execute(query)).scalars().all()
        said: dict[str, AwaySaid] = {}
        for row in rows:
            absence = absences[row.escalation_id]
            if row.at == absence.set_at and row.actor == absence.set_by:
                detail = row.detail or {}
                said[by_ref[absence.person].key] = AwaySaid(
                    row.at, detail.get("by_name") or row.actor, detail.get("via")
                )
        return said

    async def history(self, reach: Reach, since: datetime, until: datetime, communities: Sequence[str]) -> History:
        """What the report counts, within the reach and these communities: the facts of the
        escalations opened or closed in [since, until) (ranges of the (community, created_at)
        and (community, closed_at) indexes however long the history), who was handed a
        question then (the (action, at) index), and the few documents those events need.

        On PostgreSQL the window is read as two halves of the period at once, each on its own
        connection, with the hand-overs beside them: the server scans one half while this
        process turns the other's rows into facts. SQLite has one connection at a time."""
        if not communities:
            return History([], [], {})
        halves = 2 if self.store.engine.dialect.name == "postgresql" else 1
        parts, handed = await asyncio.gather(
            asyncio.gather(*(self._window(reach, communities, since, until, part, halves) for part in range(halves))),
            self._handed(since, until),
        )
        facts = [fact for part in parts for fact in part]
        ids = {f.id for f in facts}
        events = [e for e in handed if e.escalation_id in ids]
        wanted = sorted({e.escalation_id for e in events if needs_document(e)})
        documents: dict[str, Escalation] = {}
        if wanted:
            async with self.store.unit_of_work() as uow:
                for start in range(0, len(wanted), _CHUNK):
                    ids_of = wanted[start : start + _CHUNK]
                    chunk = select(EscalationRow.data.cast(Text)).where(EscalationRow.id.in_(ids_of))
                    for data in (await uow.session.execute(chunk)).scalars():
                        esc = Escalation.model_validate_json(data)
                        documents[esc.id] = esc
        return History(facts, events, documents)

    async def _window(
        self, reach: Reach, communities: Sequence[str], since: datetime, until: datetime, part: int, parts: int
    ) -> list[Facts]:
        """The facts of part ``part`` of ``parts`` of the window: of the escalations touched
        (opened or closed) in that stretch of [since, until) and in no earlier one."""
        row = EscalationRow
        bounds = [since + (until - since) * k / parts for k in range(parts)] + [until]
        start, end = bounds[part], bounds[part + 1]
        conditions = [or_(_between(row.created_at, start, end), _between(row.closed_at, start, end))]
        if part:  # not touched in an earlier stretch: counted there
            conditions += [
                not_(_between(row.created_at, since, start)),
                or_(row.closed_at.is_(None), not_(_between(row.closed_at, since, start))),
            ]
        postgres = self.store.engine.dialect.name == "postgresql"
        selected = SELECTED_POSTGRES if postgres else SELECTED
        query = select(*selected).where(row.community.in_(list(communities)), *conditions, *within(reach))
        async with self.store.unit_of_work() as uow:
            # Core rows, not the ORM's: there are tens of thousands of them. Each is dropped as
            # soon as it is a fact (iterated, not ``.all()``): freed at once, they do not count
            # towards the collector's next pass (a list of them did: ~40% fewer passes a page).
            connection = await uow.session.connection()
            if postgres:
                # At a million rows the window's estimated cost passes jit_above_cost, and
                # compiling it costs more than the few milliseconds the scan takes.
                await connection.exec_driver_sql("SET LOCAL jit = off")
            return [facts_of_row(r) for r in await connection.execute(query)]

    async def _handed(self, since: datetime, until: datetime) -> list[AuditEvent]:
        """Who was handed a question in [since, until), in the order it happened."""
        query = (
            select(AuditRow.escalation_id, AuditRow.at, AuditRow.action, AuditRow.actor, AuditRow.detail)
            .where(AuditRow.action.in_(HANDED_ACTIONS), AuditRow.at >= since, AuditRow.at < until)
            .order_by(AuditRow.id)
        )
        async with self.store.unit_of_work() as uow:
            connection = await uow.session.connection()
            return [
                AuditEvent(r.escalation_id, r.at, r.action, r.actor, dict(r.detail or {}))
                for r in (await connection.execute(query)).all()
            ]


def _between(moment: InstrumentedAttribute[Any], since: datetime, until: datetime) -> ColumnElement[bool]:
    return and_(moment >= since, moment < until)
