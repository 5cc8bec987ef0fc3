"""The daily digest: when it is due, and what it says. Pure; the runtime sends it once."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .attachments import files_words
from .availability import when
from .calendar import WEEKDAYS
from .durations import humanize
from .effects import DigestItem, PostDigest
from .metrics import median
from .model import Ball, Community, Escalation, PersonRef, Status

WEEKDAYS_ONLY = ("mon", "tue", "wed", "thu", "fri")
# A digest missed while the bot was down (a deploy, an outage, the first start after
# install) is still sent up to this late; later than that it would land in the middle of
# the day as old news, and the next working day's digest covers the same questions.
DIGEST_LATE_LIMIT = timedelta(hours=3)


def _zone(community: Community) -> ZoneInfo:
    hours = community.policy.business_hours
    return ZoneInfo(hours.timezone) if hours else ZoneInfo("UTC")


def is_digest_day(community: Community, day: date) -> bool:
    hours = community.policy.business_hours
    if hours is not None:
        return hours.is_working_day(day)
    return WEEKDAYS[day.weekday()] in WEEKDAYS_ONLY


def digest_due(community: Community, now: datetime) -> date | None:
    """The local day whose digest is due at ``now``: its time has come, at most
    ``DIGEST_LATE_LIMIT`` ago (yesterday's, for a digest just before midnight), if any."""
    if community.policy.digest_at is None:
        return None
    today = now.astimezone(_zone(community)).date()
    for day in (today, today - timedelta(days=1)):
        moment = digest_moment(community, day)
        if moment <= now <= moment + DIGEST_LATE_LIMIT and is_digest_day(community, day):
            return day
    return None


def digest_moment(community: Community, day: date) -> datetime:
    """When the digest of ``day`` falls due, in UTC (DST handled by the zone)."""
    at = community.policy.digest_at or time(9, 0)
    return datetime.combine(day, at, tzinfo=_zone(community)).astimezone(UTC)


def next_digest(community: Community, after: datetime) -> datetime | None:
    if community.policy.digest_at is None:
        return None
    day = after.astimezone(_zone(community)).date()
    for _ in range(400):
        moment = digest_moment(community, day)
        if moment > after and is_digest_day(community, day):
            return moment
        day += timedelta(days=1)
    return None


def is_overdue(esc: Escalation, now: datetime) -> bool:
    """Held and past a timer (or already reminded): what the digest lists as overdue."""
    return bool(esc.owner and esc.owner_reminded) or bool(
        esc.owner and esc.next_due_at is not None and esc.next_due_at <= now
    )


def _name(esc: Escalation, person: PersonRef) -> str:
    """The configured name of an expert where there is one: recognition is by name."""
    expert = esc.community.expert_for(person)
    return expert.name if expert is not None and expert.name else person.label()


def compose(
    community: Community,
    day: date,
    open_escalations: Sequence[Escalation],
    resolved_since: Sequence[Escalation],
    last_week: Sequence[Escalation],
    now: datetime,
    away: Mapping[str, datetime | None] | None = None,
    joined: Sequence[PersonRef] = (),
) -> list[PostDigest]:
    """What each channel reads in the morning. Nothing when there is nothing to say, unless
    the community asks for it (``digest_when_empty: true``), or no channel to say it in."""
    if not community.channels:
        return []
    # A held question has no card yet (its requester is reading earlier answers): not the experts' to see.
    open_escalations = [e for e in open_escalations if not e.held]
    unanswered = sorted(
        (e for e in open_escalations if e.owner is None and e.ball == Ball.experts and e.first_response_at is None),
        key=lambda e: e.created_at,
    )
    overdue = sorted((e for e in open_escalations if is_overdue(e, now)), key=lambda e: e.created_at)
    waiting = sorted((e for e in open_escalations if e.ball == Ball.requester), key=lambda e: e.created_at)
    resolved = sorted(resolved_since, key=lambda e: e.resolved_at or now)

    def item(esc: Escalation, note: str) -> DigestItem:
        return DigestItem(
            escalation_id=esc.id,
            question=esc.question,
            requester=esc.requester,
            age=humanize(now - esc.created_at),
            note=note,
            owner=esc.owner.person if esc.owner else None,
            claimable=esc.status == Status.open and esc.owner is None,
        )

    opened = len(last_week)
    closed = [e for e in last_week if e.status == Status.resolved]
    firsts = [(e.first_response_at - e.created_at).total_seconds() for e in last_week if e.first_response_at]
    answered = [e for e in last_week if e.first_response_pull is not None]
    pulls = sum(1 for e in answered if e.first_response_pull)
    first_median = median(firsts)
    week = (
        f"Last 7 days: {opened} opened, {len(closed)} resolved"
        + (f", median first response {humanize(timedelta(seconds=first_median))}" if first_median is not None else "")
        + (f", {round(100 * pulls / len(answered))}% answered before any nudge" if answered else "")
        + "."
    )
    empty = not (unanswered or overdue or waiting or resolved)
    if empty and not community.policy.digest_when_empty:
        return []
    digest = PostDigest(
        escalation_id=f"digest:{community.key}:{day.isoformat()}",
        channel=community.channels[0],
        community_key=community.key,
        community_name=community.name,
        day=day,
        unanswered=tuple(item(e, "no answer yet") for e in unanswered),
        overdue=tuple(item(e, f"held by {_name(e, e.owner.person) if e.owner else '?'}") for e in overdue),
        waiting=tuple(item(e, f"waiting on {e.requester.label()}") for e in waiting),
        resolved=tuple(
            item(
                e,
                "answered by "
                + _name(e, e.first_responder or e.resolved_by or e.requester)
                + (f", {files_words(e.files)}" if e.files else ""),
            )
            for e in resolved
        ),
        week=week,
        away=away_line(community, away or {}),
        joined=f"Joined the rotation themselves: {', '.join(p.label() for p in joined)}." if joined else "",
        empty=empty,
    )
    return [digest.model_copy(update={"channel": channel}) for channel in community.channels]


def away_line(community: Community, away: Mapping[str, datetime | None]) -> str:
    """ "Away: Ada until …; Ben until they say they are back." for the experts (and lead) away now."""
    hours = community.policy.business_hours
    zone = hours.zone if hours else None
    people = [*community.experts, *([community.lead] if community.lead else [])]
    names = [f"{e.label()} {when(away[e.key], zone)}" for e in dict.fromkeys(people) if e.key in away]
    return f"Away: {'; '.join(names)}." if names else ""
