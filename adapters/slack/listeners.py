"""Inbound Slack requests -> commands through the service. Translation only: the rules
(who may claim, assign, resolve) live in ``workflows.decide``; a refusal is shown to
the person who asked, alone.

Every listener commits through the service before it returns, and Bolt (with
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
from workflows.commands import (
    Accept,
    Assign,
    BaseCommand,
    Cancel,
    ChangePriority,
    Claim,
    Decline,
    Deflect,
    Reassign,
    Release,
    Reopen,
    Reply,
    Resolve,
)
from workflows.decide import card_view
from workflows.errors import Refused
from workflows.escalate_reactions import configured
from workflows.model import Escalation, MessageRef, PersonRef, Platform, Priority, Status
from workflows.ports import Scope
from workflows.service import EscalationService

from . import blocks as ui
from . import notices, views
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
        app.action(re.compile("^(" + "|".join(re.escape(a) for a in ui.ACTION_IDS) + ")$"))(self._guard(self.on_action))
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

    async def _tell(self, body: dict[str, Any], respond: Any, user: str, text: str) -> None:
        """Something for one person alone: ephemeral where possible, else a DM."""
        try:
            if body.get("response_url"):
                await respond(text=text, response_type="ephemeral", replace_original=False)
                return
            channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
            if channel:
                await self.client.chat_postEphemeral(channel=channel, user=user, text=slack_markup(text))
                return
            await self.client.chat_postMessage(channel=user, text=slack_markup(text))
        except SlackClientError:
            log.warning("could not tell the user", exc_info=True, extra={"user": user})

    async def _run(self, command: BaseCommand, body: dict[str, Any], event: tuple[str, str], respond: Any) -> bool:
        try:
            await self.service.handle(command, scope=self._scope(body), event=event)
            return True
        except Refused as refusal:
            await self._tell(body, respond, command.actor.id, escape(refusal.message))
            return False

    async def _open_view(self, trigger_id: str, view: dict[str, Any]) -> None:
        await self.client.views_open(trigger_id=trigger_id, view=view)

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

    # ------------------------------------------------------------ buttons and selects

    async def on_action(self, ack: Any, body: dict[str, Any], context: Any, respond: Any) -> None:
        await ack()
        actions = body.get("actions") or []
        if not actions:
            return
        action = actions[0]
        action_id = str(action.get("action_id"))
        target = ui.parse_action(action)
        if target is None:
            log.warning("action without an escalation", extra={"action_id": action_id})
            return
        person = self._person(body)
        scope = self._scope(body)
        interaction = f"action:{person.id}:{action.get('action_ts') or body.get('trigger_id')}"
        event = ("slack", interaction)
        base: dict[str, Any] = {"id": f"slack:{interaction}", "escalation_id": target.escalation_id, "actor": person}

        if action_id in (ui.SHOW_QUESTION, ui.RESOLVE):
            esc = await self.service.get(target.escalation_id, scope)
            if esc is None:
                await self._tell(body, respond, person.id, "That escalation does not exist, or is not visible to you.")
                return
            if action_id == ui.SHOW_QUESTION:
                await self._open_view(str(body["trigger_id"]), views.question_modal(card_view(esc)))
            elif esc.status != Status.open:
                await self._tell(body, respond, person.id, f"This escalation is already {esc.status.value}.")
            else:
                await self._open_view(
                    str(body["trigger_id"]), views.resolve_modal(esc.id, target.version, esc.question)
                )
            return

        command: BaseCommand | None = None
        done: str | None = None
        if action_id == ui.CLAIM:
            command = Claim(**base)
        elif action_id == ui.ASSIGN and action.get("selected_user"):
            command = Assign(**base, assignee=self._person(body, str(action["selected_user"])))
        elif action_id == ui.REASSIGN_TO and action.get("selected_user"):
            chosen = str(action["selected_user"])
            command = Reassign(**base, to=self._person(body, chosen))
            done = f"You reassigned this question to <@{chosen}>."
        elif action_id == ui.ACCEPT:
            command = Accept(**base)
            done = "You accepted this question. Thank you!"
        elif action_id == ui.DECLINE:
            command = Decline(**base)
            done = "You declined this question; it goes to the next expert."
        elif action_id == ui.REOPEN:
            command = Reopen(**base)
        elif action_id == ui.DEFLECT:
            command = Deflect(**base)
        elif action_id == ui.ESCALATE:
            command = Release(**base)
        elif action_id == ui.MORE:
            if target.action == "reassign":
                command = Reassign(**base)
            elif target.action == "cancel":
                command = Cancel(**base)
            elif target.action and target.action.startswith("priority:"):
                level = target.action.removeprefix("priority:")
                if level in {p.value for p in Priority}:
                    command = ChangePriority(**base, priority=Priority(level))
        if command is None:
            log.info("action ignored", extra={"action_id": action_id, "escalation_id": target.escalation_id})
            return
        ok = await self._run(command, body, event, respond)
        if ok and action_id in (ui.DEFLECT, ui.ESCALATE):
            done = await self._deflection_words(target.escalation_id, scope)
        if ok and action_id == ui.CLAIM and str(action.get("block_id", "")).startswith(f"{ui.DIGEST_BLOCK_PREFIX}:"):
            # The digest itself does not change; the person who pressed its button hears it worked.
            esc = await self.service.get(target.escalation_id, scope)
            if esc is not None and esc.owner is not None and esc.owner.person.same(person):
                await self._tell(body, respond, person.id, f"You claimed `#{esc.short_id()}`; its card is updated.")
        message = body.get("message")
        # A DM whose buttons were used: show what happened instead of stale buttons.
        if (
            ok
            and done
            and message
            and body.get("response_url")
            and (body.get("channel") or {}).get("id", "")[:1] == "D"
        ):
            try:
                await respond(
                    replace_original=True,
                    text=done,
                    blocks=notices.answered_dm_blocks(message.get("blocks") or [], done),
                )
            except SlackClientError:
                log.info("could not update the DM", extra={"escalation_id": target.escalation_id})

    async def _deflection_words(self, escalation_id: str, scope: Scope) -> str | None:
        """What became of a question after "This answers it" / "Still escalate", for its DM:
        said from its state, since the timer may have sent it on already."""
        esc = await self.service.get(escalation_id, scope)
        if esc is None:
            return None
        if esc.status == Status.deflected:
            return "Closed: an earlier answer solved it."
        if esc.status == Status.open and not esc.held:
            return "Sent on to the experts. I'll send you a link to the question here."
        return f"This question is {esc.status.value}."

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
            base: dict[str, Any] = {"id": f"slack:{event_id}", "escalation_id": esc.id, "actor": person}
            if reaction in esc.policy.claim_reactions:
                return Claim(**base)
            if reaction in esc.policy.resolve_reactions:
                return Resolve(**base, via_reaction=True)
            return None

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
