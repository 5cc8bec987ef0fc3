"""Block Kit building blocks shared by every Slack surface: interactive ids, limits,
mrkdwn text objects and the action values the listeners parse back.

Everything a person typed goes through ``text.escape`` (mrkdwn with ``verbatim``), so
nothing in a question can ping or break the layout; people the bot means to mention
come from structured refs and are rendered ``<@U…>``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    MarkdownTextObject,
    SectionBlock,
)

from .text import (
    slack_markup,
)

CLAIM = "claim"
ASSIGN = "assign"
RESOLVE = "resolve"
MORE = "more"
REOPEN = "reopen"
ACCEPT = "accept"
DECLINE = "decline"
REASSIGN_TO = "reassign_to"
SHOW_QUESTION = "show_question"
DEFLECT = "deflect"  # "This answers it"
ESCALATE = "escalate"  # "Still escalate"
HOME_AWAY = "home_away"  # the App Home's "I'm away…": opens the away form
HOME_BACK = "home_back"  # the App Home's "I'm back"
ACTION_IDS = (CLAIM, ASSIGN, RESOLVE, MORE, REOPEN, ACCEPT, DECLINE, REASSIGN_TO, SHOW_QUESTION, DEFLECT, ESCALATE)
HOME_ACTION_IDS = (HOME_AWAY, HOME_BACK)
AWAY_MODAL = "away_modal"

ESCALATE_MODAL = "escalate_modal"
RESOLVE_MODAL = "resolve_modal"
VIEW_CALLBACKS = (ESCALATE_MODAL, RESOLVE_MODAL)

CARD_QUESTION_LIMIT = 2800
DM_QUESTION_LIMIT = 1200
MODAL_INPUT_LIMIT = 3000  # Slack's maximum for plain_text_input

MAX_BLOCKS = 50  # Slack's limit per message
SUGGESTIONS_SHOWN = 3
SUGGESTION_QUESTION_LIMIT = 300
SUGGESTION_ANSWER_LIMIT = 700
SUGGESTION_FILES_LIMIT = 900
DIGEST_BLOCK_PREFIX = "digest"


def md(text: str) -> MarkdownTextObject:
    # verbatim: Slack must not turn plain words into links or mentions.
    return MarkdownTextObject(text=slack_markup(text), verbatim=True)


def action_value(escalation_id: str, version: int | None, action: str | None = None) -> str:
    data: dict[str, Any] = {"e": escalation_id}
    if version is not None:
        data["v"] = version
    if action:
        data["a"] = action
    return json.dumps(data, separators=(",", ":"))


@dataclass(frozen=True)
class ActionTarget:
    escalation_id: str
    version: int | None
    action: str | None = None


def parse_action(action: dict[str, Any]) -> ActionTarget | None:
    """Where a button/select/overflow points: its value, else its block id."""
    raw = action.get("value") or (action.get("selected_option") or {}).get("value")
    if raw:
        try:
            data = json.loads(raw)
            return ActionTarget(str(data["e"]), int(data["v"]) if "v" in data else None, data.get("a"))
        except (ValueError, KeyError, TypeError):
            return None
    parts = str(action.get("block_id", "")).split(":")
    if len(parts) >= 3 and parts[0] == "esc":
        try:
            return ActionTarget(parts[1], int(parts[2]))
        except ValueError:
            return None
    return None


def to_dicts(blocks: Sequence[Block]) -> list[dict[str, Any]]:
    return [b.to_dict() for b in blocks]


# ---------------------------------------------------------------- status words


def md_section(text: str, block_id: str | None = None) -> SectionBlock:
    return SectionBlock(block_id=block_id, text=md(text))
