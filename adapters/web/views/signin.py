"""Sign-in: a one-time link, or an OpenID Connect provider; and sign-out."""

from __future__ import annotations

import logging

import aiohttp
from aiohttp import web

from ..console import console_of, render
from ..oidc import SignInFailed
from ..session import forget_signin, recall_signin, remember_signin, token_hash

log = logging.getLogger("escalation_bot.console")


def redirect(location: str) -> web.Response:
    return web.Response(status=302, headers={"Location": location})


def _next(target: str | None) -> str:
    """Only a path of ours: never an open redirect."""
    if target and target.startswith("/console/") and not target.startswith("//"):
        return target
    return "/console/"


async def signin_page(request: web.Request) -> web.StreamResponse:
    console = console_of(request)
    providers = [{"name": p.name, "label": p.label} for p in console.config.providers]
    context = {"providers": providers, "next": _next(request.query.get("next")), "problem": None}
    return render(request, "signin.html", context)


async def signin_link(request: web.Request) -> web.StreamResponse:
    console = console_of(request)
    token = request.query.get("token", "")
    person = await console.links.redeem(token_hash(token), console.clock.now()) if token else None
    if person is None:
        context = {
            "providers": [{"name": p.name, "label": p.label} for p in console.config.providers],
            "next": "/console/",
            "problem": "This sign-in link has been used already, has expired, or is not one of ours. "
            "Ask for a new one: escalation-bot console-link",
        }
        return render(request, "signin.html", context, status=403)
    response = redirect(_next(request.query.get("next")))
    await console.begin_session(response, person)
    log.info("console sign-in", extra={"person": person.key, "by": "link"})
    return response


async def signin_start(request: web.Request) -> web.StreamResponse:
    console = console_of(request)
    client = console.oidc.get(request.match_info["provider"])
    if client is None:
        raise web.HTTPNotFound()
    async with aiohttp.ClientSession() as http:
        try:
            url, remember = await client.authorize_url(http)
        except (SignInFailed, aiohttp.ClientError, KeyError) as exc:
            log.warning("console sign-in unavailable", extra={"provider": client.provider.name, "error": str(exc)})
            raise web.HTTPForbidden(text=f"{client.provider.label} cannot be reached just now.") from None
    response = redirect(url)
    remember["provider"] = client.provider.name
    remember["next"] = _next(request.query.get("next"))
    remember["exp"] = str(console.clock.now().timestamp() + 600)
    remember_signin(response, console.config, remember)
    return response


async def signin_callback(request: web.Request) -> web.StreamResponse:
    console = console_of(request)
    client = console.oidc.get(request.match_info["provider"])
    if client is None:
        raise web.HTTPNotFound()
    now = console.clock.now()
    pending = recall_signin(request, console.config, now)
    code = None
    if pending is not None and pending.get("provider") == client.provider.name:
        code = client.code_of(str(request.rel_url), str(pending.get("state") or ""))
    if pending is None or code is None:
        raise web.HTTPForbidden(text="This sign-in did not start here, or took too long: try again.")
    async with aiohttp.ClientSession() as http:
        try:
            person = await client.person(http, code, pending, now)
        except SignInFailed as exc:
            why = f"{exc} ({exc.detail})" if exc.detail else str(exc)
            log.warning("console sign-in refused", extra={"provider": client.provider.name, "error": why})
            raise web.HTTPForbidden(text=f"Sign-in refused: {exc}.") from None
        except (aiohttp.ClientError, KeyError, ValueError) as exc:
            log.warning("console sign-in refused", extra={"provider": client.provider.name, "error": repr(exc)})
            raise web.HTTPForbidden(
                text=f"Sign-in refused: {client.provider.label}'s answer could not be read. The error was logged."
            ) from None
    response = redirect(str(pending.get("next") or "/console/"))
    forget_signin(response)
    await console.begin_session(response, person)
    log.info("console sign-in", extra={"person": person.key, "by": client.provider.name})
    return response


async def signout(request: web.Request) -> web.StreamResponse:
    response = redirect("/console/signin")
    await console_of(request).end_session(request, response)
    return response


def routes(app: web.Application) -> None:
    app.router.add_get("/signin", signin_page)
    app.router.add_get("/signin/link", signin_link)
    app.router.add_get("/signin/{provider}", signin_start)
    app.router.add_get("/signin/{provider}/callback", signin_callback)
    app.router.add_post("/signout", signout)
