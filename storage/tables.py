"""The schema. Migrations must create exactly this (a test compares them)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Dialect,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC in Python on every database (SQLite would hand back naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime written to the database")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a 64-bit identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime, dict[str, Any]: JSON}


class EscalationRow(Base):
    __tablename__ = "escalations"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(200))
    community: Mapped[str] = mapped_column(String(100))
    status: Mapped[str] = mapped_column(String(16))
    ball: Mapped[str] = mapped_column(String(16))
    requester: Mapped[str] = mapped_column(String(300))
    owner: Mapped[str | None] = mapped_column(String(300))
    priority: Mapped[str] = mapped_column(String(16))
    next_step: Mapped[str | None] = mapped_column(String(32))
    next_due_at: Mapped[datetime | None]
    lease_until: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    data: Mapped[dict[str, Any]]
    # What the escalation counts for in the figures (workflows/metrics.Facts), written with
    # the row: the console counts from these columns, never from the documents.
    closed_at: Mapped[datetime | None]
    first_response_at: Mapped[datetime | None]
    first_response_pull: Mapped[bool | None] = mapped_column(Boolean)
    reassignments: Mapped[int | None] = mapped_column(Integer)
    first_responder: Mapped[str | None] = mapped_column(String(300))
    resolver: Mapped[str | None] = mapped_column(String(300))
    first_response_s: Mapped[float | None] = mapped_column(Double)
    first_response_business_s: Mapped[float | None] = mapped_column(Double)
    resolution_s: Mapped[float | None] = mapped_column(Double)
    resolution_business_s: Mapped[float | None] = mapped_column(Double)

    __table_args__ = (
        # Only rows with a timer are indexed, so finding due work never scans history.
        Index(
            "ix_escalations_due",
            "next_due_at",
            sqlite_where=text("next_due_at IS NOT NULL"),
            postgresql_where=text("next_due_at IS NOT NULL"),
        ),
        Index("ix_escalations_requester", "tenant", "requester", "status"),
        Index("ix_escalations_owner", "owner", "status"),
        Index("ix_escalations_community", "community", "status", "created_at"),
        # The digest's windows (opened this week, resolved since the last digest) stay
        # ranges however long the history grows.
        Index("ix_escalations_community_created", "community", "created_at"),
        Index("ix_escalations_community_resolved", "community", "resolved_at"),
        # The console's list, newest first, and its "older than this one" pages.
        Index("ix_escalations_created", "created_at", "id"),
        # The console's windows: opened (above) or closed in a period.
        Index("ix_escalations_community_closed", "community", "closed_at"),
    )


class ScopeRow(Base):
    """Which workspaces/tenants may see an escalation. An empty tenant means any
    tenant of that platform (a channel configured without its workspace id)."""

    __tablename__ = "escalation_scopes"

    escalation_id: Mapped[str] = mapped_column(
        String(64), ForeignKey("escalations.id", ondelete="CASCADE"), primary_key=True
    )
    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(200), primary_key=True)


class MessageRefRow(Base):
    """Messages the bot posted or tracks for an escalation (cards, DMs, notices)."""

    __tablename__ = "message_refs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    escalation_id: Mapped[str] = mapped_column(String(64), ForeignKey("escalations.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    platform: Mapped[str] = mapped_column(String(16))
    tenant: Mapped[str] = mapped_column(String(200))
    channel: Mapped[str] = mapped_column(String(300))
    message_id: Mapped[str] = mapped_column(String(300))
    data: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("platform", "channel", "message_id", name="uq_message_refs_message"),)


class OutboxRow(Base):
    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    escalation_id: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    platform: Mapped[str] = mapped_column(String(16))
    target: Mapped[str] = mapped_column(String(300))
    payload: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str | None] = mapped_column(Text)
    result: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]

    __table_args__ = (
        Index(
            "ix_outbox_pending",
            "next_attempt_at",
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
        Index("ix_outbox_escalation", "escalation_id", "id"),
        Index("ix_outbox_status", "status"),
    )


class InboundEventRow(Base):
    """Platform event ids already handled: a redelivered event changes nothing."""

    __tablename__ = "inbound_events"

    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(300), primary_key=True)
    received_at: Mapped[datetime] = mapped_column(index=True)


class AuditRow(Base):
    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    escalation_id: Mapped[str] = mapped_column(String(64), index=True)
    tenant: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(300))
    platform: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(64))
    command_id: Mapped[str] = mapped_column(String(300))
    version: Mapped[int] = mapped_column(Integer)
    detail: Mapped[dict[str, Any] | None]

    __table_args__ = (Index("ix_audit_action_at", "action", "at"),)


class CommunityStateRow(Base):
    """Rotation memory that spans escalations (whom round robin picked last)."""

    __tablename__ = "community_state"

    community: Mapped[str] = mapped_column(String(100), primary_key=True)
    last_assigned: Mapped[str | None] = mapped_column(String(300))
    updated_at: Mapped[datetime]


class TeamsConversationRow(Base):
    """Where the Teams bot can post proactively: one row per conversation it was added to
    (a team's channel, a group chat, or a person's 1:1 chat), from installation events."""

    __tablename__ = "teams_conversations"

    conversation_id: Mapped[str] = mapped_column(String(300), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # channel | groupChat | personal
    tenant: Mapped[str] = mapped_column(String(200))
    service_url: Mapped[str] = mapped_column(String(500))
    team_id: Mapped[str | None] = mapped_column(String(300))
    channel_id: Mapped[str | None] = mapped_column(String(300))
    user_id: Mapped[str | None] = mapped_column(String(300))
    bot_id: Mapped[str | None] = mapped_column(String(300))
    reference: Mapped[dict[str, Any]]
    unreachable_at: Mapped[datetime | None]
    unreachable_reason: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime]

    __table_args__ = (
        Index("ix_teams_conversations_user", "tenant", "user_id"),
        Index("ix_teams_conversations_team", "team_id"),
    )


class DigestRow(Base):
    """One row per community and local day: inserting it is what entitles a replica to
    send that day's digest, so it goes out exactly once."""

    __tablename__ = "digests"

    community: Mapped[str] = mapped_column(String(100), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # ISO date, local to the community
    created_at: Mapped[datetime]
    holder: Mapped[str] = mapped_column(String(100))


class HomeViewRow(Base):
    """Who has looked at their own list of escalations (Slack's App Home tab), and when last:
    a change refreshes the tab only of someone who uses it. Opening the tab always shows
    the state at that moment, so a person who never opens it has nothing to keep fresh."""

    __tablename__ = "home_views"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(200), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(300), primary_key=True)
    opened_at: Mapped[datetime]


