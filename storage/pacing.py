"""Each conversation's pacing, shared by every replica (``PacingRow``).

A send takes its turn with one conditional ``UPDATE``: the conversation is free when its
``next_at`` has passed and no other replica's send is in flight. It gives the turn back with
one more, recording the arrival and the next send's earliest time. Both are single
statements, so replicas never both hold a turn and a send costs two short round trips. The
arithmetic of the limits is the pacer's (bot/pacing.py): this only keeps its results.
"""

from __future__ import annotations

import json
from typing import Any, cast

from sqlalchemy import Table, bindparam, or_, select, type_coerce, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.types import NullType

from .direct import Prebuilt, Repository
from .tables import PacingRow

_PACING = cast(Table, PacingRow.__table__)
_THIS = (_PACING.c.platform == bindparam("b_platform"), _PACING.c.target == bindparam("b_target"))

_TAKE = Prebuilt(
    update(_PACING)
    .where(
        *_THIS,
        _PACING.c.next_at <= bindparam("b_now"),
        or_(_PACING.c.busy_until <= bindparam("b_now"), _PACING.c.holder == bindparam("b_holder")),
    )
    .values(busy_until=bindparam("b_busy_until"), holder=bindparam("b_holder"))
    .returning(_PACING.c.recent)
)
# Read as the driver gives it: SQLAlchemy's asyncpg float processor wants a result's type code.
_NEXT_AT = Prebuilt(select(type_coerce(_PACING.c.next_at, NullType())).where(*_THIS))
_GIVE_BACK = Prebuilt(
    update(_PACING)
    .where(*_THIS, _PACING.c.holder == bindparam("b_holder"))
    .values(recent=bindparam("b_recent"), next_at=bindparam("b_next_at"), busy_until=0.0, holder=None)
)
_COLUMNS = ["platform", "target", "recent", "next_at", "busy_until"]
_CREATE = {
    False: Prebuilt(sqlite_insert(_PACING).on_conflict_do_nothing(), _COLUMNS),
    True: Prebuilt(pg_insert(_PACING).on_conflict_do_nothing(), _COLUMNS),
}


def _floats(value: Any) -> list[float]:
    if isinstance(value, (str, bytes)):
        value = json.loads(value)
    return [float(t) for t in value or []]


class PacingRepository(Repository):
    async def take(self, platform: str, target: str, holder: str, now: float, busy_until: float) -> list[float] | None:
        """The turn, if the conversation is free at ``now``: marked busy by ``holder`` until
        ``busy_until``; returns its recent arrivals. None: not free (or not known yet)."""
        params = {"b_platform": platform, "b_target": target, "b_now": now, "b_holder": holder}
        recent = await self.direct.scalar(_TAKE, {**params, "b_busy_until": busy_until})
        return None if recent is None else _floats(recent)

    async def next_at(self, platform: str, target: str) -> float | None:
        """The next send's earliest time; None for a conversation never sent to (now created)."""
        found = await self.direct.scalar(_NEXT_AT, {"b_platform": platform, "b_target": target})
        if found is None:
            row = {"platform": platform, "target": target, "recent": [], "next_at": 0.0, "busy_until": 0.0}
            await self.direct.execute(_CREATE[self._postgres], row)
            return None
        return float(found)

    async def give_back(self, platform: str, target: str, holder: str, recent: list[float], next_at: float) -> bool:
        """Ends ``holder``'s turn; False if it was no longer theirs (it outlived ``busy_until``)."""
        params = {"b_platform": platform, "b_target": target, "b_holder": holder}
        return await self.direct.execute(_GIVE_BACK, {**params, "b_recent": recent, "b_next_at": next_at}) == 1

    async def merge(self, platform: str, target: str, arrived: float, next_at: float, keep: int) -> None:
        """Adds an arrival to a conversation whose turn was taken over meanwhile (a send that
        outlived its turn), under the row's lock."""
        query = select(_PACING.c.recent, _PACING.c.next_at).where(
            _PACING.c.platform == platform, _PACING.c.target == target
        )
        row = (await self.session.execute(query.with_for_update() if self._postgres else query)).first()
        if row is None:
            return
        recent = sorted([*_floats(row.recent), arrived])[-keep:] if keep else []
        await self.session.execute(
            update(_PACING)
            .where(_PACING.c.platform == platform, _PACING.c.target == target)
            .values(recent=recent, next_at=max(float(row.next_at), next_at))
        )
