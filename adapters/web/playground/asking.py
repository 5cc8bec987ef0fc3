"""What people type to the bot (``/escalate …`` in Slack, a message to the bot in Teams) and
the escalation form: the core's grammar parses the words, the service answers, and the
answer is shown to that person alone."""

from __future__ import annotations

import uuid

from aiohttp import web

from workflows.errors import Refused
from workflows.model import Escalation, Expert, Platform, Priority
from workflows.ports import Scope
from workflows.requests import (
    Away,
    Back,
    Compose,
    Help,
    Join,
    Leave,
    Mistake,
    Open,
    Search,
    Status,
    UnknownCommunity,
    WhoAmI,
)
from workflows.requests import parse as parse_words

from .app import Playground
from .common import back, form_of, platform_of, settled, you_of


async def say(request: web.Request) -> web.StreamResponse:
    """What a person types: ``/escalate …`` in Slack, a message to the bot in Teams."""
    playground, you = you_of(request)
    fields = await form_of(request)
    platform = platform_of(fields)
    ref = playground.ref(you, platform)
    community = fields.get("c", "")
    if ref is None:
        raise web.HTTPBadRequest(text=f"{you.label()} has no {platform.value} account in the sample configuration")
    communities = playground.service.directory.all()
    typed = fields.get("text", "").strip()[:40_000]
    if platform == Platform.slack:
        typed = typed.removeprefix("/escalate")  # the pane shows the slash command already
    words = parse_words(typed, [c.key for c in communities])
    scope = Scope(platform.value, ref.tenant)
    service = playground.service
    answers = playground.answers[platform]
    try:
        if isinstance(words, Help):
            playground.show(you, platform, answers.help(communities))
        elif isinstance(words, Mistake):
            playground.show(you, platform, answers.mistake(words))
        elif isinstance(words, WhoAmI):
            playground.show(you, platform, answers.whoami(ref, communities))
        elif isinstance(words, Search):
            found = await service.search(words.words[:500], scope, limit=5)
            playground.show(you, platform, answers.search(words.words, found))
        elif isinstance(words, Away | Back | Join | Leave):
            playground.tell(you, platform, (await service.presence.respond(ref, words)).text)
        elif isinstance(words, Status):
            asked, held = await service.requested_by(ref, scope), await service.held_by(ref, scope)
            playground.show(you, platform, answers.status(asked, held, playground.clock.now()))
        elif isinstance(words, Open):
            await _open(playground, you, platform, words.community, words.question)
        elif isinstance(words, Compose | UnknownCommunity):
            if isinstance(words, UnknownCommunity):
                playground.tell(you, platform, words.note)
            return back(
                words.community if isinstance(words, Compose) and words.community else community,
                form=platform.value,
                question=words.question,
            )
    except Refused as refusal:
        playground.tell(you, platform, refusal.message)
    return await settled(playground, community)


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
        playground.show(you, platform, playground.answers[platform].opened(esc))
    return esc


async def open_form(request: web.Request) -> web.StreamResponse:
    """The escalation form (Slack's modal, Teams' card), submitted."""
    playground, you = you_of(request)
    fields = await form_of(request)
    platform = platform_of(fields)
    priority = fields.get("priority") or "normal"
    question = fields.get("question", "").strip()
    link = fields.get("link", "").strip() or None
    if not question or priority not in Priority.__members__ or (link and not link.startswith(("http://", "https://"))):
        problem = "Say what you need help with, pick a priority, and give a link as https://… or none."
        playground.tell(you, platform, problem)
        return back(fields.get("community", ""), form=platform.value, question=question)
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
    return await settled(playground, fields.get("c", ""))
