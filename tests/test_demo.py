"""`escalation-bot demo`: what it prints reads as the platform would show it, and the
console that prints it is never counted as Slack or Teams."""

from __future__ import annotations

import io
import re

from bot.console import ConsoleSender
from bot.demo import run_demo
from bot.runtime import Runtime
from storage import Store
from tests.support import SAM, directory
from workflows.clock import FakeClock
from workflows.model import Platform

MESSAGE = re.compile(r"^  \w{3} \d\d:\d\d  .{22} (\S.*)$")
CONTINUED = re.compile(r"^ {36}(\S.*)$")


async def story() -> str:
    out = io.StringIO()
    assert await run_demo(out) == 0
    return out.getvalue()


async def test_the_demo_reads_as_people_would_see_it() -> None:
    out = await story()
    # The question's <!channel> is shown as it is sent to Slack: escaped, so it pings nobody.
    assert "5.2 &lt;!channel&gt;" in out and "<!channel>" not in out
    # One channel, one name: the card, its edits, its thread and the digest; and the customer
    # conversation the question was escalated from with an emoji, which hears what became of it.
    assert set(re.findall(r"#(\w+)", out)) == {"C0SDKEXPERTS", "C0SUPPORT"}
    support = [line for line in out.splitlines() if "#C0SUPPORT thread" in line]
    assert "Escalated to Mobile SDK experts." in support[0]
    assert "Answered by Sam: " in support[1] and len(support) == 2
    assert "#C0SDKEXPERTS (new)" in out and "#C0SDKEXPERTS thread" in out and "#C0SDKEXPERTS digest" in out
    # The digest says which platform it stands for.
    assert "Daily Slack digest for Mobile SDK" in out
    # Every sentence people would read starts with a capital (the audit table is not prose).
    story_part = out.split("== What the audit trail recorded")[0]
    said = []
    for line in story_part.splitlines():
        if line.startswith("== "):
            said.append(line[3:])
        elif (found := MESSAGE.match(line) or CONTINUED.match(line)) is not None:
            said.append(found.group(1))
    assert len(said) > 30
    lower = [text for text in said if text[0].islower()]
    assert lower == []


async def test_console_deliveries_are_not_counted_as_slack_or_teams(database_url: str, clock: FakeClock) -> None:
    out = io.StringIO()
    senders = {
        Platform.slack: ConsoleSender(out, clock, Platform.slack),
        Platform.teams: ConsoleSender(out, clock, Platform.teams),
    }
    runtime = Runtime(Store(database_url), directory(), dict(senders), clock=clock)
    try:
        await runtime.service.open(requester=SAM, community_key="sdk", question="Does the console count?")
        assert await runtime.dispatch() >= 1
        assert "Does the console count?" in out.getvalue()
        counted = {
            (sample.labels["platform"], sample.labels["outcome"])
            for metric in runtime.metrics.registry.collect()
            if metric.name == "escalation_outbox_deliveries"
            for sample in metric.samples
            if sample.name.endswith("_total") and sample.value > 0
        }
        assert counted == {("console", "sent")}
    finally:
        await runtime.stop()
