"""The console as an aiohttp sub-application under /console, and what every request
passes through: security headers, the session, the viewer, and CSRF on every POST."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
import jinja2
from aiohttp import web
from aiohttp.typedefs import Middleware
from yarl import URL

from workflows.clock import Clock
from workflows.console import ConsoleQueries, SignInLinks, Viewer, viewer_for
from workflows.directory import Directory
from workflows.model import Community, Expert, MessageRef, PersonRef
from workflows.service import EscalationService

from .config import ConsoleConfig
from .links import PeopleNames, SlackPermalink, thread_link_via
from .oidc import OidcClient
from .session import Session, csrf_ok, read_session, start_session, token_hash
from .session import end_session as clear_session

log = logging.getLogger("escalation_bot.console")

HERE = Path(__file__).parent
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def security_headers(static_prefix: str) -> Middleware:
    """The headers every page of ours carries (the console's and the playground's): the CSP
    without inline script, no sniffing, no framing; pages are never cached, static files are."""

    @web.middleware
    async def headers(request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        response.headers["Content-Security-Policy"] = CSP
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["X-Frame-Options"] = "DENY"
        if not request.path.startswith(static_prefix):
            response.headers["Cache-Control"] = "no-store"
        return response

    return headers


# Paths that need no session (the sign-in itself and the static files).
OPEN_PATHS = ("/console/signin", "/console/static/")


@dataclass
class WebConsole:
    config: ConsoleConfig
    service: EscalationService
    directory: Directory
    queries: ConsoleQueries
    links: SignInLinks
    clock: Clock
    # How ``config check`` prints a community's effective policy (the composition root's).
    describe_policy: Callable[[Community], list[str]] = lambda community: [community.name]
    # A Slack message's permalink, where Slack is connected (the composition root's).
    slack_permalink: SlackPermalink | None = None
    # People's names from their chat, for experts the configuration names by id only.
    people_names: PeopleNames | None = None

    def __post_init__(self) -> None:
        self.oidc = {
            p.name: OidcClient(p, self.config.url(f"/console/signin/{p.name}/callback")) for p in self.config.providers
        }

    async def labels(self, people: Sequence[Expert]) -> dict[str, str]:
        """Expert key -> how to show them: the configuration's name, else their chat's."""
        unnamed = [ref for person in people if not person.name for ref in person.refs]
        found = await self.people_names(unnamed) if self.people_names is not None and unnamed else {}
        labels = {}
        for person in people:
            chat = next((found[ref.key] for ref in person.refs if ref.key in found), None)
            labels[person.key] = person.name or chat or person.label()
        return labels

    async def thread_link(self, ref: MessageRef) -> str | None:
        """A link that opens ``ref``'s thread in its chat."""
        return await thread_link_via(ref, self.slack_permalink)

    # ------------------------------------------------------------ sign-in links

    async def new_link(self, person: PersonRef, then: str | None = None) -> str:
        """A one-time sign-in link for ``person`` (leading to the page ``then``); only its
        hash is stored."""
        token = secrets.token_urlsafe(32)
        now = self.clock.now()
        await self.links.issue(token_hash(token), person, now, now + self.config.link_ttl)
        query = {"token": token, **({"next": then} if then else {})}
        return self.config.url(f"/console/signin/link?{urlencode(query)}")

    # ------------------------------------------------------------ sessions

    async def begin_session(self, response: web.StreamResponse, person: PersonRef) -> None:
        """Sign ``person`` in: the cookie, and the server's record of it."""
        now = self.clock.now()
        session = start_session(response, self.config, person, now)
        await self.links.start(token_hash(session.id), person, now, now + self.config.session_ttl)

    async def end_session(self, request: web.Request, response: web.StreamResponse) -> None:
        """Sign out: the server forgets the session (a copy of the cookie no longer works),
        and the browser its cookie."""
        session: Session | None = request.get(SESSION)
        if session is not None:
            await self.links.end(token_hash(session.id), self.clock.now())
        clear_session(response)

    # ------------------------------------------------------------ the viewer

    def communities(self) -> Sequence[Community]:
        return self.directory.all()

    def viewer(self, person: PersonRef, known_as: PersonRef | None = None) -> Viewer:
        return viewer_for(person, self.directory.all(), getattr(self.directory, "admins", ()), known_as)

    # ------------------------------------------------------------ the app

    def mount(self, app: web.Application) -> None:
        from .views import communities, deliveries, escalations, knowledge, overview, signin

        sub = web.Application(middlewares=[security_headers("/console/static/"), self._errors, self._signed_in])
        sub[CONSOLE] = self
        env = aiohttp_jinja2.setup(
            sub,
            loader=jinja2.FileSystemLoader(str(HERE / "templates")),
            autoescape=jinja2.select_autoescape(["html"], default=True),
            undefined=jinja2.StrictUndefined,
        )
        env.filters["when"] = lambda at: at.strftime("%Y-%m-%d %H:%M UTC") if at else ""
        env.filters["delivery"] = lambda kind: DELIVERY_WORDS.get(kind, kind)
        static = sub.router.add_static("/static/", HERE / "static", append_version=True, name="static")
        env.globals["static"] = lambda name: str(static.url_for(filename=name))
        for module in (signin, escalations, knowledge, deliveries, overview, communities):
            module.routes(sub)
        app.add_subapp("/console", sub)

        async def home(_: web.Request) -> web.StreamResponse:
            raise web.HTTPFound("/console/")

        app.router.add_get("/", home)

    @web.middleware
    async def _errors(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """404, 403 and the like as pages; anything unexpected as a 500 page without internals."""
        try:
            return await handler(request)
        except web.HTTPException as exc:
            if exc.status in (400, 403, 404, 405):
                return error_page(request, exc.status, exc.text if exc.status in (400, 403) else None)
            raise
        except Exception:
            log.exception("console request failed", extra={"path": request.path})
            return error_page(request, 500, None)

    @web.middleware
    async def _signed_in(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith("/console/static/"):
            return await handler(request)  # no session to look up for a stylesheet
        if _nul_in(request.path, *request.query.values()):
            # No name, id or word holds one (and PostgreSQL refuses to compare with one).
            raise web.HTTPBadRequest(text="The address holds a NUL character (%00): nothing here is named so.")
        now = self.clock.now()
        session = read_session(request, self.config, now)
        if session is not None and not await self.links.live(token_hash(session.id), now):
            session = None  # signed out (or never recorded): the cookie alone is not enough
        request[SESSION] = session
        if session is not None:
            # Signed in by an Entra object id: who the Teams chat knows them as, if it has seen them.
            known = await self.queries.known_as(session.person) if session.person.aad else None
            request[VIEWER] = self.viewer(session.person, known)
        if request.path.startswith(OPEN_PATHS):
            return await handler(request)
        if session is None:
            if request.method == "GET":
                raise web.HTTPFound(f"/console/signin?next={request.rel_url.path_qs}")
            raise web.HTTPForbidden(text="Your session has ended: sign in again.")
        if request.method == "POST":
            form = await request.post()
            if not csrf_ok(session, str(form.get("csrf") or "")):
                raise web.HTTPForbidden(text="This form has expired (no valid CSRF token): reload the page.")
            if _nul_in(*(str(value) for value in form.values())):
                raise web.HTTPBadRequest(text="The form holds a NUL character: nothing typed here may.")
        return await handler(request)


def _nul_in(*texts: str) -> bool:
    return any("\x00" in text for text in texts)


CONSOLE: web.AppKey[WebConsole] = web.AppKey("console", WebConsole)
SESSION: web.RequestKey[Session | None] = web.RequestKey("console.session", Session)
VIEWER: web.RequestKey[Viewer] = web.RequestKey("console.viewer", Viewer)

# What each outbox message is, in words (effects' kinds, workflows/effects.py).
DELIVERY_WORDS = {
    "post_card": "card posted",
    "update_card": "card updated",
    "thread_reply": "reply in the thread",
    "source_note": "note under the question",
    "notify": "direct message",
    "post_digest": "digest",
}

_TITLES = {400: "Not understood", 403: "Not allowed", 404: "Not found", 405: "Not allowed", 500: "Something went wrong"}


def error_page(request: web.Request, status: int, message: str | None) -> web.Response:
    context = {"status": status, "title": _TITLES.get(status, "Error"), "message": message, "back": _came_from(request)}
    return render(request, "error.html", context, status=status)


def _came_from(request: web.Request) -> str | None:
    """The console page a refused form or link was on (its Referer, ours only), to go back to."""
    try:
        referer = URL(request.headers.get("Referer", ""))
    except ValueError:
        return None
    if referer.host != request.url.host or referer.port != request.url.port:
        return None
    path = referer.path
    if not path.startswith("/console/") or path.startswith(("//", "/console/signin")) or path == request.path:
        return None
    return referer.path_qs


def render(request: web.Request, template: str, context: dict[str, Any], *, status: int = 200) -> web.Response:
    session: Session | None = request.get(SESSION)
    base = {
        "viewer": request.get(VIEWER),
        "csrf": session.csrf if session else "",
        "path": request.path,
    }
    return aiohttp_jinja2.render_template(template, request, {**base, **context}, status=status)


def console_of(request: web.Request) -> WebConsole:
    return request.app[CONSOLE]


def viewer_of(request: web.Request) -> Viewer:
    viewer: Viewer = request[VIEWER]
    return viewer
