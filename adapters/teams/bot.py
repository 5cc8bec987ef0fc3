"""Inbound Teams activities -> commands for the escalation service. Translation only:
who may do what is decided by the core, and a refusal is shown to its sender alone."""

from __future__ import annotations

import logging
from typing import Any

from botbuilder.core import MessageFactory, TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    AdaptiveCardInvokeResponse,
    AdaptiveCardInvokeValue,
    MessageReaction,
)
from botbuilder.schema.teams import (
    MessagingExtensionAction,
    MessagingExtensionActionResponse,
)
from pydantic import ValidationError

from workflows.commands import BaseCommand, Claim, Reply, button_command
from workflows.decide import card_view
from workflows.effects import Action, Suggestion
from workflows.errors import Reason, Refused
from workflows.model import Escalation, MessageRef, PersonRef, Platform, Status
from workflows.requests import COMMAND_WORDS
from workflows.service import EscalationService

from .activity import actor_of, from_bot, mentions_bot, remember, remember_person
from .activity import base_conversation as _base_conversation
from .activity import channel_of as _channel_of
from .activity import event_id as _event_id
from .activity import scope as _scope
from .activity import tenant as _tenant
from .activity import thread_root as _thread_root
from .attachments import card_words, files_of
from .card_parts import CARD_CONTENT_TYPE, message_card
from .commands import TeamsCommands
from .conversations import ConversationStore
from .extension import MessageAction, form_values
from .forms import open_form_card
from .knowledge_cards import suggestions_card
from .question_card import question_card
from .sender import TeamsSender
from .text import escape_message_text, plain_from_html

log = logging.getLogger("escalation_bot.teams")

SOURCE = "teams"
ESCALATION_VERBS = {"claim", "assign", "resolve", "reassign", "cancel", "reopen", "accept", "decline", "priority"}
DEFLECTION_VERBS = {"deflect", "escalate"}
MESSAGE_RESPONSE = "application/vnd.microsoft.activity.message"
DONE_WORDS = {
    "claim": "You claimed this question.",
    "assign": "Assigned.",
    "resolve": "Resolved. Thank you!",
    "reassign": "Reassigned.",
    "cancel": "Cancelled.",
    "reopen": "Reopened.",
    "accept": "You accepted this question.",
    "decline": "You declined; the question moves on.",
    "priority": "Priority changed.",
}


def _invoke_card(card: dict[str, Any]) -> AdaptiveCardInvokeResponse:
    return AdaptiveCardInvokeResponse(status_code=200, type=CARD_CONTENT_TYPE, value=card)


class _MessageInvokeResponse(AdaptiveCardInvokeResponse):
    # botbuilder types ``value`` as a card (a dict); a message response carries a string.
    _attribute_map = {**AdaptiveCardInvokeResponse._attribute_map, "value": {"key": "value", "type": "object"}}


def _invoke_message(text: str) -> AdaptiveCardInvokeResponse:
    """A short message Teams shows to the person who pressed the button, leaving the card as
    it is for everyone: for cards we cannot rebuild, such as the daily digest."""
    return _MessageInvokeResponse(status_code=200, type=MESSAGE_RESPONSE, value=text)


