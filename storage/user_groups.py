"""The cache of Slack user groups' members (``user_groups``), read by every replica."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from workflows.user_groups import CachedGroup

from .direct import Repository
from .tables import UserGroupRow


class UserGroupRepository(Repository):
    async def record(self, group: str, members: Sequence[str], at: datetime) -> bool:
        """The members Slack gave now; True when they differ from those cached."""
        before = await self._get(group, lock=True)
        values = {"members": {"users": list(members)}, "read_at": at, "error": None, "checked_at": at}
        await self._upsert(group, values)
        return before is None or before.members != tuple(members)

    async def failed(self, group: str, error: str, at: datetime) -> None:
        """The members last read stay; only why the last read failed changes."""
        before = await self._get(group, lock=True)
        values = {"error": error[:300], "checked_at": at}
        if before is None:
            values = {**values, "members": {"users": []}, "read_at": None}
        await self._upsert(group, values)

    async def members(self, groups: Sequence[str]) -> dict[str, tuple[str, ...]]:
        if not groups:
            return {}
        query = select(UserGroupRow.user_group, UserGroupRow.members).where(UserGroupRow.user_group.in_(list(groups)))
        return {g: tuple((m or {}).get("users") or ()) for g, m in (await self.session.execute(query)).all()}

    async def all(self) -> list[CachedGroup]:
        rows = (await self.session.execute(select(UserGroupRow).order_by(UserGroupRow.user_group))).scalars()
        return [_cached(r) for r in rows]

    async def _get(self, group: str, *, lock: bool = False) -> CachedGroup | None:
        query = select(UserGroupRow).where(UserGroupRow.user_group == group)
        if lock and self._postgres:
            query = query.with_for_update()
        row = (await self.session.execute(query)).scalar_one_or_none()
        return _cached(row) if row is not None else None

    async def _upsert(self, group: str, values: dict[str, object]) -> None:
        insert = pg_insert if self._postgres else sqlite_insert
        full = {"members": {"users": []}, "read_at": None, **values}
        stmt = insert(UserGroupRow).values(user_group=group, **full)
        stmt = stmt.on_conflict_do_update(index_elements=[UserGroupRow.user_group], set_=values)
        await self.session.execute(stmt)


def _cached(row: UserGroupRow) -> CachedGroup:
    return CachedGroup(row.user_group, tuple((row.members or {}).get("users") or ()), row.read_at, row.error)
