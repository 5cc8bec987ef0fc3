"""Slack user groups as rosters: ``experts: ["slack:usergroup:S0123ABCD"]``. Slack says who
is in a group (the adapter asks ``usergroups.users.list`` at start and when Slack tells it
the group changed); the members are cached in the database for every replica, and the
service adds them to the community's experts whenever it loads the live roster. Nothing
here asks Slack: an assignment never waits on the Web API."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from .model import Community, Expert, PersonRef, Platform, UserGroupRef

if TYPE_CHECKING:
    from .service import EscalationService

log = logging.getLogger("escalation_bot.user_groups")


@dataclass(frozen=True)
class CachedGroup:
    """What is known of a user group: its members when last read, and why the last read
    failed (None when it did not)."""

    key: str
    members: tuple[str, ...]
    read_at: datetime | None
    error: str | None = None


def with_user_groups(community: Community, members: Mapping[str, Sequence[str]]) -> Community:
    """``community`` with the members of its user groups added after its named experts
    (someone named and in a group counts once)."""
    if not community.user_groups:
        return community
    experts = list(community.experts)
    for group in community.user_groups:
        for user in members.get(group.key, ()):
            person = PersonRef(platform=Platform.slack, id=user, tenant=group.tenant)
            if not any(e.is_(person) for e in experts):
                experts.append(Expert(key=person.key, refs=(person,)))
    return community.model_copy(update={"experts": tuple(experts)})


def configured_groups(communities: Sequence[Community]) -> list[UserGroupRef]:
    """Every user group some community uses, once."""
    seen: dict[str, UserGroupRef] = {}
    for community in communities:
        for group in community.user_groups:
            seen.setdefault(group.key, group)
    return list(seen.values())


class UserGroups:
    """The cache of who is in each user group, as the Slack adapter reads it."""

    def __init__(self, service: EscalationService) -> None:
        self.service = service

    def configured(self) -> list[UserGroupRef]:
        return configured_groups(self.service.directory.all())

    def find(self, group_id: str) -> UserGroupRef | None:
        return next((g for g in self.configured() if g.id == group_id), None)

    async def read(self, group: UserGroupRef, members: Sequence[str]) -> bool:
        """Slack said who is in ``group`` now. True when that changed who is in it; then
        whoever left it and holds an assigned question of its communities sees it move on."""
        now = self.service.clock.now()
        async with self.service.store.unit_of_work() as uow:
            changed = await uow.user_groups.record(group.key, tuple(dict.fromkeys(members)), now)
        if changed:
            log.info("user group read", extra={"user_group": group.key, "members": len(members)})
            await self.service.move_on_from_departed()
        return changed

    async def unreadable(self, group: UserGroupRef, error: str) -> None:
        """Slack would not say who is in ``group``: the members last read stay (none if it was
        never read) and the reason is kept for ``config check`` and the logs."""
        async with self.service.store.unit_of_work() as uow:
            await uow.user_groups.failed(group.key, error, self.service.clock.now())
        log.warning("user group cannot be read", extra={"user_group": group.key, "error": error})

    async def cached(self) -> list[CachedGroup]:
        async with self.service.store.unit_of_work() as uow:
            return list(await uow.user_groups.all())
