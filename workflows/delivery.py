"""The contract between the outbox dispatcher and the platform adapters that send."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from .effects import Effect
from .model import MessageRef, Platform


class DeliveryError(Exception):
    def __init__(self, message: str, *, code: str = "error") -> None:
        super().__init__(message)
        self.code = code


class TransientDeliveryError(DeliveryError):
    """Try again later (rate limit, 5xx, timeout); ``retry_after`` in seconds if the platform said."""

    def __init__(self, message: str, *, code: str = "transient", retry_after: float | None = None) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


class PermanentDeliveryError(DeliveryError):
    """Retrying cannot help (channel archived, bot removed, user gone): kept and shown."""


@dataclass
class DeliveryContext:
    """What earlier deliveries of the same escalation recorded: its cards, by channel."""

    escalation_id: str
    refs: list[tuple[str, MessageRef, dict[str, Any] | None]] = field(default_factory=list)
    idempotency_key: str = ""
    # True when this effect may already have reached the platform: an earlier attempt
    # failed or its holder's lease ran out (a crash between "sent" and "marked sent").
    # A sender that can look messages up by ``idempotency_key`` should do so first.
    retrying: bool = False
    # When the effect was queued: a lower bound for such a lookup.
    queued_at: datetime | None = None
    # Called by the sender as soon as the call to the effect's own target has answered
    # (before any follow-up calls elsewhere, such as a DM): the moment the dispatcher's
    # pacing counts the message as arrived. Not calling it is safe: the end of the whole
    # delivery is counted instead, which only paces more slowly.
    arrived: Callable[[], None] = field(default=lambda: None, repr=False, compare=False)

    def card_in(self, platform: Platform, channel: str) -> MessageRef | None:
        for kind, ref, _ in self.refs:
            if kind == "card" and ref.platform == platform and ref.channel == channel:
                return ref
        return None

    def any_card(self, platform: Platform) -> MessageRef | None:
        """The escalation's card on ``platform`` in whichever channel, e.g. to link to its thread."""
        return next((ref for kind, ref, _ in self.refs if kind == "card" and ref.platform == platform), None)

    def data_for(self, ref: MessageRef) -> dict[str, Any] | None:
        for _, known, data in self.refs:
            if known == ref:
                return data
        return None


@dataclass
class Delivered:
    """What a send produced, to remember for later effects (e.g. the card's message id)."""

    refs: list[tuple[str, MessageRef, dict[str, Any] | None]] = field(default_factory=list)
    result: dict[str, Any] = field(default_factory=dict)


class Sender(Protocol):
    platform: Platform

    async def deliver(self, effect: Effect, context: DeliveryContext) -> Delivered: ...
