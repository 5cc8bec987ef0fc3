"""People's names as Slack shows them, for pages that only hold their ids.

An expert configured as ``slack:U0BEN`` has no name in the configuration; the web console
asks here instead of showing the id. One ``users.info`` per person, cached for an hour
(a name rarely changes, and a page must not call Slack once per row per request); a
failed or slow call leaves that person's id on the page, never an error."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from workflows.model import PersonRef, Platform

log = logging.getLogger("escalation_bot.slack")

NAME_TTL_S = 3600.0
LOOKUP_TIMEOUT_S = 2.0
CONCURRENT_LOOKUPS = 4


def shown_name(user: dict[str, Any]) -> str | None:
    """The name Slack shows for a user: display name, else real name, else handle."""
    profile = user.get("profile") or {}
    for name in (profile.get("display_name"), profile.get("real_name"), user.get("real_name"), user.get("name")):
        if isinstance(name, str) and name.strip():
            return name.strip()
    return None


class SlackNames:
    def __init__(self, client: AsyncWebClient, *, ttl_s: float = NAME_TTL_S) -> None:
        self.client = client
        self.ttl_s = ttl_s
        self._known: dict[str, tuple[float, str | None]] = {}
        self._lookups = asyncio.Semaphore(CONCURRENT_LOOKUPS)

    async def names(self, people: Sequence[PersonRef]) -> dict[str, str]:
        """Person key -> name, for the Slack people among ``people`` whose name is known."""
        wanted = {ref.key: ref for ref in people if ref.platform == Platform.slack and ref.id}
        now = time.monotonic()
        stale = [ref for key, ref in wanted.items() if key not in self._known or self._known[key][0] < now]
        if stale:
            await asyncio.gather(*(self._look_up(ref) for ref in stale))
        return {key: name for key in wanted if (name := self._known.get(key, (0.0, None))[1])}

    async def _look_up(self, ref: PersonRef) -> None:
        async with self._lookups:
            try:
                response = await asyncio.wait_for(self.client.users_info(user=ref.id), LOOKUP_TIMEOUT_S)
                name = shown_name(response.get("user") or {})
            except Exception:
                log.info("users.info failed; the id is shown", extra={"user": ref.id})
                # Asked again in a minute, not on every page load.
                self._known[ref.key] = (time.monotonic() + 60.0, self._known.get(ref.key, (0.0, None))[1])
                return
        self._known[ref.key] = (time.monotonic() + self.ttl_s, name)
