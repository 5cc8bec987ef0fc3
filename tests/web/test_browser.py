"""The console in a real headless Chromium (Debian's, driven by Playwright): signed in through
the loopback OpenID Connect provider, on data from a whole story (opened in Slack, claimed
and answered in Teams), each page loads under its Content-Security-Policy, and an action
changes the escalation and queues the chat card's update. Screenshots of every page are
saved (CONSOLE_SCREENSHOTS names the folder; docs/console/ holds the current ones)."""

from __future__ import annotations

import os
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from workflows.commands import Claim, Resolve
from workflows.model import MessageRef, PersonRef, Platform, Priority, Status

from .conftest import SAM, TENANT, Console
from .test_oidc import SignIn, signin  # noqa: F401 - the fixture is used below

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
HAVE_CHROMIUM = Path(CHROMIUM).exists()
ADA_IN_TEAMS = PersonRef(platform=Platform.teams, id="29:ada", tenant=TENANT, name="Ada")
XSS = 'Login fails on <script>alert("x")</script> Android 15 <img src=x onerror="alert(1)">'


async def story(web: Console) -> str:
    """Weeks of history; then one opened in Slack, claimed in Teams, answered and resolved in
    Teams; and others still open."""
    source = MessageRef(platform=Platform.slack, channel="C0SUPPORT", id="1772450000.000100", tenant="T0ACME")
    esc = await web.open(SAM, "sdk", "Does the SDK support Android 15 with the new permission model?", source=source)
    web.clock.advance(timedelta(minutes=12))
    await web.runtime.service.handle(Claim(id="teams:claim-1", escalation_id=esc.id, actor=ADA_IN_TEAMS))
    answer = "Yes, from SDK 4.2: call requestPermissions() before init()."
    web.clock.advance(timedelta(minutes=41))
    await web.runtime.service.handle(
        Resolve(id="teams:resolve-1", escalation_id=esc.id, actor=ADA_IN_TEAMS, answer=answer)
    )
    web.clock.advance(timedelta(hours=2, minutes=5))
    await web.open(SAM, "sdk", XSS, priority=Priority.high)
    web.clock.advance(timedelta(minutes=30))
    await web.open(SAM, "billing", "Invoice shows the wrong VAT rate for Ireland")
    await web.weeks_of_history(8)
    await web.runtime.dispatch()
    return esc.id


def shots_dir(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("CONSOLE_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
async def browser() -> Any:
    if not HAVE_CHROMIUM:
        if os.environ.get("CI"):
            pytest.fail("CI installs Debian's chromium (.ci/run); it is missing")
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield chromium
        finally:
            await chromium.close()


async def test_a_lead_morning_in_the_browser(signin: SignIn, browser: Any, tmp_path: Path) -> None:  # noqa: F811
    resolved_id = await story(signin.web)
    folder = shots_dir(tmp_path)
    page = await browser.new_page(viewport={"width": 1280, "height": 860})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    dialogs: list[str] = []
    page.on("dialog", lambda d: dialogs.append(d.message))

    await page.goto(f"{signin.url}/console/escalations")
    assert "/console/signin" in page.url
    await page.screenshot(path=str(folder / "signin.png"))
    await page.click("text=Sign in with Slack")
    await page.wait_for_url(f"{signin.url}/console/escalations")
    assert await page.locator("header .who span").inner_text() == "Alex Admin · admin"
    assert await page.locator("table.list tbody tr").count() == 27

    # The overview: the charts are drawn (by the shipped uPlot, under the CSP), numbers beside them.
    await page.goto(f"{signin.url}/console/overview?community=sdk&period=28d")
    await page.wait_for_selector(".chart[data-drawn=yes] canvas")
    assert await page.locator(".chart canvas").count() == 2
    figures = await page.locator(".figures").inner_text()
    assert "First response p50" in figures and "Opened\t14\t12" in figures  # with the story's two sdk questions
    await page.screenshot(path=str(folder / "overview.png"), full_page=True)
    await page.goto(f"{signin.url}/console/escalations?words=Android")
    await page.screenshot(path=str(folder / "escalations.png"))

    # The question with markup in it shows as text, and runs nothing.
    await page.click("text=Login fails on")
    heading = await page.locator("h1.question").inner_text()
    assert '<script>alert("x")</script>' in heading and '<img src=x onerror="alert(1)">' in heading
    assert dialogs == []

    # An action from the console: the same command as the chat's, the card follows.
    await page.select_option("select[name=priority]", "urgent")
    await page.click("form[action$='/priority'] button")
    await page.wait_for_load_state()
    assert "urgent" in await page.locator("dl.facts").inner_text()
    assert "priority changed" in await page.locator("ol.timeline").inner_text()
    async with signin.web.runtime.store.unit_of_work() as uow:
        [xss] = [e for e in await uow.escalations.list_by_community("sdk") if e.question == XSS]
        pending = [r.kind for r in await uow.outbox.list("pending") if r.escalation_id == xss.id]
    assert xss.priority == Priority.urgent and "update_card" in pending

    await page.goto(f"{signin.url}/console/escalations/{resolved_id}")
    text = await page.locator("main").inner_text()
    assert "requestPermissions()" in text and "resolved" in text and "claimed" in text
    assert "Open in Slack" in text and "Open in Teams" in text
    assert "claimed by Ada via teams" in text  # who, what, via which platform
    assert "community: Mobile SDK" in text and "card updated → teams" in text  # names, not keys
    await page.screenshot(path=str(folder / "escalation.png"), full_page=True)

    await page.goto(f"{signin.url}/console/knowledge")
    await page.fill("input[name=q]", "android permission")
    await page.click("form.filters button")
    await page.wait_for_load_state()
    found = await page.locator("main").inner_text()
    assert "requestPermissions()" in found and "Mobile SDK · answered by Ada, 2026-03-02 09:53 UTC" in found
    await page.screenshot(path=str(folder / "knowledge.png"), full_page=True)

    await page.goto(f"{signin.url}/console/communities")
    people = await page.locator("main").inner_text()
    assert "Mobile SDK" in people and "rotation: round_robin" in people and "Globex" not in people
    await page.screenshot(path=str(folder / "communities.png"), full_page=True)

    await page.goto(f"{signin.url}/console/deliveries")
    assert "Deliveries" in await page.locator("h1").inner_text()
    assert "card updated" in await page.locator("main").inner_text()
    await page.screenshot(path=str(folder / "deliveries.png"), full_page=True)

    assert problems == [], problems  # no script error, no Content-Security-Policy violation, no missing file
    response = await page.goto(f"{signin.url}/console/escalations/not-there")
    assert response is not None and response.status == 404
    assert (await signin.web.reload(await _by_id(signin.web, resolved_id))).status == Status.resolved


async def _by_id(web: Console, escalation_id: str) -> Any:
    found = await web.runtime.service.get(escalation_id, None)
    assert found is not None
    return found
