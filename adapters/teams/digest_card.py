"""The community's daily digest card for its channel."""

from __future__ import annotations

import json
from typing import Any

from workflows.effects import DigestItem, PostDigest

from .card_parts import CARD_SCHEMA, CARD_VERSION, execute_action
from .text import escape_card_text, shorten

DIGEST_QUESTION_CHARS = 150
DIGEST_NOTE_CHARS = 200
# Teams refuses a message over about 28 KB; the card must leave room for the activity
# around it, and escaping can double what people typed.
MAX_CARD_BYTES = 24_000
DIGEST_ITEMS_PER_SECTION = 20  # beyond this a channel message is no longer read
DIGEST_SECTIONS = (
    ("unanswered", "Unanswered, oldest first"),
    ("overdue", "Owned but overdue"),
    ("waiting", "Waiting on the requester"),
    ("resolved", "Resolved since the last digest"),
)


def _size(node: Any) -> int:
    # ASCII-escaped JSON: never smaller than what goes over the wire, whatever the script.
    return len(json.dumps(node))


def _digest_item(item: DigestItem, *, resolved: bool) -> dict[str, Any]:
    line = f"{item.age} · {item.note}"
    if not resolved:
        line = f"{line} · asked by {item.requester.label()}"
    items: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": escape_card_text(shorten(item.question, DIGEST_QUESTION_CHARS, one_line=True)),
            "wrap": True,
        },
        {
            "type": "TextBlock",
            "text": escape_card_text(shorten(line, DIGEST_NOTE_CHARS, one_line=True)),
            "isSubtle": True,
            "size": "Small",
            "spacing": "None",
            "wrap": True,
        },
    ]
    if item.claimable:
        data = {"verb": "claim", "escalation_id": item.escalation_id, "digest": True}
        items.append({"type": "ActionSet", "actions": [execute_action("Claim", "claim", data, style="positive")]})
    return {"type": "Container", "spacing": "Small", "items": items}


def _more(count: int) -> dict[str, Any]:
    return {"type": "TextBlock", "text": f"…and {count} more", "isSubtle": True, "spacing": "Small"}


def digest_card(digest: PostDigest, *, max_bytes: int = MAX_CARD_BYTES) -> dict[str, Any]:
    """The community's daily digest for its channel. Long lists are cut with "…and N more"
    so the card always fits in one Teams message, each section keeping room for the next."""
    title = f"Daily digest for {digest.community_name}, {digest.day:%A %d %B}"
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": escape_card_text(title), "size": "Medium", "weight": "Bolder", "wrap": True}
    ]
    card: dict[str, Any] = {
        "type": "AdaptiveCard",
        "$schema": CARD_SCHEMA,
        "version": CARD_VERSION,
        "body": body,
        "msteams": {"width": "Full"},
    }
    if digest.empty:
        body.append(
            {
                "type": "TextBlock",
                "text": "Nothing open, nothing overdue, nothing resolved since the last digest.",
                "wrap": True,
            }
        )
    footer = (
        (
            [
                {
                    "type": "TextBlock",
                    "text": escape_card_text(digest.week),
                    "isSubtle": True,
                    "wrap": True,
                    "separator": True,
                }
            ]
            if digest.week
            else []
        )
        + (
            [{"type": "TextBlock", "text": escape_card_text(digest.away), "isSubtle": True, "wrap": True}]
            if digest.away
            else []
        )
        + (
            [{"type": "TextBlock", "text": escape_card_text(digest.joined), "isSubtle": True, "wrap": True}]
            if digest.joined
            else []
        )
    )
    sections = [(title, getattr(digest, key), key == "resolved") for key, title in DIGEST_SECTIONS]
    sections = [s for s in sections if s[1]]
    used = _size(card) + _size(footer)
    for index, (heading, items, resolved) in enumerate(sections):
        head = {
            "type": "TextBlock",
            "text": f"{heading} ({len(items)})",
            "weight": "Bolder",
            "spacing": "Medium",
            "separator": True,
        }
        body.append(head)
        used += _size(head) + 1
        # A fair share of what is left for each section still to come; what one leaves unused
        # goes to the next, so a long list never crowds out the sections after it.
        share = (max_bytes - used) // (len(sections) - index)
        spent = shown = 0
        for item in items[:DIGEST_ITEMS_PER_SECTION]:
            block = _digest_item(item, resolved=resolved)
            cost = _size(block) + 1
            left = len(items) - shown - 1
            if spent + cost + (_size(_more(left)) + 1 if left else 0) > share:
                break
            body.append(block)
            spent += cost
            shown += 1
        if shown < len(items):
            more = _more(len(items) - shown)
            body.append(more)
            spent += _size(more) + 1
        used += spent
    body += footer
    return card
