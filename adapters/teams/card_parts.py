"""What every Adaptive Card (1.5) we send shares: the envelope, the buttons that act on an
escalation, and the plain message card."""

from __future__ import annotations

from typing import Any

from workflows.effects import CardView, Notice

from .text import escape_card_text

CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CARD_VERSION = "1.5"
CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"


def action_data(view: CardView, verb: str, **extra: Any) -> dict[str, Any]:
    return {"verb": verb, "escalation_id": view.escalation_id, "version": view.version, **extra}


def execute_action(title: str, verb: str, data: dict[str, Any], *, style: str | None = None) -> dict[str, Any]:
    action: dict[str, Any] = {
        "type": "Action.Execute",
        "title": title,
        "verb": verb,
        "data": data,
        # Clients without Universal Actions send a message activity with the same data.
        "fallback": {"type": "Action.Submit", "title": title, "data": data},
    }
    if style:
        action["style"] = style
    return action


def message_card(text: str, *, title: str | None = None) -> dict[str, Any]:
    body: list[dict[str, Any]] = []
    if title:
        body.append({"type": "TextBlock", "text": escape_card_text(title), "weight": "Bolder", "wrap": True})
    body.append({"type": "TextBlock", "text": escape_card_text(text), "wrap": True})
    return {"type": "AdaptiveCard", "$schema": CARD_SCHEMA, "version": CARD_VERSION, "body": body}


def notice_title(notice: Notice) -> str:
    return notice.value.replace("_", " ").capitalize()
