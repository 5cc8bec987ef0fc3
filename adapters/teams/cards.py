"""Adaptive Cards (1.5) and message text for Teams, from the core's plain effects.

Everything a person typed is escaped here: for Adaptive Card markdown in cards, and for
HTML, markdown and ``<at>`` mentions in message text.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from workflows.effects import Action, CardView, Notice, Notify
from workflows.model import Community, PersonRef, Platform, Priority, Status

CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CARD_VERSION = "1.5"
CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
MAX_QUESTION_CHARS = 3000  # a card must stay well under Teams' 28 KB

STEP_WORDS = {
    "nudge": "nudge the channel",
    "assign": "assign an expert",
    "owner_reminder": "remind the owner",
    "reassign": "reassign",
    "requester_reminder": "remind the requester",
    "auto_close": "close automatically",
}
ACTION_TITLES = {
    Action.claim: "Claim",
    Action.assign: "Assign",
    Action.resolve: "Resolve",
    Action.reassign: "Reassign",
    Action.cancel: "Cancel",
    Action.reopen: "Reopen",
    Action.accept: "Accept",
    Action.decline: "Decline",
}

# Markdown that means something anywhere (emphasis, code, links), and at a line start
# (headings, quotes, lists).
_CARD_MARKDOWN = re.compile(r"([\\*_~`\[\]])")
_LIST_START = re.compile(r"^(\s*)([-+#>]|\d+\.)(\s)", re.MULTILINE)
_AT_TAG = re.compile(r"<(/?)(at)\b", re.IGNORECASE)
_TAG = re.compile(r"<[^>]{0,500}>")


def escape_card_text(text: str | None) -> str:
    """Plain text for a TextBlock/FactSet: no markdown, links or mentions take effect."""
    if not text:
        return ""
    text = _AT_TAG.sub(lambda m: "<\u200b" + m.group(1) + m.group(2), text)
    text = _CARD_MARKDOWN.sub(r"\\\1", text)
    return _LIST_START.sub(lambda m: m.group(1) + "\\" + m.group(2) + m.group(3), text)


def escape_message_text(text: str | None) -> str:
    """Plain text for a Teams message: HTML-escaped (so ``<at>`` is inert) and markdown-escaped."""
    if not text:
        return ""
    text = _CARD_MARKDOWN.sub(r"\\\1", text)
    text = _LIST_START.sub(lambda m: m.group(1) + "\\" + m.group(2) + m.group(3), text)
    return html.escape(text, quote=False).replace("\n", "<br>")


def plain_from_html(text: str | None) -> str:
    """What a person wrote, from a Teams message body (HTML with entities)."""
    if not text:
        return ""
    text = re.sub(r"<br\s*/?>|</p>|</div>", "\n", text, flags=re.IGNORECASE)
    return html.unescape(_TAG.sub("", text)).replace("\xa0", " ").strip()


def person_value(ref: PersonRef) -> str:
    """A person as a choice value: platform|tenant|id|display name."""
    return f"{ref.platform.value}|{ref.tenant}|{ref.id}|{ref.name or ''}"


def parse_person_value(value: str) -> PersonRef | None:
    parts = (value or "").split("|", 3)
    if len(parts) < 3 or not parts[2]:
        return None
    try:
        platform = Platform(parts[0])
    except ValueError:
        return None
    name = parts[3] if len(parts) == 4 and parts[3] else None
    return PersonRef(platform=platform, id=parts[2], tenant=parts[1], name=name)


def _when(moment: datetime) -> str:
    # Teams renders these in each reader's own time zone and locale.
    iso = moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f"{{{{DATE({iso}, SHORT)}}}} {{{{TIME({iso})}}}}"


def next_words(view: CardView) -> str:
    if view.next_step is None or view.next_due_at is None:
        return "Nothing scheduled"
    return f"{STEP_WORDS.get(view.next_step.value, view.next_step.value).capitalize()} at {_when(view.next_due_at)}"


def _data(view: CardView, verb: str, **extra: Any) -> dict[str, Any]:
    return {"verb": verb, "escalation_id": view.escalation_id, "version": view.version, **extra}


def _execute(title: str, verb: str, data: dict[str, Any], *, style: str | None = None) -> dict[str, Any]:
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


def _show_card(title: str, body: list[dict[str, Any]], submit: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "Action.ShowCard",
        "title": title,
        "card": {"type": "AdaptiveCard", "version": CARD_VERSION, "body": body, "actions": [submit]},
    }


def _expert_choices(view: CardView) -> list[dict[str, str]]:
    return [{"title": ref.label(), "value": person_value(ref)} for ref in view.experts]


def card_actions(view: CardView, actions: Sequence[Action]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for action in actions:
        title = ACTION_TITLES.get(action, action.value.capitalize())
        if action == Action.assign:
            choices = _expert_choices(view)
            if not choices:
                continue
            body = [
                {
                    "type": "Input.ChoiceSet",
                    "id": "assignee",
                    "label": "Assign to",
                    "choices": choices,
                    "isRequired": True,
                    "errorMessage": "Choose an expert",
                },
            ]
            out.append(_show_card(title, body, _execute("Assign", "assign", _data(view, "assign"))))
        elif action == Action.resolve:
            body = [
                {
                    "type": "Input.Text",
                    "id": "answer",
                    "label": "Answer (for the knowledge base)",
                    "isMultiline": True,
                    "maxLength": 4000,
                },
            ]
            out.append(
                _show_card(title, body, _execute("Resolve", "resolve", _data(view, "resolve"), style="positive"))
            )
        elif action == Action.reassign:
            choices = [{"title": "Next expert in rotation", "value": ""}, *_expert_choices(view)]
            body = [{"type": "Input.ChoiceSet", "id": "to", "label": "Reassign to", "choices": choices, "value": ""}]
            out.append(_show_card(title, body, _execute("Reassign", "reassign", _data(view, "reassign"))))
        else:
            style = "positive" if action in (Action.claim, Action.accept) else None
            if action in (Action.cancel, Action.decline):
                style = "destructive"
            out.append(_execute(title, action.value, _data(view, action.value), style=style))
    return out


def _facts(view: CardView) -> list[dict[str, str]]:
    facts = [
        {"title": "From", "value": escape_card_text(view.requester.label())},
        {"title": "Priority", "value": view.priority.value.capitalize()},
    ]
    if view.customer:
        facts.append({"title": "Customer", "value": escape_card_text(view.customer)})
    if view.link:
        facts.append({"title": "Link", "value": escape_card_text(view.link)})
    facts.append({"title": "Status", "value": escape_card_text(view.status_line)})
    if view.owner is not None:
        facts.append({"title": "Owner", "value": escape_card_text(view.owner.label())})
    if view.status == Status.open:
        facts.append({"title": "Next", "value": next_words(view)})
    if view.answer:
        facts.append({"title": "Answer", "value": escape_card_text(view.answer)})
    facts.append({"title": "Id", "value": view.escalation_id[:8]})
    return facts


def _question_text(question: str) -> str:
    if len(question) > MAX_QUESTION_CHARS:
        question = question[:MAX_QUESTION_CHARS].rstrip() + " …"
    return escape_card_text(question)


def question_card(view: CardView, *, heading: str | None = None, warning: str | None = None) -> dict[str, Any]:
    """The card in the community's channel: the question, its status, and the buttons.
    ``warning`` (a refusal) is only ever put on a card returned to the one person who acted."""
    urgent = view.priority in (Priority.high, Priority.urgent) and view.status == Status.open
    body: list[dict[str, Any]] = []
    if warning:
        body.append({"type": "TextBlock", "text": escape_card_text(warning), "wrap": True, "color": "Attention"})
    if heading:
        body.append({"type": "TextBlock", "text": escape_card_text(heading), "wrap": True, "weight": "Bolder"})
    body += [
        {
            "type": "TextBlock",
            "text": escape_card_text(f"Question for {view.community_name}"),
            "size": "Medium",
            "weight": "Bolder",
            "wrap": True,
            "color": "Attention" if urgent else "Default",
        },
        {"type": "TextBlock", "text": _question_text(view.question), "wrap": True},
        {"type": "FactSet", "facts": _facts(view)},
    ]
    return {
        "type": "AdaptiveCard",
        "$schema": CARD_SCHEMA,
        "version": CARD_VERSION,
        "body": body,
        "actions": card_actions(view, view.actions),
        "msteams": {"width": "Full"},
    }


def notify_card(effect: Notify) -> dict[str, Any]:
    """A private message: what happened, the question in short, and what the person can do."""
    view = effect.view
    card = question_card(view, heading=effect.text)
    card["actions"] = card_actions(view, effect.actions)
    return card


def thread_text(text: str, mentions: Sequence[PersonRef]) -> tuple[str, list[dict[str, Any]]]:
    """Message text with ``<at>`` mentions for the Teams people, and their entities."""
    tags: list[str] = []
    entities: list[dict[str, Any]] = []
    for ref in mentions:
        if ref.platform != Platform.teams:
            continue
        name = html.escape(ref.name or "expert", quote=False)
        tag = f"<at>{name}</at>"
        tags.append(tag)
        entities.append({"type": "mention", "text": tag, "mentioned": {"id": ref.id, "name": ref.name or "expert"}})
    body = escape_message_text(text)
    return (" ".join([*tags, body]) if tags else body), entities


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
            else _execute("Escalate", verb, data, style="positive")
        ],
    }


def message_card(text: str, *, title: str | None = None) -> dict[str, Any]:
    body: list[dict[str, Any]] = []
    if title:
        body.append({"type": "TextBlock", "text": escape_card_text(title), "weight": "Bolder", "wrap": True})
    body.append({"type": "TextBlock", "text": escape_card_text(text), "wrap": True})
    return {"type": "AdaptiveCard", "$schema": CARD_SCHEMA, "version": CARD_VERSION, "body": body}


def notice_title(notice: Notice) -> str:
    return notice.value.replace("_", " ").capitalize()
