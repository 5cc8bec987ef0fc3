"""The page and what each of its forms does: the same requests and commands the Slack and
Teams adapters make of the same words and clicks, through the same service."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import aiohttp_jinja2
from aiohttp import web

from workflows.commands import BaseCommand, Claim, Reply, Resolve
from workflows.errors import Refused
from workflows.model import Community, Escalation, Expert, MessageRef, Platform, Priority
from workflows.ports import Scope
from workflows.requests import (
    FORMS,
    Away,
    Back,
    Compose,
    Help,
    Mistake,
    Open,
    Search,
    Status,
    UnknownCommunity,
    WhoAmI,
    whoami,
)
from workflows.requests import parse as parse_words

from .app import PLAYER, PLAYGROUND, Playground
from .feed import Post
from .translate import command_for, slack_target

PLATFORMS = (Platform.slack, Platform.teams)
STEPS = {"15m": timedelta(minutes=15), "1h": timedelta(hours=1)}


def routes(app: web.Application) -> None:
    app.router.add_get("/", page)
    app.router.add_post("/as", be)
    app.router.add_post("/say", say)
    app.router.add_post("/open", open_form)
    app.router.add_post("/reply", reply)
    app.router.add_post("/react", react)
    app.router.add_post("/act", act)
    app.router.add_post("/clock", clock)


def _you(request: web.Request) -> tuple[Playground, Expert]:
    playground = request.app[PLAYGROUND]
    person = playground.person(str(request[PLAYER]["p"]))
    assert person is not None  # the middleware let only a known person in
    return playground, person


def _community(playground: Playground, key: str | None) -> Community:
    communities = playground.service.directory.all()
    return next((c for c in communities if c.key == key), communities[0])


def _channel(community: Community, platform: Platform) -> str | None:
    return next((c.id for c in community.channels if c.platform == platform), None)


async def page(request: web.Request) -> web.Response:
    playground, you = _you(request)
    community = _community(playground, request.query.get("c"))
    panes = []
    for platform in PLATFORMS:
        ref = playground.ref(you, platform)
        channel = _channel(community, platform)
        panes.append(
            {
                "platform": platform.value,
                "title": "Slack" if platform == Platform.slack else "Microsoft Teams",
                "you": ref,
                "channel": channel,
                "posts": playground.feed.channel(platform.value, channel) if channel else [],
                "dms": playground.feed.channel(platform.value, f"dm:{ref.key}") if ref else [],
                "compose": request.query.get("form") == platform.value,
            }
        )
    notes = playground.notes.pop(you.key, [])
    context = {
        "you": you,
        "people": playground.people,
        "community": community,
        "communities": playground.service.directory.all(),
        "panes": panes,
        "notes": notes,
        "now": playground.clock.now(),
        "csrf": request[PLAYER]["c"],
        "slack_people": sorted(playground.slack_people().values(), key=lambda r: r.label()),
        "priorities": [p.value for p in Priority],
        "question": request.query.get("q", ""),
    }
    return aiohttp_jinja2.render_template("playground.html", request, context)


def _back(community: str, *, form: str | None = None, question: str = "") -> web.Response:
    query = f"?c={community}" + (f"&form={form}" if form else "")
    if question:
        from urllib.parse import quote

        query += f"&q={quote(question)}"
    return web.Response(status=303, headers={"Location": f"/playground/{query}"})


async def _form(request: web.Request) -> dict[str, str]:
    return {k: str(v) for k, v in (await request.post()).items()}


def _platform(fields: dict[str, str]) -> Platform:
    try:
        platform = Platform(fields.get("platform", ""))
    except ValueError:
        raise web.HTTPBadRequest(text="platform must be slack or teams") from None
    if platform not in PLATFORMS:
        raise web.HTTPBadRequest(text="platform must be slack or teams")
    return platform


async def be(request: web.Request) -> web.StreamResponse:
    playground, _ = _you(request)
    fields = await _form(request)
    person = playground.person(fields.get("person", ""))
    if person is None:
        raise web.HTTPBadRequest(text="no such person in the sample configuration")
    response = _back(fields.get("c", ""))
    playground.start_session(response, person.key, request[PLAYER]["c"])
    return response


async def _settled(playground: Playground, community: str, **back: str) -> web.Response:
    await playground.settle()
    return _back(community, **back)


async def say(request: web.Request) -> web.StreamResponse:
    """What a person types: ``/escalate …`` in Slack, a message to the bot in Teams."""
    playground, you = _you(request)
    fields = await _form(request)
    platform = _platform(fields)
    ref = playground.ref(you, platform)
    community = fields.get("c", "")
    if ref is None:
        raise web.HTTPBadRequest(text=f"{you.label()} has no {platform.value} account in the sample configuration")
    communities = playground.service.directory.all()
    words = parse_words(fields.get("text", "")[:4000], [c.key for c in communities])
    scope = Scope(platform.value, ref.tenant)
    prefix = "/escalate " if platform == Platform.slack else ""
    service = playground.service
    try:
        if isinstance(words, Help):
            lines = [f"{prefix}{form.words or '(nothing)'} — {form.does}" for form in FORMS]
            playground.tell(you, platform, "\n".join(lines))
        elif isinstance(words, Mistake):
            playground.tell(you, platform, f"{words.problem} {prefix}{words.usage}")
        elif isinstance(words, WhoAmI):
            identity = whoami(ref, communities, None)
            playground.tell(you, platform, "\n".join([*(f"{a}: {b}" for a, b in identity.facts), identity.roles]))
        elif isinstance(words, Search):
            found = await service.search(words.words[:500], scope, limit=5)
            lines = [f"#{s.escalation_id[:8]} {s.question[:200]} — answer: {s.answer[:300]}" for s in found]
            playground.tell(you, platform, "\n".join(lines) or f"Nothing found for “{words.words[:100]}”.")
        elif isinstance(words, Away):
            playground.tell(you, platform, (await service.presence.away(ref, words.words)).text)
        elif isinstance(words, Back):
            playground.tell(you, platform, (await service.presence.back(ref)).text)
        elif isinstance(words, Status):
            mine = await service.requested_by(ref, scope)
            lines = [f"#{e.short_id()} {e.question[:120]} — {e.status.value}" for e in mine]
            playground.tell(you, platform, "\n".join(lines) or "You have no open questions.")
        elif isinstance(words, Open):
            await _open(playground, you, platform, words.community, words.question)
        elif isinstance(words, Compose | UnknownCommunity):
            if isinstance(words, UnknownCommunity):
                playground.tell(you, platform, words.note)
            return _back(
                words.community if isinstance(words, Compose) and words.community else community,
                form=platform.value,
                question=words.question,
            )
    except Refused as refusal:
        playground.tell(you, platform, refusal.message)
    return await _settled(playground, community)


async def _open(
    playground: Playground,
    you: Expert,
    platform: Platform,
    community_key: str,
    question: str,
    priority: Priority = Priority.normal,
    customer: str | None = None,
    link: str | None = None,
) -> Escalation | None:
    ref = playground.ref(you, platform)
    assert ref is not None
    outcome = await playground.service.open(
        requester=ref,
        community_key=community_key,
        question=question,
        priority=priority,
        customer=customer,
        link=link,
        event=("playground", f"open:{uuid.uuid4().hex}"),
    )
    esc = outcome.escalation
    if esc is not None:
        if esc.held:
            text = (
                f"Similar questions were answered before: their answers are in your messages (#{esc.short_id()}). "
                "Press “This answers it” there, or “Still escalate”."
            )
        else:
            text = f"Escalated to {esc.community.name} as #{esc.short_id()}."
        playground.tell(you, platform, text)
    return esc


async def open_form(request: web.Request) -> web.StreamResponse:
    """The escalation form (Slack's modal, Teams' card), submitted."""
    playground, you = _you(request)
    fields = await _form(request)
    platform = _platform(fields)
    priority = fields.get("priority") or "normal"
    question = fields.get("question", "").strip()
    link = fields.get("link", "").strip() or None
    if not question or priority not in Priority.__members__ or (link and not link.startswith(("http://", "https://"))):
        problem = "Say what you need help with, pick a priority, and give a link as https://… or none."
        playground.tell(you, platform, problem)
        return _back(fields.get("community", ""), form=platform.value, question=question)
    try:
        await _open(
            playground,
            you,
            platform,
            fields.get("community", ""),
            question[:40_000],
            priority=Priority(priority),
            customer=fields.get("customer", "").strip()[:500] or None,
            link=link,
        )
    except Refused as refusal:
        playground.tell(you, platform, refusal.message)
    return await _settled(playground, fields.get("c", ""))


def _on_post(playground: Playground, fields: dict[str, str], platform: Platform) -> Post:
    post = playground.feed.get(fields.get("post", ""))
    if post is None or post.platform != platform.value:
        raise web.HTTPBadRequest(text="no such message")
    return post


async def reply(request: web.Request) -> web.StreamResponse:
    """A reply in a card's thread: the message appears, then goes to the service as a Reply."""
    playground, you = _you(request)
    fields = await _form(request)
    platform = _platform(fields)
    card = _on_post(playground, fields, platform)
    ref = playground.ref(you, platform)
    text = fields.get("text", "").strip()[:40_000]
    if ref is None or not text:
        return _back(fields.get("c", ""))
    said = Post(
        id=playground.feed.new_id(platform.value),
        platform=platform.value,
        where=card.where,
        author=you.label(),
        at=playground.clock.now(),
        body={"text": text},
        kind="typed",
    )
    playground.feed.post(said, thread=card.id)
    message = MessageRef(platform=platform, channel=card.where, id=said.id, tenant=ref.tenant)

    def reply_to(esc: Escalation) -> BaseCommand:
        return Reply(id=f"playground:{said.id}", escalation_id=esc.id, actor=ref, message=message, text=text)

    try:
        await playground.service.handle_on_card(
            platform.value, card.where, card.id, reply_to, scope=Scope(platform.value, ref.tenant)
        )
    except Refused as refusal:
        playground.tell(you, platform, refusal.message)
    return await _settled(playground, fields.get("c", ""))


