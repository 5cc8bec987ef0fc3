"""An open waits for its knowledge search only so long: past the bound the search is
abandoned and the question opens without the evidence (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import text

import storage.knowledge
import workflows.decide_inputs
from bot.runtime import Runtime
from storage import Store
from tests.conftest import on_postgres
from tests.storage.test_knowledge import _resolved
from tests.support import CONFIG, SAM, RecordingSender, directory
from workflows.clock import FakeClock
from workflows.model import Platform

QUESTION = "TLS handshake fails on the corporate network"
# A community that does not deflect: its search only feeds the evidence, so it is bounded tightly.
NO_DEFLECTION = CONFIG.replace("requester_reminder_after: 1d}", "requester_reminder_after: 1d, deflection_wait: off}")


@pytest.fixture
async def runtime(store: Store, clock: FakeClock) -> Runtime:
    await _answered_before(store, clock)
    return Runtime(store, directory(NO_DEFLECTION), {Platform.slack: RecordingSender()}, clock=clock, holder="test")


async def _answered_before(store: Store, clock: FakeClock) -> None:
    async with store.unit_of_work() as uow:
        await _resolved(uow, clock, 1, QUESTION, "The proxy re-signs traffic; add its CA to the pin set.", SAM)


async def _open(runtime: Runtime) -> tuple[int, float]:
    started = time.monotonic()
    outcome = await runtime.service.open(requester=SAM, community_key="sdk", question=f"{QUESTION} again")
    assert outcome.escalation is not None
    return len(outcome.escalation.precedents), time.monotonic() - started


async def test_an_open_finds_the_evidence_within_the_bound(runtime: Runtime) -> None:
    found, _ = await _open(runtime)
    assert found == 1


async def test_a_search_past_the_bound_is_abandoned_and_the_open_goes_on(
    runtime: Runtime, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    if on_postgres():
        # Another transaction holds the table: the search waits for it until its timeout.
        async with store.engine.connect() as other, other.begin():
            await other.execute(text("LOCK TABLE knowledge IN ACCESS EXCLUSIVE MODE"))
            # (bounded here too: an unbounded search would wait for this test's own lock)
            found, took = await asyncio.wait_for(_open(runtime), 5)
    else:
        # No time at all: the progress handler interrupts the search at its first look.
        monkeypatch.setattr(workflows.decide_inputs, "EVIDENCE_BOUND", 0.0)
        monkeypatch.setattr(storage.knowledge, "PROGRESS_STEPS", 1)
        found, took = await _open(runtime)
    assert found == 0
    assert took < 1.0
    async with store.unit_of_work() as uow:  # the open itself was stored, its transaction intact
        assert len(await uow.outbox.list()) == 2
    # and the next search, unbounded by then, finds the evidence again
    monkeypatch.undo()
    found, _ = await _open(runtime)
    assert found == 1


async def test_where_the_community_deflects_the_search_has_the_ack_budget_not_the_tight_bound(
    store: Store, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deflection's first answer depends on the search: the evidence-only bound must not drop it."""
    await _answered_before(store, clock)
    deflecting = Runtime(store, directory(CONFIG), {Platform.slack: RecordingSender()}, clock=clock, holder="test")
    monkeypatch.setattr(workflows.decide_inputs, "EVIDENCE_BOUND", 0.0)
    monkeypatch.setattr(storage.knowledge, "PROGRESS_STEPS", 1)
    outcome = await deflecting.service.open(requester=SAM, community_key="sdk", question=f"{QUESTION} again")
    assert outcome.escalation is not None
    assert len(outcome.escalation.precedents) == 1 and outcome.escalation.held
