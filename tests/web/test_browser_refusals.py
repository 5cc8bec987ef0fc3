"""Refusals as a person meets them in a real headless Chromium (issue 23): a member posting an
admin's form, a form whose CSRF token was taken out, another tenant's escalation, a sign-in
link opened twice or too late, and an id token forged three ways. Each ends on a page that
says what happened and leads somewhere (no traceback, no blank page), and nothing changed.
One screenshot of each refusal is saved (CONSOLE_SCREENSHOTS names the folder)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from workflows.model import Status

from .conftest import ADA, GLOBEX_USER, LINK_TTL, SAM
from .test_browser import browser, shots_dir  # noqa: F401 - the fixture is used below
from .test_console_deliveries import _failed_delivery, _state
from .test_oidc import SignIn, signin  # noqa: F401 - the fixture is used below

# Posts a form built in the page as a person's own browser would send it: the session cookie
# it holds, and the CSRF token of the page (the sign-out form's) unless told to leave it out.
POST_FORM = """([action, withToken]) => {
  const form = document.createElement('form');
  form.method = 'post';
  form.action = action;
  if (withToken) {
    const token = document.createElement('input');
    token.type = 'hidden';
    token.name = 'csrf';
    token.value = document.querySelector('input[name=csrf]').value;
    form.appendChild(token);
  }
  document.body.appendChild(form);
  form.submit();
}"""
BACK = "Back to the page you came from"


async def refusal(page: Any, says: str, folder: Path, shot: str | None, *, way_on: str) -> str:
    """The page a refusal ends on: a heading, the reason in words, a way on (``way_on``: the
    link's text), and no internals."""
    main = await page.locator("main").inner_text()
    assert says in main, main
    assert "Traceback" not in main and "Error" not in main, main
    assert await page.locator("main h1").count() == 1
    assert await page.locator("main a", has_text=way_on).count() == 1, main
    if shot:
        await page.screenshot(path=str(folder / shot), full_page=True)
    return main


async def submit(page: Any, action: str, *, with_token: bool) -> Any:
    async with page.expect_navigation() as navigation:
        await page.evaluate(POST_FORM, [action, with_token])
    return await navigation.value


async def test_a_person_meets_each_refusal_in_the_browser(signin: SignIn, browser: Any, tmp_path: Path) -> None:  # noqa: F811
    web, folder = signin.web, shots_dir(tmp_path)
    esc_id, row_id = await _failed_delivery(web)
    theirs = await web.open(GLOBEX_USER, "globex", "A Globex question")
    ours = await web.open(SAM, "sdk", "An Acme question Ada may act on")
    before = await _state(web, esc_id, row_id)
    assert before[0] == "failed"

    problems: list[str] = []
    ada = await browser.new_context(viewport={"width": 1100, "height": 700})
    page = await ada.new_page()
    page.on("pageerror", lambda e: problems.append(str(e)))

    # No session: the sign-in page, which says how to get in.
    await page.goto(f"{signin.url}/console/deliveries")
    assert "/console/signin" in page.url and "Sign in with Slack" in await page.locator("main").inner_text()

    # Signed in by a one-time link as Ada, an sdk expert and no admin.
    link = await web.link_path(ADA)
    await page.goto(signin.url + link)
    assert await page.locator("header .who span").inner_text() == "Ada"

    # An admin's form: the failed delivery shows, without a retry button; posted anyway.
    await page.goto(f"{signin.url}/console/deliveries")
    assert "channel_not_found" in await page.locator("main").inner_text()
    assert await page.locator(f"form[action$='/deliveries/{row_id}/retry']").count() == 0
    response = await submit(page, f"/console/deliveries/{row_id}/retry", with_token=True)
    assert response.status == 403
    await refusal(page, "Only an admin can retry a delivery.", folder, "refused-admin-action.png", way_on=BACK)
    assert await page.locator("main a", has_text=BACK).get_attribute("href") == "/console/deliveries"

    # The same form without its CSRF token.
    await page.goto(f"{signin.url}/console/deliveries")
    response = await submit(page, f"/console/deliveries/{row_id}/retry", with_token=False)
    assert response.status == 403
    await refusal(page, "no valid CSRF token", folder, "refused-csrf.png", way_on=BACK)
    await page.click(f"main a:has-text('{BACK}')")  # the page again, with a fresh form
    assert page.url == f"{signin.url}/console/deliveries"
    # And a form she may use, its token taken out of the page before she clicks.
    await page.goto(f"{signin.url}/console/escalations/{ours.id}")
    await page.evaluate("document.querySelector(\"form[action$='/cancel'] input[name=csrf]\").remove()")
    async with page.expect_navigation() as navigation:
        await page.click("form[action$='/cancel'] button")
    assert (await navigation.value).status == 403
    await refusal(page, "no valid CSRF token", folder, None, way_on=BACK)

    # Another tenant's escalation: not found, as if it did not exist.
    response = await page.goto(f"{signin.url}/console/escalations/{theirs.id}")
    assert response is not None and response.status == 404
    says = "There is nothing here, or nothing you may see."
    await refusal(page, says, folder, "refused-other-tenant.png", way_on="Back to the console")

    # The sign-in link she used, opened again (forwarded, or from the history) elsewhere.
    other = await browser.new_context(viewport={"width": 1100, "height": 700})
    again = await other.new_page()
    again.on("pageerror", lambda e: problems.append(str(e)))
    response = await again.goto(signin.url + link)
    assert response is not None and response.status == 403
    await refusal(again, "has been used already, has expired", folder, "refused-used-link.png", way_on="Slack")
    assert not [c for c in await other.cookies() if c["name"] == "eb_console"]
    # A fresh link opened too late.
    late = await web.link_path(ADA)
    web.clock.advance(LINK_TTL + timedelta(minutes=1))
    response = await again.goto(signin.url + late)
    assert response is not None and response.status == 403
    await refusal(again, "has been used already, has expired", folder, None, way_on="Slack")
    await other.close()

    # A sign-in through the provider whose id token is forged: refused, and nobody signed in.
    for forgery in ("signature", "audience", "nonce"):
        signin.slack.forge = forgery
        context = await browser.new_context(viewport={"width": 1100, "height": 700})
        visitor = await context.new_page()
        visitor.on("pageerror", lambda e: problems.append(str(e)))
        await visitor.goto(f"{signin.url}/console/escalations")
        async with visitor.expect_navigation(url="**/callback?**") as navigation:
            await visitor.click("text=Sign in with Slack")
        assert (await navigation.value).status == 403, forgery
        says = "Sign-in refused: Slack: the id token is not valid."
        await refusal(visitor, says, folder, f"refused-forged-{forgery}.png", way_on="Sign in")
        assert not [c for c in await context.cookies() if c["name"] == "eb_console"], forgery
        await visitor.goto(f"{signin.url}/console/escalations")
        assert "/console/signin" in visitor.url, forgery
        await context.close()
    await ada.close()

    assert problems == [], problems
    # Nothing changed: the delivery still failed and unretried, both questions still open.
    assert await _state(web, esc_id, row_id) == before
    assert (await web.reload(theirs)).status == Status.open
    assert (await web.reload(ours)).status == Status.open
    async with web.runtime.store.unit_of_work() as uow:
        by_ada = [r for e in (theirs, ours) for r in await uow.audit.for_escalation(e.id) if r.actor == ADA.key]
    assert by_ada == []
