"""Inbound Slack requests -> commands through the service. Translation only: the rules
(who may claim, assign, resolve) live in ``workflows.decide``; a refusal is shown to
the person who asked, alone.

Buttons and selects are ``actions.py``'s. Every listener commits through the service before it returns, and Bolt (with
``process_before_response``) acknowledges only then; platform calls that follow from
a change go through the outbox. The few calls made here (``views.open`` needs the
trigger id within 3 s, ephemeral refusals) are single, fast requests.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from workflows.availability import away_words
from workflows.clock import Clock
from workflows.commands import BaseCommand, Reply, Resolve, reaction_command
from workflows.errors import Refused
from workflows.escalate_reactions import configured
from workflows.model import Escalation, MessageRef, PersonRef, Platform
from workflows.ports import Scope
from workflows.service import EscalationService

from . import blocks as ui
from . import views
from .actions import SlackActions
from .commands import MAX_TEXT, SLASH, SlackCommands, person_of, scope_of, team_of
from .home import SlackHome, SlackLinks
from .reactions import ReactionEscalations
from .text import escape, slack_markup
from .thread_messages import person_reply
from .user_groups import SlackUserGroups

log = logging.getLogger("escalation_bot.slack")

# What the app listens to; manifest.yaml must declare exactly these (tested).
COMMAND = SLASH
MESSAGE_SHORTCUT = "escalate_message"
# In the order Bolt is to try them: the most frequent first (see ``register``).
EVENTS = (
    "message",
    "reaction_added",
    "app_home_opened",
    "user_status_changed",
    "user_change",
    "subteam_members_changed",
    "subteam_updated",
)
# Bot events as the manifest names them, per event type the code handles.
MANIFEST_EVENTS = {
    "app_home_opened": ("app_home_opened",),
    "message": ("message.channels", "message.groups"),
    "reaction_added": ("reaction_added",),
    "user_status_changed": ("user_status_changed",),
    "user_change": ("user_change",),
    "subteam_members_changed": ("subteam_members_changed",),
    "subteam_updated": ("subteam_updated",),
}

Listener = Callable[..., Awaitable[Any]]


def _skin_tone_free(name: str) -> str:
    return name.split("::", 1)[0]


class _SlackRule:
    """``ack`` or ``respond`` whose ``text`` obeys Slack's escaping rule, whoever wrote it."""

    def __init__(self, answer: Any) -> None:
        self._answer = answer

    async def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if args and isinstance(args[0], str):
            args = (slack_markup(args[0]), *args[1:])
        if isinstance(kwargs.get("text"), str):
            kwargs["text"] = slack_markup(kwargs["text"])
        return await self._answer(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._answer, name)


