"""Communities and people: each community's roster and effective policy (as ``config
check`` prints it), and per expert: load now, and over the period, first responses and
how fast, answers, and how often they were handed a question out of hours."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from workflows.errors import Reason, Refused
from workflows.metrics import count
from workflows.overview import first_response_by_expert
from workflows.presence import may_set_availability, people_of

from ..console import console_of, error_page, render, viewer_of
from .overview import PERIODS, duration


async def communities_page(request: web.Request) -> web.StreamResponse:
    console, viewer = console_of(request), viewer_of(request)
    period = request.query.get("period", "28d")
    length = PERIODS.get(period, timedelta(days=28))
    visible = viewer.visible_communities(console.communities())
    until = console.clock.now()
    since = until - length
    reach = viewer.reach()
    keys = [e.key for c in visible for e in (*c.experts, *([c.lead] if c.lead else []))]
    loads = await console.queries.loads(reach, keys)
    history = await console.queries.history(reach, since, until, [c.key for c in visible])
    report = count(history.facts, history.events, since, until, history.documents)
    speed = first_response_by_expert(history.facts, since, until)
    away = await console.queries.away([p for c in visible for p in people_of(c)], until)
    said = await console.queries.away_said([p for c in visible for p in people_of(c)], until)
    labels = await console.labels([p for c in visible for p in people_of(c)])
    rows = {}
    for community in visible:
        people = [*community.experts, *([community.lead] if community.lead else [])]
        rows[community.key] = [
            {
                "name": labels.get(person.key, person.label()),
                "ids": ", ".join(ref.key for ref in person.refs),
                "lead": community.is_lead(person.refs[0]),
                "load": loads.get(person.key, 0),
                "first_responses": report.experts[person.key].first_responses if person.key in report.experts else 0,
                "first_response_p50": duration(speed.get(person.key)),
                "answers": report.experts[person.key].resolved if person.key in report.experts else 0,
                "handed": report.experts[person.key].handed if person.key in report.experts else 0,
                "out_of_hours": report.experts[person.key].out_of_hours if person.key in report.experts else 0,
                "key": person.key,
                "away": person.key in away,
                "back_at": away.get(person.key),
                "said": said.get(person.key),
                # the core's rule: they themself, an admin, or the community's lead
                "may_set": may_set_availability(console.directory, viewer.person, community, person),
            }
            for person in people
        ]
    context = {
        "communities": visible,
        "policies": {c.key: console.describe_policy(c) for c in visible},
        "people": rows,
        "period": period if period in PERIODS else "28d",
        "periods": list(PERIODS),
    }
    return render(request, "communities.html", context)


async def availability(request: web.Request) -> web.StreamResponse:
    """Someone's away or back, said by themself, or for them by an admin or their community's
    lead (the core's ``Presence.set_for`` decides)."""
    console, viewer = console_of(request), viewer_of(request)
    community = next(
        (c for c in viewer.visible_communities(console.communities()) if c.key == request.match_info["community"]),
        None,
    )
    if community is None:
        raise web.HTTPNotFound()
    expert = next((p for p in people_of(community) if p.key == request.match_info["person"]), None)
    if expert is None:
        raise web.HTTPNotFound()
    form = await request.post()
    words = str(form.get("words") or "")[:200] if request.match_info["what"] == "away" else None
    try:
        await console.service.presence.set_for(viewer.person, community, expert, words, via="console")
    except Refused as refusal:
        return error_page(request, 403 if refusal.reason == Reason.forbidden else 400, refusal.message)
    return web.Response(status=303, headers={"Location": "/console/communities"})


def routes(app: web.Application) -> None:
    app.router.add_get("/communities", communities_page)
    app.router.add_post(r"/communities/{community}/people/{person}/{what:away|back}", availability)
