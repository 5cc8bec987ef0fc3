"""The playground as an aiohttp sub-application under /playground: who you are (a signed
cookie naming a person of the sample configuration, with its CSRF token), the security
headers of the console, and the simulated clock."""

from __future__ import annotations

import hmac
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import aiohttp_jinja2
import jinja2
from aiohttp import web

from workflows.effects import Suggestion
from workflows.model import Community, Escalation, Expert, PersonRef, Platform
from workflows.requests import Mistake
from workflows.service import EscalationService

from ..console import security_headers
from ..session import sign, unsign
from .feed import Feed
from .markup import filters

HERE = Path(__file__).parent
COOKIE = "eb_playground"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class SimulatedClock(Protocol):
    def now(self) -> datetime: ...

    def advance(self, delta: timedelta) -> datetime: ...

    def set(self, moment: datetime) -> None: ...


@dataclass
class Note:
    """An answer only its reader sees (Slack's ephemeral message, Teams' reply in the 1:1
    chat), as a ``Post`` body: blocks, a card, a Teams message's HTML, or plain text."""

    platform: str
    body: dict[str, Any]


class Answers(Protocol):
    """How one platform's adapter words its answers to a person alone, by its own functions
    (``bot/playground_senders.py``): the page shows them as that platform would."""

    def help(self, communities: Sequence[Community]) -> dict[str, Any]: ...

    def mistake(self, mistake: Mistake) -> dict[str, Any]: ...

    def text(self, text: str) -> dict[str, Any]: ...

    def whoami(self, person: PersonRef, communities: Sequence[Community]) -> dict[str, Any]: ...

    def search(self, words: str, hits: Sequence[Suggestion]) -> dict[str, Any]: ...

    def opened(self, esc: Escalation) -> dict[str, Any]: ...

    def status(self, asked: Sequence[Escalation], held: Sequence[Escalation], now: datetime) -> dict[str, Any]: ...

    def answered(
        self, control: str, fields: Mapping[str, str], esc: Escalation | None, dm: dict[str, Any]
    ) -> dict[str, Any] | None:
        """A private message whose button ``control`` went through, as the adapter replaces it
        (``esc``: the question now); None: it stays as it is."""
        ...


@dataclass
class Playground:
    service: EscalationService
    feed: Feed
    clock: SimulatedClock
    people: Sequence[Expert]  # whom the "you are" picker offers
    tenants: Mapping[Platform, str]  # the sample workspace and tenant
    # Runs due timers and the digest and delivers the outbox: after every click and clock move.
    settle: Callable[[], Awaitable[None]]
    public_url: str
    # Each platform's wording of answers for one person alone.
    answers: Mapping[Platform, Answers]
    # The Slack App Home tab of a person, as the Slack adapter would publish it.
    home: Callable[[PersonRef], Awaitable[dict[str, Any]]] | None = None
    # A one-time sign-in link to the web console over the same story.
    console_link: Callable[[PersonRef], Awaitable[str]] | None = None
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    key: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    notes: dict[str, list[Note]] = field(default_factory=dict)  # by the person's key

    @property
    def link(self) -> str:
        """The URL to open: the key in it makes the browser that opens it the one who may play."""
        return f"{self.public_url.rstrip('/')}/playground/?key={self.key}"

    def person(self, key: str) -> Expert | None:
        return next((p for p in self.people if p.key == key), None)

    def ref(self, person: Expert, platform: Platform) -> PersonRef | None:
        """The person as that platform's adapter would name them (its workspace or tenant)."""
        ref = person.ref_on(platform)
        if ref is None:
            return None
        return ref.model_copy(update={"tenant": self.tenants.get(platform, ""), "name": person.label()})

    def slack_people(self) -> dict[str, PersonRef]:
        found = {}
        for person in self.people:
            ref = self.ref(person, Platform.slack)
            if ref is not None:
                found[ref.id] = ref
        return found

    def names(self) -> dict[str, str]:
        return {ref.id: ref.label() for ref in self.slack_people().values()}

    def tell(self, person: Expert, platform: Platform, text: str) -> None:
        """A sentence of the core (or the page's own) for ``person`` alone, as ``platform`` says it."""
        self.show(person, platform, self.answers[platform].text(text))

    def show(self, person: Expert, platform: Platform, body: dict[str, Any]) -> None:
        self.notes.setdefault(person.key, []).append(Note(platform.value, body))

    # ------------------------------------------------------------ the app

    def mount(self, app: web.Application) -> None:
        from . import views

        sub = web.Application(middlewares=[security_headers("/playground/static/"), self._player])
        sub[PLAYGROUND] = self
        env = aiohttp_jinja2.setup(
            sub,
            loader=jinja2.FileSystemLoader(str(HERE / "templates")),
            autoescape=jinja2.select_autoescape(["html"], default=True),
            # Platform JSON leaves out what it does not use: a missing key reads as nothing.
            undefined=jinja2.ChainableUndefined,
        )
        env.filters.update(filters(self.names))
        env.filters["clock"] = lambda at: at.strftime("%a %d %b, %H:%M UTC")
        env.filters["hhmm"] = lambda at: at.strftime("%a %H:%M")
        static = sub.router.add_static("/static/", HERE / "static", append_version=True, name="static")
        env.globals["static"] = lambda name: str(static.url_for(filename=name))
        views.routes(sub)
        app.add_subapp("/playground", sub)

    @web.middleware
    async def _player(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """The printed link's key starts a session; every POST carries its CSRF token."""
        if request.path.startswith("/playground/static/"):
            return await handler(request)
        key = request.query.get("key")
        if request.method == "GET" and key is not None:
            if not hmac.compare_digest(key.encode(), self.key.encode()):
                raise web.HTTPForbidden(text="This playground link is not the one printed at start: use that one.")
            response = web.HTTPSeeOther("/playground/")
            self.start_session(response, self.people[0].key)
            raise response
        session = self.session_of(request)
        if session is None:
            raise web.HTTPForbidden(text="Open the link escalation-bot playground printed to start playing.")
        request[PLAYER] = session
        if request.method == "POST":
            form = await request.post()
            sent = str(form.get("csrf") or "")
            if not (sent and hmac.compare_digest(sent.encode(), session["c"].encode())):
                raise web.HTTPForbidden(text="This form has expired (no valid CSRF token): reload the page.")
        return await handler(request)

    # Sessions run on the wall clock: the simulated one jumps days ahead.
    def start_session(self, response: web.StreamResponse, person_key: str, csrf: str | None = None) -> None:
        value = {"p": person_key, "c": csrf or secrets.token_urlsafe(24), "exp": time.time() + 12 * 3600}
        response.set_cookie(
            COOKIE,
            sign(self.secret, "playground", value),
            max_age=12 * 3600,
            path="/playground",
            httponly=True,
            samesite="Strict",
            secure=self.public_url.startswith("https://"),
        )

    def session_of(self, request: web.Request) -> dict[str, Any] | None:
        from datetime import UTC

        value = unsign(self.secret, "playground", request.cookies.get(COOKIE), datetime.now(UTC))
        if value is None or self.person(str(value.get("p"))) is None or not value.get("c"):
            return None
        return value


PLAYGROUND: web.AppKey[Playground] = web.AppKey("playground", Playground)
PLAYER: web.RequestKey[dict[str, Any]] = web.RequestKey("playground.player", dict)
