"""What people type to the bot in Teams (``help``, ``status``, ``search``, ``whoami``,
``escalate <community> <question>``): the text goes through the core's grammar
(``workflows.requests``), and the answer is rendered here as Teams messages and cards."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.schema import Activity
from pydantic import ValidationError

from workflows.decide import card_view
from workflows.durations import humanize
from workflows.errors import Refused
from workflows.model import Community, Escalation, MessageRef, Platform, Priority
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

from .activity import actor_of, channel_of, channel_ref, event_id, personal, scope, tenant
from .card_parts import message_card
from .forms import open_form_card
from .knowledge_cards import search_card
from .question_card import next_words
from .sender import TeamsSender
from .text import escape_card_text, escape_message_text, usage

log = logging.getLogger("escalation_bot.teams")

SOURCE = "teams"
SEARCH_RESULTS = 5


# ---------------------------------------------------------------- the grammar, in Teams' words


def help_text(communities: Sequence[Community]) -> str:
    lines = ["Escalate a customer question to the experts (in a channel or group chat, @mention me first):"]
    lines += [f"- {usage(form.words)}: {form.does}" for form in FORMS]
    lines.append("- on any message: ... > More actions > Escalate to experts")
    lines.append("Experts: claim with the card's button or a reaction, and reply in the card's thread.")
    known = ", ".join(f"{c.key} ({c.name})" for c in communities) or "none configured"
    lines.append(f"Communities: {known}")
    return "\n".join(lines)


def mistake_text(mistake: Mistake) -> str:
    return f"{mistake.problem} {usage(mistake.usage)}"


def opened_words(esc: Escalation) -> str:
    """What the requester is told when their question opens (plain text, escaped where sent)."""
    if esc.held:
        wait = esc.policy.deflection_wait
        within = f" in {humanize(wait)}" if wait else ""
        # Not posted yet: the requester looks at earlier answers first.
        return (
            f"Earlier questions look similar to yours (#{esc.short_id()}), so I sent you their answers "
            f"privately first. Unless one of them answers it, your question goes to the {esc.community.name} "
            f"experts{within}, or as soon as you choose Still escalate."
        )
    return (
        f"Escalated to {esc.community.name} (#{esc.short_id()}). "
        "The experts see it now; I will message you when someone picks it up."
    )


def status_card(asked: Sequence[Escalation], held: Sequence[Escalation], zone: str | None) -> dict[str, Any]:
    """``status``: the questions a person asked and holds, read in their time zone."""
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
                {"title": "Next", "value": next_words(view, zone)},
            ]
            body.append({"type": "FactSet", "facts": facts})

    section("Questions you asked", asked)
    section("Questions you hold", held)
    card = message_card("")
    card["body"] = body
    return card


def _card(card: dict[str, Any]) -> Activity:
    return MessageFactory.attachment(CardFactory.adaptive_card(card))


class TeamsCommands:
    def __init__(self, service: EscalationService, sender: TeamsSender) -> None:
        self.service = service
        self.sender = sender

    async def say(self, turn_context: TurnContext, activity: Activity) -> None:
        """Answers in the conversation. The command is already committed, so a failed answer
        is logged, not turned into an error that would make Teams send the activity again."""
        try:
            await turn_context.send_activity(activity)
        except Exception:
            log.warning("could not answer in the conversation", exc_info=True)

    async def run(self, turn_context: TurnContext, text: str) -> None:
        activity = turn_context.activity
        communities = self.service.directory.all()
        request = parse(text, [c.key for c in communities])
        if isinstance(request, Help):
            await self.say(turn_context, MessageFactory.text(escape_message_text(help_text(communities))))
        elif isinstance(request, Mistake):
            await self.say(turn_context, MessageFactory.text(escape_message_text(mistake_text(request))))
        elif isinstance(request, Search):
            await self._search(turn_context, request.words)
        elif isinstance(request, Away | Back | Join | Leave):
            await self._presence(turn_context, request)
        elif isinstance(request, WhoAmI):
            await self._whoami(turn_context)
        elif isinstance(request, Status):
            await self.say(turn_context, _card(await self._status_card(activity)))
        elif isinstance(request, Open):
            source = MessageRef(
                platform=Platform.teams, channel=channel_of(activity), id=event_id(activity), tenant=tenant(activity)
            )
            note = await self.open(activity, community=request.community, question=request.question, source=source)
            if note:
                await self.say(turn_context, MessageFactory.text(escape_message_text(note[0])))
        else:
            form = open_form_card(
                communities,
                community=(request.community or "") if isinstance(request, Compose) else "",
                question=request.question,
                note=request.note if isinstance(request, UnknownCommunity) else None,
            )
            await self.say(turn_context, _card(form))

    async def _presence(self, turn_context: TurnContext, request: Away | Back | Join | Leave) -> None:
        """``away …``, ``back``, ``join``, ``leave``: dates in the zone the Teams client says it is in."""
        person = actor_of(turn_context.activity)
        zone = getattr(turn_context.activity, "local_timezone", None)
        try:
            text = (await self.service.presence.respond(person, request, zone)).text
        except Refused as refusal:
            text = refusal.message
        await self.say(turn_context, MessageFactory.text(escape_message_text(text)))

    async def open(
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
                event=(SOURCE, event_id(activity)),
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
        return opened_words(outcome.escalation), True

    # ------------------------------------------------------------ answers for one person

    async def _privately(self, turn_context: TurnContext, answer: Activity, what: str) -> None:
        """Teams has no message only one member of a channel sees: in a personal chat the answer
        is the reply; elsewhere it goes to the person's 1:1 chat with the bot, with a one-line
        pointer where they asked."""
        activity = turn_context.activity
        if personal(activity):
            await self.say(turn_context, answer)
            return
        try:
            await self.sender.send_personal(actor_of(activity), answer)
        except Exception:
            log.warning("could not answer privately", exc_info=True, extra={"answer": what})
            note = f"I could not message you privately. Open a chat with me and ask for {what} there."
        else:
            note = f"I sent you {what} in our 1:1 chat."
        await self.say(turn_context, MessageFactory.text(escape_message_text(note)))

    async def _search(self, turn_context: TurnContext, query: str) -> None:
        activity = turn_context.activity
        results = await self.service.search(query[:500], scope(activity), limit=SEARCH_RESULTS)
        names = {c.key: c.name for c in self.service.directory.all()}
        answer = _card(search_card(query, results, names))
        answer.summary = f"Search: {query[:100]}"
        log.info("search", extra={"results": len(results), "personal": personal(activity)})
        await self._privately(turn_context, answer, "what I found")

    async def _whoami(self, turn_context: TurnContext) -> None:
        activity = turn_context.activity
        identity = whoami(actor_of(activity), self.service.directory.all(), channel_ref(activity))
        lines = ["For the bot's configuration file:"]
        lines += [f"- {what}: {value}" for what, value in identity.facts]
        lines.append(identity.roles)
        await self._privately(turn_context, MessageFactory.text(escape_message_text("\n".join(lines))), "your ids")

    async def _status_card(self, activity: Activity) -> dict[str, Any]:
        actor, where = actor_of(activity), scope(activity)
        asked = await self.service.requested_by(actor, where)
        held = await self.service.held_by(actor, where)
        return status_card(asked, held, activity.local_timezone)


__all__ = ["SEARCH_RESULTS", "TeamsCommands", "help_text", "opened_words", "status_card"]
