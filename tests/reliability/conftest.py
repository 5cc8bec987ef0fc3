"""Fixtures for the reliability tests: the fake Slack Web API, the fake Microsoft login
service and the fake Bot Connector, each started per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from tests.slack.fake_slack import FakeSlack
from tests.teams.conftest import APP_ID, APP_PASSWORD
from tests.teams.fakes import FakeConnector, FakeLogin


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    await fake.start()
    try:
        yield fake
    finally:
        fake.chaos(0)
        await fake.close()


@pytest.fixture
def login() -> Iterator[FakeLogin]:
    server = FakeLogin(APP_ID, APP_PASSWORD)
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    fake = FakeConnector()
    await fake.start()
    try:
        yield fake
    finally:
        fake.chaos(0)
        await fake.close()
