"""`kill -9` mid-sweep and mid-command: nothing accepted is lost, no step runs twice.

Mid-sweep: 800 nudges in 200 channels are due; the process is killed once some, not all, have run. Each
step runs in its own transaction, so a step is either done (its audit row, its outbox row)
or not; steps the dead process had claimed wait out their lease (expired here, as in
test_kill.py). A new process runs the rest: every escalation is nudged exactly once, and
every nudge is posted exactly once.

Mid-command: 60 `/escalate` commands are in flight when the process dies. A command that
was acknowledged was committed first, so it is never lost; sending every command again
(same trigger id, as a retrying proxy or a double-click would) creates no second copy.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

import aiohttp
from sqlalchemy import func, select

from bot.config import parse_config
from storage import Store
from storage.tables import AuditRow, EscalationRow
from tests.slack.conftest import payload, sign
from tests.slack.fake_slack import FakeSlack

from .ledger import assert_exactly_once_in_order, outbox_rows
from .processes import Serve, serve
from .test_kill import expire_leases
from .test_replicas import config_text, seed

STEPS = 800
COMMANDS = 60


async def nudged(store: Store) -> int:
    async with store.unit_of_work() as uow:
        count = await uow.session.scalar(select(func.count()).select_from(AuditRow).where(AuditRow.action == "nudged"))
    return int(count or 0)


async def until(check: object, within: float, process: Serve, what: str) -> None:
    deadline = time.monotonic() + within
    while not await check():  # type: ignore[operator]
        assert process.process.poll() is None, process.log()[-3000:]
        assert time.monotonic() < deadline, f"timed out waiting for {what}:\n{process.log()[-3000:]}"
        await asyncio.sleep(0.02)


async def test_a_process_killed_mid_sweep_leaves_no_step_missed_or_doubled(
    database_url: str, store: Store, fake: FakeSlack, tmp_path: Path
) -> None:
    config = tmp_path / "escalation.yaml"
    config.write_text(config_text(200))
    due_since = datetime.now(UTC) - timedelta(minutes=31)
    ids = await seed(store, parse_config(config_text(200), "kill.yaml"), STEPS, due_since)

    first = serve("first", tmp_path, database_url=database_url, config=config, slack_api_url=fake.api_url)

    async def some_ran() -> bool:
        return await nudged(store) >= 20

    try:
        await until(some_ran, 60, first, "the first nudges")
    finally:
        await first.kill()
    at_kill = await nudged(store)
    assert 0 < at_kill < STEPS, f"the kill came at {at_kill} of {STEPS}: not mid-sweep"
    await expire_leases(store)

    second = serve("second", tmp_path, database_url=database_url, config=config, slack_api_url=fake.api_url)

    async def done() -> bool:
        # Nudges counted first: a nudge committed after an outbox count would leave its row unseen.
        if await nudged(store) < STEPS:
            return False
        async with store.unit_of_work() as uow:
            return (await uow.outbox.counts()).get("pending", 0) == 0

    try:
        await until(done, 120, second, "every nudge")
        await asyncio.sleep(1.0)  # more sweeps: a double would show now
    finally:
        assert await second.stop() == 0, second.log()[-3000:]

    async with store.unit_of_work() as uow:
        per_escalation = Counter(
            (await uow.session.execute(select(AuditRow.escalation_id).where(AuditRow.action == "nudged"))).scalars()
        )
    assert per_escalation == dict.fromkeys(ids, 1)
    rows = await outbox_rows(store)
    assert Counter(r.kind for r in rows)["thread_reply"] == STEPS
    assert_exactly_once_in_order(fake, rows)
    assert "Traceback" not in second.log()


async def test_a_process_killed_mid_command_loses_no_acknowledged_escalation_and_doubles_none(
    database_url: str, store: Store, fake: FakeSlack, tmp_path: Path
) -> None:
    config = tmp_path / "escalation.yaml"
    config.write_text(config_text(30))
    forms = [
        urlencode(
            payload(
                "slash_command",
                user=f"U0S{n:04d}",  # each their own DM: one person's 60 confirmations would take a minute
                user_name=f"sam{n}",
                text=f"c{n % 30:03d} in-flight question {n}",
                response_url=fake.response_url(f"command-{n}"),
                trigger_id=f"trigger.kill.{n}",
            )
        )
        for n in range(COMMANDS)
    ]

    async def send(http: aiohttp.ClientSession, port: int, body: str) -> int | None:
        headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}
        try:
            async with http.post(f"http://127.0.0.1:{port}/slack/events", data=body, headers=headers) as response:
                await response.read()
                return response.status
        except (TimeoutError, aiohttp.ClientError):
            return None  # the process died with this one in flight

    first = serve("first", tmp_path, database_url=database_url, config=config, slack_api_url=fake.api_url)
    acked: list[int] = []
    try:
        await first.ready()
        async with aiohttp.ClientSession() as http:

            async def one(n: int) -> None:
                if await send(http, first.port, forms[n]) == 200:
                    acked.append(n)

            tasks = [asyncio.create_task(one(n)) for n in range(COMMANDS)]
            deadline = time.monotonic() + 30
            while len(acked) < 5:
                assert time.monotonic() < deadline, first.log()[-3000:]
                await asyncio.sleep(0.005)
            await first.kill()
            await asyncio.gather(*tasks)
    finally:
        if first.process.poll() is None:
            await first.kill()
    assert 5 <= len(acked) < COMMANDS, f"{len(acked)} of {COMMANDS} acknowledged: the kill was not mid-way"

    async def questions() -> Counter[str]:
        async with store.unit_of_work() as uow:
            data = (await uow.session.execute(select(EscalationRow.data))).scalars()
            return Counter(str(d["question"]) for d in data)

    stored = await questions()
    for n in acked:  # acknowledged means committed
        assert stored[f"in-flight question {n}"] == 1, n
    await expire_leases(store)

    second = serve("second", tmp_path, database_url=database_url, config=config, slack_api_url=fake.api_url)
    try:
        await second.ready()
        async with aiohttp.ClientSession() as http:
            statuses = await asyncio.gather(*(send(http, second.port, body) for body in forms))
        assert statuses == [200] * COMMANDS

        async def delivered() -> bool:
            async with store.unit_of_work() as uow:
                return (await uow.outbox.counts()).get("pending", 0) == 0

        await until(delivered, 60, second, "the cards")
    finally:
        assert await second.stop() == 0, second.log()[-3000:]
    assert await questions() == {f"in-flight question {n}": 1 for n in range(COMMANDS)}
    assert_exactly_once_in_order(fake, await outbox_rows(store))
    assert "Traceback" not in second.log()
