"""What the service needs from storage, as protocols: the core imports nothing of ours."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from .commands import Roster
from .effects import Effect
from .model import Attachment, Escalation, MessageRef, PersonRef

if TYPE_CHECKING:
    from .console import Reach


@dataclass(frozen=True)
class Scope:
    """Who is asking: one platform workspace/tenant. Every user-facing query is scoped."""

    platform: str
    tenant: str

    @classmethod
    def of(cls, person: PersonRef) -> Scope:
        return cls(person.platform.value, person.tenant)


class EscalationsPort(Protocol):
    async def get(self, escalation_id: str, scope: Scope | None = None, *, lock: bool = False) -> Escalation | None: ...
    async def add(self, esc: Escalation) -> None: ...
    async def save(self, esc: Escalation, expected_version: int) -> None: ...
    async def find_by_message(
        self,
        platform: str,
        channel: str,
        message_id: str,
        scope: Scope,
        kind: str | None = None,
        *,
        lock: bool = False,
    ) -> Escalation | None: ...
    async def visible(self, escalation_ids: Sequence[str], scope: Scope) -> list[str]: ...
    async def list_for_requester(
        self, requester: PersonRef, scope: Scope, *, open_only: bool = True
    ) -> list[Escalation]: ...
    async def list_for_owner(self, owner_keys: Sequence[str], scope: Scope) -> list[Escalation]: ...
    async def open_held_by(self, owner_keys: Sequence[str]) -> list[str]: ...
    async def open_held_by_others(self, community: str, expert_keys: Sequence[str]) -> list[str]: ...
    async def claim_due(
        self, now: datetime, limit: int, holder: str, lease: timedelta
    ) -> list[tuple[str, str, datetime]]: ...
    async def next_due(self) -> datetime | None: ...


class MessagesPort(Protocol):
    async def for_escalation(
        self, escalation_id: str, kind: str | None = None
    ) -> list[tuple[str, MessageRef, Any]]: ...
    async def for_escalations(
        self, escalation_ids: Sequence[str], kind: str | None = None
    ) -> dict[str, list[tuple[str, MessageRef, Any]]]: ...


class OutboxPort(Protocol):
    async def append(self, escalation_id: str, version: int, effects: Sequence[Effect], now: datetime) -> None: ...
    async def failed_within(self, ids: Sequence[int] | None, within: Reach | None) -> list[tuple[int, str]]:
        """(row id, escalation id) of the failed rows among ``ids`` (None: all) within the reach."""
        ...

    async def retry_failed(self, now: datetime, ids: Sequence[int] | None = None) -> int: ...


class InboundPort(Protocol):
    async def record(self, source: str, event_id: str, now: datetime) -> bool: ...


class AuditPort(Protocol):
    async def add(
        self,
        esc: Escalation,
        *,
        at: datetime,
        actor: PersonRef,
        action: str,
        command_id: str,
        detail: dict[str, Any] | None,
    ) -> None: ...

    async def add_about(
        self,
        subject: str,
        *,
        tenant: str,
        at: datetime,
        actor: PersonRef,
        action: str,
        command_id: str,
        detail: dict[str, Any] | None,
    ) -> None: ...


class RotationPort(Protocol):
    async def roster(self, community: str, expert_keys: Sequence[str], escalations: Any) -> Roster: ...
    async def assigned(self, community: str, expert_key: str, now: datetime) -> None: ...


class KnowledgeHitLike(Protocol):
    escalation_id: str
    community: str
    question: str
    answer: str
    files: tuple[Attachment, ...]


class KnowledgePort(Protocol):
    async def capture(self, esc: Escalation, tags: list[str] | None = None) -> None: ...
    async def forget(self, escalation_id: str) -> None: ...
    async def similar(
        self, question: str, scope: Scope, community: str, limit: int = 3
    ) -> Sequence[KnowledgeHitLike]: ...
    async def search(
        self, query: str, scope: Scope, *, community: str | None = None, limit: int = 5
    ) -> Sequence[KnowledgeHitLike]: ...
    async def related(
        self, question: str, scope: Scope, community: str, limit: int, *, within: float | None = None
    ) -> Sequence[KnowledgeHitLike]: ...
    def close_to(self, question: str, hits: Any, limit: int = 3) -> Sequence[KnowledgeHitLike]: ...


class HomeViewsPort(Protocol):
    async def opened(self, person: PersonRef, now: datetime) -> None: ...
    async def opened_since(self, person: PersonRef, since: datetime) -> bool: ...


class UnitOfWorkPort(Protocol):
    escalations: EscalationsPort
    messages: MessagesPort
    outbox: OutboxPort
    inbound: InboundPort
    audit: AuditPort
    rotation: RotationPort
    knowledge: KnowledgePort
    home_views: HomeViewsPort


class StorePort(Protocol):
    def unit_of_work(self) -> AbstractAsyncContextManager[Any]: ...
