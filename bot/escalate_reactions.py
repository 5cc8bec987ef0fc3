"""``escalate_reactions`` in the configuration file: which emoji escalates a message to which
community, everywhere or in one channel. Read and checked here; the map itself is the core's
(``workflows.escalate_reactions``)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from workflows.escalate_reactions import EscalateReactions
from workflows.model import Community

_SLACK_CHANNEL = re.compile(r"[CG][A-Z0-9]{6,}")


def _emoji_map(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k).strip().strip(":"): str(v).strip().lower() for k, v in value.items()}
    return value


class ChannelSettings(BaseModel):
    """What one channel may set under ``channels:``."""

    model_config = ConfigDict(extra="forbid")
    escalate_reactions: dict[str, str] = Field(default_factory=dict)

    _names = field_validator("escalate_reactions", mode="before")(_emoji_map)


def emoji_map(value: Any) -> Any:
    """The top level's ``escalate_reactions``, with ``:sos:`` written as ``sos``."""
    return _emoji_map(value)


def build(
    everywhere: dict[str, str], channels: dict[str, ChannelSettings], communities: Sequence[Community]
) -> EscalateReactions:
    """The map, checked against the communities; a ``ValueError`` says what is wrong, in one line."""
    known = {c.key for c in communities}
    taken: dict[str, str] = {}
    for community in communities:
        for emoji in community.policy.claim_reactions:
            taken.setdefault(emoji, f"a claim reaction (community {community.key!r})")
        for emoji in community.policy.resolve_reactions:
            taken.setdefault(emoji, f"a resolve reaction (community {community.key!r})")
    for channel in channels:
        if not _SLACK_CHANNEL.fullmatch(channel):
            raise ValueError(
                f"channels: {channel!r} is not a Slack channel id (like C0123ABCD); escalating with an emoji "
                "works in Slack only (Teams does not tell bots about reactions to people's messages)"
            )
    scoped = {f"channels.{ch}.escalate_reactions": s.escalate_reactions for ch, s in channels.items()}
    for where, mapping in {"escalate_reactions": everywhere, **scoped}.items():
        for emoji, key in mapping.items():
            if not emoji or not re.fullmatch(r"[a-z0-9_+'-]+", emoji):
                raise ValueError(f"{where}: {emoji!r} is not an emoji name (like sos, without colons)")
            if key not in known:
                raise ValueError(
                    f"{where}: :{emoji}: goes to {key!r}, which is no community (known: {', '.join(sorted(known))})"
                )
            if emoji in taken:
                raise ValueError(f"{where}: :{emoji}: is also {taken[emoji]}; pick another emoji")
    return EscalateReactions(
        everywhere=everywhere, channels={ch: s.escalate_reactions for ch, s in channels.items() if s.escalate_reactions}
    )


def describe(reactions: EscalateReactions, communities: Sequence[Community]) -> list[str]:
    """For ``config check``."""
    names = {c.key: c.name for c in communities}

    def listed(mapping: dict[str, str]) -> str:
        return ", ".join(f":{e}: -> {k} ({names.get(k, k)})" for e, k in sorted(mapping.items()))

    if not reactions.everywhere and not reactions.channels:
        return ["escalate with an emoji: off (set escalate_reactions to turn it on)"]
    lines = ["escalate with an emoji (Slack):"]
    if reactions.everywhere:
        lines.append(f"  in every channel the bot is in: {listed(reactions.everywhere)}")
    for channel, mapping in sorted(reactions.channels.items()):
        lines.append(f"  in {channel}: {listed(mapping)}")
    return lines