class SlackInbound:
    def __init__(
        self,
        service: EscalationService,
        client: AsyncWebClient,
        links: SlackLinks,
        home: SlackHome,
        clock: Clock,
        user_groups: SlackUserGroups,
    ) -> None:
        self.service = service
        self.user_groups = user_groups
        self.client = client
        self.links = links
        self.home = home
        self.clock = clock
        self.commands = SlackCommands(service, client, links, home, clock)
        self.escalations = ReactionEscalations(service, client)
        self.actions = SlackActions(service, client)

    # ------------------------------------------------------------ registration

    def register(self, app: AsyncApp) -> None:
        # Bolt tries listeners in the order registered, building each one's arguments to ask
        # it: the most frequent requests first (messages in threads, then button clicks, one
        # listener for all our buttons), the rare ones (modals, the shortcut) last.
        handlers: dict[str, Listener] = {
            "app_home_opened": self.on_app_home_opened,
            "message": self.on_message,
            "reaction_added": self.on_reaction_added,
            "user_status_changed": self.on_user_status,
            "user_change": self.on_user_status,
            "subteam_members_changed": self.on_user_group_changed,
            "subteam_updated": self.on_user_group_changed,
        }
        assert set(handlers) == set(EVENTS)
        for event in EVENTS:
            app.event(event)(self._guard(handlers[event]))
        buttons = re.compile("^(" + "|".join(re.escape(a) for a in ui.ACTION_IDS) + ")$")
        app.action(buttons)(self._guard(self.actions.on_action))
        app.action(re.compile("^(" + "|".join(ui.HOME_ACTION_IDS) + ")$"))(self._guard(self.on_home_action))
        app.command(COMMAND)(self._guard(self.commands.on_command))
        app.view(ui.ESCALATE_MODAL)(self._guard(self.commands.on_escalate_submitted))
        app.view(ui.RESOLVE_MODAL)(self._guard(self.on_resolve_submitted))
        app.view(ui.AWAY_MODAL)(self._guard(self.on_away_submitted))
        app.shortcut(MESSAGE_SHORTCUT)(self._guard(self.commands.on_message_shortcut))

    @staticmethod
    def _guard(listener: Listener) -> Listener:
        """Acknowledge and log what we cannot handle: Slack never sees a 500 from us."""

        async def guarded(ack: Any, body: dict[str, Any], context: Any, respond: Any) -> None:
            ack = _SlackRule(ack)
            respond = _SlackRule(respond) if respond is not None else None
            try:
                await listener(ack=ack, body=body, context=context, respond=respond)
            except Exception:
                log.exception("slack request not handled", extra={"type": body.get("type")})
                if ack.response is None:
                    await ack()

        guarded.__name__ = getattr(listener, "__name__", "listener")
        return guarded

    # ------------------------------------------------------------ helpers

    @staticmethod
    def _team(body: dict[str, Any]) -> str:
        return team_of(body)

    def _person(self, body: dict[str, Any], user_id: str | None = None) -> PersonRef:
        return person_of(body, user_id)

    def _scope(self, body: dict[str, Any]) -> Scope:
        return scope_of(body)

    # ------------------------------------------------------------ the resolve form

    async def on_resolve_submitted(self, ack: Any, body: dict[str, Any], context: Any, respond: Any) -> None:
        view = body.get("view") or {}
        try:
            meta = json.loads(view.get("private_metadata") or "{}")
            escalation_id = str(meta["e"])
        except (ValueError, KeyError, TypeError):
            await ack()
            log.warning("resolve form without an escalation id")
            return
        answer = (views.modal_values(view).get("answer") or "").strip() or None
        person = self._person(body)
        command = Resolve(id=f"slack:view:{view.get('id')}", escalation_id=escalation_id, actor=person, answer=answer)
        try:
            await self.service.handle(command, scope=self._scope(body), event=("slack", f"view:{view.get('id')}"))
        except Refused as refusal:
            await ack(response_action="errors", errors={"answer": refusal.message[:150]})
            return
        await ack()

    # ------------------------------------------------------------ away and back, from the App Home

    async def on_home_action(self, ack: Any, body: dict[str, Any], context: Any, respond: Any) -> None:
        await ack()
        action_id = str(((body.get("actions") or [{}])[0]).get("action_id"))
        person = self._person(body)
        if action_id == ui.HOME_AWAY:
            await self.client.views_open(trigger_id=str(body["trigger_id"]), view=views.away_modal())
            return
        await self.service.presence.back(person)
        await self.home.publish(person)

    async def on_away_submitted(self, ack: Any, body: dict[str, Any], context: Any, respond: Any) -> None:
        values = views.modal_values(body.get("view") or {})
        words = away_words(values.get("when") or "", values.get("note") or "")
        person = self._person(body)
        try:
            await self.service.presence.away(person, words)
        except Refused as refusal:
            await ack(response_action="errors", errors={"when": refusal.message[:150]})
            return
        await ack()
        await self.home.publish(person)

    # ------------------------------------------------------------ events

    async def on_app_home_opened(self, ack: Any, body: dict[str, Any], context: Any, respond: Any) -> None:
        await ack()
        event = body.get("event") or {}
        if event.get("tab", "home") != "home" or not event.get("user"):
            return
        await self.home.publish(self._person(body, str(event["user"])))

    async def on_user_status(self, ack: Any, body: dict[str, Any], context: Any, respond: Any) -> None:
        """A profile or status changed: whether the status says away is the core's to decide."""
        await ack()
        user = (body.get("event") or {}).get("user") or {}
        profile = user.get("profile") or {}
        if not user.get("id") or user.get("is_bot"):
            return
        try:
            expiration = int(profile.get("status_expiration") or 0)
        except (TypeError, ValueError):
            expiration = 0
        await self.service.presence.slack_status(
            self._person(body, str(user["id"])),
            str(profile.get("status_emoji") or ""),
            str(profile.get("status_text") or ""),
            expiration,
            str(user.get("tz") or "") or None,
        )

    async def on_user_group_changed(self, ack: Any, body: dict[str, Any], context: Any, respond: Any) -> None:
        """A user group's members changed in Slack: if it is a roster, read it again."""
        await ack()
        await self.user_groups.changed(body.get("event") or {})

    async def on_message(self, ack: Any, body: dict[str, Any], context: Any, respond: Any) -> None:
        await ack()
        event = body.get("event") or {}
        # Only people's replies in a thread: not edits, deletions, notices, bots or ourselves.
        said = person_reply(event, context.get("bot_user_id"))
        if said is None:
            return
        channel = str(event.get("channel") or "")
        person = self._person(body, said.user)
        team = self._team(body)
        event_id = str(body.get("event_id") or f"message:{channel}:{said.ts}")

        def reply_to(esc: Escalation) -> BaseCommand:
            return Reply(
                id=f"slack:{event_id}",
                escalation_id=esc.id,
                actor=person,
                message=MessageRef(platform=Platform.slack, channel=channel, id=said.ts, tenant=team),
                text=said.text[:MAX_TEXT],
                attachments=said.files,
            )

        # Finding the card and recording the reply are one transaction.
        try:
            await self.service.handle_on_card(
                Platform.slack.value,
                channel,
                said.thread_ts,
                reply_to,
                scope=self._scope(body),
                event=("slack", event_id),
            )
        except Refused as refusal:
            log.info("reply not recorded", extra={"channel": channel, "reason": refusal.reason.value})

    async def on_reaction_added(self, ack: Any, body: dict[str, Any], context: Any, respond: Any) -> None:
        await ack()
        event = body.get("event") or {}
        item = event.get("item") or {}
        if item.get("type") != "message" or not event.get("user"):
            return
        channel = str(item.get("channel") or "")
        reaction = _skin_tone_free(str(event.get("reaction") or ""))
        # An escalate emoji is never a claim or resolve one (config check refuses that).
        community = configured(self.service.directory).community_for(channel, reaction)
        if community is not None:
            await self.escalations.on_reaction(body, context, community)
            return
        person = self._person(body, str(event["user"]))
        event_id = str(body.get("event_id") or f"reaction:{channel}:{item.get('ts')}:{person.id}:{reaction}")

        def command_for(esc: Escalation) -> BaseCommand | None:
            return reaction_command(esc, reaction, id=f"slack:{event_id}", actor=person)

        try:
            await self.service.handle_on_card(
                Platform.slack.value,
                channel,
                str(item.get("ts")),
                command_for,
                scope=self._scope(body),
                event=("slack", event_id),
            )
        except Refused as refusal:
            try:
                await self.client.chat_postEphemeral(channel=channel, user=person.id, text=escape(refusal.message))
            except SlackClientError:
                log.info("could not show a refusal", extra={"channel": channel, "reason": refusal.reason.value})


__all__ = ["COMMAND", "EVENTS", "MANIFEST_EVENTS", "MESSAGE_SHORTCUT", "SlackInbound"]
