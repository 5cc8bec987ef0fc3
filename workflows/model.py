"""The escalation and everything it refers to, as plain immutable data."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from .calendar import BusinessHours


class Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Platform(StrEnum):
    slack = "slack"
    teams = "teams"
    console = "console"
    system = "system"


class PersonRef(Frozen):
    """A person on one platform. ``tenant`` is the Slack team or the Teams tenant.

    An empty tenant (as written in configuration) matches the same id in any tenant
    of that platform, since one deployment serves one organisation.
    """

    platform: Platform
    id: str
    tenant: str = ""
    # Display only: the same person with or without a known name is the same person.
    name: str | None = None
    # Teams: the person's Entra ID (AAD) object id, when the platform said it (a Teams
    # activity's ``aadObjectId``, an Entra sign-in's ``oid``). Configuration may name a
    # Teams person by it instead of their ``29:`` chat id; never stored with the person.
    aad: str | None = Field(default=None, exclude=True)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PersonRef):
            return NotImplemented
        return (self.platform, self.id, self.tenant) == (other.platform, other.id, other.tenant)

    def __hash__(self) -> int:
        return hash((self.platform, self.id, self.tenant))

    @property
    def key(self) -> str:
        return f"{self.platform.value}:{self.id}"

    def same(self, other: PersonRef | None) -> bool:
        """The same person: same platform and id, or on Teams an id that is the other's
        Entra object id (``teams:29:1abc`` and ``teams:<object id>`` name one person once
        either says both); in the same tenant unless one leaves it open."""
        if other is None or other.platform != self.platform:
            return False
        if other.id != self.id and not _same_aad(self, other):
            return False
        return not self.tenant or not other.tenant or self.tenant == other.tenant

    def label(self) -> str:
        return self.name or self.key

    def as_choice(self) -> str:
        """The person as a form's choice value (a card's picker): ``platform|tenant|id|name``."""
        return f"{self.platform.value}|{self.tenant}|{self.id}|{self.name or ''}"

    @classmethod
    def from_choice(cls, value: str) -> PersonRef | None:
        """The person a choice value names; None for anything else (a forged or empty value)."""
        parts = (value or "").split("|", 3)
        if len(parts) < 3 or not parts[2]:
            return None
        try:
            platform = Platform(parts[0])
        except ValueError:
            return None
        name = parts[3] if len(parts) == 4 and parts[3] else None
        return cls(platform=platform, id=parts[2], tenant=parts[1], name=name)


def _same_aad(one: PersonRef, other: PersonRef) -> bool:
    return bool((one.aad and one.aad in (other.id, other.aad)) or (other.aad and other.aad in (one.id, one.aad)))


SYSTEM = PersonRef(platform=Platform.system, id="escalation-bot", name="escalation-bot")


class ChannelRef(Frozen):
    """Where a community's questions are posted on one platform."""

    platform: Platform
    id: str
    tenant: str = ""
    team: str | None = None  # Teams: the team that owns the channel

    @property
    def key(self) -> str:
        return f"{self.platform.value}:{self.id}"


class MessageRef(Frozen):
    platform: Platform
    channel: str
    id: str
    tenant: str = ""


class Attachment(Frozen):
    """A file someone shared with a message, as the platform names and links it. ``url`` is
    a link for people (a permalink), never a short-lived download token; None when the
    platform did not tell (a file hidden from the app, an inline image)."""

    name: Annotated[str, Field(min_length=1, max_length=300)]
    # https only: it becomes a link in every renderer, the console's HTML included.
    url: Annotated[str, Field(pattern=r"^https://[^\s<>\"]+$", max_length=2000)] | None = None


class Expert(Frozen):
    """One human expert, possibly known on several platforms under several ids.

    Rotation and load count the expert once, by ``key``.
    """

    key: str
    refs: tuple[PersonRef, ...]
    name: str | None = None
    # Their own working days and hours in their own time zone (the ``people`` entry), when
    # they differ from the community's: assignment prefers whoever is inside theirs now.
    hours: BusinessHours | None = None

    def is_(self, person: PersonRef | None) -> bool:
        return any(ref.same(person) for ref in self.refs)

    def ref_on(self, platform: Platform) -> PersonRef | None:
        for ref in self.refs:
            if ref.platform == platform:
                return ref
        return None

    def label(self) -> str:
        return self.name or self.refs[0].label()


