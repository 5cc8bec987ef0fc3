"""The form to escalate a question: behind ``escalate`` alone and the message extension."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from workflows.model import Community, Priority

from .card_parts import CARD_SCHEMA, CARD_VERSION, execute_action
from .text import escape_card_text


def open_form_card(
    communities: Sequence[Community],
    *,
    question: str = "",
    community: str = "",
    source: dict[str, Any] | None = None,
    note: str | None = None,
    verb: str = "open",
    submit_only: bool = False,
) -> dict[str, Any]:
    """The form behind ``escalate`` alone and the message extension: community, question,
    priority, customer, link. ``source`` rides along in the data (the message it came from)."""
    choices = [{"title": c.name, "value": c.key} for c in communities]
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": "Escalate to experts", "size": "Medium", "weight": "Bolder"},
    ]
    if note:
        body.append({"type": "TextBlock", "text": escape_card_text(note), "wrap": True, "color": "Attention"})
    body += [
        {
            "type": "Input.ChoiceSet",
            "id": "community",
            "label": "Community",
            "choices": choices,
            "value": community or (choices[0]["value"] if len(choices) == 1 else ""),
            "isRequired": True,
            "errorMessage": "Choose the experts to ask",
        },
        {
            "type": "Input.Text",
            "id": "question",
            "label": "Question",
            "isMultiline": True,
            "value": question,
            "maxLength": 40000,
            "isRequired": True,
            "errorMessage": "Say what you need help with",
        },
        {
            "type": "Input.ChoiceSet",
            "id": "priority",
            "label": "Priority",
            "value": Priority.normal.value,
            "choices": [{"title": p.value.capitalize(), "value": p.value} for p in Priority],
        },
        {"type": "Input.Text", "id": "customer", "label": "Customer (optional)", "maxLength": 500},
        {"type": "Input.Text", "id": "link", "label": "Link (optional)", "style": "Url", "maxLength": 2000},
    ]
    data: dict[str, Any] = {"verb": verb}
    if source:
        data["source"] = source
    return {
        "type": "AdaptiveCard",
        "$schema": CARD_SCHEMA,
        "version": CARD_VERSION,
        "body": body,
        # A task module (the message extension) submits with Action.Submit.
        "actions": [
            {"type": "Action.Submit", "title": "Escalate", "data": data, "style": "positive"}
            if submit_only
            else execute_action("Escalate", verb, data, style="positive")
        ],
    }
