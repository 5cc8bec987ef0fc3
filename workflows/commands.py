"""What people and timers ask for. Adapters build these; the service enriches them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from .effects import Suggestion
from .errors import Reason, Refused
from .model import Attachment, Community, Escalation, Frozen, MessageRef, PersonRef, Precedent, Priority, Step

MAX_QUESTION = 40_000
MAX_TEXT = 40_000


class Roster(Frozen):
    """What the rotation needs beyond the escalation: filled in by the service."""

    loads: dict[str, int] = Field(default_factory=dict)  # expert key -> open owned
    last_assigned: str | None = None  # expert key, for round robin
    # Expert key -> when they are back (None: until they say so), for who is away now.
    away: dict[str, datetime | None] = Field(default_factory=dict)
    # Expert keys outside their own working hours now (else the community's): the rotation
    # prefers the others while any of them is available ("follow the sun").
    out_of_hours: tuple[str, ...] = ()


class BaseCommand(Frozen):
    # Unique per request: the platform's event id or a generated one. A command whose
    # id the escalation has already applied changes nothing.
    id: str
    escalation_id: str
    actor: PersonRef
    roster: Roster | None = None
    # Filled in by the service from the configuration (never taken from a request): an
    # admin of the deployment may manage every escalation of their tenant.
    admin: bool = False
    # Where the command came from when that is not the actor's platform ("console"): audited.
    via: str | None = None


class Open(BaseCommand):
    kind: Literal["open"] = "open"
    tenant: str
    community_key: str
    question: Annotated[str, Field(min_length=1, max_length=MAX_QUESTION)]
    priority: Priority = Priority.normal
    customer: Annotated[str, Field(max_length=500)] | None = None
    link: Annotated[str, Field(max_length=2000)] | None = None
    source: MessageRef | None = None
    source_thread: str | None = None  # as Escalation.source_thread
    # The community's configuration at this moment; the service resolves the key.
    community: Community | None = None
    # Similar resolved questions, found by the service before deciding.
    suggestions: tuple[Suggestion, ...] = ()
    # Similar resolved questions and who answered them: the evidence for routing by expertise.
    precedents: tuple[Precedent, ...] = ()


class Deflect(BaseCommand):
    """The requester: "This answers it" (a suggested answer was enough)."""

    kind: Literal["deflect"] = "deflect"


class Release(BaseCommand):
    """The requester: "Still escalate" (post the question to the experts now)."""

    kind: Literal["release"] = "release"


class Reply(BaseCommand):
    kind: Literal["reply"] = "reply"
    message: MessageRef | None = None
    text: Annotated[str, Field(max_length=MAX_TEXT)] = ""
    # What the platform says was attached (files, images), in a neutral form.
    attachments: Annotated[tuple[Attachment, ...], Field(max_length=100)] = ()


class Claim(BaseCommand):
    kind: Literal["claim"] = "claim"


class Assign(BaseCommand):
    kind: Literal["assign"] = "assign"
    assignee: PersonRef


class Reassign(BaseCommand):
    kind: Literal["reassign"] = "reassign"
    to: PersonRef | None = None  # None: the next expert in rotation


class Accept(BaseCommand):
    kind: Literal["accept"] = "accept"


class Decline(BaseCommand):
    kind: Literal["decline"] = "decline"
    reason: Annotated[str, Field(max_length=2000)] | None = None


class Resolve(BaseCommand):
    kind: Literal["resolve"] = "resolve"
    answer: Annotated[str, Field(max_length=MAX_TEXT)] | None = None
    answer_ref: MessageRef | None = None
    # A resolve emoji is a light gesture: it counts only from the owner or the requester.
    via_reaction: bool = False


def reaction_command(esc: Escalation, emoji: str, *, id: str, actor: PersonRef) -> Claim | Resolve | None:
    """What an emoji put on a question's card asks for, by the emoji of the policy copied onto
    it: a claim emoji claims, a resolve emoji resolves; any other asks for nothing. (Teams'
    reactions are not the policy's emoji: its adapter claims by any.)"""
    if emoji in esc.policy.claim_reactions:
        return Claim(id=id, escalation_id=esc.id, actor=actor)
    if emoji in esc.policy.resolve_reactions:
        return Resolve(id=id, escalation_id=esc.id, actor=actor, via_reaction=True)
    return None


class Reopen(BaseCommand):
    kind: Literal["reopen"] = "reopen"
    reason: Annotated[str, Field(max_length=2000)] | None = None


class Cancel(BaseCommand):
    kind: Literal["cancel"] = "cancel"
    reason: Annotated[str, Field(max_length=2000)] | None = None


class ChangePriority(BaseCommand):
    kind: Literal["change_priority"] = "change_priority"
    priority: Priority


class MoveOn(BaseCommand):
    """The owner of an assigned question can no longer hold it (they left the roster): it
    moves on at once. Sent by the service; changes nothing if the owner can still hold it.
    ``taken``: what they accepted or claimed moves on too (they went away without ``keep``)."""

    kind: Literal["move_on"] = "move_on"
    taken: bool = False


class Tick(BaseCommand):
    """A timer fell due. ``step``/``due_at`` say which one, so a late or repeated
    tick for a step that is no longer due does nothing."""

    kind: Literal["tick"] = "tick"
    step: Step
    due_at: datetime


class DeliveryFailed(BaseCommand):
    """A message could not be delivered, for good: people must hear of it another way."""

    kind: Literal["delivery_failed"] = "delivery_failed"
    effect: str  # the effect's kind
    notice: str | None = None  # for a failed private message, why it was sent
    platform: str
    target: str  # channel id, or "dm:<person id>"
    person: PersonRef | None = None  # for a failed private message, who missed it
    error: Annotated[str, Field(max_length=2000)]
    outbox_key: str | None = None  # the failed message's outbox row, for the notices' ``about``


# What a button can ask of a question; deflect and escalate: the requester's "This answers it"
# and "Still escalate".
BUTTON_ACTIONS = (
    "claim",
    "assign",
    "reassign",
    "accept",
    "decline",
    "resolve",
    "reopen",
    "cancel",
    "priority",
    "deflect",
    "escalate",
)


def _trimmed(text: str | None) -> str | None:
    return (text or "").strip() or None


def button_command(
    action: str,
    *,
    id: str,
    escalation_id: str,
    actor: PersonRef,
    assignee: PersonRef | None = None,
    to: PersonRef | None = None,
    priority: str | None = None,
    answer: str | None = None,
    reason: str | None = None,
) -> BaseCommand:
    """What a button, a picker or a card's submit asks for, by the platform-neutral ``action``
    (one of ``BUTTON_ACTIONS``) an adapter read from its platform's payload, with the fields it
    read: ``assignee`` for assign, ``to`` for reassign (None: the next expert in rotation),
    ``priority`` (a level's value) for a priority change, ``answer`` for resolve and ``reason``
    for decline (trimmed; blank is none). Refused (invalid) before any rule of who may: an
    unknown action, an assign naming no one, a priority that is none of the levels."""
    base: dict[str, Any] = {"id": id, "escalation_id": escalation_id, "actor": actor}
    plain: dict[str, type[BaseCommand]] = {
        "claim": Claim,
        "accept": Accept,
        "reopen": Reopen,
        "cancel": Cancel,
        "deflect": Deflect,
        "escalate": Release,
    }
    if action in plain:
        return plain[action](**base)
    if action == "assign":
        if assignee is None:
            raise Refused(Reason.invalid, "Choose the expert to assign this question to.")
        return Assign(**base, assignee=assignee)
    if action == "reassign":
        return Reassign(**base, to=to)
    if action == "resolve":
        return Resolve(**base, answer=_trimmed(answer))
    if action == "decline":
        return Decline(**base, reason=_trimmed(reason))
    if action == "priority":
        if priority not in {p.value for p in Priority}:
            raise Refused(Reason.invalid, "Choose a priority: " + ", ".join(p.value for p in Priority) + ".")
        return ChangePriority(**base, priority=Priority(priority))
    raise Refused(Reason.invalid, f"Unknown action {action!r}.")


Command = Annotated[
    Open
    | Reply
    | Claim
    | Assign
    | Reassign
    | Accept
    | Decline
    | Resolve
    | Reopen
    | Cancel
    | ChangePriority
    | MoveOn
    | Tick
    | DeliveryFailed
    | Deflect
    | Release,
    Field(discriminator="kind"),
]
