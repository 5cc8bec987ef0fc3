"""Escalations and the scopes they are visible from; every user-facing query is scoped to a tenant."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import String, Table, and_, bindparam, func, insert, or_, select, update

from workflows.model import Escalation, PersonRef, Status
from workflows.ports import Scope

from .direct import Prebuilt, Repository, Serialized
from .figures import FACT_COLUMNS, fact_values
from .tables import EscalationRow, MessageRefRow, ScopeRow

# The hot paths (every command, timer step and delivery) run prebuilt Core statements with
# bind parameters: building an ORM statement per call, and flushing ORM objects, cost more
# CPU than the database work itself (bench/HISTORY.md, "Timer precision").
_ESC = cast(Table, EscalationRow.__table__)
_SCOPES = cast(Table, ScopeRow.__table__)
_REFS = cast(Table, MessageRefRow.__table__)
_ESC_COLUMNS = [
    *("tenant", "community", "status", "ball", "requester", "owner", "priority", "next_step", "next_due_at"),
    *("version", "created_at", "updated_at", "resolved_at", "data", "lease_until", "lease_owner"),
    *FACT_COLUMNS,
]

_GET_BY_ID = select(_ESC.c.data).where(_ESC.c.id == bindparam("b_id"))
_GET = Prebuilt(_GET_BY_ID)
_GET_FOR_UPDATE = Prebuilt(_GET_BY_ID.with_for_update())
# Visible in a scope: a scopes row for the platform, of the tenant, of every tenant (''),
# or any tenant when the scope names none (b_tenant = '').
_VISIBLE = (
    select(_SCOPES.c.escalation_id)
    .where(
        _SCOPES.c.escalation_id == _ESC.c.id,
        _SCOPES.c.platform == bindparam("b_platform", type_=String),
        or_(
            _SCOPES.c.tenant == bindparam("b_tenant", type_=String),
            _SCOPES.c.tenant == "",
            bindparam("b_tenant", type_=String) == "",
        ),
    )
    .exists()
)
_GET_SCOPED = Prebuilt(_GET_BY_ID.where(_VISIBLE))
_GET_SCOPED_FOR_UPDATE = Prebuilt(_GET_BY_ID.where(_VISIBLE).with_for_update())
_AT_MESSAGE = (
    select(_ESC.c.data)
    .join(_REFS, _REFS.c.escalation_id == _ESC.c.id)
    .where(
        _REFS.c.platform == bindparam("b_ref_platform"),
        _REFS.c.channel == bindparam("b_channel"),
        _REFS.c.message_id == bindparam("b_message"),
        _VISIBLE,
    )
)
_AT_MESSAGE_OF_KIND = _AT_MESSAGE.where(_REFS.c.kind == bindparam("b_kind"))
# Locks the escalation's row only (the message refs stay free for other writers).
_AT_MESSAGE_FOR_UPDATE = _AT_MESSAGE.with_for_update(of=_ESC)
_AT_MESSAGE_OF_KIND_FOR_UPDATE = _AT_MESSAGE_OF_KIND.with_for_update(of=_ESC)
# By (kind given, locked): the statement that finds a message's escalation.
_FIND_BY_MESSAGE = {
    (False, False): Prebuilt(_AT_MESSAGE),
    (True, False): Prebuilt(_AT_MESSAGE_OF_KIND),
    (False, True): Prebuilt(_AT_MESSAGE_FOR_UPDATE),
    (True, True): Prebuilt(_AT_MESSAGE_OF_KIND_FOR_UPDATE),
}
_INSERT_ESC = Prebuilt(insert(_ESC), ["id", *_ESC_COLUMNS])
_INSERT_SCOPES = Prebuilt(insert(_SCOPES), ["escalation_id", "platform", "tenant"])
_SAVE = Prebuilt(
    update(_ESC)
    .where(_ESC.c.id == bindparam("b_id"), _ESC.c.version == bindparam("b_expected"))
    .values({name: bindparam(name) for name in _ESC_COLUMNS})
)


class StaleWrite(Exception):
    """The escalation changed under us; the service retries the command."""


def _in_scope(scope: Scope) -> dict[str, str]:
    """The parameters of ``_VISIBLE``."""
    return {"b_platform": scope.platform, "b_tenant": scope.tenant}


def scopes_of(esc: Escalation) -> set[tuple[str, str]]:
    """The workspaces an escalation is visible from: the requester's, and those of the
    community's channels and people. Configuration may name a channel or person without
    its workspace; on the requester's platform that means the requester's workspace, and
    elsewhere the channel's known workspace; only when neither is known does it stay
    open to that platform's every workspace (name ``team``/``tenant`` in the config to
    avoid that in a multi-workspace deployment)."""
    known: dict[str, str] = {esc.requester.platform.value: esc.requester.tenant}
    for channel in esc.community.channels:
        if channel.tenant:
            known.setdefault(channel.platform.value, channel.tenant)
    refs = [(ch.platform.value, ch.tenant) for ch in esc.community.channels]
    people = [*esc.community.experts, *([esc.community.lead] if esc.community.lead else [])]
    refs += [(ref.platform.value, ref.tenant) for person in people for ref in person.refs]
    scopes = {(esc.requester.platform.value, esc.requester.tenant)}
    for platform, tenant in refs:
        scopes.add((platform, tenant or known.get(platform, "")))
    return scopes


def _row_values(esc: Escalation) -> dict[str, Any]:
    """An escalation's row, for the direct path (its ``data`` is serialized already)."""
    return {
        "tenant": esc.tenant,
        "community": esc.community.key,
        "status": esc.status.value,
        "ball": esc.ball.value,
        "requester": esc.requester.key,
        "owner": esc.owner.expert if esc.owner else None,
        "priority": esc.priority.value,
        "next_step": esc.next_step.value if esc.next_step else None,
        "next_due_at": esc.next_due_at,
        "version": esc.version,
        "created_at": esc.created_at,
        "updated_at": esc.updated_at,
        "resolved_at": esc.resolved_at,
        "data": Serialized(esc.model_dump_json()),
        # A saved escalation is no longer anyone's leased work.
        "lease_until": None,
        "lease_owner": None,
        # The figures it counts for, in the same statement (storage/figures.py).
        **fact_values(esc),
    }


