"""Reloading the community configuration while the bot runs: on SIGHUP, and when the file changes.

A file that does not validate changes nothing: the running configuration stays, the reason
is logged and shown by ``/readyz`` until a good file is loaded."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection
from pathlib import Path
from typing import TYPE_CHECKING

from workflows.model import Platform

from .config import ConfigError, load_config
from .config_check import serving

if TYPE_CHECKING:
    from .runtime import Runtime

log = logging.getLogger("escalation_bot.config")


class ConfigReloader:
    def __init__(self, runtime: Runtime, path: str | Path, *, platforms: Collection[Platform] = ()) -> None:
        self.runtime = runtime
        self.path = Path(path)
        # What this process talks to: a reloaded file is served like the first (bot/config_check.serving).
        self.platforms = frozenset(platforms)
        self._seen = self._stamp()
        self._lock = asyncio.Lock()
        # Why the file on disk is not the configuration in use; None when it is.
        self.problem: str | None = None
        # The configuration may have changed while the bot was stopped: the first poll moves on
        # what people who left still hold, as a reload would.
        self._settled = False

    def _stamp(self) -> tuple[int, int] | None:
        try:
            stat = self.path.stat()
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_size

    async def check(self) -> bool:
        """Reload if the file changed since it was last read (the scheduler polls this)."""
        if self._stamp() == self._seen:
            if not self._settled:
                self._settled = True
                moved = await self.runtime.service.move_on_from_departed()
                if moved:
                    log.info("questions moved on at start-up", extra={"questions_moved_on": moved})
            return False
        return await self.reload("the file changed")

    async def reload(self, why: str) -> bool:
        """Read the file again; True when its configuration is now the one in use."""
        async with self._lock:
            self._seen = self._stamp()
            try:
                directory = load_config(self.path)
            except ConfigError as exc:
                self.problem = str(exc)
                log.error(
                    "configuration not reloaded; the running one stays",
                    extra={"why": why, "error": " | ".join(str(exc).splitlines())},
                )
                return False
            self.problem = None
            self._settled = True
            directory = serving(directory, self.platforms, log)
            self.runtime.use_directory(directory)
            moved = await self.runtime.service.move_on_from_departed()
            log.info(
                "configuration reloaded",
                extra={"why": why, "communities": len(directory.all()), "questions_moved_on": moved},
            )
            return True

    def on_signal(self) -> None:
        """SIGHUP: reload soon, from the event loop."""
        task = asyncio.get_running_loop().create_task(self.reload("SIGHUP"))
        self._pending = task  # keep a reference until it is done
