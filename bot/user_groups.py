"""Slack user groups as rosters, for the configuration: how they are written, and what
``config check`` says of each (Slack asked directly when a bot token is set)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from workflows.model import Community, UserGroupRef
from workflows.user_groups import configured_groups

# slack:usergroup:S0123ABCD, or slack:T0TEAM/usergroup:S0123ABCD in a grid.
_USER_GROUP = re.compile(r"^slack:(?:(?P<team>[A-Z0-9]+)/)?usergroup:(?P<id>.*)$", re.IGNORECASE)


def user_group_of(spec: object, team: str) -> UserGroupRef | None:
    """The user group ``spec`` names (None: it names a person); ValueError when its id is not one."""
    found = _USER_GROUP.match(spec.strip()) if isinstance(spec, str) else None
    if found is None:
        return None
    group_id = found["id"].strip()
    if not re.fullmatch(r"S[A-Z0-9]{6,}", group_id):
        raise ValueError(f"{group_id!r} is not a Slack user group id (like S0123ABCD); use the id, not the @handle")
    return UserGroupRef(id=group_id, tenant=found["team"] or team)


def user_groups_of(specs: Sequence[object], team: str) -> dict[int, UserGroupRef]:
    """The user groups among a community's ``experts``, by their place in it; ValueError
    naming the entry whose id is not one."""
    groups: dict[int, UserGroupRef] = {}
    for index, spec in enumerate(specs):
        try:
            group = user_group_of(spec, team)
        except ValueError as exc:
            raise ValueError(f"experts[{index}]: {exc}") from None
        if group is not None:
            groups[index] = group
    return groups


async def check_user_groups(communities: Sequence[Community], token: str | None, api_url: str) -> list[str]:
    """One line per user group, with how many members Slack says it has; the lines of those
    Slack will not give start with "error:". Without a token nothing is asked."""
    groups = configured_groups(communities)
    if not groups:
        return []
    if not token:
        return [f"user group {g.key}: not checked (SLACK_BOT_TOKEN is not set)" for g in groups]
    import aiohttp

    from adapters.slack.platform import API_TIMEOUT_S, web_client
    from adapters.slack.user_groups import UserGroupUnreadable, read_members

    lines = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=API_TIMEOUT_S)) as session:
        client = web_client(token, api_url, session)
        for group in groups:
            try:
                members = await read_members(client, group)
            except UserGroupUnreadable as exc:
                lines.append(f"error: user group {group.key}: {exc}")
                continue
            lines.append(f"user group {group.key}: {len(members)} member{'s' if len(members) != 1 else ''} in Slack")
    return lines