class EscalationRepository(Repository):
    async def get(self, escalation_id: str, scope: Scope | None = None, *, lock: bool = False) -> Escalation | None:
        if scope is None:
            query = _GET_FOR_UPDATE if lock and self._postgres else _GET
            data = await self.direct.scalar(query, {"b_id": escalation_id})
            return Escalation.model_validate(data) if data is not None else None
        query = _GET_SCOPED_FOR_UPDATE if lock and self._postgres else _GET_SCOPED
        params = {"b_id": escalation_id, **_in_scope(scope)}
        data = await self.direct.scalar(query, params)
        return Escalation.model_validate(data) if data is not None else None

    async def add(self, esc: Escalation) -> None:
        await self.direct.execute(_INSERT_ESC, {"id": esc.id, **_row_values(esc)})
        scopes = [{"escalation_id": esc.id, "platform": p, "tenant": t} for p, t in sorted(scopes_of(esc))]
        await self.direct.execute_many(_INSERT_SCOPES, scopes)

    async def save(self, esc: Escalation, expected_version: int) -> None:
        params = {"b_id": esc.id, "b_expected": expected_version, **_row_values(esc)}
        if await self.direct.execute(_SAVE, params) != 1:
            raise StaleWrite(esc.id)

    async def find_by_message(
        self,
        platform: str,
        channel: str,
        message_id: str,
        scope: Scope,
        kind: str | None = None,
        *,
        lock: bool = False,
    ) -> Escalation | None:
        params = {
            "b_ref_platform": platform,
            "b_channel": channel,
            "b_message": message_id,
            **_in_scope(scope),
        }
        if kind is not None:
            params["b_kind"] = kind
        data = await self.direct.scalar(_FIND_BY_MESSAGE[kind is not None, lock and self._postgres], params)
        return Escalation.model_validate(data) if data is not None else None

    async def visible(self, escalation_ids: Sequence[str], scope: Scope) -> list[str]:
        """Those of ``escalation_ids`` that ``scope`` may see, in the order given."""
        if not escalation_ids:
            return []
        query = select(EscalationRow.id).where(EscalationRow.id.in_(list(escalation_ids)), _VISIBLE)
        seen = set((await self.session.execute(query, _in_scope(scope))).scalars())
        return [esc_id for esc_id in dict.fromkeys(escalation_ids) if esc_id in seen]

    async def list_for_requester(
        self, requester: PersonRef, scope: Scope, *, open_only: bool = True
    ) -> list[Escalation]:
        query = select(EscalationRow.data).where(EscalationRow.requester == requester.key, _VISIBLE)
        if open_only:
            query = query.where(EscalationRow.status == Status.open.value)
        query = query.order_by(EscalationRow.created_at.desc()).limit(50)
        return [Escalation.model_validate(d) for d in (await self.session.execute(query, _in_scope(scope))).scalars()]

    async def list_for_owner(self, owner_keys: Sequence[str], scope: Scope) -> list[Escalation]:
        query = (
            select(EscalationRow.data)
            .where(
                EscalationRow.owner.in_(list(owner_keys)),
                EscalationRow.status == Status.open.value,
                _VISIBLE,
            )
            .order_by(EscalationRow.created_at)
            .limit(50)
        )
        return [Escalation.model_validate(d) for d in (await self.session.execute(query, _in_scope(scope))).scalars()]

    async def open_held_by(self, owner_keys: Sequence[str]) -> list[str]:
        """Ids of the open escalations owned under any of ``owner_keys``, in every scope."""
        query = select(EscalationRow.id).where(
            EscalationRow.owner.in_(list(owner_keys)), EscalationRow.status == Status.open.value
        )
        return [str(i) for i in (await self.session.execute(query)).scalars()]

    async def open_held_by_others(self, community: str, expert_keys: Sequence[str]) -> list[str]:
        """Ids of the community's open escalations owned by someone not in ``expert_keys``."""
        query = select(EscalationRow.id).where(
            EscalationRow.community == community,
            EscalationRow.status == Status.open.value,
            EscalationRow.owner.is_not(None),
            EscalationRow.owner.not_in(list(expert_keys)),
        )
        return [str(i) for i in (await self.session.execute(query)).scalars()]

    async def open_communities(self) -> list[str]:
        """The keys of the communities with open escalations, whether or not still configured."""
        query = select(EscalationRow.community).where(EscalationRow.status == Status.open.value).distinct()
        return sorted(str(k) for k in (await self.session.execute(query)).scalars())

    async def list_by_community(self, community: str, *, status: Status | None = None) -> list[Escalation]:
        query = select(EscalationRow.data).where(EscalationRow.community == community)
        if status is not None:
            query = query.where(EscalationRow.status == status.value)
        query = query.order_by(EscalationRow.created_at)
        return [Escalation.model_validate(d) for d in (await self.session.execute(query)).scalars()]

    async def touched_between(self, since: datetime, until: datetime, community: str | None = None) -> list[Escalation]:
        """Escalations opened, resolved or last changed in [since, until), for reports."""
        window = or_(
            and_(EscalationRow.created_at >= since, EscalationRow.created_at < until),
            and_(EscalationRow.resolved_at >= since, EscalationRow.resolved_at < until),
            and_(EscalationRow.updated_at >= since, EscalationRow.updated_at < until),
        )
        query = select(EscalationRow.data).where(window)
        if community:
            query = query.where(EscalationRow.community == community)
        return [Escalation.model_validate(d) for d in (await self.session.execute(query)).scalars()]

    async def created_between(self, community: str, since: datetime, until: datetime) -> list[Escalation]:
        query = select(EscalationRow.data).where(
            EscalationRow.community == community, EscalationRow.created_at >= since, EscalationRow.created_at < until
        )
        return [Escalation.model_validate(d) for d in (await self.session.execute(query)).scalars()]

    async def resolved_between(self, community: str, since: datetime, until: datetime) -> list[Escalation]:
        query = select(EscalationRow.data).where(
            EscalationRow.community == community,
            EscalationRow.status == Status.resolved.value,
            EscalationRow.resolved_at >= since,
            EscalationRow.resolved_at < until,
        )
        return [Escalation.model_validate(d) for d in (await self.session.execute(query)).scalars()]

    async def open_loads(self, expert_keys: Sequence[str]) -> dict[str, int]:
        if not expert_keys:
            return {}
        query = (
            select(EscalationRow.owner, func.count())
            .where(EscalationRow.owner.in_(list(expert_keys)), EscalationRow.status == Status.open.value)
            .group_by(EscalationRow.owner)
        )
        return {str(owner): int(n) for owner, n in (await self.session.execute(query)).all()}

    async def claim_due(
        self, now: datetime, limit: int, holder: str, lease: timedelta
    ) -> list[tuple[str, str, datetime]]:
        """Take a lease on up to ``limit`` due escalations; returns (id, step, due_at)."""
        free = or_(EscalationRow.lease_until.is_(None), EscalationRow.lease_until < now)
        query = (
            select(EscalationRow.id, EscalationRow.next_step, EscalationRow.next_due_at)
            .where(EscalationRow.next_due_at.is_not(None), EscalationRow.next_due_at <= now, free)
            .order_by(EscalationRow.next_due_at)
            .limit(limit)
        )
        if self._postgres:
            query = query.with_for_update(skip_locked=True)
        rows = (await self.session.execute(query)).all()
        if not rows:
            return []
        # On SQLite there is no SKIP LOCKED; the conditional UPDATE is the claim (and the
        # write lock taken by BEGIN IMMEDIATE keeps anyone else out meanwhile).
        taken = set(
            (
                await self.session.execute(
                    update(_ESC)
                    .where(
                        _ESC.c.id.in_([r[0] for r in rows]), _ESC.c.lease_until.is_(None) | (_ESC.c.lease_until < now)
                    )
                    .values(lease_until=now + lease, lease_owner=holder)
                    .returning(_ESC.c.id)
                )
            ).scalars()
        )
        return [(esc_id, step, due) for esc_id, step, due in rows if esc_id in taken and step and due is not None]

    async def next_due(self) -> datetime | None:
        query = select(func.min(EscalationRow.next_due_at)).where(EscalationRow.next_due_at.is_not(None))
        return (await self.session.execute(query)).scalar_one_or_none()

    async def oldest_overdue(self, now: datetime) -> datetime | None:
        query = select(func.min(EscalationRow.next_due_at)).where(
            EscalationRow.next_due_at.is_not(None), EscalationRow.next_due_at <= now
        )
        return (await self.session.execute(query)).scalar_one_or_none()
