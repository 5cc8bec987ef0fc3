"""The App Home tab is refreshed once per burst of changes, with the state at the end of it,
and only for people who open their tab."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

from .conftest import SlackHarness


async def _opens_home(slack: SlackHarness, user: str) -> None:
    reply = await slack.event("app_home_opened", user=user)
    assert reply.status == 200, reply.text
    [opened] = slack.fake.of("views.publish", user_id=user)  # at once, as it is opened
    assert opened.args["view"]["type"] == "home"
    slack.fake.clear()


async def test_a_burst_of_changes_for_one_person_publishes_their_tab_once(slack: SlackHarness) -> None:
    home = slack.platform.home
    home.refresh_after = 0.3
    await _opens_home(slack, "U0SAM")
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
    assert "archives/" in view  # each item links to its card

    # A change after that publish asks for a refresh of its own.
    reply = await slack.command("sdk A fourth question about arm64?")
    await slack.runtime.dispatch()
    await asyncio.sleep(0.6)
    published = slack.fake.of("views.publish", user_id="U0SAM")
    assert len(published) == 2 and "A fourth question" in json.dumps(published[-1].args["view"])


async def test_a_tab_never_opened_is_not_refreshed_and_opening_it_shows_the_state(slack: SlackHarness) -> None:
    home = slack.platform.home
    home.refresh_after = 0.1
    await slack.command("sdk Nobody looks at my App Home, do they?")
    await slack.runtime.dispatch()
    await asyncio.sleep(0.3)
    assert slack.fake.of("views.publish") == []  # neither Sam's tab nor anyone else's
    await slack.event("app_home_opened", user="U0SAM")
    [opened] = slack.fake.of("views.publish", user_id="U0SAM")
    assert "Nobody looks at my App Home" in json.dumps(opened.args["view"])


async def test_a_tab_unopened_for_a_month_is_no_longer_refreshed(slack: SlackHarness) -> None:
    home = slack.platform.home
    home.refresh_after = 0.1
    await _opens_home(slack, "U0SAM")
    slack.clock.advance(timedelta(days=29))
    await slack.command("sdk Still refreshed after 29 days?")
    await slack.runtime.dispatch()
    await asyncio.sleep(0.3)
    assert len(slack.fake.of("views.publish", user_id="U0SAM")) == 1
    slack.clock.advance(timedelta(days=2))
    await slack.command("sdk And after 31?")
    await slack.runtime.dispatch()
    await asyncio.sleep(0.3)
    assert len(slack.fake.of("views.publish", user_id="U0SAM")) == 1  # no second refresh


async def test_stopping_drops_refreshes_not_yet_run(slack: SlackHarness) -> None:
    home = slack.platform.home
    home.refresh_after = 0.3
    await _opens_home(slack, "U0SAM")
    await slack.command("sdk Will this tab be refreshed?")
    await slack.runtime.dispatch()
    home.close()
    await asyncio.sleep(0.5)
    assert slack.fake.of("views.publish", user_id="U0SAM") == []
