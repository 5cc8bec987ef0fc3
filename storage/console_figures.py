"""The console's figures (overview, communities): each escalation's facts as narrow columns of
its row (storage/figures.py), never its document, within the viewer's reach.

The tenant check here is a probe of ``pk_escalation_scopes`` per escalation row of the
window: PostgreSQL would otherwise flatten the EXISTS into a hash semi-join and read every
scopes row of the history to build its hash (a million rows for a month's 17 thousand).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, Text, and_, func, literal, or_, select

from workflows.console import AwaySaid, History, Reach
from workflows.metrics import AuditEvent, needs_document
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
        question then (the (action, at) index), and the few documents those events need."""
        if not communities:
            return History([], [], {})
        row = EscalationRow
        window = or_(
            and_(row.created_at >= since, row.created_at < until),
            and_(row.closed_at >= since, row.closed_at < until),
        )
        postgres = self.store.engine.dialect.name == "postgresql"
        selected = SELECTED_POSTGRES if postgres else SELECTED
        query = select(*selected).where(row.community.in_(list(communities)), window, *within(reach))
        handed = select(AuditRow.escalation_id, AuditRow.at, AuditRow.action, AuditRow.actor, AuditRow.detail).where(
            AuditRow.action.in_(HANDED_ACTIONS), AuditRow.at >= since, AuditRow.at < until
        )
        async with self.store.unit_of_work() as uow:
            # Core rows, not the ORM's: there are tens of thousands of them.
            connection = await uow.session.connection()
            if postgres:
                # At a million rows the window's estimated cost passes jit_above_cost, and
                # compiling it costs more than the few milliseconds the scan takes.
                await connection.exec_driver_sql("SET LOCAL jit = off")
            facts = [facts_of_row(r) for r in (await connection.execute(query)).all()]
            ids = {f.id for f in facts}
            events = [
                AuditEvent(r.escalation_id, r.at, r.action, r.actor, dict(r.detail or {}))
                for r in (await connection.execute(handed.order_by(AuditRow.id))).all()
                if r.escalation_id in ids
            ]
            wanted = sorted({e.escalation_id for e in events if needs_document(e)})
            documents: dict[str, Escalation] = {}
            for start in range(0, len(wanted), _CHUNK):
                chunk = select(row.data.cast(Text)).where(row.id.in_(wanted[start : start + _CHUNK]))
                for data in (await uow.session.execute(chunk)).scalars():
                    esc = Escalation.model_validate_json(data)
                    documents[esc.id] = esc
        return History(facts, events, documents)
