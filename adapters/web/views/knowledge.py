"""The knowledge base: the same search as ``/escalate search``, within the viewer's tenant."""

from __future__ import annotations

from aiohttp import web

from workflows.ports import Scope

from ..console import console_of, render, viewer_of

MAX_WORDS = 300


async def knowledge(request: web.Request) -> web.StreamResponse:
    console, viewer = console_of(request), viewer_of(request)
    words = request.query.get("q", "").strip()
    problems = [f"Only the first {MAX_WORDS} characters are searched."] if len(words) > MAX_WORDS else []
    words = words[:MAX_WORDS]
    community = request.query.get("community", "").strip() or None
    hits = []
    if words:
        # The local operator is in no tenant: every workspace of each platform is theirs.
        scopes = [viewer.scope] if viewer.scope is not None else [Scope("slack", ""), Scope("teams", "")]
        for scope in scopes:
            hits += await console.service.search(words, scope, community=community, limit=20)
    results = []
    for hit in hits:
        esc = await console.service.get(hit.escalation_id, None)
        results.append((hit, esc, await console.thread_link(hit.card) if hit.card else None))
    context = {
        "q": words,
        "problems": problems,
        "community": community or "",
        "results": results,
        "communities": viewer.visible_communities(console.communities()),
        "community_names": {c.key: c.name for c in console.communities()},
    }
    return render(request, "knowledge.html", context)


def routes(app: web.Application) -> None:
    app.router.add_get("/knowledge", knowledge)
