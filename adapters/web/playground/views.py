"""The page and what each of its forms does: the same requests and commands the Slack and
Teams adapters make of the same words and clicks, through the same service."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import aiohttp_jinja2
from aiohttp import web

from workflows.commands import BaseCommand, Claim, Reply, reaction_command
from workflows.errors import Refused
from workflows.model import Community, Escalation, MessageRef, Platform, Priority
from workflows.ports import Scope

from .app import PLAYER, Playground
from .asking import open_form, say
from .common import PLATFORMS, back, community_of, form_of, platform_of, settled, you_of
from .feed import Post
from .translate import command_for, slack_target

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
    app.router.add_post("/console", console)


def _channel(community: Community, platform: Platform) -> str | None:
    return next((c.id for c in community.channels if c.platform == platform), None)


async def page(request: web.Request) -> web.Response:
    playground, you = you_of(request)
    community = community_of(playground, request.query.get("c"))
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
                "home": await playground.home(ref) if ref and playground.home and platform == Platform.slack else None,
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
        "console": playground.console_link is not None,
    }
    return aiohttp_jinja2.render_template("playground.html", request, context)


async def be(request: web.Request) -> web.StreamResponse:
    playground, _ = you_of(request)
    fields = await form_of(request)
    person = playground.person(fields.get("person", ""))
    if person is None:
        raise web.HTTPBadRequest(text="no such person in the sample configuration")
    response = back(fields.get("c", ""))
    playground.start_session(response, person.key, request[PLAYER]["c"])
    return response


def _on_post(playground: Playground, fields: dict[str, str], platform: Platform) -> Post:
    post = playground.feed.get(fields.get("post", ""))
    if post is None or post.platform != platform.value:
        raise web.HTTPBadRequest(text="no such message")
    return post


async def reply(request: web.Request) -> web.StreamResponse:
    """A reply in a card's thread: the message appears, then goes to the service as a Reply."""
    playground, you = you_of(request)
    fields = await form_of(request)
    platform = platform_of(fields)
    card = _on_post(playground, fields, platform)
    ref = playground.ref(you, platform)
    text = fields.get("text", "").strip()[:40_000]
    if ref is None or not text:
        return back(fields.get("c", ""))
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
    return await settled(playground, fields.get("c", ""))


async def react(request: web.Request) -> web.StreamResponse:
    """A reaction on a card: Slack claims or resolves by the policy's emoji; Teams claims by any."""
    playground, you = you_of(request)
    fields = await form_of(request)
    platform = platform_of(fields)
    card = _on_post(playground, fields, platform)
    ref = playground.ref(you, platform)
    emoji = fields.get("emoji", "")
    if ref is None or not emoji:
        return back(fields.get("c", ""))
    playground.feed.react(card.id, emoji, you.label())
    click = uuid.uuid4().hex

    def command_of(esc: Escalation) -> BaseCommand | None:
        if platform == Platform.teams:
            return Claim(id=f"playground:{click}", escalation_id=esc.id, actor=ref)
        return reaction_command(esc, emoji, id=f"playground:{click}", actor=ref)

    try:
        await playground.service.handle_on_card(
            platform.value, card.where, card.id, command_of, scope=Scope(platform.value, ref.tenant)
        )
    except Refused as refusal:
        playground.tell(you, platform, refusal.message)
    return await settled(playground, fields.get("c", ""))


async def act(request: web.Request) -> web.StreamResponse:
    """A button, a picker or a card's submit, on a card, a DM or the digest."""
    playground, you = you_of(request)
    fields = await form_of(request)
    platform = platform_of(fields)
    post = _on_post(playground, fields, platform)
    ref = playground.ref(you, platform)
    if ref is None:
        return back(fields.get("c", ""))
    target = slack_target(fields.get("value", "")) if platform == Platform.slack else None
    escalation_id = (target[0] if target else fields.get("escalation")) or post.escalation_id
    if not escalation_id:
        raise web.HTTPBadRequest(text="no question behind that button")
    command = command_for(
        platform, fields.get("control", ""), escalation_id, ref, fields, uuid.uuid4().hex, playground.slack_people()
    )
    if command is None:
        return await settled(playground, fields.get("c", ""))
    scope = Scope(platform.value, ref.tenant)
    try:
        await playground.service.handle(command, scope=scope)
    except Refused as refusal:
        playground.tell(you, platform, refusal.message)
        return await settled(playground, fields.get("c", ""))
    if post.kind == "dm":
        # A private message whose button was used: replaced as that platform's adapter replaces it.
        now = await playground.service.get(escalation_id, scope)
        answered = playground.answers[platform].answered(fields.get("control", ""), fields, now, post.body)
        if answered is not None:
            playground.feed.replace(post.id, answered)
    return await settled(playground, fields.get("c", ""))


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
    playground, _ = you_of(request)
    fields = await form_of(request)
    step = fields.get("step", "")
    if step == "morning":
        playground.clock.set(next_morning(playground.clock.now(), community_of(playground, fields.get("c"))))
    elif step in STEPS:
        playground.clock.advance(STEPS[step])
    else:
        raise web.HTTPBadRequest(text="step must be 15m, 1h or morning")
    return await settled(playground, fields.get("c", ""))


async def console(request: web.Request) -> web.StreamResponse:
    """The web console over the same story, signed in as whoever you are now."""
    playground, you = you_of(request)
    if playground.console_link is None:
        raise web.HTTPNotFound()
    ref = playground.ref(you, you.refs[0].platform)
    assert ref is not None
    raise web.HTTPSeeOther(await playground.console_link(ref))
