"""What the service answers without changing anything: an escalation, its messages, the
knowledge base, and a person's own list (Slack's App Home)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from .clock import Clock
from .decide_inputs import _as_suggestions
from .directory import Directory
from .effects import Suggestion
from .model import Escalation, MessageRef, PersonRef
from .ports import Scope, StorePort

# A person who has not opened their own list for this long gets no background refreshes of
# it (Slack keeps showing the last published tab, and opening it publishes it afresh).
HOME_IN_USE = timedelta(days=30)


@dataclass(frozen=True)
class Home:
    """A person's own list (Slack's App Home): what they asked, what they hold, and the
    question cards of both (every one of them visible in the person's scope)."""

    requested: list[Escalation]
    held: list[Escalation]
    cards: dict[str, list[MessageRef]]
    # Said away (``/escalate away``, the Home tab's button, a Slack status): until when
    # (None: until they say back); ``away`` False when they are not.
    away: bool = False
    away_until: datetime | None = None


class Queries:
    """The service's reads, each in a transaction of its own."""

    store: StorePort
    directory: Directory
    clock: Clock

    async def search(
        self, query: str, scope: Scope, *, community: str | None = None, limit: int = 5
    ) -> list[Suggestion]:
        """The knowledge base, best matches first, as the asker may see it."""
        async with self.store.unit_of_work() as uow:
            hits = await uow.knowledge.search(query, scope, community=community, limit=limit)
            return await _as_suggestions(uow, hits)

    async def get(self, escalation_id: str, scope: Scope | None) -> Escalation | None:
        async with self.store.unit_of_work() as uow:
            return await uow.escalations.get(escalation_id, scope)

    async def find_by_message(
        self, platform: str, channel: str, message_id: str, scope: Scope, kind: str | None = None
    ) -> Escalation | None:
        """The escalation that posted this message (only its question cards: ``kind="card"``)."""
        async with self.store.unit_of_work() as uow:
            return await uow.escalations.find_by_message(platform, channel, message_id, scope, kind)

    async def messages(self, escalation_id: str, scope: Scope, kind: str | None = None) -> list[MessageRef]:
        """Messages posted for an escalation visible in ``scope`` (its cards: ``kind="card"``)."""
        async with self.store.unit_of_work() as uow:
            if await uow.escalations.get(escalation_id, scope) is None:
                return []
            return [ref for _, ref, _ in await uow.messages.for_escalation(escalation_id, kind)]

    async def cards_of(self, escalation_ids: Sequence[str], scope: Scope) -> dict[str, list[MessageRef]]:
        """The question cards of several escalations at once (those visible in ``scope``)."""
        async with self.store.unit_of_work() as uow:
            visible = await uow.escalations.visible(escalation_ids, scope)
            found = await uow.messages.for_escalations(visible, "card") if visible else {}
        return {esc_id: [ref for _, ref, _ in found.get(esc_id, [])] for esc_id in visible}

    async def requested_by(self, person: PersonRef, scope: Scope) -> list[Escalation]:
        async with self.store.unit_of_work() as uow:
            return await uow.escalations.list_for_requester(person, scope)

    async def held_by(self, person: PersonRef, scope: Scope) -> list[Escalation]:
        async with self.store.unit_of_work() as uow:
            return await uow.escalations.list_for_owner(self._owner_keys(person), scope)

    def owner_keys(self, person: PersonRef) -> list[str]:
        """Every key ``person`` may own a question under (their own, and as an expert)."""
        return self._owner_keys(person)

    def _owner_keys(self, person: PersonRef) -> list[str]:
        keys = {person.key}
        for community in self.directory.all():
            expert = community.expert_for(person)
            if expert is not None:
                keys.add(expert.key)
        return sorted(keys)

    async def home_opened(self, person: PersonRef) -> Home:
        """``person`` opened their own list (Slack's App Home tab): remember it, and return
        what it shows now."""
        async with self.store.unit_of_work() as uow:
            await uow.home_views.opened(person, self.clock.now())
            return await self._home(uow, person)

    async def home_in_use(self, person: PersonRef) -> Home | None:
        """What ``person``'s own list shows now, if they opened it within ``HOME_IN_USE``;
        None if not: a list nobody looks at is not worth refreshing (opening it shows the
        state then)."""
        async with self.store.unit_of_work() as uow:
            if not await uow.home_views.opened_since(person, self.clock.now() - HOME_IN_USE):
                return None
            return await self._home(uow, person)

    async def _home(self, uow: Any, person: PersonRef) -> Home:
        scope = Scope.of(person)
        requested = await uow.escalations.list_for_requester(person, scope)
        held = await uow.escalations.list_for_owner(self._owner_keys(person), scope)
        ids = list(dict.fromkeys(esc.id for esc in (*requested, *held)))
        found = await uow.messages.for_escalations(ids, "card") if ids else {}
        cards = {esc_id: [ref for _, ref, _ in found.get(esc_id, [])] for esc_id in ids}
        absent = await uow.absences.away(self.clock.now(), [person.key])
        until = absent[0].until if absent else None
        return Home(requested, held, cards, away=bool(absent), away_until=until)
