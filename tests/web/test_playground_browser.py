"""The playground in a real headless Chromium (Debian's, driven by Playwright): a whole story
clicked through as people would (asked in the Slack pane, the clock moved to the nudge,
claimed by a reaction in the Teams pane, answered and resolved there, the next morning's
digest), with no script error and no Content-Security-Policy violation. Screenshots are
saved (PLAYGROUND_SCREENSHOTS names the folder; docs/playground/ holds the current ones)."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestServer

from bot.playground import build_playground
from storage import Store
from workflows.model import Status

from .test_browser import browser  # noqa: F401 - the fixture is used below


def shots_dir(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("PLAYGROUND_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_story_clicked_through(store: Store, browser: Any, tmp_path: Path) -> None:  # noqa: F811
    port = free_port()
    app, playground = await build_playground(store, f"http://127.0.0.1:{port}")
    server = TestServer(app, host="127.0.0.1", port=port)
    await server.start_server()
    folder = shots_dir(tmp_path)
    try:
        page = await browser.new_page(viewport={"width": 1440, "height": 1000})
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        await page.goto(playground.link)
        slack = page.locator("[data-pane=slack]")
        teams = page.locator("[data-pane=teams]")

        # Sam, in support, asks in Slack.
        await slack.get_by_label("Slack: what you type to the bot").fill(
            'sdk The iOS SDK crashes on launch after upgrading to 5.2 <script>alert("x")</script>'
        )
        await slack.get_by_role("button", name="Send").click()
        await slack.locator("[data-kind=card]").wait_for()
        assert await slack.get_by_text("Escalated to Mobile SDK").count() == 1
        assert await teams.locator("[data-kind=card]").count() == 1  # the same question, as Teams shows it
        await page.screenshot(path=str(folder / "asked.png"), full_page=True)

        # Nobody answers for 15 minutes: the bot nudges the experts in the thread.
        await page.get_by_role("button", name="+15 min").click()
        await page.get_by_text("Mon 02 Mar, 09:15 UTC").wait_for()
        assert await slack.locator(".thread [data-kind=thread]").count() == 1
        assert await teams.locator(".ms-replies [data-kind=thread]").count() == 1
        await page.screenshot(path=str(folder / "nudged.png"), full_page=True)

        # Chen (on Teams) claims with a reaction; the JavaScript picker submits on change.
        await page.get_by_label("You are").select_option(label="Chen · sdk expert")
        await teams.get_by_role("button", name="👍 Like").wait_for()
        await teams.get_by_role("button", name="👍 Like").click()
        await teams.get_by_text("Owner").first.wait_for()
        assert "Chen" in await slack.locator("[data-kind=card]").first.inner_text()

        # Chen answers in the Teams thread and resolves with the answer, from the card.
        await teams.get_by_label("Reply in the thread (Teams)").fill("Add PrivacyInfo.xcprivacy: 5.2 needs it.")
        await teams.get_by_role("button", name="Reply").click()
        await teams.get_by_text("Add PrivacyInfo.xcprivacy: 5.2 needs it.").first.wait_for()
        await teams.locator("[data-kind=card] summary", has_text="Resolve").first.click()
        await teams.get_by_label("Answer (for the knowledge base)").fill("Add PrivacyInfo.xcprivacy (SDK 5.2).")
        await teams.locator("[data-kind=card] details[open] button", has_text="Resolve").click()
        await slack.get_by_text("Add PrivacyInfo.xcprivacy (SDK 5.2).").first.wait_for()
        esc_id = playground.feed.channel("slack", "C0SDKEXPERTS")[0].escalation_id
        assert esc_id is not None
        esc = await playground.service.get(esc_id, None)
        assert esc is not None and esc.status == Status.resolved
        await page.screenshot(path=str(folder / "resolved.png"), full_page=True)

        # Sam sees the answer in Slack DMs; the next working morning brings the digest.
        await page.get_by_label("You are").select_option(label="Sam (support)")
        await page.get_by_role("button", name="Next working morning").click()
        await page.get_by_text("Tue 03 Mar, 09:00 UTC").wait_for()
        assert await slack.locator("[data-kind=digest]").count() == 1
        assert await teams.locator("[data-kind=digest]").count() == 1
        assert await slack.locator(".dms [data-kind=dm]").count() >= 1
        await page.screenshot(path=str(folder / "digest.png"), full_page=True)

        # What people typed is shown as text, never run.
        assert await page.locator("script:not([src])").count() == 0
        assert problems == [], problems  # no script error, no CSP violation, no missing file
    finally:
        await server.close()