class UserGroupRef(Frozen):
    """A Slack user group whose members are a community's experts; its admins manage who is
    in it, in Slack. The service reads its members from a cache the Slack adapter keeps."""

    id: str  # S0123ABCD
    tenant: str = ""  # the Slack team; empty: the one workspace the bot is in

    @property
    def key(self) -> str:
        return f"slack:usergroup:{self.id}"


class Priority(StrEnum):
    low = "low"
    normal = "normal"
    high = "high"
    urgent = "urgent"


class Rotation(StrEnum):
    round_robin = "round_robin"
    least_loaded = "least_loaded"
    expertise = "expertise"  # who answered similar questions, recent ones weighing more


class Precedent(Frozen):
    """A resolved question like this one and who answered it: the knowledge base's evidence
    for routing by expertise, found by the service when the question opens."""

    escalation_id: str
    question: str
    answered_by: str  # PersonRef.key of the first expert who answered it
    resolved_at: datetime
    # The knowledge base's relevance; only its ratio to the best match counts (engines differ).
    relevance: float
    card: MessageRef | None = None  # its card, for a link


class Timers(Frozen):
    nudge_after: timedelta | None = None
    assign_after: timedelta | None = None
    owner_reminder_after: timedelta | None = None
    reassign_after: timedelta | None = None
    requester_reminder_after: timedelta | None = None
    auto_close_after: timedelta | None = None


class PriorityRule(Frozen):
    """How one priority changes a community's clock; what it does not name, the policy decides."""

    # Only the timers this priority overrides, by Timers field name; None turns one off.
    timers: dict[str, timedelta | None] = Field(default_factory=dict)
    # False: this priority's clock runs round the clock even where the community keeps hours.
    business_hours: bool = True
    # The nudge also mentions the community's lead.
    mention_lead: bool = False


class Policy(Frozen):
    """A community's rules, copied onto each escalation when it opens."""

    timers: Timers = Timers()
    business_hours: BusinessHours | None = None
    rotation: Rotation = Rotation.round_robin
    anyone_can_claim: bool = False
    claim_reactions: tuple[str, ...] = ("eyes", "raising_hand")
    resolve_reactions: tuple[str, ...] = ("white_check_mark",)
    digest_at: time | None = time(9, 0)
    # A digest with nothing in it is posted only when the community asks for it.
    digest_when_empty: bool = False
    # Similar answered questions are shown to the requester first; the card waits this
    # long (wall time) for "This answers it" or "Still escalate". None: no deflection.
    deflection_wait: timedelta | None = timedelta(minutes=10)
    priorities: dict[Priority, PriorityRule] = Field(default_factory=dict)

    def timers_for(self, priority: Priority) -> Timers:
        rule = self.priorities.get(priority)
        return self.timers.model_copy(update=rule.timers) if rule else self.timers

    def hours_for(self, priority: Priority) -> BusinessHours | None:
        rule = self.priorities.get(priority)
        return None if rule is not None and not rule.business_hours else self.business_hours

    def mentions_lead(self, priority: Priority) -> bool:
        rule = self.priorities.get(priority)
        return rule is not None and rule.mention_lead

    @field_validator("digest_when_empty", mode="before")
    @classmethod
    def _say_or_skip(cls, value: object) -> object:
        # Escalations stored before the setting became true/false say "say" or "skip".
        return {"say": True, "skip": False}.get(value, value) if isinstance(value, str) else value


DEFAULT_AWAY_STATUSES = (":palm_tree:", ":face_with_thermometer:", "out of office", "vacationing", "on leave")


