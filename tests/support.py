"""Helpers shared by storage and runtime tests: communities, people, a recording platform."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.config import Directory, parse_config
from workflows.delivery import Delivered, DeliveryContext, PermanentDeliveryError
from workflows.effects import Effect, Notify, PostCard, ThreadReply, UpdateCard
from workflows.model import MessageRef, PersonRef, Platform

CONFIG = """
defaults:
  policy: {nudge_after: 30m, assign_after: 2h, owner_reminder_after: 1h, reassign_after: 2h,
           requester_reminder_after: 1d}
communities:
  - key: sdk
    name: Mobile SDK
    slack: {channel: C0SDK0001}
    experts: ["slack:U0ADA", "slack:U0BEN", "slack:U0CHEN"]
    lead: "slack:U0LEE"
  - key: billing
    name: Billing
    slack: {channel: C0BILL001}
    experts: ["slack:U0BILL1"]
    policy: {nudge_after: 10m, assign_after: 20m}
"""


def directory(text: str = CONFIG) -> Directory:
    return parse_config(text, "test.yaml")


def slack(ident: str, tenant: str = "T0ACME") -> PersonRef:
    return PersonRef(platform=Platform.slack, id=ident, tenant=tenant)


SAM = slack("U0SAM")
ADA = slack("U0ADA")
BEN = slack("U0BEN")
CHEN = slack("U0CHEN")
LEE = slack("U0LEE")


@dataclass
class RecordingSender:
    """A fake platform: records every effect delivered, and can fail on demand."""

    platform: Platform = Platform.slack
    delivered: list[tuple[str, Effect]] = field(default_factory=list)
    fail: Callable[[Effect], Exception | None] | None = None
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def deliver(self, effect: Effect, context: DeliveryContext) -> Delivered:
        if self.fail is not None:
            error = self.fail(effect)
            if error is not None:
                raise error
        self.delivered.append((context.idempotency_key, effect))
        if isinstance(effect, PostCard):
            ref = MessageRef(platform=effect.channel.platform, channel=effect.channel.id, id=f"{next(self._ids)}.0001")
            return Delivered(refs=[("card", ref, None)])
        if (
            isinstance(effect, (UpdateCard, ThreadReply))
            and context.card_in(effect.channel.platform, effect.channel.id) is None
        ):
            raise PermanentDeliveryError("no card to update", code="no_card")
        return Delivered()

    def kinds(self, escalation_id: str | None = None) -> list[str]:
        return [e.kind for _, e in self.delivered if escalation_id is None or e.escalation_id == escalation_id]

    def notices(self) -> list[tuple[str, str]]:
        return [(e.person.id, e.notice.value) for _, e in self.delivered if isinstance(e, Notify)]
