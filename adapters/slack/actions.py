"""Slack's buttons and selects -> commands through the service (translation only: the rules
live in ``workflows.decide``; a refusal is shown to the person who asked, alone). A DM whose
buttons were used shows what happened instead of stale buttons (``answered_dm``, also what
the playground shows)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from slack_sdk.errors import SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

from workflows.commands import BaseCommand, button_command
from workflows.decide import card_view
from workflows.errors import Refused
from workflows.model import Escalation, Status
from workflows.service import EscalationService

from . import blocks as ui
from . import notices, views
from .commands import person_of, scope_of
from .text import escape, slack_markup

log = logging.getLogger("escalation_bot.slack")


def deflection_words(esc: Escalation | None) -> str | None:
    """What became of a question after "This answers it" / "Still escalate", for its DM:
    said from its state, since the timer may have sent it on already."""
    if esc is None:
        return None
    if esc.status == Status.deflected:
        return "Closed: an earlier answer solved it."
    if esc.status == Status.open and not esc.held:
        return "Sent on to the experts. I'll send you a link to the question here."
    return f"This question is {esc.status.value}."


def answered_dm(
    action_id: str, chosen: str | None, esc: Escalation | None, original: Sequence[dict[str, Any]]
) -> tuple[str, list[dict[str, Any]]] | None:
    """The text and blocks of a DM once its button ``action_id`` was used and the command
    went through (``chosen``: the user picked to reassign to; ``esc``: the question as it is
    now); None: the DM stays as it is."""
    done: str | None = None
    if action_id == ui.REASSIGN_TO and chosen:
        done = f"You reassigned this question to <@{chosen}>."
    elif action_id == ui.ACCEPT:
        done = "You accepted this question. Thank you!"
    elif action_id == ui.DECLINE:
        done = "You declined this question; it goes to the next expert."
    elif action_id in (ui.DEFLECT, ui.ESCALATE):
        done = deflection_words(esc)
    if done is None:
        return None
    return done, notices.answered_dm_blocks(original, done)


def core_action(action_id: str, option: str | None, *, picked: bool) -> tuple[str, str | None] | None:
    """Slack's control -> the core's button action (``workflows.commands.button_command``) and,
    for a priority, the level asked for. ``option``: an overflow option's sub-action
    ("reassign", "cancel", "priority:<level>"); ``picked``: a user picker chose someone.
    None: no command (a cleared picker, an option we do not know)."""
    if action_id == ui.MORE:
        if option and option.startswith("priority:"):
            return "priority", option.removeprefix("priority:")
        return (option, None) if option in ("reassign", "cancel") else None
    if action_id in (ui.ASSIGN, ui.REASSIGN_TO):
        return ("assign" if action_id == ui.ASSIGN else "reassign", None) if picked else None
    if action_id in (ui.CLAIM, ui.ACCEPT, ui.DECLINE, ui.REOPEN, ui.DEFLECT, ui.ESCALATE):
        return action_id, None
    return None


class SlackActions:
    def __init__(self, service: EscalationService, client: AsyncWebClient) -> None:
        self.service = service
        self.client = client

    async def tell(self, body: dict[str, Any], respond: Any, user: str, text: str) -> None:
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
            await self.service.handle(command, scope=scope_of(body), event=event)
            return True
        except Refused as refusal:
            await self.tell(body, respond, command.actor.id, escape(refusal.message))
            return False

    async def _open_view(self, trigger_id: str, view: dict[str, Any]) -> None:
        await self.client.views_open(trigger_id=trigger_id, view=view)

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
        person = person_of(body)
        scope = scope_of(body)
        interaction = f"action:{person.id}:{action.get('action_ts') or body.get('trigger_id')}"
        event = ("slack", interaction)
        base: dict[str, Any] = {"id": f"slack:{interaction}", "escalation_id": target.escalation_id, "actor": person}

        if action_id in (ui.SHOW_QUESTION, ui.RESOLVE):
            esc = await self.service.get(target.escalation_id, scope)
            if esc is None:
                await self.tell(body, respond, person.id, "That escalation does not exist, or is not visible to you.")
                return
            if action_id == ui.SHOW_QUESTION:
                await self._open_view(str(body["trigger_id"]), views.question_modal(card_view(esc)))
            elif esc.status != Status.open:
                await self.tell(body, respond, person.id, f"This escalation is already {esc.status.value}.")
            else:
                await self._open_view(
                    str(body["trigger_id"]), views.resolve_modal(esc.id, target.version, esc.question)
                )
            return

        command: BaseCommand | None = None
        asked = core_action(action_id, target.action, picked=bool(action.get("selected_user")))
        if asked is not None:
            chosen = person_of(body, str(action["selected_user"])) if action.get("selected_user") else None
            try:
                command = button_command(asked[0], **base, assignee=chosen, to=chosen, priority=asked[1])
            except Refused:
                command = None
        if command is None:
            log.info("action ignored", extra={"action_id": action_id, "escalation_id": target.escalation_id})
            return
        if not await self._run(command, body, event, respond):
            return
        if action_id == ui.CLAIM and str(action.get("block_id", "")).startswith(f"{ui.DIGEST_BLOCK_PREFIX}:"):
            # The digest itself does not change; the person who pressed its button hears it worked.
            esc = await self.service.get(target.escalation_id, scope)
            if esc is not None and esc.owner is not None and esc.owner.person.same(person):
                await self.tell(body, respond, person.id, f"You claimed `#{esc.short_id()}`; its card is updated.")
        message = body.get("message")
        # A DM whose buttons were used: show what happened instead of stale buttons.
        if message and body.get("response_url") and (body.get("channel") or {}).get("id", "")[:1] == "D":
            now = (
                await self.service.get(target.escalation_id, scope) if action_id in (ui.DEFLECT, ui.ESCALATE) else None
            )
            answered = answered_dm(action_id, action.get("selected_user"), now, message.get("blocks") or [])
            if answered is None:
                return
            text, blocks = answered
            try:
                await respond(replace_original=True, text=text, blocks=blocks)
            except SlackClientError:
                log.info("could not update the DM", extra={"escalation_id": target.escalation_id})
