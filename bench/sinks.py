"""A platform that takes every effect at once: for benchmarks where delivery is not measured."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from workflows.delivery import Delivered, DeliveryContext
from workflows.effects import Effect, PostCard
from workflows.model import MessageRef, Platform


@dataclass
class NullSender:
    platform: Platform = Platform.slack
    count: int = 0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    async def deliver(self, effect: Effect, context: DeliveryContext) -> Delivered:
        self.count += 1
        if isinstance(effect, PostCard):
            ref = MessageRef(
                platform=self.platform, channel=effect.channel.id, id=f"m{next(self._ids)}", tenant="T0ACME"
            )
            return Delivered(refs=[("card", ref, None)])
        return Delivered()
