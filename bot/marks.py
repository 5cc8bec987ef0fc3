"""Group commit for delivered effects: marks that arrive while one transaction is being
written go together into the next, so a busy dispatcher commits once per handful of
deliveries instead of once per delivery, and a quiet one still commits each at once."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import datetime

from storage import Store
from storage.tables import OutboxRow
from workflows.delivery import Delivered

log = logging.getLogger("escalation_bot.dispatcher")


@dataclass
class _Mark:
    row: OutboxRow
    delivered: Delivered
    at: datetime
    done: asyncio.Future[bool] = field(default_factory=lambda: asyncio.get_running_loop().create_future())


class SentMarks:
    def __init__(self, store: Store, holder: str, *, most: int = 200) -> None:
        self.store = store
        self.holder = holder
        self.most = most
        self._waiting: list[_Mark] = []
        self._writer: asyncio.Task[None] | None = None

    async def mark(self, row: OutboxRow, delivered: Delivered, at: datetime) -> bool:
        """Record ``row`` as sent (and the messages it made); False if its lease was lost.

        The writing runs in a task of its own: a caller cancelled while it waits (a shutdown,
        a timeout around it) neither loses its own mark nor strands the others queued with it."""
        mark = _Mark(row, delivered, at)
        self._waiting.append(mark)
        if self._writer is None:
            self._writer = asyncio.create_task(self._drain(), name="sent-marks")
        return await asyncio.shield(mark.done)

    async def _drain(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[: self.most], self._waiting[self.most :]
                try:
                    await self._write(batch)
                except BaseException as exc:  # cancelled: whoever waits must hear of it
                    for mark in [*batch, *self._waiting]:
                        if not mark.done.done():
                            mark.done.set_exception(exc if isinstance(exc, Exception) else RuntimeError(repr(exc)))
                    self._waiting = []
                    raise
        finally:
            self._writer = None

    async def _write(self, batch: list[_Mark]) -> None:
        try:
            results = await self._commit(batch)
        except Exception as exc:
            if len(batch) == 1:
                batch[0].done.set_exception(exc)
                return
            # One bad mark must not fail the others: write each on its own.
            log.warning("sent marks failed together; writing them one by one", extra={"marks": len(batch)})
            for mark in batch:
                await self._write([mark])
            return
        for mark, marked in zip(batch, results, strict=True):
            mark.done.set_result(marked)

    async def _commit(self, batch: list[_Mark]) -> list[bool]:
        results: list[bool] = []
        async with self.store.unit_of_work() as uow:
            for mark in batch:
                for kind, ref, data in mark.delivered.refs:
                    await uow.messages.add(mark.row.escalation_id, kind, ref, mark.at, data)
                results.append(
                    await uow.outbox.mark_sent(mark.row.id, self.holder, mark.at, mark.delivered.result or None)
                )
        return results
