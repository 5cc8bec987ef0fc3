"""Retrying failed deliveries: one command of the service, whoever asks (``escalation-bot
outbox retry`` at the terminal, an admin in the console), allowed by one rule and audited
on each escalation by the same code as every other command's audit row."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .console import OPERATOR, Reach
from .directory import Directory, is_admin
from .errors import Reason, Refused
from .model import PersonRef

if TYPE_CHECKING:
    from .service import EscalationService

RETRIED = "delivery_retried"


@dataclass(frozen=True)
class RetryDeliveries:
    """Queue failed deliveries again: these (None: every failed one) within ``within``
    (None: anywhere, for the operator at the terminal)."""

    actor: PersonRef
    deliveries: Sequence[int] | None = None
    within: Reach | None = None
    via: str | None = None  # "console", "cli": audited
    id: str = field(default_factory=lambda: f"retry:{uuid.uuid4().hex}")


def may_retry_deliveries(directory: Directory, actor: PersonRef) -> bool:
    """The deployment's admins, and whoever runs the command on the server (who holds the
    database already)."""
    return actor == OPERATOR or is_admin(directory, actor)


class Deliveries:
    def __init__(self, service: EscalationService) -> None:
        self.service = service

    async def retry(self, command: RetryDeliveries) -> int:
        """How many failed deliveries were queued again. Raises ``Refused`` (forbidden) for
        anyone but an admin, before anything is read or changed."""
        if not may_retry_deliveries(self.service.directory, command.actor):
            raise Refused(Reason.forbidden, "Only an admin can retry a delivery.")
        if command.deliveries is not None and not command.deliveries:
            return 0
        now = self.service.clock.now()
        async with self.service.store.unit_of_work() as uow:
            failed = await uow.outbox.failed_within(command.deliveries, command.within)
            if not failed:
                return 0
            count = await uow.outbox.retry_failed(now, sorted({row_id for row_id, _ in failed}))
            by_escalation: dict[str, list[int]] = {}
            for row_id, escalation_id in failed:
                by_escalation.setdefault(escalation_id, []).append(row_id)
            for escalation_id, ids in sorted(by_escalation.items()):
                esc = await uow.escalations.get(escalation_id)
                if esc is None:
                    continue
                detail: dict[str, object] = {"deliveries": sorted(ids)}
                if command.via:
                    detail["via"] = command.via
                await uow.audit.add(
                    esc, at=now, actor=command.actor, action=RETRIED, command_id=f"{command.id}:{esc.id}", detail=detail
                )
        return int(count)