class EscalationTeamsBot(TeamsActivityHandler):
    def __init__(self, service: EscalationService, conversations: ConversationStore, sender: TeamsSender) -> None:
        self.service = service
        self.conversations = conversations
        self.sender = sender
        self.commands = TeamsCommands(service, sender)
        self.message_action = MessageAction(service, self.commands)
        self._people_seen: set[tuple[str, str, str]] = set()

    # ------------------------------------------------------------ every turn

    async def on_turn(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if activity.type == ActivityTypes.installation_update and str(activity.action or "").startswith("remove"):
            # Uninstalled: proactive posts there would only fail; keep the row, marked.
            await self.conversations.mark_unreachable(_base_conversation(activity), "uninstalled")
        else:
            await remember(self.conversations, activity)
            await remember_person(self.conversations, activity, self._people_seen)
        await super().on_turn(turn_context)

    # ------------------------------------------------------------ messages

    def _from_bot(self, activity: Activity) -> bool:
        return from_bot(activity)

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if self._from_bot(activity):
            return
        if isinstance(activity.value, dict) and activity.value.get("verb"):
            await self._submit_fallback(turn_context, activity.value)
            return
        personal = str(activity.conversation.conversation_type or "personal") == "personal"
        addressed = personal or mentions_bot(activity)
        text = plain_from_html(TurnContext.remove_recipient_mention(activity) if addressed else activity.text)
        word = text.split(maxsplit=1)[0].lower() if text else ""
        if addressed and word in COMMAND_WORDS:
            await self.commands.run(turn_context, text)
            return
        root = _thread_root(activity)
        if root and root != activity.id and await self._reply(turn_context, root, text):
            return
        if addressed:
            await self.commands.run(turn_context, text)

    async def _reply(self, turn_context: TurnContext, root: str, text: str) -> bool:
        activity = turn_context.activity
        channel = _channel_of(activity)
        actor = actor_of(activity)
        message = MessageRef(platform=Platform.teams, channel=channel, id=_event_id(activity), tenant=_tenant(activity))
        # Files, pasted images and cards count with the words (adapters/teams/attachments.py).
        files = files_of(activity.attachments)
        text = text or card_words(activity.attachments)

        def reply_to(esc: Escalation) -> BaseCommand:
            return Reply(
                id=f"{SOURCE}:{_event_id(activity)}",
                escalation_id=esc.id,
                actor=actor,
                message=message,
                text=text[:40_000],
                attachments=files,
            )

        # Finding the escalation and recording the reply are one transaction.
        try:
            outcome = await self.service.handle_on_card(
                Platform.teams.value,
                channel,
                root,
                reply_to,
                scope=_scope(activity),
                event=(SOURCE, _event_id(activity)),
                kind=None,
            )
        except Refused as refusal:
            log.info("reply refused", extra={"channel": channel, "reason": refusal.reason.value})
            return True
        return outcome is not None

    # ------------------------------------------------------------ card actions

    def _command_for(self, verb: str, esc_id: str, activity: Activity, data: dict[str, Any]) -> BaseCommand:
        """The card's Action.Execute/Submit data, read for the core's button rule (workflows.commands)."""
        return button_command(
            verb,
            id=f"{SOURCE}:{_event_id(activity)}",
            escalation_id=esc_id,
            actor=actor_of(activity),
            assignee=PersonRef.from_choice(str(data.get("assignee") or "")),
            to=PersonRef.from_choice(str(data.get("to") or "")),
            priority=str(data.get("priority") or "").lower(),
            answer=str(data.get("answer") or ""),
            reason=str(data.get("reason") or ""),
        )

    async def _act(self, activity: Activity, verb: str, data: dict[str, Any]) -> Escalation:
        esc_id = str(data.get("escalation_id") or "")
        if not esc_id:
            raise Refused(Reason.invalid, "This card is missing its escalation.")
        try:
            command = self._command_for(verb, esc_id, activity, data)
        except ValidationError:
            raise Refused(Reason.invalid, "That text is too long for this action.") from None
        outcome = await self.service.handle(command, scope=_scope(activity), event=(SOURCE, _event_id(activity)))
        esc = outcome.escalation or await self.service.get(esc_id, _scope(activity))
        if esc is None:
            raise Refused(Reason.not_found, "That escalation does not exist, or is not visible to you.")
        return esc

    async def on_adaptive_card_invoke(
        self, turn_context: TurnContext, invoke_value: AdaptiveCardInvokeValue
    ) -> AdaptiveCardInvokeResponse:
        activity = turn_context.activity
        action = invoke_value.action or {}
        verb = str(action.get("verb") or "")
        data = action.get("data") if isinstance(action.get("data"), dict) else {}
        assert isinstance(data, dict)
        if verb in DEFLECTION_VERBS:
            return await self._deflection(activity, verb, data)
        if data.get("digest"):
            return await self._from_digest(activity, verb, data)
        try:
            if verb == "open":
                return await self._open_from_form(activity, data)
            if verb == "refresh":
                esc = await self.service.get(str(data.get("escalation_id") or ""), _scope(activity))
                if esc is None:
                    raise Refused(Reason.not_found, "That escalation does not exist, or is not visible to you.")
                return _invoke_card(question_card(card_view(esc)))
            if verb not in ESCALATION_VERBS:
                raise Refused(Reason.invalid, f"Unknown action {verb!r}.")
            esc = await self._act(activity, verb, data)
        except Refused as refusal:
            # An invoke response is shown to the person who pressed the button and nobody
            # else: the card as it is, with the refusal on top, buttons intact.
            log.info("action refused", extra={"verb": verb, "reason": refusal.reason.value})
            current = await self.service.get(str(data.get("escalation_id") or ""), _scope(activity))
            if current is None:
                return _invoke_card(message_card(refusal.message))
            return _invoke_card(question_card(card_view(current), warning=refusal.message))
        heading = DONE_WORDS.get(verb) if activity.conversation.conversation_type == "personal" else None
        return _invoke_card(question_card(card_view(esc), heading=heading))

    async def _from_digest(self, activity: Activity, verb: str, data: dict[str, Any]) -> AdaptiveCardInvokeResponse:
        """Claim from the daily digest: the same command as the question card's Claim. The
        digest stays as it is for everyone; the person who pressed is told what happened."""
        try:
            if verb != "claim":
                raise Refused(Reason.invalid, f"Unknown action {verb!r}.")
            esc = await self._act(activity, verb, data)
        except Refused as refusal:
            log.info("digest action refused", extra={"verb": verb, "reason": refusal.reason.value})
            return _invoke_message(refusal.message)
        return _invoke_message(
            f"You claimed #{esc.short_id()} for {esc.community.name}. Its card shows you as the owner; "
            "answer in its thread."
        )

    async def _suggested(self, data: dict[str, Any], activity: Activity) -> list[Suggestion]:
        """The earlier answers a suggestions card showed, read again from the knowledge they
        came from (the card carries only their ids)."""
        ids = data.get("suggestions") if isinstance(data.get("suggestions"), list) else []
        out: list[Suggestion] = []
        for esc_id in [str(i) for i in (ids or [])][:5]:
            esc = await self.service.get(esc_id, _scope(activity))
            if esc is None or not esc.answer:
                continue
            cards = await self.service.messages(esc_id, _scope(activity), "card")
            out.append(
                Suggestion(
                    escalation_id=esc.id,
                    community_key=esc.community.key,
                    question=esc.question,
                    answer=esc.answer,
                    card=cards[0] if cards else None,
                )
            )
        return out

    async def _deflection(self, activity: Activity, verb: str, data: dict[str, Any]) -> AdaptiveCardInvokeResponse:
        """This answers it / Still escalate, on the requester's suggestions card: the card comes
        back saying what happened, or with the refusal on top and its buttons intact."""
        suggestions = await self._suggested(data, activity)
        names = {c.key: c.name for c in self.service.directory.all()}
        try:
            esc = await self._act(activity, verb, data)
        except Refused as refusal:
            log.info("action refused", extra={"verb": verb, "reason": refusal.reason.value})
            current = await self.service.get(str(data.get("escalation_id") or ""), _scope(activity))
            if current is None:
                return _invoke_card(message_card(refusal.message))
            view = card_view(current)
            if current.status != Status.open:
                return _invoke_card(suggestions_card(view, suggestions, names, heading=refusal.message, actions=()))
            heading = "Before this goes to the experts: these answered questions look similar."
            return _invoke_card(suggestions_card(view, suggestions, names, heading=heading, warning=refusal.message))
        view = card_view(esc)
        if esc.status == Status.deflected:
            heading = "Closed as answered: glad an earlier answer helped. Nothing more goes to the experts."
            return _invoke_card(suggestions_card(view, suggestions, names, heading=heading, actions=()))
        if esc.status == Status.open and not esc.held:
            heading = (
                f"Sent to the {esc.community.name} experts (#{esc.short_id()}). "
                "I will message you when someone picks it up."
            )
            # Still closable by an earlier answer until an expert replies.
            return _invoke_card(suggestions_card(view, suggestions, names, heading=heading, actions=(Action.deflect,)))
        return _invoke_card(suggestions_card(view, suggestions, names, heading=view.status_line, actions=()))

    async def _open_from_form(self, activity: Activity, data: dict[str, Any]) -> AdaptiveCardInvokeResponse:
        form = form_values(data)
        result = await self.commands.open(activity, **form)
        if result is None:
            return _invoke_card(message_card("Already escalated."))
        note, opened = result
        if opened:
            return _invoke_card(message_card(note))
        card = open_form_card(
            self.service.directory.all(), question=form["question"], community=form["community"], note=note
        )
        return _invoke_card(card)

    async def _submit_fallback(self, turn_context: TurnContext, value: dict[str, Any]) -> None:
        """A client without Universal Actions pressed a button: same command, and a refusal
        goes privately to the person (a reply here would be seen by the whole channel)."""
        activity = turn_context.activity
        verb = str(value.get("verb"))
        try:
            if verb == "open":
                result = await self.commands.open(activity, **form_values(value))
                if result:
                    await self._tell_privately(activity, result[0])
                return
            if verb in ESCALATION_VERBS or verb in DEFLECTION_VERBS:
                await self._act(activity, verb, value)
        except Refused as refusal:
            await self._tell_privately(activity, refusal.message)

    async def _tell_privately(self, activity: Activity, text: str) -> None:
        try:
            await self.sender.send_personal(actor_of(activity), MessageFactory.text(escape_message_text(text)))
        except Exception:
            log.warning("could not tell the person privately", exc_info=True)

    # ------------------------------------------------------------ reactions

    async def on_reactions_added(self, message_reactions: list[MessageReaction], turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if self._from_bot(activity) or not activity.reply_to_id:
            return
        esc = await self.service.find_by_message(
            Platform.teams.value, _channel_of(activity), str(activity.reply_to_id), _scope(activity)
        )
        if esc is None:
            return
        event_id = str(activity.id or f"reaction:{activity.reply_to_id}:{actor_of(activity).id}")
        command = Claim(id=f"{SOURCE}:{event_id}", escalation_id=esc.id, actor=actor_of(activity))
        try:
            await self.service.handle(command, scope=_scope(activity), event=(SOURCE, event_id))
        except Refused as refusal:
            await self._tell_privately(activity, refusal.message)

    # ------------------------------------------------------------ message extension

    async def on_teams_messaging_extension_fetch_task(
        self, turn_context: TurnContext, action: MessagingExtensionAction
    ) -> MessagingExtensionActionResponse:
        return await self.message_action.fetch_task(turn_context, action)

    async def on_teams_messaging_extension_submit_action(
        self, turn_context: TurnContext, action: MessagingExtensionAction
    ) -> MessagingExtensionActionResponse:
        return await self.message_action.submit(turn_context, action)
