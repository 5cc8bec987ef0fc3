"""The aiohttp application: health, readiness, and the platforms' endpoints."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable

from aiohttp import web

from .legal import legal_pages
from .metrics import metrics_endpoint
from .migrate import SchemaNotCurrent, check_current
from .runtime import Runtime

log = logging.getLogger("escalation_bot.app")

RUNTIME: web.AppKey[Runtime] = web.AppKey("runtime", Runtime)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def no_tracebacks(request: web.Request, handler: Handler) -> web.StreamResponse:
    """An unexpected error is logged in full and answered without internals."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception:
        log.exception("request failed", extra={"path": request.path})
        return web.json_response({"ok": False, "error": "internal error"}, status=500)


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


async def readyz(request: web.Request) -> web.Response:
    runtime = request.app[RUNTIME]
    report: dict[str, object] = {"database": "ok", "migrations": "current"}
    status = 200
    try:
        await runtime.store.ping()
    except Exception as exc:
        report["database"] = f"unreachable: {type(exc).__name__}"
        return web.json_response({"ok": False, **report}, status=503)
    try:
        await check_current(runtime.store.engine)
    except SchemaNotCurrent as exc:
        report["migrations"] = str(exc)
        status = 503
    else:
        now = runtime.clock.now()
        async with runtime.store.unit_of_work() as uow:
            oldest = await uow.outbox.oldest_pending()
            overdue = await uow.escalations.oldest_overdue(now)
            counts = await uow.outbox.counts()
        report["oldest_undelivered_s"] = round((now - oldest).total_seconds(), 1) if oldest else 0
        report["most_overdue_timer_s"] = round((now - overdue).total_seconds(), 1) if overdue else 0
        report["outbox"] = counts
    reloader = runtime.config_reloader
    if reloader is not None and reloader.problem:
        # Still serving on the last good configuration, so still ready: said, not failed.
        report["config"] = f"not reloaded, the running configuration stays: {reloader.problem}"
    return web.json_response({"ok": status == 200, **report}, status=status)


def build_app(
    runtime: Runtime,
    *,
    mounts: Iterable[Callable[[web.Application], None]] = (),
    start_jobs: bool = True,
    pages: Callable[[web.Application], None] | None = None,
) -> web.Application:
    """``pages``: the privacy and terms pages (``bot.legal``); their default text otherwise."""
    app = web.Application(middlewares=[no_tracebacks], client_max_size=2 * 1024 * 1024)
    app[RUNTIME] = runtime
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_endpoint)
    (pages or legal_pages())(app)
    for mount in mounts:
        mount(app)

    async def started(_: web.Application) -> None:
        if start_jobs:
            runtime.start()

    async def stopping(_: web.Application) -> None:
        await runtime.stop()

    app.on_startup.append(started)
    app.on_cleanup.append(stopping)
    return app
