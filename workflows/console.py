"""Who may see and do what in the web console, and the read models it asks for.

The console is an adapter; these rules are the core's so that no handler or template
decides them: a viewer is built from the configuration once per request, and storage
answers the queries below only within the viewer's reach.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from .metrics import AuditEvent, Facts
from .model import Community, Escalation, Expert, MessageRef, PersonRef, Platform, Priority, Status
from .ports import Scope

# The person behind a sign-in link printed on the server's terminal when no identity
# provider is configured: whoever can read serve's output already holds the database.
OPERATOR = PersonRef(platform=Platform.console, id="operator", name="Operator")


@dataclass(frozen=True)
class Viewer:
    """A signed-in person and what the configuration makes of them."""

    person: PersonRef
    admin: bool
    # Communities whose escalations they see (expert or lead) and where they lead.
    communities: tuple[str, ...]
    leads: tuple[str, ...]

    @property
    def scope(self) -> Scope | None:
        """The tenant every query is limited to; None for the local operator only."""
        if self.person.platform == Platform.console:
            return None
        return Scope.of(self.person)

    @property
    def sees_everything(self) -> bool:
        return self.admin

    @property
    def may_retry_deliveries(self) -> bool:
        return self.admin

    def visible_communities(self, communities: Sequence[Community]) -> list[Community]:
        """An admin's: those with a channel in their workspace or tenant; anyone else's:
        those they are an expert or the lead of."""
        if not self.admin:
            return [c for c in communities if c.key in self.communities]
        scope = self.scope
        if scope is None:
            return list(communities)
        return [
            c
            for c in communities
            if any(ch.platform.value == scope.platform and ch.tenant in ("", scope.tenant) for ch in c.channels)
        ]

    def leads_or_admin(self, community: str) -> bool:
        return self.admin or community in self.leads

    def reach(self) -> Reach:
        if self.admin:
            return Reach(scope=self.scope)
        return Reach(scope=self.scope, requester=self.person.key, communities=self.communities)


def viewer_for(
    person: PersonRef,
    communities: Sequence[Community],
    admins: Sequence[PersonRef],
    known_as: PersonRef | None = None,
) -> Viewer:
    """What the configuration makes of ``person``. ``known_as``: who the chat knows them
    as, when they signed in under another id of the same tenant (Entra ID's object id for
    a Teams user, whose chat id is ``29:…``): their questions, communities and actions are
    that identity's, and an admin named by either id is an admin."""
    if known_as is not None and person.aad and chat_identity_of(person, known_as):
        person = known_as.model_copy(update={"name": person.name or known_as.name, "aad": person.aad})
    if person == OPERATOR:
        return Viewer(person, True, tuple(c.key for c in communities), tuple(c.key for c in communities))
    admin = any(a.same(person) for a in admins)
    member = tuple(c.key for c in communities if c.expert_for(person) is not None)
    leads = tuple(c.key for c in communities if c.is_lead(person))
    return Viewer(person, admin, member, leads)


def chat_identity_of(signed_in: PersonRef, chat: PersonRef) -> bool:
    """Whether ``chat`` may stand for ``signed_in``: the same platform and tenant (never
    another tenant's person), the object id the sign-in vouched for."""
    return (
        chat.platform == signed_in.platform
        and bool(signed_in.tenant)
        and chat.tenant == signed_in.tenant
        and chat.aad == signed_in.aad
    )


@dataclass(frozen=True)
class Reach:
    """What a viewer may read: the tenant, and unless admin, their own questions and
    their communities' (``requester`` is a person key, as stored)."""

    scope: Scope | None
    requester: str | None = None
    communities: tuple[str, ...] | None = None


@dataclass(frozen=True, order=True)
class ListPlace:
    """A place in the list (newest first): an escalation's creation time and id. Pages go
    on from one ("older than this one") instead of counting rows, so page 1000 costs what
    page 1 does."""

    created_at: datetime
    id: str

    @classmethod
    def of(cls, esc: Escalation) -> ListPlace:
        return cls(esc.created_at, esc.id)


@dataclass(frozen=True)
class EscalationFilter:
    community: str | None = None
    status: Status | None = None
    owner: str | None = None  # expert key or person key
    requester: str | None = None  # person key
    priority: Priority | None = None
    older_than: datetime | None = None  # created before
    newer_than: datetime | None = None  # created after
    words: str | None = None  # every word in the question (stemmed, the last letters a prefix)
    before: ListPlace | None = None  # the page after this place (older ones)
    after: ListPlace | None = None  # the page before this place (newer ones)
    page: int = 1  # counted pages, without a place (old links)
    per_page: int = 50


@dataclass(frozen=True)
class EscalationPage:
    escalations: list[Escalation]
    page: int
    has_next: bool  # older ones follow
    has_newer: bool = False  # newer ones precede (a later page, or a place was given)


@dataclass(frozen=True)
class AuditEntry:  # one line of an escalation's timeline
    at: datetime
    actor: str
    platform: str
    action: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Delivery:
    """One outbox row: a message to be, or that could not be, delivered."""

    id: int
    escalation_id: str
    kind: str
    platform: str
    target: str
    status: str
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    error: str | None


@dataclass(frozen=True)
class EscalationDetail:
    escalation: Escalation
    audit: list[AuditEntry]
    messages: list[tuple[str, MessageRef]]
    deliveries: list[Delivery]


@dataclass(frozen=True)
class History:
    """What a period's figures count (``metrics.count``): the facts of each escalation opened
    or closed in it, who was handed a question then, and the documents those events need."""

    facts: list[Facts]
    events: list[AuditEvent]
    documents: dict[str, Escalation]


@dataclass(frozen=True)
class AwaySaid:
    """Who said someone is away, when, and where ("console", "slack", "teams")."""

    since: datetime
    by: str
    via: str | None


class ConsoleQueries(Protocol):
    """Read models for the console, each within a viewer's ``Reach``."""

    async def escalations(self, reach: Reach, where: EscalationFilter) -> EscalationPage: ...
    async def detail(self, reach: Reach, escalation_id: str) -> EscalationDetail | None: ...
    async def deliveries(self, reach: Reach, status: str, limit: int = 100) -> list[Delivery]: ...
    async def open_now(self, reach: Reach, communities: Sequence[str]) -> list[Escalation]: ...
    async def loads(self, reach: Reach, expert_keys: Sequence[str]) -> dict[str, int]: ...
    async def away(self, experts: Sequence[Expert], now: datetime) -> dict[str, datetime | None]: ...
    async def away_said(self, experts: Sequence[Expert], now: datetime) -> dict[str, AwaySaid]: ...
    async def known_as(self, person: PersonRef) -> PersonRef | None:
        """The chat identity of someone signed in by their Entra object id (``person.aad``),
        in their tenant, with ``aad`` set; None when the chat has not seen them yet."""
        ...

    async def history(self, reach: Reach, since: datetime, until: datetime, communities: Sequence[str]) -> History: ...


class SignInLinks(Protocol):
    """One-time sign-in tokens, and the sessions signing in starts, each kept hashed."""

    async def issue(self, token_hash: str, person: PersonRef, now: datetime, expires_at: datetime) -> None: ...
    async def redeem(self, token_hash: str, now: datetime) -> PersonRef | None: ...
    async def start(self, id_hash: str, person: PersonRef, now: datetime, expires_at: datetime) -> None: ...
    async def live(self, id_hash: str, now: datetime) -> bool:
        """Whether the session is known, unexpired and not ended."""
        ...

    async def end(self, id_hash: str, now: datetime) -> None: ...
