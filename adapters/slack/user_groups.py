"""Slack user groups as rosters: who is in each, read with ``usergroups.users.list`` when the
bot starts, when the configuration names a group it has not read, and whenever Slack says a
group changed (``subteam_members_changed``, ``subteam_updated``); the service caches the
members for every replica. Assignments never ask Slack."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from workflows.model import UserGroupRef
from workflows.user_groups import UserGroups

log = logging.getLogger("escalation_bot.slack")

REREAD_EVERY_S = 3600.0

# Slack's errors for a group the bot cannot read, said so an admin knows what to change.
_WHY = {
    "no_such_subteam": "no user group has this id in the workspace (use the id, like S0123ABCD, not the @handle)",
    "subteam_not_found": "no user group has this id in the workspace (use the id, like S0123ABCD, not the @handle)",
    "missing_scope": "the bot may not read user groups: add the usergroups:read scope and reinstall the app",
    "not_allowed_token_type": "the bot's token may not read user groups",
    "invalid_auth": "Slack refused the bot token (invalid_auth)",
    "not_authed": "Slack refused the bot token (not_authed)",
    "team_access_not_granted": "the bot is not installed in the user group's workspace",
}


DISABLED = "the user group was disabled in Slack: enable it again, or take it out of the configuration"


class UserGroupUnreadable(Exception):
    """``str()`` says why Slack would not give the group's members."""


async def read_members(client: AsyncWebClient, group: UserGroupRef) -> list[str]:
    args: dict[str, Any] = {"usergroup": group.id}
    if group.tenant:
        args["team_id"] = group.tenant
    try:
        response = await client.usergroups_users_list(**args)
    except SlackApiError as exc:
        error = str(exc.response.get("error") or "unknown_error")
        raise UserGroupUnreadable(f"{_WHY.get(error, 'Slack answered ' + error)} ({error})") from None
    except (TimeoutError, SlackClientError, OSError) as exc:
        raise UserGroupUnreadable(f"Slack could not be reached: {exc.__class__.__name__}") from None
    return [str(u) for u in response.get("users") or [] if u]


class SlackUserGroups:
    def __init__(self, groups: UserGroups, client: AsyncWebClient) -> None:
        self.groups = groups
        self.client = client
        self._read_for: object | None = None  # the directory whose groups were last read
        self._read_at = 0.0  # monotonic
        self._task: asyncio.Task[None] | None = None

    async def read(self, group: UserGroupRef) -> bool:
        """Read one group from Slack into the cache; False when Slack would not say."""
        try:
            members = await read_members(self.client, group)
        except UserGroupUnreadable as exc:
            await self.groups.unreadable(group, str(exc))
            return False
        await self.groups.read(group, members)
        return True

    async def read_all(self) -> int:
        """Every group the configuration names now; how many Slack gave."""
        self._read_for, self._read_at = self.groups.service.directory, time.monotonic()
        return sum([await self.read(group) for group in self.groups.configured()])

    async def changed(self, event: dict[str, Any]) -> None:
        """``subteam_members_changed`` or ``subteam_updated``: read the group again if it is a
        roster (the event's own list is a delta, or cut at 500)."""
        subteam = event.get("subteam") or {}
        group_id = event.get("subteam_id") or subteam.get("id")
        group = self.groups.find(str(group_id)) if group_id else None
        if group is None:
            return
        if subteam.get("date_delete"):
            # Slack no longer lists a disabled group's members: say so, and keep those last read.
            await self.groups.unreadable(group, DISABLED)
            return
        await self.read(group)

    def start(self, poll: float = 5.0) -> None:
        """Read every group now, again whenever the configuration is reloaded, and hourly in
        case an event was missed."""
        self._task = asyncio.get_running_loop().create_task(self._keep_read(poll))

    async def _keep_read(self, poll: float) -> None:
        while True:
            stale = time.monotonic() - self._read_at > REREAD_EVERY_S
            if self.groups.service.directory is not self._read_for or stale:
                try:
                    await self.read_all()
                except Exception:
                    log.exception("user groups not read")
            await asyncio.sleep(poll)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
