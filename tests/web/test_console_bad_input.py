"""Whatever is typed into the console's addresses and forms gets one clear line back (or a
404 for what is not there), never a 500: page numbers, filter values, over-long text, ids
no row has, durations past any calendar, and NUL characters (which PostgreSQL refuses)."""

from __future__ import annotations

import re

import pytest

from workflows.model import Status

from .conftest import ADMIN, SAM, Console


def problems(html: str) -> list[str]:
    return [re.sub(r"\s+", " ", p).strip() for p in re.findall(r'<p class="problem">(.*?)</p>', html, re.S)]


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ("page=abc", "page: &#39;abc&#39; is not a page number (the newest are shown)"),
        ("page=-5", "page: &#39;-5&#39; is not a page number"),
        ("page=0", "page: &#39;0&#39; is not a page number"),
        ("page=99999999999999999999999", "page: counted pages stop at 200"),
        ("page=%C2%B2", "is not a page number"),
        ("state=shut&priority=asap", "priority: &#39;asap&#39; is not one of low, normal, high, urgent"),
        ("community=nowhere", "community: &#39;nowhere&#39; is not a community you see"),
        ("community=globex", "community: &#39;globex&#39; is not a community you see"),
        ("owner=" + "x" * 500, "owner: only its first 200 characters are used"),
        ("words=" + "w%20" * 300, "words: only its first 200 characters are used"),
        ("older=99999999d", "older: &#39;99999999d&#39; reaches further back than any escalation"),
        ("newer=100000000000w", "is longer than any duration this bot keeps"),
        ("newer=2026-13-45", "newer: &#39;2026-13-45&#39; is not a duration"),
        ("before=yesterday", "before: &#39;yesterday&#39; is not a place in the list"),
    ],
)
async def test_a_filter_that_means_nothing_is_named_on_the_list(web: Console, query: str, said: str) -> None:
    await web.open(SAM, "sdk", "Still listed")
    await web.sign_in(ADMIN)
    html = await web.page(f"/console/escalations?{query}")
    assert any(said in p for p in problems(html)), problems(html)
    assert "Still listed" in html or "No escalation matches" in html


async def test_the_knowledge_search_says_what_it_did_not_use(web: Console) -> None:
    await web.sign_in(ADMIN)
    html = await web.page("/console/knowledge?q=" + "gradle%20" * 60)
    assert problems(html) == ["Only the first 300 characters are searched."]


@pytest.mark.parametrize(
    "path",
    [
        "/console/escalations/%00",
        "/console/escalations?owner=%00",
        "/console/escalations?requester=a%00b",
        "/console/escalations?words=%00",
        "/console/knowledge?q=test&community=%00",
        "/console/overview?community=%00",
    ],
)
async def test_a_nul_character_in_the_address_is_one_clear_line(web: Console, path: str) -> None:
    await web.sign_in(ADMIN)
    response = await web.client.get(path)
    html = await response.text()
    assert response.status == 400, html
    assert "holds a NUL character" in html and "Traceback" not in html


async def test_forms_with_bad_values_change_nothing_and_say_why(web: Console) -> None:
    esc = await web.open(SAM, "sdk", "Bad forms")
    await web.sign_in(ADMIN)
    page = f"/console/escalations/{esc.id}"
    refused = await web.post(f"{page}/priority", {"priority": "asap"}, from_page=page)
    assert refused.status == 409 and "Choose a priority" in await refused.text()
    refused = await web.post(f"{page}/reassign", {"to": "slack:" + "U" * 5000}, from_page=page)
    assert refused.status == 409 and "is not an expert of Mobile SDK" in await refused.text()
    refused = await web.post(f"{page}/cancel", {"reason": "dup\x00licate"}, from_page=page)
    assert refused.status == 400 and "holds a NUL character" in await refused.text()
    assert (await web.post(f"{page}/explode", {}, from_page=page)).status == 404
    assert (await web.post("/console/escalations/" + "e" * 3000 + "/cancel", {}, from_page=page)).status == 404
    assert (await web.reload(esc)).status == Status.open

    away = "/console/communities/sdk/people/slack:U0BEN/away"
    for words, said in (("for 99999999d", "longer than anyone is away"), ("for 100000000000w", "is not a duration")):
        response = await web.post(away, {"words": words}, from_page="/console/communities")
        assert response.status == 400 and said in await response.text(), words
    response = await web.post(away, {"words": "for 2d \x00"}, from_page="/console/communities")
    assert response.status == 400
    async with web.runtime.store.unit_of_work() as uow:
        assert await uow.absences.away(web.clock.now()) == []

    for bad in ("99999999999999999999999", "-1", "0", "%C2%B2"):
        response = await web.post(f"/console/deliveries/{bad}/retry", {}, from_page="/console/deliveries")
        assert response.status == 404, bad


async def test_every_post_route_refuses_a_form_without_the_csrf_token(web: Console) -> None:
    """Every POST the console has (found in its router, so a new one is covered too)."""
    esc = await web.open(SAM, "sdk", "CSRF everywhere")
    await web.sign_in(ADMIN)
    values = {"id": esc.id, "action": "cancel", "community": "sdk", "person": "slack:U0BEN", "what": "away"}
    console_app = next(r for r in web.client.app.router.resources() if r.canonical == "/console")
    posts = {
        route.resource.canonical
        for route in console_app._app.router.routes()  # type: ignore[attr-defined]
        if route.method == "POST" and route.resource is not None
    }
    assert {"/console/escalations/{id}/{action}", "/console/deliveries/{id}/retry", "/console/signout"} <= posts
    for canonical in posts:
        path = re.sub(r"\{(\w+)(?::[^}]*)?\}", lambda m: values.get(m[1], "1"), canonical)
        for data in ({}, {"csrf": "forged"}):
            response = await web.client.post(path, data={**data, "words": "for 2d"}, allow_redirects=False)
            assert response.status == 403 and "CSRF" in await response.text(), path
    assert (await web.reload(esc)).status == Status.open
    async with web.runtime.store.unit_of_work() as uow:
        assert await uow.absences.away(web.clock.now()) == []
    assert "CSRF everywhere" in await web.page("/console/escalations")  # still signed in
