"""The console over HTTP: sign-in links, sessions, who sees what, and the refusals."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from storage import Store
from storage.tables import SignInLinkRow
from workflows.clock import FakeClock
from workflows.commands import Claim
from workflows.model import Priority, Status

from .conftest import ADA, ADMIN, BEN, GLOBEX_USER, LEE, OTHER, SAM, Console, console_config, make_console


async def test_without_a_session_every_page_leads_to_sign_in(web: Console) -> None:
    root = await web.client.get("/", allow_redirects=False)
    assert root.status == 302 and root.headers["Location"] == "/console/"
    for path in ("/console/", "/console/escalations?state=open", "/console/knowledge", "/console/deliveries"):
        response = await web.client.get(path, allow_redirects=False)
        assert response.status == 302, path
        assert response.headers["Location"].startswith("/console/signin?next=")
    page = await web.page("/console/signin")
    assert "console-link" in page  # no provider configured: how to get a link


async def test_a_sign_in_link_works_once_and_is_stored_hashed(web: Console) -> None:
    path = await web.link_path(ADMIN)
    token = path.split("token=", 1)[1]
    async with web.runtime.store.unit_of_work() as uow:
        [row] = (await uow.session.execute(select(SignInLinkRow))).scalars().all()
    assert row.token_hash != token and token not in str(row.person)

    first = await web.client.get(path, allow_redirects=False)
    assert first.status == 302 and first.headers["Location"] == "/console/"
    cookie = first.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # served over plain http here
    assert "Alex Admin" in await web.page("/console/escalations")

    web.sign_out_locally()
    again = await web.client.get(path, allow_redirects=False)
    assert again.status == 403 and "used already" in await again.text()
    assert (await web.client.get("/console/escalations", allow_redirects=False)).status == 302


async def test_an_expired_or_made_up_link_signs_nobody_in(web: Console) -> None:
    path = await web.link_path(ADMIN)
    web.clock.advance(timedelta(minutes=15, seconds=1))
    assert (await web.client.get(path, allow_redirects=False)).status == 403
    assert (await web.client.get("/console/signin/link?token=guess", allow_redirects=False)).status == 403
    assert (await web.client.get("/console/escalations", allow_redirects=False)).status == 302


async def test_a_session_expires_and_a_tampered_cookie_is_ignored(web: Console) -> None:
    await web.sign_in(ADMIN)
    [cookie] = [c for c in web.client.session.cookie_jar if c.key == "eb_console"]
    body, mac = cookie.value.split(".")
    web.sign_out_locally()
    web.client.session.cookie_jar.update_cookies({"eb_console": body[:-2] + "AA." + mac})
    assert (await web.client.get("/console/escalations", allow_redirects=False)).status == 302
    await web.sign_in(ADMIN)
    web.clock.advance(timedelta(hours=12, seconds=1))
    assert (await web.client.get("/console/escalations", allow_redirects=False)).status == 302


async def test_every_page_has_a_strict_policy_and_no_inline_script(web: Console) -> None:
    esc = await web.open(SAM, "sdk", "Does the SDK support Android 15?")
    await web.sign_in(ADMIN)
    for path in (
        "/console/escalations",
        f"/console/escalations/{esc.id}",
        "/console/knowledge?q=android",
        "/console/deliveries",
        "/console/nowhere",
    ):
        response = await web.client.get(path)
        html = await response.text()
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp, path
        assert response.headers["X-Frame-Options"] == "DENY"
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert not re.search(r"<[^>]+\son\w+=", html), path  # no inline event handler
    assert (await web.client.get("/console/nowhere")).status == 404


async def test_user_text_shows_as_text(web: Console) -> None:
    question = 'Crash <script>alert("x")</script> and <img src=x onerror="alert(1)"> on login'
    esc = await web.open(SAM, "sdk", question)
    await web.sign_in(ADMIN)
    for path in (f"/console/escalations/{esc.id}", "/console/escalations"):
        html = await web.page(path)
        assert "<script>alert" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(" in html and "&lt;img src=x onerror=" in html


async def test_another_tenants_escalation_is_not_found(web: Console) -> None:
    theirs = await web.open(GLOBEX_USER, "globex", "A Globex question")
    ours = await web.open(SAM, "sdk", "An Acme question")
    await web.sign_in(ADMIN)
    listing = await web.page("/console/escalations")
    assert "An Acme question" in listing and "Globex question" not in listing
    await web.page(f"/console/escalations/{theirs.id}", expect=404)
    response = await web.post(
        f"/console/escalations/{theirs.id}/cancel", {}, from_page=f"/console/escalations/{ours.id}"
    )
    assert response.status == 404
    assert (await web.reload(theirs)).status == Status.open


async def test_people_see_their_own_and_their_communities_escalations(web: Console) -> None:
    sdk = await web.open(SAM, "sdk", "SDK question from Sam")
    billing = await web.open(OTHER, "billing", "Billing question from Olive")
    await web.sign_in(SAM)  # asked one question; in no community
    listing = await web.page("/console/escalations")
    assert "SDK question from Sam" in listing and "Billing question" not in listing
    await web.page(f"/console/escalations/{billing.id}", expect=404)
    web.sign_out_locally()
    await web.sign_in(ADA)  # an sdk expert: sees sdk's, not billing's
    listing = await web.page("/console/escalations")
    assert "SDK question from Sam" in listing and "Billing question" not in listing
    await web.page(f"/console/escalations/{sdk.id}")
    await web.page(f"/console/escalations/{billing.id}", expect=404)


async def test_an_admin_acts_as_the_chat_would_and_it_is_audited_via_console(web: Console) -> None:
    esc = await web.open(SAM, "sdk", "Where are the release notes?")
    await web.sign_in(ADMIN)
    page = f"/console/escalations/{esc.id}"
    before = len(web.slack.delivered)

    response = await web.post(f"{page}/priority", {"priority": "urgent"}, from_page=page)
    assert response.status == 303 and response.headers["Location"] == page
    response = await web.post(f"{page}/reassign", {"to": "slack:U0BEN"}, from_page=page)
    assert response.status == 303
    esc = await web.reload(esc)
    assert esc.priority == Priority.urgent and esc.owner is not None and esc.owner.person.id == "U0BEN"

    await web.post(f"{page}/cancel", {"reason": "duplicate"}, from_page=page)
    assert (await web.reload(esc)).status == Status.cancelled
    await web.post(f"{page}/reopen", {"reason": "not a duplicate"}, from_page=page)
    assert (await web.reload(esc)).status == Status.open

    # The chat card follows every change, and people are told, as from the chat.
    await web.runtime.dispatch()
    kinds = [effect.kind for _, effect in web.slack.delivered[before:]]
    assert kinds.count("update_card") >= 4 and "notify" in kinds
    async with web.runtime.store.unit_of_work() as uow:
        rows = [r for r in await uow.audit.for_escalation(esc.id) if r.actor == ADMIN.key]
    assert [r.action for r in rows] == ["priority_changed", "reassigned", "cancelled", "reopened"]
    assert all((r.detail or {}).get("via") == "console" for r in rows)
    timeline = await web.page(page)
    assert "priority changed" in timeline and "via console" in timeline
    assert "by: slack:U0ADMIN" not in timeline  # said once, as who acted


async def test_a_post_without_the_csrf_token_changes_nothing(web: Console) -> None:
    esc = await web.open(SAM, "sdk", "CSRF target")
    await web.sign_in(ADMIN)
    for data in ({}, {"csrf": "forged"}):
        response = await web.post(f"/console/escalations/{esc.id}/cancel", data)
        assert response.status == 403 and "CSRF" in await response.text()
    assert (await web.reload(esc)).status == Status.open
    web.sign_out_locally()
    response = await web.post(f"/console/escalations/{esc.id}/cancel", {"csrf": "x"})
    assert response.status == 403
    assert (await web.reload(esc)).status == Status.open


async def test_the_list_filters_and_pages(web: Console) -> None:
    await web.open(SAM, "sdk", "Alpha crash on iOS", priority=Priority.high)
    web.clock.advance(timedelta(days=3))
    await web.open(SAM, "billing", "Beta invoice wrong")
    await web.sign_in(ADMIN)
    assert "Alpha" in (found := await web.page("/console/escalations?priority=high")) and "Beta" not in found
    assert "Beta" in (found := await web.page("/console/escalations?community=billing")) and "Alpha" not in found
    assert "Alpha" in (found := await web.page("/console/escalations?words=ios+crash")) and "Beta" not in found
    assert "Alpha" in (found := await web.page("/console/escalations?older=2d")) and "Beta" not in found
    assert "Beta" in (found := await web.page("/console/escalations?newer=1d")) and "Alpha" not in found
    assert "Alpha" in (found := await web.page("/console/escalations?requester=slack:U0SAM&state=open"))
    found = await web.page("/console/escalations?state=shut&older=soon")
    assert "state: &#39;shut&#39; is not one of" in found and "older:" in found
    assert "No escalation matches" in await web.page("/console/escalations?state=resolved")


async def test_over_https_the_session_cookie_is_secure(store: Store, clock: FakeClock) -> None:
    async for web in make_console(store, clock, console_config("https://bot.example.com")):
        path = await web.link_path(ADMIN)
        response = await web.client.get(path, allow_redirects=False)
        assert response.status == 302
        assert "Secure" in response.headers["Set-Cookie"] and "HttpOnly" in response.headers["Set-Cookie"]


def _row(html: str, label: str) -> tuple[str, str]:
    found = re.search(rf"<td>{re.escape(label)}</td><td><strong>([^<]*)</strong></td><td>([^<]*)</td>", html)
    assert found, label
    return found.group(1), found.group(2)


async def test_the_overview_counts_now_and_compares_the_period_with_the_one_before(web: Console) -> None:
    await web.weeks_of_history(8)
    await web.open(SAM, "sdk", "Still unanswered")
    await web.open(OTHER, "billing", "Billing, unanswered too")
    await web.runtime.service.presence.away(BEN, "for 2d")
    await web.sign_in(ADMIN)
    html = await web.page("/console/overview?period=28d&community=sdk")
    now = re.search(
        r"Mobile SDK</a></td>\s*<td>(\d+)</td><td>(\d+)</td>\s*<td>(\d+)</td><td>(\d+)</td>\s*<td><a[^>]*>(\d+)</a>",
        html,
    )
    assert now and now.groups() == ("1", "1", "0", "0", "1")  # open, unanswered, overdue, waiting, away
    assert "Billing, unanswered" not in html and "Billing</a>" not in html  # sdk chosen
    assert _row(html, "Opened") == ("12", "12")
    assert _row(html, "Resolved") == ("12", "12")
    # Replies came 90, 80 ... 20 minutes (and 15 or 30 more) after each question, week by week.
    assert _row(html, "First response p50") == ("50m", "1h 30m")
    assert _row(html, "First response p90") == ("1h 10m", "1h 50m")
    assert _row(html, "Answered by pull (not pushed)") == ("100%", "100%")
    chart = re.search(r'data-chart="([^"]+)"', html)
    assert chart and "&#34;p50&#34;" in chart.group(1)

    web.sign_out_locally()
    await web.sign_in(OTHER)  # in no community, asked one question just now: sdk's figures are not hers
    html = await web.page("/console/overview")
    assert "Mobile SDK" not in html and _row(html, "Opened") == ("0", "0") and _row(html, "Resolved") == ("0", "0")


async def test_communities_and_people(web: Console) -> None:
    await web.weeks_of_history(8)
    held = await web.open(SAM, "sdk", "Held by Ben")
    await web.runtime.service.handle(Claim(id="c-1", escalation_id=held.id, actor=BEN))
    await web.sign_in(ADMIN)
    html = await web.page("/console/communities?period=28d")
    sdk = html[html.index("Mobile SDK") : html.index("Billing")]
    ada = re.search(r"Ada<br>.*?</tr>", sdk, re.S)
    assert ada is not None
    # load now, first responses, their p50, answers, handed, out of hours
    assert re.findall(r"<td>([^<]*)</td>", ada.group(0)) == ["0", "12", "50m", "12", "0", "0"]
    ben = re.search(r"U0BEN.*?</tr>", sdk, re.S)
    assert ben is not None and re.findall(r"<td>([^<]*)</td>", ben.group(0))[0] == "1"
    assert "(lead)" in sdk and "nudge_after: 30m" in sdk and "assign_after: 2h" in sdk  # as config check prints
    assert "Globex" not in html  # another tenant's community is not an Acme admin's

    web.sign_out_locally()
    await web.sign_in(ADA)
    html = await web.page("/console/communities")
    assert "Mobile SDK" in html and "Billing" not in html


async def test_an_admin_or_the_lead_sets_someones_availability_and_a_member_may_not(web: Console) -> None:
    page = "/console/communities"
    ben = "/console/communities/sdk/people/slack:U0BEN"
    await web.sign_in(ADA)  # an sdk expert, not its lead
    assert f"{ben}/away" not in await web.page(page)
    response = await web.post(f"{ben}/away", {"words": "for 3d"}, from_page=page)
    assert response.status == 403
    async with web.runtime.store.unit_of_work() as uow:
        assert await uow.absences.away(web.clock.now()) == []

    web.sign_out_locally()
    await web.sign_in(ADMIN)
    response = await web.post(f"{ben}/away", {"words": "for 3d at a conference"}, from_page=page)
    assert response.status == 303
    html = await web.page(page)
    assert "until 2026-03-05 09:00 UTC" in html and f"{ben}/back" in html
    async with web.runtime.store.unit_of_work() as uow:
        [absence] = await uow.absences.away(web.clock.now())
    assert absence.person == "slack:U0BEN" and absence.note == "at a conference"
    bad = await web.post(f"{ben}/away", {"words": "until yesterday"}, from_page=page)
    assert bad.status == 400

    web.sign_out_locally()
    await web.sign_in(LEE)  # the sdk lead
    assert (await web.post(f"{ben}/back", {}, from_page=page)).status == 303
    async with web.runtime.store.unit_of_work() as uow:
        assert await uow.absences.away(web.clock.now()) == []


async def test_every_page_weighs_under_300_kb_with_what_it_loads(web: Console) -> None:
    await web.weeks_of_history(4)
    esc = await web.open(SAM, "sdk", "How heavy is this page?")
    await web.sign_in(ADMIN)
    weights = {}
    for path in (
        "/console/overview",
        "/console/escalations",
        f"/console/escalations/{esc.id}",
        "/console/communities",
        "/console/knowledge?q=gradle",
        "/console/deliveries",
        "/console/signin",
    ):
        html = await web.page(path)
        total = len(html.encode())
        for asset in re.findall(r'(?:href|src)="(/console/static/[^"]+)"', html):
            response = await web.client.get(asset.replace("&amp;", "&"))
            assert response.status == 200, asset
            total += len(await response.read())
        weights[path] = total
    assert all(total < 300_000 for total in weights.values()), weights


def test_timeline_details_read_as_words() -> None:
    from adapters.web.views.escalations import detail_words

    names = {"slack:U0ADA": "Ada"}
    detail = {"owner": "slack:U0ADA", "answer": True, "held": False, "via": "console", "to": ["slack:U0ADA", "x"]}
    assert detail_words(detail, names, "slack:U0BO") == ["owner: Ada", "answer", "to: Ada, x"]
    assert detail_words({"by": "slack:U0BO", "reason": "dup"}, names, "slack:U0BO") == ["reason: dup"]
    assert detail_words({"community": "sdk", "priority": "high"}, {}, "x", {"sdk": "Mobile SDK"}) == [
        "community: Mobile SDK",
        "priority: high",
    ]


def test_every_kind_of_delivery_reads_as_words() -> None:
    from typing import get_args

    from adapters.web.console import DELIVERY_WORDS
    from workflows.effects import Effect

    union, *_ = get_args(Effect)
    kinds = {effect.model_fields["kind"].default for effect in get_args(union)}
    assert kinds and kinds == set(DELIVERY_WORDS)


async def test_a_refusal_leads_back_only_to_a_console_page_of_ours(web: Console) -> None:
    esc = await web.open(SAM, "sdk", "Back link target")
    await web.sign_in(ADA)
    page = f"/console/escalations/{esc.id}"
    ours = str(web.client.make_url(page))
    for referer, back in (
        (ours, f'href="{page}"'),
        ("https://evil.example/console/escalations", None),
        (ours.replace(page, "//console/escalations"), None),
        (str(web.client.make_url("/console/signin/link?token=x")), None),
        ("not a url at all", None),
    ):
        response = await web.client.post(f"{page}/cancel", data={}, headers={"Referer": referer})
        text = await response.text()
        assert response.status == 403 and "CSRF" in text, referer
        assert ("Back to the page you came from" in text) == (back is not None), referer
        assert back is None or back in text
    assert (await web.reload(esc)).status == Status.open
