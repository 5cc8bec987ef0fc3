"""The daily digest: on working days at the community's local time, exactly once."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

from bot.runtime import Runtime
from storage import Store
from tests.support import ADA, BEN, SAM, RecordingSender, directory
from workflows.clock import FakeClock
from workflows.commands import Claim, Reply, Resolve
from workflows.digest import DIGEST_LATE_LIMIT, digest_due, digest_moment, next_digest
from workflows.effects import PostDigest
from workflows.model import Platform

CONFIG = """
people:
  - {name: Ben, slack: U0BEN}
defaults:
  policy: {nudge_after: 30m, owner_reminder_after: 1h}
communities:
  - key: sdk
    name: Mobile SDK
    slack: {channel: C0SDK0001}
    experts: ["slack:U0ADA", "slack:U0BEN", "slack:U0CHEN"]
    policy:
      business_hours: {timezone: Europe/London, days: [mon, tue, wed, thu, fri], start: "09:00", end: "17:30",
                       holidays: GB}
      digest_at: "09:00"
  - key: web
    name: Web
    slack: {channel: C0WEB0001}
    experts: ["slack:U0ADA"]
    policy:
      business_hours: {timezone: America/New_York, days: [mon, tue, wed, thu, fri], start: "09:00", end: "17:00"}
      digest_at: "09:30"
      digest_when_empty: true
  - key: quiet
    name: Quiet
    slack: {channel: C0QUIET01}
    experts: ["slack:U0BEN"]
    policy: {digest_at: "08:00", digest_when_empty: skip}
