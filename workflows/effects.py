"""What should be said, not how. Adapters render these; the outbox stores them as JSON.

Text in effects is plain: it may contain what people typed and carries no markup, so
an adapter escapes all of it for its platform and adds mentions from ``mentions``.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import Field, TypeAdapter

from .model import (
    Attachment,
    Ball,
    ChannelRef,
    Frozen,
    MessageRef,
    Ownership,
    PersonRef,
    Platform,
    Priority,
    Status,
    Step,
)


class Action(StrEnum):
    """Buttons a message offers; adapters map them to their own controls."""

    claim = "claim"
    assign = "assign"
    resolve = "resolve"
    reassign = "reassign"
    cancel = "cancel"
    reopen = "reopen"
    accept = "accept"
    decline = "decline"
    deflect = "deflect"  # "This answers it"
    escalate = "escalate"  # "Still escalate"
    priority = "priority"  # change the question's priority (and so its clock)


class Answerer(Frozen):
    """Someone in the community who answered questions like this one (the card's hint for pull)."""

    name: str | None  # as configured; None: the adapter shows the person on its platform
    refs: tuple[PersonRef, ...]
    answered: int
    latest_question: str  # the latest one's title
    latest_card: MessageRef | None = None


class CardView(Frozen):
    """Everything a card shows, as of one version of the escalation."""

    escalation_id: str
    version: int
    tenant: str
    community_key: str
    community_name: str
    question: str
    requester: PersonRef
    priority: Priority
    customer: str | None = None
    link: str | None = None
    source: MessageRef | None = None
    status: Status
    ball: Ball
    owner: PersonRef | None = None
    ownership: Ownership | None = None
    # Why the owner was given it rather than the next in line (someone away), while not yet accepted.
    because: str | None = None
    status_line: str
    created_at: datetime
    next_step: Step | None = None
    next_due_at: datetime | None = None
    answer: str | None = None
    answer_files: tuple[Attachment, ...] = ()
    resolved_by: PersonRef | None = None
    first_responder: PersonRef | None = None
    experts: tuple[PersonRef, ...] = ()
    # Up to three people who answered similar questions, best first, whatever the rotation.
    likely: tuple[Answerer, ...] = ()
    actions: tuple[Action, ...] = ()
    # The community's time zone (its business hours), for adapters that write times as text.
    time_zone: str | None = None


class Notice(StrEnum):
    """Why a person is told something; adapters may choose wording or layout by it."""

    posted = "posted"  # the requester: your question is in front of the experts, here
    claimed = "claimed"
    assigned = "assigned"
    unassigned = "unassigned"
    accepted = "accepted"
    declined = "declined"
    reassigned = "reassigned"
    first_response = "first_response"
    reply = "reply"
    resolved = "resolved"
    reopened = "reopened"
    cancelled = "cancelled"
    owner_reminder = "owner_reminder"
    requester_reminder = "requester_reminder"
    auto_closed = "auto_closed"
    nudge = "nudge"
    unowned = "unowned"
    delivery_failed = "delivery_failed"
    suggestions = "suggestions"
    deflected = "deflected"
    escalated = "escalated"  # said where the question came from: it went to the experts


class BaseEffect(Frozen):
    escalation_id: str


class PostCard(BaseEffect):
    kind: Literal["post_card"] = "post_card"
    channel: ChannelRef
    view: CardView


class UpdateCard(BaseEffect):
    kind: Literal["update_card"] = "update_card"
    channel: ChannelRef
    view: CardView


class ThreadReply(BaseEffect):
    """A message in the card's thread in ``channel``."""

    kind: Literal["thread_reply"] = "thread_reply"
    channel: ChannelRef
    notice: Notice
    text: str
    mentions: tuple[PersonRef, ...] = ()
    # A delivery_failed notice: the failed message's outbox key. Not sent once that message
    # has been delivered after all (an admin's retry), so nobody hears of a fixed failure.
    about: str | None = None


class SourceNote(BaseEffect):
    """A note in the thread of the message a question was escalated from (with an emoji), so
    the conversation it came from sees what became of it. The adapter adds a link to the card."""

    kind: Literal["source_note"] = "source_note"
    source: MessageRef  # the message escalated
    thread: str  # the id of the thread to reply in (the message's own, or its parent's)
    notice: Notice
    text: str
    view: CardView


class Suggestion(Frozen):
    """A resolved escalation that may already answer a new question."""

    escalation_id: str
    community_key: str
    question: str
    answer: str
    card: MessageRef | None = None  # where its thread is, for a link
    files: tuple[Attachment, ...] = ()  # shared with the answer


class Notify(BaseEffect):
    """A private message to one person, on their own platform."""

    kind: Literal["notify"] = "notify"
    person: PersonRef
    notice: Notice
    text: str
    view: CardView
    actions: tuple[Action, ...] = ()
    suggestions: tuple[Suggestion, ...] = ()
    about: str | None = None  # as ThreadReply.about
    # Files the text speaks of ("with 2 files: ..."), for the adapter to link.
    files: tuple[Attachment, ...] = ()


class DigestItem(Frozen):
    escalation_id: str
    question: str
    requester: PersonRef
    age: str
    note: str
    owner: PersonRef | None = None
    claimable: bool = False  # shows a Claim button that works like the card's


class PostDigest(BaseEffect):
    """The daily digest of one community in one of its channels.

    ``escalation_id`` is ``digest:<community>:<day>``: one queue per digest, not an escalation.
    """

    kind: Literal["post_digest"] = "post_digest"
    channel: ChannelRef
    community_key: str
    community_name: str
    day: date
    unanswered: tuple[DigestItem, ...] = ()
    overdue: tuple[DigestItem, ...] = ()
    waiting: tuple[DigestItem, ...] = ()
    resolved: tuple[DigestItem, ...] = ()
    week: str = ""
    away: str = ""  # who in the rotation is away, and until when
    joined: str = ""  # who joined the (open) rotation themselves
    empty: bool = False

    def text(self) -> str:
        """Plain text of the whole digest (for consoles and fallbacks); no markup."""
        lines = [f"Daily digest for {self.community_name}, {self.day:%A %d %B}"]
        if self.empty:
            lines.append("Nothing open, nothing overdue, nothing resolved since the last digest.")
        for title, items in (
            ("Unanswered, oldest first", self.unanswered),
            ("Owned but overdue", self.overdue),
            ("Waiting on the requester", self.waiting),
            ("Resolved since the last digest", self.resolved),
        ):
            if items:
                lines.append(f"{title}:")
                lines += [f"  - {i.question[:120]} ({i.age}, {i.note})" for i in items]
        if self.week:
            lines.append(self.week)
        if self.away:
            lines.append(self.away)
        if self.joined:
            lines.append(self.joined)
        return "\n".join(lines)


Effect = Annotated[PostCard | UpdateCard | ThreadReply | Notify | PostDigest | SourceNote, Field(discriminator="kind")]
EFFECT_ADAPTER: TypeAdapter[Effect] = TypeAdapter(Effect)


def effect_target(effect: Effect) -> tuple[Platform, str]:
    """The conversation an effect lands in, for pacing and routing."""
    if isinstance(effect, Notify):
        return effect.person.platform, f"dm:{effect.person.id}"
    if isinstance(effect, SourceNote):
        return effect.source.platform, effect.source.channel
    return effect.channel.platform, effect.channel.id
