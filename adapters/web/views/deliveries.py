"""Messages not delivered yet, or not at all, and retrying a failed one (admins)."""

from __future__ import annotations

from aiohttp import web

from ..console import console_of, render, viewer_of


async def deliveries(request: web.Request) -> web.StreamResponse:
    console, viewer = console_of(request), viewer_of(request)
    reach = viewer.reach()
    failed = await console.queries.deliveries(reach, "failed")
    pending = await console.queries.deliveries(reach, "pending")
    context = {"failed": failed, "pending": pending, "may_retry": viewer.may_retry_deliveries}
    return render(request, "deliveries.html", context)


async def retry(request: web.Request) -> web.StreamResponse:
    console, viewer = console_of(request), viewer_of(request)
    if not viewer.may_retry_deliveries:
        raise web.HTTPForbidden(text="Only an admin can retry a delivery.")
    try:
        delivery_id = int(request.match_info["id"])
    except ValueError:
        raise web.HTTPNotFound() from None
    if not await console.queries.retry_delivery(viewer.reach(), delivery_id, viewer.person, console.clock.now()):
        raise web.HTTPNotFound()
    back = str((await request.post()).get("back") or "")
    location = back if back.startswith("/console/") and not back.startswith("//") else "/console/deliveries"
    return web.Response(status=303, headers={"Location": location})


def routes(app: web.Application) -> None:
    app.router.add_get("/deliveries", deliveries)
    app.router.add_post("/deliveries/{id}/retry", retry)
