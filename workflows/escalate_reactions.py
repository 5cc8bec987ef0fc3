"""Escalating a message with an emoji: which emoji opens a question for which community, and
the rule that one message makes one question per community however often it is reacted to."""

from __future__ import annotations

import uuid

from pydantic import Field

from .model import Frozen, MessageRef, PersonRef, Priority
from .service import EscalationService, Outcome

# Escalation ids made from the message they came from (uuid5 in this namespace).
_NAMESPACE = uuid.UUID("6d1f4c3e-2b7a-4e59-9a51-7c0e4f1b2d83")


class EscalateReactions(Frozen):
    """``escalate_reactions`` from the configuration: emoji name -> community key, in every
    channel the bot is in (``everywhere``) or in one channel only (``channels``, which wins)."""

    everywhere: dict[str, str] = Field(default_factory=dict)
    channels: dict[str, dict[str, str]] = Field(default_factory=dict)

    def community_for(self, channel: str, emoji: str) -> str | None:
        return self.channels.get(channel, {}).get(emoji) or self.everywhere.get(emoji)

    def emoji(self) -> set[str]:
        return set(self.everywhere) | {e for mapping in self.channels.values() for e in mapping}


def configured(directory: object) -> EscalateReactions:
    """The map a directory was built with (none: no emoji escalates)."""
    found = getattr(directory, "escalate_reactions", None)
    return found if isinstance(found, EscalateReactions) else EscalateReactions()


def source_key(source: MessageRef, community_key: str) -> str:
    return f"escalate:{source.platform.value}:{source.tenant}:{source.channel}:{source.id}:{community_key}"


async def escalate_message(
    service: EscalationService,
    *,
    requester: PersonRef,
    community_key: str,
    question: str,
    source: MessageRef,
    thread: str,
    customer: str | None = None,
    link: str | None = None,
) -> Outcome:
    """Open a question from ``source`` for ``community_key``, as the message shortcut would (similar
    answers shown to the requester first), reporting back in ``thread``. A second emoji on the same
    message, by anyone, or the same event delivered again, opens nothing: the question's id and its
    idempotency key both come from the message, so ``Outcome.duplicate`` is set then."""
    key = source_key(source, community_key)
    return await service.open(
        requester=requester,
        community_key=community_key,
        question=question,
        priority=Priority.normal,
        customer=customer,
        link=link,
        source=source,
        source_thread=thread,
        event=(source.platform.value, key),
        escalation_id=uuid.uuid5(_NAMESPACE, key).hex,
    )
