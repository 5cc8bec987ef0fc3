"""Earlier answers: the answer to ``search``, and the suggestions shown before a question
goes to the experts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from workflows.attachments import files_words
from workflows.effects import Action, CardView, Suggestion
from workflows.requests import OPEN_USAGE

from .attachments import open_buttons
from .card_parts import CARD_SCHEMA, CARD_VERSION, action_data, execute_action
from .text import escape_card_text, message_link, shorten, usage

SUGGESTION_QUESTION_CHARS = 300
SUGGESTION_ANSWER_CHARS = 1200


def _suggestion_block(suggestion: Suggestion, community_name: str | None) -> dict[str, Any]:
    items: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": escape_card_text(shorten(suggestion.question, SUGGESTION_QUESTION_CHARS)),
            "weight": "Bolder",
            "wrap": True,
        },
        {
            "type": "TextBlock",
            "text": "Answer: " + escape_card_text(shorten(suggestion.answer, SUGGESTION_ANSWER_CHARS)),
            "wrap": True,
        },
    ]
    if community_name:
        items.append(
            {
                "type": "TextBlock",
                "text": escape_card_text(community_name),
                "isSubtle": True,
                "size": "Small",
                "spacing": "None",
            }
        )
    if suggestion.files:
        items.append({"type": "TextBlock", "text": escape_card_text(files_words(suggestion.files)), "wrap": True})
    link = message_link(suggestion.card)
    opens = [{"type": "Action.OpenUrl", "title": "Open the thread", "url": link}] if link else []
    opens += open_buttons(suggestion.files)
    if opens:
        items.append({"type": "ActionSet", "actions": opens})
    return {"type": "Container", "separator": True, "spacing": "Medium", "items": items}


def search_card(query: str, results: Sequence[Suggestion], names: Mapping[str, str]) -> dict[str, Any]:
    """The answer to ``search <words>``: the best matches, or a clear "nothing found"."""
    title = f"Search: {shorten(query, 200, one_line=True)}"
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": escape_card_text(title), "size": "Medium", "weight": "Bolder", "wrap": True}
    ]
    if not results:
        body.append(
            {
                "type": "TextBlock",
                "text": escape_card_text(
                    "Nothing found in the answered questions. Try other words, or ask the experts: "
                    f"{usage(OPEN_USAGE)}."
                ),
                "wrap": True,
            }
        )
    body += [_suggestion_block(s, names.get(s.community_key)) for s in results]
    return {"type": "AdaptiveCard", "$schema": CARD_SCHEMA, "version": CARD_VERSION, "body": body}


def suggestions_card(
    view: CardView,
    suggestions: Sequence[Suggestion],
    names: Mapping[str, str],
    *,
    heading: str,
    warning: str | None = None,
    actions: Sequence[Action] = (Action.deflect, Action.escalate),
) -> dict[str, Any]:
    """Earlier answers shown to the requester before the question goes to the experts.
    The buttons carry the suggestions' ids so the card can be shown again after a press."""
    body: list[dict[str, Any]] = []
    if warning:
        body.append({"type": "TextBlock", "text": escape_card_text(warning), "wrap": True, "color": "Attention"})
    body += [
        {"type": "TextBlock", "text": escape_card_text(heading), "wrap": True, "weight": "Bolder"},
        {
            "type": "TextBlock",
            "text": escape_card_text(f"Your question for {view.community_name}"),
            "isSubtle": True,
            "spacing": "Medium",
        },
        {"type": "TextBlock", "text": escape_card_text(shorten(view.question, 500)), "wrap": True},
        {"type": "TextBlock", "text": "Answered before", "weight": "Bolder", "spacing": "Medium"},
    ]
    body += [_suggestion_block(s, names.get(s.community_key)) for s in suggestions]
    ids = [s.escalation_id for s in suggestions]
    buttons: list[dict[str, Any]] = []
    for action in actions:
        if action == Action.deflect:
            buttons.append(
                execute_action(
                    "This answers it", "deflect", action_data(view, "deflect", suggestions=ids), style="positive"
                )
            )
        elif action == Action.escalate:
            buttons.append(execute_action("Still escalate", "escalate", action_data(view, "escalate", suggestions=ids)))
    card: dict[str, Any] = {"type": "AdaptiveCard", "$schema": CARD_SCHEMA, "version": CARD_VERSION, "body": body}
    if buttons:
        card["actions"] = buttons
    return card
