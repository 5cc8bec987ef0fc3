"""Slack's side of a person's view of escalations: message permalinks and the App Home tab."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from workflows.availability import when
from workflows.clock import Clock
from workflows.decide import card_view
from workflows.model import MessageRef, PersonRef, Platform
from workflows.ports import Scope
from workflows.queries import Home
from workflows.service import EscalationService

from .views import Listed, home_view

log = logging.getLogger("escalation_bot.slack")


class SlackLinks:
    """Permalinks to messages. One ``auth.test`` for the workspace URL, cached."""

    def __init__(self, client: AsyncWebClient) -> None:
        self.client = client
        self._identity: dict[str, str] | None = None

    async def identity(self) -> dict[str, str]:
        if self._identity is None:
            response = await self.client.auth_test()
            self._identity = {
                "url": str(response.get("url") or "https://slack.com/"),
                "team_id": str(response.get("team_id") or ""),
                "user_id": str(response.get("user_id") or ""),
            }
        return self._identity

    async def team_id(self) -> str:
        # Called after a message is posted: it must not fail the delivery (and re-post it).
        try:
            return (await self.identity())["team_id"]
        except Exception:
            log.warning("auth.test failed", exc_info=True)
            return ""

    async def archive_url(self, ref: MessageRef) -> str:
        """The permalink of a top-level message (a card), built without a call: for such a
        message ``chat.getPermalink`` answers this same workspace URL + ``archives/<channel>/
        p<ts>``, and asking it cost one Web API call per DM."""
        try:
            base = (await self.identity())["url"]
        except Exception:
            log.warning("auth.test failed", exc_info=True)
            return f"https://slack.com/app_redirect?channel={ref.channel}&message_ts={ref.id}"
        return f"{base.rstrip('/')}/archives/{ref.channel}/p{ref.id.replace('.', '')}"


class SlackHome:
    """The App Home tab: "My escalations" and "Assigned to me".

    Deliveries ask for a person's tab to be refreshed (``refresh``); the refresh runs
    ``refresh_after`` seconds later and reads the state then, so a burst of changes for one
    person (an expert claiming ten questions, a requester opening several) costs one
    ``views.publish`` instead of one each. Opening the tab publishes at once."""

    def __init__(
        self,
        service: EscalationService,
        client: AsyncWebClient,
        links: SlackLinks,
        clock: Clock,
        *,
        refresh_after: float = 1.0,
    ) -> None:
        self.service = service
        self.client = client
        self.links = links
        self.clock = clock
        self.refresh_after = refresh_after
        self._pending: dict[str, tuple[PersonRef, asyncio.Task[None]]] = {}
        self._tasks: set[asyncio.Task[None]] = set()  # strong references until each ends

    def refresh(self, person: PersonRef) -> None:
        """Publish ``person``'s tab soon, once for every change asked for until then."""
        if person.platform != Platform.slack or person.key in self._pending:
            return
        task = asyncio.create_task(self._later(person), name=f"app-home:{person.key}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        self._pending[person.key] = (person, task)

    async def _later(self, person: PersonRef) -> None:
        try:
            await asyncio.sleep(self.refresh_after)
        finally:
            # A change from now on asks for a refresh of its own: this one may read too early.
            pending = self._pending.get(person.key)
            if pending is not None and pending[1] is asyncio.current_task():
                del self._pending[person.key]
        await self._publish(person, opened=False)

    async def flush(self) -> None:
        """Publish every refresh asked for, now (the tests settle with it)."""
        pending, self._pending = list(self._pending.values()), {}
        for _, task in pending:
            task.cancel()
        await asyncio.gather(*(self._publish(person, opened=False) for person, _ in pending))

    def close(self) -> None:
        """Drop the refreshes not yet run: a stale tab is refreshed when it is next opened."""
        self._pending = {}
        for task in list(self._tasks):
            task.cancel()

    async def listed(self, escalations: list[Any], scope: Scope) -> list[Listed]:
        return await self._listed(escalations, await self.service.cards_of([esc.id for esc in escalations], scope))

    async def _listed(self, escalations: list[Any], cards: dict[str, list[MessageRef]]) -> list[Listed]:
        items = []
        for esc in escalations:
            slack_card = next((c for c in cards.get(esc.id, []) if c.platform == Platform.slack), None)
            url = await self.links.archive_url(slack_card) if slack_card else None
            items.append(Listed(card_view(esc), url))
        return items

    async def view_for(self, home: Home) -> dict[str, Any]:
        requested = await self._listed(home.requested, home.cards)
        held = await self._listed(home.held, home.cards)
        away = when(home.away_until) if home.away else None
        return home_view(requested, held, self.clock.now(), away)

    async def publish(self, person: PersonRef) -> None:
        """The tab, as ``person`` opens it; remembered, so that changes refresh it from now on."""
        await self._publish(person, opened=True)

    async def _publish(self, person: PersonRef, *, opened: bool) -> None:
        """Best effort: a stale Home tab is refreshed the next time it is opened. A refresh
        (not ``opened``) is skipped for a person who has not opened the tab lately."""
        if person.platform != Platform.slack:
            return
        try:
            if not person.tenant:
                person = person.model_copy(update={"tenant": await self.links.team_id()})
            home = await self.service.home_opened(person) if opened else await self.service.home_in_use(person)
            if home is None:
                return
            await self.client.views_publish(user_id=person.id, view=await self.view_for(home))
        except Exception:
            log.warning("app home not published", exc_info=True, extra={"user": person.id})
