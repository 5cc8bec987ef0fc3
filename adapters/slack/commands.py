"""``/escalate``, its form and the message shortcut. The text goes through the core's grammar
(``workflows.requests``); what comes back is rendered here for Slack, escaped by Slack's rules.
Every answer is for the person who asked alone (ephemeral, or the modal)."""

from __future__ import annotations

import html
import json
import logging
import re
from collections.abc import Sequence
from typing import Any

from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from workflows.clock import Clock
from workflows.durations import humanize
from workflows.effects import Suggestion
from workflows.errors import Reason, Refused
from workflows.model import ChannelRef, Community, Escalation, MessageRef, PersonRef, Platform, Priority
from workflows.ports import Scope
from workflows.requests import (
    FORMS,
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
    parse,
    whoami,
)
from workflows.service import EscalationService

from . import views
from .home import SlackHome, SlackLinks
from .text import SLASH, escape, usage

log = logging.getLogger("escalation_bot.slack")

MAX_TEXT = 40_000


# ---------------------------------------------------------------- who asks, where


def team_of(body: dict[str, Any]) -> str:
    team = body.get("team_id") or (body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id")
    return str(team or "")


def person_of(body: dict[str, Any], user_id: str | None = None) -> PersonRef:
    user = body.get("user")
    name: str | None = None
    if user_id is None:
        if isinstance(user, dict):
            user_id = user.get("id")
            name = user.get("name") or user.get("username")
        else:
            user_id = body.get("user_id")
            name = body.get("user_name")
    return PersonRef(platform=Platform.slack, id=str(user_id or ""), tenant=team_of(body), name=name)


def scope_of(body: dict[str, Any]) -> Scope:
    return Scope(Platform.slack.value, team_of(body))


# ---------------------------------------------------------------- the grammar, in Slack's words


def help_text(communities: Sequence[Community]) -> str:
    lines = [f"*{SLASH}* gets a question in front of the experts who can answer it."]
    lines += [f"• {usage(form.words)} {escape(form.does)}" for form in FORMS]
    lines.append("You can also use the *Escalate to experts* shortcut on any message.")
    known = ", ".join(f"`{escape(c.key)}` ({escape(c.name)})" for c in communities) or "none configured"
    lines.append(f"Communities: {known}")
    return "\n".join(lines)


def mistake_text(mistake: Mistake) -> str:
    return f"{escape(mistake.problem)} {usage(mistake.usage)}"


def whoami_text(person: PersonRef, communities: Sequence[Community], channel: ChannelRef | None) -> str:
    identity = whoami(person, communities, channel)
    lines = ["For the bot's configuration file:"]
    lines += [f"• {escape(what)}: `{escape(value)}`" for what, value in identity.facts]
    lines.append(escape(identity.roles))
    return "\n".join(lines)


def held_words(esc: Escalation) -> str:
    """The confirmation for a question held while its requester looks at earlier answers:
    it is not posted yet, and must not be said to be."""
    wait = esc.policy.deflection_wait
    when = f"in {humanize(wait)}" if wait else "soon"
    return (
        f"Similar questions were answered before: I've sent you their answers in a DM (`#{esc.short_id()}`). "
        f"If one answers yours, press *This answers it* there. Otherwise your question goes to the "
        f"*{escape(esc.community.name)}* experts when you press *Still escalate*, or {when} anyway."
    )


def opened_words(esc: Escalation, where: str = "") -> str:
    """What the requester is told, to them alone, when their question opens: held while they
    look at earlier answers, or on its way to the channel (``where`` the link will come)."""
    if esc.held:
        return held_words(esc)
    return (
        f"Escalated to *{escape(esc.community.name)}* as `#{esc.short_id()}`. "
        f"I'll send you a link to the question{where} as soon as it is posted."
    )


def readable(text: str) -> str:
    """Message text as a person would read it, for the question of an escalated message."""
    text = re.sub(r"<(https?://[^|>]+)\|([^>]+)>", r"\2 (\1)", text)
    text = re.sub(r"<(https?://[^>]+)>", r"\1", text)
    return html.unescape(text)


async def message_link(client: AsyncWebClient, channel: str, ts: str) -> str | None:
    """The permalink of a message escalated from, for the card's link; None if Slack will not say."""
    try:
        response = await client.chat_getPermalink(channel=channel, message_ts=ts)
        return str(response["permalink"])
    except SlackClientError:
        log.info("no permalink for the escalated message", extra={"channel": channel})
        return None


class SlackCommands:
    def __init__(
        self, service: EscalationService, client: AsyncWebClient, links: SlackLinks, home: SlackHome, clock: Clock
    ) -> None:
        self.service = service
        self.client = client
        self.links = links
        self.home = home
        self.clock = clock

    async def _open_view(self, trigger_id: str, view: dict[str, Any]) -> None:
        await self.client.views_open(trigger_id=trigger_id, view=view)

    # ------------------------------------------------------------ /escalate

    async def on_command(self, ack: Any, body: dict[str, Any], context: Any, respond: Any) -> None:
        directory = self.service.directory
        communities = directory.all()
        request = parse(str(body.get("text") or ""), [c.key for c in communities])
        person = person_of(body)
        if isinstance(request, Help):
            await ack(text=help_text(communities), response_type="ephemeral")
        elif isinstance(request, Mistake):
            await ack(text=mistake_text(request), response_type="ephemeral")
        elif isinstance(request, WhoAmI):
            channel_id = str(body.get("channel_id") or "")
            channel = None
            if channel_id[:1] in ("C", "G"):  # a DM is no community's channel
                channel = ChannelRef(platform=Platform.slack, id=channel_id, tenant=team_of(body))
            await ack(text=whoami_text(person, communities, channel), response_type="ephemeral")
        elif isinstance(request, Search):
            await self._search(ack, body, request.words)
        elif isinstance(request, Away | Back | Join | Leave):
            try:
                said = await self.service.presence.respond(person, request)
            except Refused as refusal:
                await ack(text=escape(refusal.message), response_type="ephemeral")
                return
            await ack(text=escape(said.text), response_type="ephemeral")
        elif isinstance(request, Status):
            scope = scope_of(body)
            items = await self.home.listed(await self.service.requested_by(person, scope), scope)
            await ack(
                text="Your open escalations",
                blocks=views.status_blocks(items, self.clock.now()),
                response_type="ephemeral",
            )
        elif isinstance(request, Open):
            await self._open(ack, body, person, request)
        else:
            await ack()
            note = request.note if isinstance(request, UnknownCommunity) else None
            await self._open_view(
                str(body["trigger_id"]),
                views.escalate_modal(
                    communities,
                    community=request.community if isinstance(request, Compose) else None,
                    question=request.question,
                    note=note,
                    metadata={"channel": body.get("channel_id")},
                ),
            )

    async def _open(self, ack: Any, body: dict[str, Any], person: PersonRef, request: Open) -> None:
        community = self.service.directory.get(request.community)
        name = community.name if community else request.community
        try:
            outcome = await self.service.open(
                requester=person,
                community_key=request.community,
                question=request.question[:MAX_TEXT],
                event=("slack", f"command:{body.get('trigger_id')}"),
            )
        except Refused as refusal:
            await ack(text=escape(refusal.message), response_type="ephemeral")
            return
        esc = outcome.escalation
        text = opened_words(esc) if esc is not None else f"Escalated to *{escape(name)}*."
        await ack(text=text, response_type="ephemeral")

    async def _search(self, ack: Any, body: dict[str, Any], words: str) -> None:
        hits = await self.service.search(words[:500], scope_of(body), limit=5)
        found: list[tuple[Suggestion, str | None]] = []
        for hit in hits:
            card = hit.card
            # The archive form of the link: no call per result while Slack waits for the answer.
            url = await self.links.archive_url(card) if card is not None and card.platform == Platform.slack else None
            found.append((hit, url))
        names = {c.key: c.name for c in self.service.directory.all()}
        text = f"Answers for “{escape(words[:100])}”" if found else "Nothing found"
        await ack(text=text, blocks=views.search_blocks(words, found, names), response_type="ephemeral")

    # ------------------------------------------------------------ message shortcut

    async def on_message_shortcut(self, ack: Any, body: dict[str, Any], context: Any, respond: Any) -> None:
        await ack()
        message = body.get("message") or {}
        channel = str((body.get("channel") or {}).get("id") or "")
        ts = str(message.get("ts") or "")
        permalink = await message_link(self.client, channel, ts) if channel and ts else None
        await self._open_view(
            str(body["trigger_id"]),
            views.escalate_modal(
                self.service.directory.all(),
                question=readable(str(message.get("text") or "")),
                link_url=permalink,
                metadata={"source": {"c": channel, "ts": ts}} if channel and ts else {},
            ),
        )

    # ------------------------------------------------------------ the form, submitted

    async def on_escalate_submitted(self, ack: Any, body: dict[str, Any], context: Any, respond: Any) -> None:
        view = body.get("view") or {}
        values = views.modal_values(view)
        errors: dict[str, str] = {}
        community_key = (values.get("community") or "").strip()
        question = (values.get("question") or "").strip()
        link_url = (values.get("link") or "").strip() or None
        priority = values.get("priority") or Priority.normal.value
        if not community_key or self.service.directory.get(community_key) is None:
            errors["community"] = "Pick one of the communities."
        if not question:
            errors["question"] = "Say what you need help with."
        if link_url and not re.match(r"^https?://\S+$", link_url):
            errors["link"] = "A link starts with https:// (or leave it empty)."
        if priority not in {p.value for p in Priority}:
            errors["priority"] = "Pick a priority."
        if errors:
            await ack(response_action="errors", errors=errors)
            return
        source = None
        try:
            meta = json.loads(view.get("private_metadata") or "{}")
            if meta.get("source"):
                source = MessageRef(
                    platform=Platform.slack,
                    channel=meta["source"]["c"],
                    id=meta["source"]["ts"],
                    tenant=team_of(body),
                )
        except (ValueError, KeyError, TypeError):
            log.info("unreadable private_metadata on the escalation form")
        try:
            outcome = await self.service.open(
                requester=person_of(body),
                community_key=community_key,
                question=question,
                priority=Priority(priority),
                customer=(values.get("customer") or "").strip() or None,
                link=link_url,
                source=source,
                event=("slack", f"view:{view.get('id')}"),
            )
        except Refused as refusal:
            field = "community" if refusal.reason == Reason.unknown_community else "question"
            await ack(response_action="errors", errors={field: refusal.message[:150]})
            return
        esc = outcome.escalation
        short = esc.short_id() if esc else ""
        community = self.service.directory.get(community_key)
        name = community.name if community else community_key
        if esc is not None and esc.held:
            notice = views.notice_modal("Answered before?", held_words(esc))
        else:
            notice = views.notice_modal(
                "Escalated",
                f"Your question is on its way to *{escape(name)}* as `#{short}`. "
                "I'll send you a link to it in a DM as soon as it is posted.",
            )
        await ack(response_action="update", view=notice)


__all__ = [
    "MAX_TEXT",
    "SLASH",
    "SlackCommands",
    "held_words",
    "help_text",
    "message_link",
    "opened_words",
    "person_of",
    "readable",
    "scope_of",
    "team_of",
]
