"""Who opened their own list (the App Home tab), and when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from workflows.model import PersonRef

from .direct import Repository
from .tables import HomeViewRow


class HomeViewRepository(Repository):
    async def opened(self, person: PersonRef, now: datetime) -> None:
        """``person`` opened their own list (the App Home tab) at ``now``."""
        insert = pg_insert if self._postgres else sqlite_insert
        stmt = insert(HomeViewRow).values(
            platform=person.platform.value, tenant=person.tenant, user_id=person.id, opened_at=now
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[HomeViewRow.platform, HomeViewRow.tenant, HomeViewRow.user_id],
            set_={"opened_at": now},
        )
        await self.session.execute(stmt)

    async def opened_since(self, person: PersonRef, since: datetime) -> bool:
        query = select(HomeViewRow.opened_at).where(
            HomeViewRow.platform == person.platform.value,
            HomeViewRow.tenant == person.tenant,
            HomeViewRow.user_id == person.id,
            HomeViewRow.opened_at >= since,
        )
        return (await self.session.execute(query)).first() is not None

    async def prune(self, before: datetime) -> int:
        res = await self.session.execute(delete(HomeViewRow).where(HomeViewRow.opened_at < before))
        return int(res.rowcount)  # type: ignore[attr-defined]
