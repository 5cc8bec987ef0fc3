"""Messages not delivered yet, or not at all, and retrying a failed one (admins)."""

from __future__ import annotations

from aiohttp import web

from workflows.deliveries import RetryDeliveries
from workflows.errors import Refused

from ..console import console_of, render, viewer_of


async def deliveries(request: web.Request) -> web.StreamResponse:
    console, viewer = console_of(request), viewer_of(request)
    reach = viewer.reach()
    failed = await console.queries.deliveries(reach, "failed")
    pending = await console.queries.deliveries(reach, "pending")
    context = {"failed": failed, "pending": pending, "may_retry": viewer.may_retry_deliveries}
    return render(request, "deliveries.html", context)


async def retry(request: web.Request) -> web.StreamResponse:
    """The service's own retry (as `outbox retry`): it decides who may, and audits it."""
    console, viewer = console_of(request), viewer_of(request)
    typed = request.match_info["id"]
    if not (typed.isascii() and typed.isdigit()) or not 0 < int(typed) < 2**63:  # a row id, as storage keeps it
        raise web.HTTPNotFound()
    delivery_id = int(typed)
    command = RetryDeliveries(viewer.person, (delivery_id,), within=viewer.reach(), via="console")
    try:
        retried = await console.service.deliveries.retry(command)
    except Refused as refusal:
        raise web.HTTPForbidden(text=refusal.message) from None
    if not retried:
        raise web.HTTPNotFound()
    back = str((await request.post()).get("back") or "")
    location = back if back.startswith("/console/") and not back.startswith("//") else "/console/deliveries"
    return web.Response(status=303, headers={"Location": location})


def routes(app: web.Application) -> None:
    app.router.add_get("/deliveries", deliveries)
    app.router.add_post("/deliveries/{id}/retry", retry)
