"""Fixtures for the reliability tests: the fake Slack Web API, started per test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.slack.fake_slack import FakeSlack


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    await fake.start()
    try:
        yield fake
    finally:
        fake.chaos(0)
        await fake.close()