"""


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_digest_time_follows_the_local_clock_across_dst() -> None:
    d = directory(CONFIG)
    sdk, web = d.get("sdk"), d.get("web")
    assert sdk is not None and web is not None
    # London: GMT until 29 March 2026, then BST.
    assert digest_moment(sdk, date(2026, 3, 27)) == utc(2026, 3, 27, 9, 0)
    assert digest_moment(sdk, date(2026, 3, 30)) == utc(2026, 3, 30, 8, 0)
    # New York: EST until 8 March 2026, then EDT.
    assert digest_moment(web, date(2026, 3, 6)) == utc(2026, 3, 6, 14, 30)
    assert digest_moment(web, date(2026, 3, 9)) == utc(2026, 3, 9, 13, 30)
    # Due from its time on, the same local day only.
    assert digest_due(sdk, utc(2026, 3, 30, 7, 59)) is None
    assert digest_due(sdk, utc(2026, 3, 30, 8, 0)) == date(2026, 3, 30)
    assert digest_due(web, utc(2026, 3, 9, 13, 29)) is None
    assert digest_due(web, utc(2026, 3, 9, 13, 30)) == date(2026, 3, 9)


def test_no_digest_at_weekends_or_on_holidays() -> None:
    d = directory(CONFIG)
    sdk, quiet = d.get("sdk"), d.get("quiet")
    assert sdk is not None and quiet is not None
    assert digest_due(sdk, utc(2026, 3, 28, 10)) is None  # Saturday
    assert digest_due(sdk, utc(2026, 12, 25, 10)) is None  # Christmas Day, a GB holiday
    assert next_digest(sdk, utc(2026, 3, 27, 10)) == utc(2026, 3, 30, 8, 0)  # Friday after -> Monday (BST)
    assert next_digest(sdk, utc(2026, 12, 24, 10)) == utc(2026, 12, 29, 9, 0)  # skips 25th, weekend, 28th
    assert digest_due(quiet, utc(2026, 3, 29, 9)) is None  # no business hours: weekdays only


async def test_the_digest_says_what_is_open_overdue_waiting_and_resolved(database_url: str) -> None:
    clock = FakeClock(utc(2026, 3, 2, 10, 0))  # Monday
    sender = RecordingSender()
    runtime = Runtime(Store(database_url), directory(CONFIG), {Platform.slack: sender}, clock=clock)
    try:
        service = runtime.service
        old = (await service.open(requester=SAM, community_key="sdk", question="oldest unanswered")).escalation
        clock.advance(timedelta(hours=1))
        new = (await service.open(requester=SAM, community_key="sdk", question="newer unanswered")).escalation
        held = (await service.open(requester=SAM, community_key="sdk", question="held too long")).escalation
        waits = (await service.open(requester=SAM, community_key="sdk", question="asked back")).escalation
        done = (await service.open(requester=SAM, community_key="sdk", question="solved one")).escalation
        assert old and new and held and waits and done
        await service.handle(Claim(id="c", escalation_id=held.id, actor=ADA))
        await service.handle(Reply(id="r", escalation_id=waits.id, actor=BEN, text="which version?"))
        await service.handle(Reply(id="r2", escalation_id=done.id, actor=BEN, text="do this"))
        await service.handle(Resolve(id="s", escalation_id=done.id, actor=SAM, answer="did it"))
        clock.set(utc(2026, 3, 3, 8, 30))  # Tuesday, before 09:00 London
        await runtime.sweep()  # Ada's reminder fell due: the claim is now overdue
        assert await runtime.digest() == 0
        clock.set(utc(2026, 3, 3, 9, 0))
        assert await runtime.digest() == 1
        assert await runtime.digest() == 0  # the same day, again: nothing
        await runtime.dispatch()
        digests = [e for _, e in sender.delivered if isinstance(e, PostDigest)]
        assert len(digests) == 1
        digest = digests[0]
        assert [i.question for i in digest.unanswered] == ["oldest unanswered", "newer unanswered"]
        assert all(i.claimable for i in digest.unanswered)
        assert digest.unanswered[0].age == "23h"
        assert [i.question for i in digest.overdue] == ["held too long"]
        assert [i.question for i in digest.waiting] == ["asked back"]
        assert [(i.question, i.note) for i in digest.resolved] == [("solved one", "answered by Ben")]
        assert digest.week.startswith("Last 7 days: 5 opened, 1 resolved")
        assert "100% answered before any nudge" in digest.week
        # Next working day: only what was resolved since this digest is listed as resolved.
        clock.set(utc(2026, 3, 4, 9, 5))
        assert await runtime.digest() == 1
        await runtime.dispatch()
        latest = [e for _, e in sender.delivered if isinstance(e, PostDigest)][-1]
        assert latest.day == date(2026, 3, 4) and latest.resolved == ()
    finally:
        await runtime.stop()


async def test_an_empty_digest_is_posted_only_where_the_community_asks_for_it(database_url: str) -> None:
    clock = FakeClock(utc(2026, 3, 3, 8, 0))  # Tuesday
    sender = RecordingSender()
    runtime = Runtime(Store(database_url), directory(CONFIG), {Platform.slack: sender}, clock=clock)
    try:
        assert await runtime.digest() == 0  # quiet, 08:00: "digest_when_empty: skip" (the old spelling of false)
        clock.set(utc(2026, 3, 3, 9, 0))
        assert await runtime.digest() == 0  # sdk, 09:00 London: empty, and empty digests are not posted by default
        clock.set(utc(2026, 3, 3, 14, 30))
        assert await runtime.digest() == 1  # web, 09:30 New York: "digest_when_empty: true"
        await runtime.dispatch()
        [digest] = [e for _, e in sender.delivered if isinstance(e, PostDigest)]
        assert digest.community_key == "web" and digest.empty
        assert "Nothing open" in digest.text().splitlines()[1]
    finally:
        await runtime.stop()


async def test_the_first_start_after_install_posts_no_digest(database_url: str) -> None:
    """Started at 20:34 for the first time: every digest of the day was missed by hours, so none is sent."""
    clock = FakeClock(utc(2026, 3, 3, 10, 0))  # Tuesday
    sender = RecordingSender()
    runtime = Runtime(Store(database_url), directory(CONFIG), {Platform.slack: sender}, clock=clock)
    try:
        for key in ("sdk", "web", "quiet"):
            await runtime.service.open(requester=SAM, community_key=key, question=f"open in {key}")
        await runtime.dispatch()
        clock.set(utc(2026, 3, 3, 20, 34))
        assert await runtime.digest() == 0
        await runtime.dispatch()
        assert not [e for _, e in sender.delivered if isinstance(e, PostDigest)]
    finally:
        await runtime.stop()


async def test_a_missed_digest_is_sent_late_only_within_the_limit(database_url: str) -> None:
    assert timedelta(hours=3) == DIGEST_LATE_LIMIT  # as README.md says
    clock = FakeClock(utc(2026, 3, 3, 8, 0))  # Tuesday
    sender = RecordingSender()
    runtime = Runtime(Store(database_url), directory(CONFIG), {Platform.slack: sender}, clock=clock)
    try:
        await runtime.service.open(requester=SAM, community_key="sdk", question="still open")
        clock.set(utc(2026, 3, 3, 12, 0))  # sdk's 09:00 digest is 3h late: still sent
        assert await runtime.digest() == 1
        clock.set(utc(2026, 3, 4, 12, 1))  # the next day's, 3h01m late: not sent
        assert await runtime.digest() == 0
        clock.set(utc(2026, 3, 5, 9, 0))  # and the day after, on time, again
        assert await runtime.digest() == 1
        await runtime.dispatch()
        days = [e.day for _, e in sender.delivered if isinstance(e, PostDigest)]
        assert days == [date(2026, 3, 3), date(2026, 3, 5)]
    finally:
        await runtime.stop()


def test_a_late_digest_just_before_midnight_is_sent_just_after() -> None:
    late = directory("communities: [{key: late, slack: {channel: C0LATE001}, policy: {digest_at: '23:30'}}]").get(
        "late"
    )
    assert late is not None
    assert digest_due(late, utc(2026, 3, 4, 0, 30)) == date(2026, 3, 3)  # Tuesday's, an hour late
    assert digest_due(late, utc(2026, 3, 4, 2, 31)) is None


async def test_two_replicas_send_one_digest(database_url: str) -> None:
    clock = FakeClock(utc(2026, 3, 3, 9, 1))
    senders = [RecordingSender(), RecordingSender()]
    replicas = [
        Runtime(Store(database_url), directory(CONFIG), {Platform.slack: s}, clock=clock, holder=f"replica-{n}")
        for n, s in enumerate(senders)
    ]
    try:
        await replicas[0].service.open(requester=SAM, community_key="sdk", question="q")
        counts = await asyncio.gather(*(r.digest() for r in replicas), *(r.digest() for r in replicas))
        assert sum(counts) == 1  # only sdk is due at 09:01 London; one replica wins
        await asyncio.gather(*(r.dispatch() for r in replicas))
        sent = [e for s in senders for _, e in s.delivered if isinstance(e, PostDigest)]
        assert len(sent) == 1
    finally:
        for r in replicas:
            await r.stop()


def test_a_held_question_is_not_in_the_digest() -> None:
    from workflows.commands import Open
    from workflows.decide import decide
    from workflows.digest import compose
    from workflows.effects import Suggestion

    community = directory(CONFIG).get("sdk")
    assert community is not None
    now = utc(2026, 3, 3, 9, 0)
    held = decide(
        None,
        Open(
            id="o",
            escalation_id="held-1",
            actor=SAM,
            tenant="slack:T0ACME",
            community_key="sdk",
            question="looks answered already",
            community=community,
            suggestions=(Suggestion(escalation_id="old", community_key="sdk", question="q", answer="a"),),
        ),
        now,
    ).escalation
    assert held.held
    assert compose(community, now.date(), [held], [], [held], now) == []  # empty, so not posted
    saying = community.model_copy(update={"policy": community.policy.model_copy(update={"digest_when_empty": True})})
    [digest] = compose(saying, now.date(), [held], [], [held], now)
    assert digest.unanswered == () and digest.empty
