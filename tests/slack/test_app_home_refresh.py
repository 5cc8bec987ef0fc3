"""The App Home tab is refreshed once per burst of changes, with the state at the end of it."""

from __future__ import annotations

import asyncio
import json

from .conftest import SlackHarness


async def test_a_burst_of_changes_for_one_person_publishes_their_tab_once(slack: SlackHarness) -> None:
    home = slack.platform.home
    home.refresh_after = 0.3
    for n in range(3):
        reply = await slack.command(f"sdk Question number {n} about arm64 builds?")
        assert reply.status == 200, reply.text
    await slack.runtime.sweep()
    await slack.runtime.dispatch()  # three cards posted: each asks for Sam's tab
    assert slack.fake.of("views.publish", user_id="U0SAM") == []
    await asyncio.sleep(0.6)
    [published] = slack.fake.of("views.publish", user_id="U0SAM")
    view = json.dumps(published.args["view"])
    assert all(f"Question number {n}" in view for n in range(3))  # read after the last change

    # A change after that publish asks for a refresh of its own.
    reply = await slack.command("sdk A fourth question about arm64?")
    await slack.runtime.dispatch()
    await asyncio.sleep(0.6)
    published = slack.fake.of("views.publish", user_id="U0SAM")
    assert len(published) == 2 and "A fourth question" in json.dumps(published[-1].args["view"])


async def test_stopping_drops_refreshes_not_yet_run(slack: SlackHarness) -> None:
    home = slack.platform.home
    home.refresh_after = 0.3
    await slack.command("sdk Will this tab be refreshed?")
    await slack.runtime.dispatch()
    home.close()
    await asyncio.sleep(0.5)
    assert slack.fake.of("views.publish", user_id="U0SAM") == []
