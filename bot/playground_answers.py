"""The playground's answers to one person alone, worded by each adapter's own functions: on
Slack what ``/escalate`` answers ephemerally, on Teams what the bot replies in the 1:1 chat."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from adapters.slack import commands as slack_commands
from adapters.slack.actions import answered_dm
from adapters.slack.blocks import md
from adapters.slack.text import escape
from adapters.slack.views import Listed, search_blocks, status_blocks
from adapters.teams import commands as teams_commands
from adapters.teams.bot import DONE_WORDS, ESCALATION_VERBS
from adapters.teams.knowledge_cards import search_card
from adapters.teams.question_card import question_card
from adapters.teams.text import escape_message_text
from workflows.decide import card_view
from workflows.directory import Directory
from workflows.effects import Suggestion
from workflows.model import Community, Escalation, Platform
from workflows.model import PersonRef as Person
from workflows.requests import Mistake, whoami


def _section(text: str) -> dict[str, Any]:
    return {"blocks": [{"type": "section", "text": md(text).to_dict()}]}


class SlackAnswers:
    def __init__(self, directory: Directory, page_url: str) -> None:
        self.directory = directory
        self.page_url = page_url

    def help(self, communities: Sequence[Community]) -> dict[str, Any]:
        return _section(slack_commands.help_text(communities))

    def mistake(self, mistake: Mistake) -> dict[str, Any]:
        return _section(slack_commands.mistake_text(mistake))

    def text(self, text: str) -> dict[str, Any]:
        return _section(escape(text))

    def whoami(self, person: Person, communities: Sequence[Community]) -> dict[str, Any]:
        return _section(slack_commands.whoami_text(person, communities, None))

    def search(self, words: str, hits: Sequence[Suggestion]) -> dict[str, Any]:
        names = {c.key: c.name for c in self.directory.all()}
        found = [
            (hit, f"{self.page_url}#m{hit.card.id}" if hit.card and hit.card.platform == Platform.slack else None)
            for hit in hits
        ]
        return {"blocks": search_blocks(words, found, names)}

    def opened(self, esc: Escalation) -> dict[str, Any]:
        return _section(slack_commands.opened_words(esc))

    def status(self, asked: Sequence[Escalation], held: Sequence[Escalation], now: datetime) -> dict[str, Any]:
        # Slack's /escalate status lists what the person asked (their App Home shows the rest).
        return {"blocks": status_blocks([Listed(card_view(esc), None) for esc in asked], now)}

    def answered(
        self, control: str, fields: Mapping[str, str], esc: Escalation | None, dm: dict[str, Any]
    ) -> dict[str, Any] | None:
        # As the Slack listener's ``respond(replace_original=True)``: the buttons give way to what happened.
        found = answered_dm(control, fields.get("selected_user") or None, esc, dm.get("blocks") or [])
        return {"blocks": found[1]} if found is not None else None


class TeamsAnswers:
    def __init__(self, directory: Directory) -> None:
        self.directory = directory

    def help(self, communities: Sequence[Community]) -> dict[str, Any]:
        return {"html": escape_message_text(teams_commands.help_text(communities))}

    def mistake(self, mistake: Mistake) -> dict[str, Any]:
        return {"html": escape_message_text(teams_commands.mistake_text(mistake))}

    def text(self, text: str) -> dict[str, Any]:
        return {"html": escape_message_text(text)}

    def whoami(self, person: Person, communities: Sequence[Community]) -> dict[str, Any]:
        identity = whoami(person, communities, None)
        lines = ["For the bot's configuration file:", *(f"- {what}: {value}" for what, value in identity.facts)]
        return {"html": escape_message_text("\n".join([*lines, identity.roles]))}

    def search(self, words: str, hits: Sequence[Suggestion]) -> dict[str, Any]:
        names = {c.key: c.name for c in self.directory.all()}
        return {"card": search_card(words, hits, names)}

    def opened(self, esc: Escalation) -> dict[str, Any]:
        return {"html": escape_message_text(teams_commands.opened_words(esc))}

    def status(self, asked: Sequence[Escalation], held: Sequence[Escalation], now: datetime) -> dict[str, Any]:
        return {"card": teams_commands.status_card(asked, held, None)}

    def answered(
        self, control: str, fields: Mapping[str, str], esc: Escalation | None, dm: dict[str, Any]
    ) -> dict[str, Any] | None:
        # As the Teams bot's invoke response in a personal chat: the question's card, headed by what happened.
        if esc is None or control not in ESCALATION_VERBS:
            return None
        return {"card": question_card(card_view(esc), heading=DONE_WORDS.get(control))}
