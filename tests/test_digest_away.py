"""The daily digest lists who in the rotation is away, and until when, on both platforms."""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.slack.digests import digest_blocks
from adapters.teams.digest_card import digest_card
from bot.runtime import Runtime
from storage import Store
from tests.support import ADA, BEN, RecordingSender, directory
from tests.test_digest import CONFIG
from workflows.clock import FakeClock
from workflows.effects import PostDigest
from workflows.model import Platform

# Every community says its digest even when nothing is open: these tests are about the away line.
CONFIG = CONFIG.replace('digest_at: "09:00"\n', 'digest_at: "09:00"\n      digest_when_empty: true\n')


async def digests_of_the_day(runtime: Runtime, clock: FakeClock) -> int:
    """Monday's digests, each at its time: a digest is sent at most a few hours late."""
    clock.set(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))  # sdk's, 09:00 London
    sent = await runtime.digest()
    clock.set(datetime(2026, 3, 2, 16, 0, tzinfo=UTC))  # web's, 09:30 New York
    return sent + await runtime.digest()


async def test_the_digest_lists_who_is_away(database_url: str) -> None:
    clock = FakeClock(datetime(2026, 3, 2, 8, 0, tzinfo=UTC))  # Monday, before every digest time
    sender = RecordingSender()
    runtime = Runtime(Store(database_url), directory(CONFIG), {Platform.slack: sender}, clock=clock)
    try:
        await runtime.service.presence.away(ADA, "until 2026-03-06 <conference>")
        await runtime.service.presence.away(BEN, "")
        assert await digests_of_the_day(runtime, clock) == 2
        await runtime.dispatch()
        digests = {e.community_key: e for _, e in sender.delivered if isinstance(e, PostDigest)}
        # Ada said a date in her zone (London, her first community's); each digest says it in its own.
        sdk = "Away: slack:U0ADA until Fri 06 Mar 2026 00:00 Europe/London; Ben until they say they are back."
        assert digests["sdk"].away == sdk
        assert digests["web"].away == "Away: slack:U0ADA until Thu 05 Mar 2026 19:00 America/New_York."
        assert digests["sdk"].text().splitlines()[-1] == sdk
        slack_text = str(digest_blocks(digests["sdk"]))
        assert "Away: slack:U0ADA until Fri 06 Mar 2026 00:00 Europe/London" in slack_text
        teams_text = str(digest_card(digests["sdk"]))
        assert "Ben until they say they are back." in teams_text
    finally:
        await runtime.stop()


async def test_nobody_away_no_line(database_url: str) -> None:
    clock = FakeClock(datetime(2026, 3, 2, 7, 0, tzinfo=UTC))
    sender = RecordingSender()
    runtime = Runtime(Store(database_url), directory(CONFIG), {Platform.slack: sender}, clock=clock)
    try:
        await runtime.service.presence.away(ADA, "for 1h")
        assert await digests_of_the_day(runtime, clock) == 2  # the hour is over by then
        await runtime.dispatch()
        assert all(e.away == "" for _, e in sender.delivered if isinstance(e, PostDigest))
    finally:
        await runtime.stop()