class Community(Frozen):
    key: str
    name: str
    channels: tuple[ChannelRef, ...] = ()
    experts: tuple[Expert, ...] = ()
    lead: Expert | None = None
    user_groups: tuple[UserGroupRef, ...] = ()  # their members are experts too
    policy: Policy = Policy()
    # People may add themselves to the rotation (``join``) and take themselves out (``leave``).
    open_roster: bool = False
    # A Slack status with an expiry whose emoji or text is one of these means away until it expires.
    away_statuses: tuple[str, ...] = DEFAULT_AWAY_STATUSES

    def expert_for(self, person: PersonRef | None) -> Expert | None:
        for expert in self.experts:
            if expert.is_(person):
                return expert
        if self.lead and self.lead.is_(person):
            return self.lead
        return None

    def is_expert(self, person: PersonRef | None) -> bool:
        return any(e.is_(person) for e in self.experts)

    def is_lead(self, person: PersonRef | None) -> bool:
        return bool(self.lead and self.lead.is_(person))


class Status(StrEnum):
    open = "open"
    resolved = "resolved"
    cancelled = "cancelled"
    deflected = "deflected"


class Ball(StrEnum):
    experts = "experts"
    requester = "requester"


class Ownership(StrEnum):
    claimed = "claimed"  # an expert took it (pull)
    assigned = "assigned"  # given to someone, not yet accepted
    accepted = "accepted"  # the assignee said yes


class Step(StrEnum):
    """What a timer does when it falls due."""

    nudge = "nudge"
    assign = "assign"
    owner_reminder = "owner_reminder"
    reassign = "reassign"
    requester_reminder = "requester_reminder"
    auto_close = "auto_close"
    release = "release"  # the requester did not look at the suggestions: escalate anyway


class Owner(Frozen):
    expert: str  # Expert.key
    person: PersonRef
    kind: Ownership
    since: datetime
    by: PersonRef | None = None
    # Why it came to them rather than the next in line ("Ada is away until …"), for the card.
    because: str | None = None


class Escalation(Frozen):
    id: str
    tenant: str
    community: Community
    requester: PersonRef
    question: str
    priority: Priority = Priority.normal
    customer: str | None = None
    link: str | None = None
    source: MessageRef | None = None
    # Set when the question was escalated with an emoji: the thread of ``source`` to tell what
    # became of it (escalated, answered, closed), where the conversation started.
    source_thread: str | None = None
    created_at: datetime
    updated_at: datetime
    version: int = 1

    status: Status = Status.open
    # Shown similar answers and waiting for the requester's word; no card yet.
    held: bool = False
    ball: Ball = Ball.experts
    owner: Owner | None = None
    # Experts who declined or were moved away from this escalation: never chosen again.
    excluded: tuple[str, ...] = ()
    assignments: int = 0
    reassignments: int = 0

    # Clocks the timers count from; each restarts when the situation it measures starts.
    experts_since: datetime
    requester_since: datetime | None = None
    nudges: int = 0
    owner_reminded: bool = False
    requester_reminded: bool = False
    first_push_at: datetime | None = None

    replies: int = 0
    last_reply_at: datetime | None = None
    first_response_at: datetime | None = None
    first_responder: PersonRef | None = None
    first_response_pull: bool | None = None

    resolved_at: datetime | None = None
    resolved_by: PersonRef | None = None
    answer: str | None = None
    answer_ref: MessageRef | None = None
    # Files the experts shared in the thread (oldest first, bounded): they go with the answer.
    files: tuple[Attachment, ...] = ()
    closed_reason: str | None = None

    next_step: Step | None = None
    next_due_at: datetime | None = None

    # Similar resolved questions and who answered them, as found when it opened (bounded).
    precedents: tuple[Precedent, ...] = ()

    # Ids of commands already applied, so a command delivered twice is a no-op even
    # where no storage-level deduplication saw it first. Bounded.
    applied: tuple[str, ...] = ()

    @property
    def is_open(self) -> bool:
        return self.status == Status.open

    @property
    def policy(self) -> Policy:
        return self.community.policy

    def short_id(self) -> str:
        return self.id[:8]