async def react(request: web.Request) -> web.StreamResponse:
    """A reaction on a card: Slack claims or resolves by the policy's emoji; Teams claims by any."""
    playground, you = _you(request)
    fields = await _form(request)
    platform = _platform(fields)
    card = _on_post(playground, fields, platform)
    ref = playground.ref(you, platform)
    emoji = fields.get("emoji", "")
    if ref is None or not emoji:
        return _back(fields.get("c", ""))
    playground.feed.react(card.id, emoji, you.label())
    click = uuid.uuid4().hex

    def command_of(esc: Escalation) -> BaseCommand | None:
        base = {"id": f"playground:{click}", "escalation_id": esc.id, "actor": ref}
        if platform == Platform.teams or emoji in esc.policy.claim_reactions:
            return Claim(**base)
        if emoji in esc.policy.resolve_reactions:
            return Resolve(**base, via_reaction=True)
        return None

    try:
        await playground.service.handle_on_card(
            platform.value, card.where, card.id, command_of, scope=Scope(platform.value, ref.tenant)
        )
    except Refused as refusal:
        playground.tell(you, platform, refusal.message)
    return await _settled(playground, fields.get("c", ""))


async def act(request: web.Request) -> web.StreamResponse:
    """A button, a picker or a card's submit, on a card, a DM or the digest."""
    playground, you = _you(request)
    fields = await _form(request)
    platform = _platform(fields)
    post = _on_post(playground, fields, platform)
    ref = playground.ref(you, platform)
    if ref is None:
        return _back(fields.get("c", ""))
    target = slack_target(fields.get("value", "")) if platform == Platform.slack else None
    escalation_id = (target[0] if target else fields.get("escalation")) or post.escalation_id
    if not escalation_id:
        raise web.HTTPBadRequest(text="no question behind that button")
    command = command_for(
        platform, fields.get("control", ""), escalation_id, ref, fields, uuid.uuid4().hex, playground.slack_people()
    )
    if command is not None:
        try:
            await playground.service.handle(command, scope=Scope(platform.value, ref.tenant))
        except Refused as refusal:
            playground.tell(you, platform, refusal.message)
    return await _settled(playground, fields.get("c", ""))


def next_morning(now: datetime, community: Community) -> datetime:
    """The start of the next working day in the community's business hours (09:00 UTC on a
    weekday without them)."""
    hours = community.policy.business_hours
    zone = ZoneInfo(hours.timezone) if hours else ZoneInfo("UTC")
    days = hours.days if hours else ("mon", "tue", "wed", "thu", "fri")
    start = hours.start if hours else datetime.min.time().replace(hour=9)
    day = now.astimezone(zone).date() + timedelta(days=1)
    while day.strftime("%a").lower() not in days:
        day += timedelta(days=1)
    return datetime.combine(day, start, tzinfo=zone).astimezone(ZoneInfo("UTC"))


async def clock(request: web.Request) -> web.StreamResponse:
    playground, _ = _you(request)
    fields = await _form(request)
    step = fields.get("step", "")
    if step == "morning":
        playground.clock.set(next_morning(playground.clock.now(), _community(playground, fields.get("c"))))
    elif step in STEPS:
        playground.clock.advance(STEPS[step])
    else:
        raise web.HTTPBadRequest(text="step must be 15m, 1h or morning")
    return await _settled(playground, fields.get("c", ""))
