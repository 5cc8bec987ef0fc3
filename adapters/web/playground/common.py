"""What every form of the page shares: who plays, which community is shown, the form's
fields, and the way back to the page once what a click caused has settled."""

from __future__ import annotations

from urllib.parse import quote

from aiohttp import web

from workflows.model import Community, Expert, Platform

from .app import PLAYER, PLAYGROUND, Playground

PLATFORMS = (Platform.slack, Platform.teams)


def you_of(request: web.Request) -> tuple[Playground, Expert]:
    playground = request.app[PLAYGROUND]
    person = playground.person(str(request[PLAYER]["p"]))
    assert person is not None  # the middleware let only a known person in
    return playground, person


def community_of(playground: Playground, key: str | None) -> Community:
    communities = playground.service.directory.all()
    return next((c for c in communities if c.key == key), communities[0])


def back(community: str, *, form: str | None = None, question: str = "") -> web.Response:
    query = f"?c={community}" + (f"&form={form}" if form else "")
    if question:
        query += f"&q={quote(question)}"
    return web.Response(status=303, headers={"Location": f"/playground/{query}"})


async def form_of(request: web.Request) -> dict[str, str]:
    return {k: str(v) for k, v in (await request.post()).items()}


def platform_of(fields: dict[str, str]) -> Platform:
    try:
        platform = Platform(fields.get("platform", ""))
    except ValueError:
        raise web.HTTPBadRequest(text="platform must be slack or teams") from None
    if platform not in PLATFORMS:
        raise web.HTTPBadRequest(text="platform must be slack or teams")
    return platform


async def settled(playground: Playground, community: str) -> web.Response:
    await playground.settle()
    return back(community)
