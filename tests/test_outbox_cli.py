"""`escalation-bot outbox`: failed deliveries are kept, listed and retried."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.cli import main
from bot.runtime import Runtime
from storage import Store
from tests.support import SAM, RecordingSender, directory
from workflows.clock import FakeClock
from workflows.delivery import PermanentDeliveryError
from workflows.effects import Effect, PostCard
from workflows.model import Platform


def archived(effect: Effect) -> Exception | None:
    if isinstance(effect, PostCard):
        return PermanentDeliveryError("the channel is archived", code="is_archived")
    return None


async def test_failed_rows_are_listed_and_retried(
    database_url: str, clock: FakeClock, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = RecordingSender(fail=archived)
    runtime = Runtime(Store(database_url), directory(), {Platform.slack: broken}, clock=clock)
    esc = (await runtime.service.open(requester=SAM, community_key="sdk", question="q")).escalation
    assert esc is not None
    # The card failed; the requester and the lead were told (and this test sender also took
    # the requester's confirmation, which Slack's leaves out when no card was posted).
    assert await runtime.dispatch() == 3
    await runtime.stop()

    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("LOG_FORMAT", "text")
    assert await_main(["outbox", "list"]) == 0
    out = capsys.readouterr().out
    assert "1 failed" in out
    assert "post_card" in out and "slack:C0SDK0001" in out and "is_archived: the channel is archived" in out

    listing = Store(database_url)
    try:
        async with listing.unit_of_work() as uow:
            failed = [row.id for row in await uow.outbox.list("failed")]
    finally:
        await listing.close()
    assert await_main(["outbox", "retry"]) == 0
    assert "1 failed row(s) queued" in capsys.readouterr().out

    clock.set(datetime.now(UTC))  # the CLI queued the retry on the wall clock
    healed = RecordingSender()
    again = Runtime(Store(database_url), directory(), {Platform.slack: healed}, clock=clock)
    try:
        assert await again.dispatch() == 1
        assert healed.kinds()[-1] == "post_card"
        # The service's retry, as the console's: audited on the escalation, by the operator.
        async with again.store.unit_of_work() as uow:
            retried = [r for r in await uow.audit.for_escalation(esc.id) if r.action == "delivery_retried"]
        assert [(r.actor, r.detail) for r in retried] == [("console:operator", {"deliveries": failed, "via": "cli"})]
    finally:
        await again.stop()
    assert await_main(["outbox", "list", "--status", "all"]) == 0
    assert "4 sent" in capsys.readouterr().out


def await_main(argv: list[str]) -> int:
    # main() runs its own event loop; keep it off the test's loop.
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(main, argv).result()
