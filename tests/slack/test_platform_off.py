"""The example configuration copied as is, with only Slack set up: the Teams channel is
simply not used. No card there, no failure notice to the requester, no ping to the lead,
and the digest goes out where it can."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

from aiohttp.test_utils import TestClient, TestServer

from bot.app import RUNTIME
from bot.config import load_config
from bot.settings import Settings
from bot.wiring import build_server
from storage import Store
from workflows.clock import FakeClock

from .conftest import SECRET, payload, sign
from .fake_slack import FakeSlack

EXAMPLE = Path(__file__).resolve().parents[2] / "escalation.example.yaml"
SDK_CHANNEL = "C0123ABCD"  # the example's Slack channel for sdk


async def test_only_slack_configured_the_example_config_just_works(
    store: Store, clock: FakeClock, fake_slack: FakeSlack
) -> None:
    settings = Settings.model_validate(
        {"DATABASE_URL": "sqlite://", "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": SECRET}
        | {"SLACK_API_URL": fake_slack.api_url}
    )
    app = await build_server(settings, load_config(EXAMPLE), store, clock=clock, start_jobs=False)
    runtime = app[RUNTIME]
    async with TestClient(TestServer(app)) as client:

        async def settle() -> None:
            await runtime.sweep()
            await runtime.dispatch()

        form = payload(
            "slash_command",
            user="U0SAM",
            user_name="sam",
            text="sdk How do I rotate the signing keys?",
            response_url=fake_slack.response_url(),
            trigger_id="trigger.1",
        )
        body = urlencode(form)
        reply = await client.post(
            "/slack/events",
            data=body.encode(),
            headers={"Content-Type": "application/x-www-form-urlencoded", **sign(body)},
        )
        assert reply.status == 200
        assert "Escalated to *Mobile SDK*" in (await reply.json())["text"]
        await settle()
        # One card, in the Slack channel; one confirmation to the requester, and nothing else.
        [card] = fake_slack.posts(SDK_CHANNEL, thread=False)
        assert "rotate the signing keys" in card.dump()
        [confirmation] = fake_slack.posts("U0SAM")
        assert f"archives/{SDK_CHANNEL}/p" in confirmation.dump()
        assert "could not" not in confirmation.dump()

        # The timers run their course on Slack: a nudge, then an assignment by DM.
        clock.advance(timedelta(minutes=15))
        await settle()
        clock.advance(timedelta(hours=2))
        await settle()
        assert fake_slack.posts(SDK_CHANNEL, thread=True)  # the nudge
        assert fake_slack.posts("U0EXPERT1")  # Ada, by her Slack id

        # The next morning's digest, 09:00 in London, posts in Slack and fails nowhere.
        clock.set(datetime(2026, 3, 3, 9, 0, tzinfo=UTC))
        assert await runtime.digest() == 1  # sdk; billing has nothing to say, so says nothing
        await runtime.dispatch()
        [digest] = [c for c in fake_slack.posts(SDK_CHANNEL, thread=False) if c is not card]
        assert "rotate the signing keys" in digest.dump()

        # Nobody was told of a failure, and nothing failed.
        everything = json.dumps([c.args for c in fake_slack.posts()])
        assert "could not" not in everything
        assert fake_slack.posts("U0LEAD") == []
        assert not any("could not" in c.dump() for c in fake_slack.posts("U0SAM"))
        async with store.unit_of_work() as uow:
            counts = await uow.outbox.counts()
            rows = await uow.outbox.list(None, 100)
        assert "failed" not in counts and "pending" not in counts, counts
        assert all(row.platform == "slack" for row in rows)
        assert any(row.kind == "post_digest" for row in rows)