class SignInLinkRow(Base):
    """One-time sign-in links for the web console, by the SHA-256 of their token (the
    token itself is only ever printed): used once, within minutes, or not at all."""

    __tablename__ = "console_links"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    person: Mapped[dict[str, Any]]
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class TeamsPersonRow(Base):
    """A Teams person's chat id (``29:…``) by their Entra ID object id in their tenant, as
    Teams activities say it (``from.aadObjectId``): a person who signs in to the console
    with Entra ID is known by the object id alone, the chat knows them by the other."""

    __tablename__ = "teams_people"

    tenant: Mapped[str] = mapped_column(String(200), primary_key=True)
    aad_object_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(300))
    seen_at: Mapped[datetime]


class ConsoleSessionRow(Base):
    """A signed-in browser of the web console, by the SHA-256 of the session id its cookie
    carries: the cookie is honoured only while its row is here, unexpired and not ended, so
    signing out ends it even where the cookie was copied."""

    __tablename__ = "console_sessions"
    __table_args__ = (Index("ix_console_sessions_expires_at", "expires_at"),)

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    person: Mapped[str] = mapped_column(String(300))  # PersonRef.key: who, for an operator reading it
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class AbsenceRow(Base):
    """Who said they are away, until when (None: until they say they are back), and who
    said so when. One row per person (``PersonRef.key``); ``back`` deletes it."""

    __tablename__ = "absences"

    person: Mapped[str] = mapped_column(String(300), primary_key=True)
    tenant: Mapped[str] = mapped_column(String(200))
    until: Mapped[datetime | None]
    note: Mapped[str | None] = mapped_column(String(200))
    set_by: Mapped[str] = mapped_column(String(300))
    set_at: Mapped[datetime]


class RosterMemberRow(Base):
    """Who joined an open community's rotation (``member``) or left it (not ``member``: a
    configured expert who left stays out until they join again), by their own word."""

    __tablename__ = "roster_members"

    community: Mapped[str] = mapped_column(String(100), primary_key=True)
    person: Mapped[str] = mapped_column(String(300), primary_key=True)  # PersonRef.key
    ref: Mapped[dict[str, Any]]  # the PersonRef, to reach them
    member: Mapped[bool]
    set_at: Mapped[datetime]


class PersonZoneRow(Base):
    """A person's time zone as their platform last said it (Slack's profile ``tz``): read
    before each assignment instead of asking Slack (follow the sun)."""

    __tablename__ = "person_zones"

    person: Mapped[str] = mapped_column(String(300), primary_key=True)  # PersonRef.key
    timezone: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[datetime]


class UserGroupRow(Base):
    """Who is in a Slack user group used as a roster, as Slack last said (issue 22): every
    replica reads the members from here, never from Slack while it assigns."""

    __tablename__ = "user_groups"

    user_group: Mapped[str] = mapped_column(String(100), primary_key=True)  # slack:usergroup:S0123ABCD
    members: Mapped[dict[str, Any]]  # {"users": ["U0ADA", ...]}
    read_at: Mapped[datetime | None]  # when the members were last read (None: never)
    error: Mapped[str | None] = mapped_column(String(300))  # why the last read failed
    checked_at: Mapped[datetime]


class PacingRow(Base):
    """One conversation's recent sends, shared by every replica: a platform's limit belongs to
    the channel, not to the process that posts (bot/pacing.py, ``SharedPacer``). Times are
    seconds since the epoch, as the replicas' clocks read them."""

    __tablename__ = "pacing"

    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    target: Mapped[str] = mapped_column(String(300), primary_key=True)
    recent: Mapped[list[float]] = mapped_column(JSON)  # when the latest sends arrived, oldest first
    next_at: Mapped[float] = mapped_column(Double)  # the next send's earliest time: the windows, a back-off
    busy_until: Mapped[float] = mapped_column(Double)  # a send in flight, by ``holder``, at most until then
    holder: Mapped[str | None] = mapped_column(String(100))
