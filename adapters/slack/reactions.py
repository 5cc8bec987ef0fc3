"""Escalating a message with an emoji (``escalate_reactions``): the reaction becomes the same
``Open`` the message shortcut makes (the message as the question, its author as context, its
permalink as the link, the person who reacted as the requester), through the core's
``escalate_message``, which keeps it to one question per message and community.

Translation only. What the event does not say (the message itself, whether the person who
reacted is a bot or from another workspace) is read from Slack: ``conversations.replies`` and
``users.info``, for mapped emoji only, which are rare."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from workflows.errors import Refused
from workflows.escalate_reactions import escalate_message
from workflows.model import MessageRef, Platform
from workflows.service import EscalationService

from .commands import MAX_TEXT, message_link, opened_words, person_of, readable, scope_of, team_of
from .text import escape, slack_markup

log = logging.getLogger("escalation_bot.slack")


class ReactionEscalations:
    def __init__(self, service: EscalationService, client: AsyncWebClient) -> None:
        self.service = service
        self.client = client

    async def on_reaction(self, body: dict[str, Any], context: Any, community_key: str) -> None:
        event = body.get("event") or {}
        item = event.get("item") or {}
        channel, ts, reactor = str(item.get("channel") or ""), str(item.get("ts") or ""), str(event.get("user") or "")
        team = team_of(body)
        # Channels only: a DM is nobody's customer conversation.
        if channel[:1] not in ("C", "G") or not ts or not reactor or reactor == context.get("bot_user_id"):
            return
        who = await self._user(reactor)
        if who is None or who.get("is_bot") or who.get("deleted") or str(who.get("team_id") or team) != team:
            log.info("escalate reaction ignored: not a person of this workspace", extra={"channel": channel})
            return
        if await self.service.find_by_message(Platform.slack.value, channel, ts, scope_of(body)) is not None:
            return  # one of the bot's own messages (a card, a thread note, a digest)
        message = await self._message(channel, ts)
        if message is None or _ours(message, context):
            return
        requester = person_of(body, reactor).model_copy(update={"name": _name(who)})
        question = readable(str(message.get("text") or "")).strip()[:MAX_TEXT]
        if not question:
            await self._tell(channel, reactor, "That message has no text to escalate; use /escalate instead.")
            return
        source = MessageRef(platform=Platform.slack, channel=channel, id=ts, tenant=team)
        try:
            outcome = await escalate_message(
                self.service,
                requester=requester,
                community_key=community_key,
                question=question,
                source=source,
                thread=str(message.get("thread_ts") or ts),
                customer=await self._author(message),
                link=await message_link(self.client, channel, ts),
            )
        except Refused as refusal:
            log.info("escalate reaction refused", extra={"channel": channel, "reason": refusal.reason.value})
            await self._tell(channel, reactor, escape(refusal.message))
            return
        esc = outcome.escalation
        if esc is None:
            return
        if outcome.duplicate or not outcome.changed:
            if not esc.requester.same(requester):
                await self._tell(
                    channel,
                    reactor,
                    f"This message is already escalated to *{escape(esc.community.name)}* as `#{esc.short_id()}`.",
                )
            return
        await self._tell(channel, reactor, opened_words(esc, where=" in a DM"))

    async def _user(self, user: str) -> dict[str, Any] | None:
        try:
            response = await self.client.users_info(user=user)
        except SlackClientError:
            log.warning("users.info failed; the reaction is ignored", exc_info=True, extra={"user": user})
            return None
        found = response.get("user")
        return found if isinstance(found, dict) else None

    async def _message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """The reacted message, top-level or in a thread: the event names it by channel and ts only."""
        try:
            response = await self.client.conversations_replies(channel=channel, ts=ts, limit=200)
        except SlackClientError:
            log.warning("the reacted message could not be read", exc_info=True, extra={"channel": channel})
            return None
        for message in response.get("messages") or []:
            if isinstance(message, dict) and str(message.get("ts")) == ts:
                return message
        return None

    async def _author(self, message: dict[str, Any]) -> str | None:
        """Who wrote the message, by name, as context for the experts."""
        name = (message.get("user_profile") or {}).get("real_name") or (message.get("bot_profile") or {}).get("name")
        name = name or message.get("username")
        if not name and message.get("user"):
            author = await self._user(str(message["user"]))
            name = _name(author) if author else None
        return f"Message by {name}"[:500] if name else None

    async def _tell(self, channel: str, user: str, text: str) -> None:
        try:
            await self.client.chat_postEphemeral(channel=channel, user=user, text=slack_markup(text))
        except SlackClientError:
            log.info("could not tell the person who reacted", extra={"channel": channel})


def _name(user: dict[str, Any]) -> str | None:
    profile = user.get("profile") or {}
    return (
        str(profile.get("real_name") or profile.get("display_name") or user.get("real_name") or user.get("name") or "")
        or None
    )


def _ours(message: dict[str, Any], context: Any) -> bool:
    bot_user, bot_id = context.get("bot_user_id"), context.get("bot_id")
    return bool(bot_user and message.get("user") == bot_user) or bool(bot_id and message.get("bot_id") == bot_id)
