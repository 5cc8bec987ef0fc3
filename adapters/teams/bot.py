"""Inbound Teams activities -> commands for the escalation service. Translation only:
who may do what is decided by the core, and a refusal is shown to its sender alone."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from typing import Any

from botbuilder.core import CardFactory, MessageFactory, TurnContext
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
    TaskModuleContinueResponse,
    TaskModuleMessageResponse,
    TaskModuleTaskInfo,
)
from pydantic import ValidationError

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
from workflows.durations import humanize
from workflows.effects import Action, Suggestion
from workflows.errors import Reason, Refused
from workflows.model import Escalation, MessageRef, PersonRef, Platform, Priority, Status
from workflows.ports import Scope
from workflows.service import EscalationService

from .attachments import card_words, files_of
from .cards import (
    CARD_CONTENT_TYPE,
    escape_card_text,
    escape_message_text,
    message_card,
    next_words,
    open_form_card,
    parse_person_value,
    plain_from_html,
    question_card,
    search_card,
    suggestions_card,
)
from .conversations import ConversationStore
from .sender import TeamsSender

log = logging.getLogger("escalation_bot.teams")

SOURCE = "teams"
ESCALATION_VERBS = {"claim", "assign", "resolve", "reassign", "cancel", "reopen", "accept", "decline", "priority"}
DEFLECTION_VERBS = {"deflect", "escalate"}
COMMAND_WORDS = {"escalate", "help", "status", "search", "?"}
SEARCH_RESULTS = 5
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
HELP = (
    "Escalate a customer question to the experts:\n"
    "- @mention me with escalate <community> <question> to open one\n"
    "- escalate alone shows a form (community, question, priority, customer, link)\n"
    "- on any message: ... > Escalate to experts\n"
    "- status: your open questions and what you hold, with what happens next and when\n"
    "- search <words>: answers to earlier questions, sent to you privately\n"
    "Experts: claim with the card's button or a reaction, and reply in the card's thread."
)


def _event_id(activity: Activity) -> str:
    """Teams re-sends an activity it thinks timed out with the same id: that id dedupes.
    One without an id (never seen from Teams) must not collide with another."""
    if not activity.id:
        activity.id = f"noid-{uuid.uuid4().hex}"
    return str(activity.id)


def _tenant(activity: Activity) -> str:
    conversation = activity.conversation
    if conversation is not None and conversation.tenant_id:
        return str(conversation.tenant_id)
    data = activity.channel_data or {}
    tenant = data.get("tenant") if isinstance(data, dict) else None
    return str(tenant.get("id", "")) if isinstance(tenant, dict) else ""


def _channel_data(activity: Activity, key: str) -> str | None:
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    value = data.get(key)
    return str(value["id"]) if isinstance(value, dict) and value.get("id") else None


def _base_conversation(activity: Activity) -> str:
    return str(activity.conversation.id if activity.conversation else "").partition(";messageid=")[0]


def _thread_root(activity: Activity) -> str | None:
    root = str(activity.conversation.id if activity.conversation else "").partition(";messageid=")[2]
    return root or None


def _channel_of(activity: Activity) -> str:
    return _channel_data(activity, "channel") or _base_conversation(activity)


def actor_of(activity: Activity) -> PersonRef:
    sender = activity.from_property
    return PersonRef(
        platform=Platform.teams,
        id=str(sender.id if sender else ""),
        tenant=_tenant(activity),
        name=(sender.name if sender and sender.name else None),
    )


def _personal(activity: Activity) -> bool:
    return str(activity.conversation.conversation_type or "personal") == "personal"


def _scope(activity: Activity) -> Scope:
    return Scope(Platform.teams.value, _tenant(activity))


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

    # ------------------------------------------------------------ every turn

    async def on_turn(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if activity.type == ActivityTypes.installation_update and str(activity.action or "").startswith("remove"):
            # Uninstalled: proactive posts there would only fail; keep the row, marked.
            await self.conversations.mark_unreachable(_base_conversation(activity), "uninstalled")
        else:
            await self._remember(activity)
        await super().on_turn(turn_context)

    async def _remember(self, activity: Activity) -> None:
        """Keep the conversation reference: proactive posts need its service URL, tenant and bot id."""
        if not activity.conversation or not activity.conversation.id or not activity.service_url:
            return
        kind = str(activity.conversation.conversation_type or "personal")
        conversation_id = _base_conversation(activity)
        reference = TurnContext.get_conversation_reference(activity)
        reference.conversation.id = conversation_id
        reference.activity_id = None
        user_id = activity.from_property.id if kind == "personal" and activity.from_property else None
        try:
            await self.conversations.save_conversation(
                conversation_id=conversation_id,
                kind=kind,
                tenant=_tenant(activity),
                service_url=str(activity.service_url),
                team_id=_channel_data(activity, "team"),
                channel_id=_channel_data(activity, "channel") if kind == "channel" else None,
                user_id=str(user_id) if user_id else None,
                bot_id=str(activity.recipient.id) if activity.recipient and activity.recipient.id else None,
                reference=reference.serialize(),
            )
        except Exception:  # remembering is best effort; the activity itself must still be handled
            log.exception("could not save the Teams conversation reference")

    # ------------------------------------------------------------ messages

    def _from_bot(self, activity: Activity) -> bool:
        sender, recipient = activity.from_property, activity.recipient
        if sender is None:
            return True
        if recipient is not None and sender.id == recipient.id:
            return True
        return str(sender.role or "").lower() == "bot" or str(sender.id or "").startswith("28:")

    def _mentions_bot(self, activity: Activity) -> bool:
        recipient = activity.recipient.id if activity.recipient else None
        for mention in TurnContext.get_mentions(activity):
            mentioned = (mention.additional_properties or {}).get("mentioned") or {}
            if recipient and mentioned.get("id") == recipient:
                return True
        return False

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        if self._from_bot(activity):
            return
        if isinstance(activity.value, dict) and activity.value.get("verb"):
            await self._submit_fallback(turn_context, activity.value)
            return
        personal = str(activity.conversation.conversation_type or "personal") == "personal"
        addressed = personal or self._mentions_bot(activity)
        text = plain_from_html(TurnContext.remove_recipient_mention(activity) if addressed else activity.text)
        word = text.split(maxsplit=1)[0].lower() if text else ""
        if addressed and word in COMMAND_WORDS:
            await self._command(turn_context, text)
            return
        root = _thread_root(activity)
        if root and root != activity.id and await self._reply(turn_context, root, text):
            return
        if addressed:
            await self._command(turn_context, text)

    async def _say(self, turn_context: TurnContext, activity: Activity) -> None:
        """Answers in the conversation. The command is already committed, so a failed answer
        is logged, not turned into an error that would make Teams send the activity again."""
        try:
            await turn_context.send_activity(activity)
        except Exception:
            log.warning("could not answer in the conversation", exc_info=True)

    async def _command(self, turn_context: TurnContext, text: str) -> None:
        activity = turn_context.activity
        parts = text.split(maxsplit=2)
        word = parts[0].lower() if parts else "help"
        if word == "escalate":
            if len(parts) < 3:
                form = open_form_card(self.service.directory.all(), community=parts[1] if len(parts) == 2 else "")
                await self._say(turn_context, MessageFactory.attachment(CardFactory.adaptive_card(form)))
                return
            note = await self._open(
                activity,
                community=parts[1],
                question=parts[2],
                source=MessageRef(
                    platform=Platform.teams,
                    channel=_channel_of(activity),
                    id=_event_id(activity),
                    tenant=_tenant(activity),
                ),
            )
            if note:
                await self._say(turn_context, MessageFactory.text(escape_message_text(note[0])))
            return
        if word == "search":
            await self._search(turn_context, text.split(maxsplit=1)[1] if len(parts) > 1 else "")
            return
        if word == "status":
            await self._say(
                turn_context, MessageFactory.attachment(CardFactory.adaptive_card(await self._status_card(activity)))
            )
            return
        await self._say(turn_context, MessageFactory.text(escape_message_text(HELP)))

    async def _open(
        self,
        activity: Activity,
        *,
        community: str,
        question: str,
        priority: str | None = None,
        customer: str | None = None,
        link: str | None = None,
        source: MessageRef | None = None,
    ) -> tuple[str, bool] | None:
        """Opens an escalation; returns what to tell the requester and whether it opened
        (None for a redelivery)."""
        try:
            level = Priority((priority or Priority.normal.value).lower())
        except ValueError:
            level = Priority.normal
        try:
            outcome = await self.service.open(
                requester=actor_of(activity),
                community_key=community,
                question=question,
                priority=level,
                customer=customer or None,
                link=link or None,
                source=source,
                event=(SOURCE, _event_id(activity)),
            )
        except Refused as refusal:
            return refusal.message, False
        except ValidationError:
            return (
                "That is too long: at most 40,000 characters for the question, 500 for the customer "
                "and 2,000 for the link.",
                False,
            )
        if outcome.duplicate or outcome.escalation is None:
            return None
        esc = outcome.escalation
        if esc.held:
            wait = esc.policy.deflection_wait
            within = f" in {humanize(wait)}" if wait else ""
            # Not posted yet: the requester looks at earlier answers first.
            return (
                f"Earlier questions look similar to yours (#{esc.short_id()}), so I sent you their answers "
                f"privately first. Unless one of them answers it, your question goes to the {esc.community.name} "
                f"experts{within}, or as soon as you choose Still escalate.",
                True,
            )
        return (
            f"Escalated to {esc.community.name} (#{esc.short_id()}). "
            "The experts see it now; I will message you when someone picks it up.",
            True,
        )

    # ------------------------------------------------------------ search

    def _community_names(self) -> dict[str, str]:
        return {c.key: c.name for c in self.service.directory.all()}

    async def _search(self, turn_context: TurnContext, query: str) -> None:
        """Answers go to the asker alone: in a personal chat that is the reply; in a channel or
        group chat (Teams has no message only one member sees) it is their 1:1 chat with the bot,
        with a one-line pointer where they asked."""
        activity = turn_context.activity
        query = query.strip()
        if not query:
            await self._say(turn_context, MessageFactory.text("Say what to look for: search <words>."))
            return
        results = await self.service.search(query[:500], _scope(activity), limit=SEARCH_RESULTS)
        answer = MessageFactory.attachment(
            CardFactory.adaptive_card(search_card(query, results, self._community_names()))
        )
        answer.summary = f"Search: {query[:100]}"
        log.info("search", extra={"results": len(results), "personal": _personal(activity)})
        if _personal(activity):
            await self._say(turn_context, answer)
            return
        try:
            await self.sender.send_personal(actor_of(activity), answer)
        except Exception:
            log.warning("could not send search results privately", exc_info=True)
            note = "I could not message you privately. Open a chat with me and search there."
        else:
            note = "I sent you what I found in our 1:1 chat."
        await self._say(turn_context, MessageFactory.text(escape_message_text(note)))

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

    # ------------------------------------------------------------ status

    async def _status_card(self, activity: Activity) -> dict[str, Any]:
        actor, scope = actor_of(activity), _scope(activity)
        asked = await self.service.requested_by(actor, scope)
        held = await self.service.held_by(actor, scope)
        body: list[dict[str, Any]] = [{"type": "TextBlock", "text": "Your escalations", "weight": "Bolder"}]

        def section(title: str, items: Sequence[Escalation]) -> None:
            body.append({"type": "TextBlock", "text": title, "weight": "Bolder", "spacing": "Medium"})
            if not items:
                body.append({"type": "TextBlock", "text": "None.", "isSubtle": True})
            for esc in items:
                view = card_view(esc)
                head = f"#{esc.short_id()} {view.community_name}: {view.question[:200]}"
                owner = view.owner.label() if view.owner else "nobody yet"
                body.append({"type": "TextBlock", "text": escape_card_text(head), "wrap": True, "spacing": "Small"})
                facts = [
                    {"title": "Status", "value": escape_card_text(view.status_line)},
                    {"title": "Owner", "value": escape_card_text(owner)},
                    {"title": "Next", "value": next_words(view, activity.local_timezone)},
                ]
                body.append({"type": "FactSet", "facts": facts})

        section("Questions you asked", asked)
        section("Questions you hold", held)
        card = message_card("")
        card["body"] = body
        return card

    # ------------------------------------------------------------ card actions

    def _command_for(self, verb: str, esc_id: str, activity: Activity, data: dict[str, Any]) -> BaseCommand:
        base: dict[str, Any] = {
            "id": f"{SOURCE}:{_event_id(activity)}",
            "escalation_id": esc_id,
            "actor": actor_of(activity),
        }
        if verb == "claim":
            return Claim(**base)
        if verb == "assign":
            assignee = parse_person_value(str(data.get("assignee") or ""))
            if assignee is None:
                raise Refused(Reason.invalid, "Choose the expert to assign this question to.")
            return Assign(**base, assignee=assignee)
        if verb == "reassign":
            return Reassign(**base, to=parse_person_value(str(data.get("to") or "")))
        if verb == "resolve":
            return Resolve(**base, answer=(str(data.get("answer") or "").strip() or None))
        if verb == "cancel":
            return Cancel(**base)
        if verb == "reopen":
            return Reopen(**base)
        if verb == "accept":
            return Accept(**base)
        if verb == "decline":
            return Decline(**base, reason=(str(data.get("reason") or "").strip() or None))
        if verb == "priority":
            level = str(data.get("priority") or "").lower()
            if level not in {p.value for p in Priority}:
                raise Refused(Reason.invalid, "Choose a priority: " + ", ".join(p.value for p in Priority) + ".")
            return ChangePriority(**base, priority=Priority(level))
        if verb == "deflect":
            return Deflect(**base)
        if verb == "escalate":
            return Release(**base)
        raise Refused(Reason.invalid, f"Unknown action {verb!r}.")

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
        names = self._community_names()
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
        form = self._form_values(data)
        result = await self._open(activity, **form)
        if result is None:
            return _invoke_card(message_card("Already escalated."))
        note, opened = result
        if opened:
            return _invoke_card(message_card(note))
        card = open_form_card(
            self.service.directory.all(), question=form["question"], community=form["community"], note=note
        )
        return _invoke_card(card)

    @staticmethod
    def _form_values(data: dict[str, Any]) -> dict[str, Any]:
        source = data.get("source") if isinstance(data.get("source"), dict) else None
        return {
            "community": str(data.get("community") or "").strip(),
            "question": str(data.get("question") or "").strip(),
            "priority": str(data.get("priority") or "") or None,
            "customer": str(data.get("customer") or "").strip() or None,
            "link": str(data.get("link") or "").strip() or None,
            "source": MessageRef.model_validate(source) if source else None,
        }

    async def _submit_fallback(self, turn_context: TurnContext, value: dict[str, Any]) -> None:
        """A client without Universal Actions pressed a button: same command, and a refusal
        goes privately to the person (a reply here would be seen by the whole channel)."""
        activity = turn_context.activity
        verb = str(value.get("verb"))
        try:
            if verb == "open":
                result = await self._open(activity, **self._form_values(value))
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
        payload = action.message_payload
        question = plain_from_html(payload.body.content if payload and payload.body else "")
        source = None
        activity = turn_context.activity
        if payload and payload.id:
            source = MessageRef(
                platform=Platform.teams, channel=_channel_of(activity), id=str(payload.id), tenant=_tenant(activity)
            ).model_dump(mode="json")
        form = open_form_card(self.service.directory.all(), question=question, source=source, submit_only=True)
        return self._task(form)

    @staticmethod
    def _task(card: dict[str, Any]) -> MessagingExtensionActionResponse:
        return MessagingExtensionActionResponse(
            task=TaskModuleContinueResponse(
                value=TaskModuleTaskInfo(
                    title="Escalate to experts", card=CardFactory.adaptive_card(card), height="large", width="medium"
                )
            )
        )

    async def on_teams_messaging_extension_submit_action(
        self, turn_context: TurnContext, action: MessagingExtensionAction
    ) -> MessagingExtensionActionResponse:
        data = action.data if isinstance(action.data, dict) else {}
        form = self._form_values(data)
        result = await self._open(turn_context.activity, **form)
        if result is None or result[1]:
            message = result[0] if result else "Already escalated."
            return MessagingExtensionActionResponse(task=TaskModuleMessageResponse(value=message))
        note = result[0]
        card = open_form_card(
            self.service.directory.all(),
            question=form["question"],
            community=form["community"],
            source=data.get("source") if isinstance(data.get("source"), dict) else None,
            note=note,
            submit_only=True,
        )
        return self._task(card)
