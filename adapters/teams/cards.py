"""Adaptive Cards (1.5) and message text for Teams, from the core's plain effects.

Everything a person typed is escaped here: for Adaptive Card markdown in cards, and for
HTML, markdown and ``<at>`` mentions in message text.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlencode

from workflows.attachments import files_words
from workflows.effects import Action, CardView, DigestItem, Notice, Notify, PostDigest, Suggestion
from workflows.local_time import local_time, reading_zone
from workflows.model import Community, MessageRef, PersonRef, Platform, Priority, Status
from workflows.requests import OPEN_USAGE, VERB

from .attachments import open_buttons

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
    "release": "send it to the experts",  # held while the requester checks similar answers
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
    Action.deflect: "This answers it",
    Action.escalate: "Still escalate",
    Action.priority: "Priority",
}

# Markdown that means something anywhere (emphasis, code, links), and at a line start
# (headings, quotes, lists).
_CARD_MARKDOWN = re.compile(r"([\\*_~`\[\]])")
_LIST_START = re.compile(r"^(\s*)([-+#>]|\d+\.)(\s)", re.MULTILINE)
_AT_TAG = re.compile(r"<(/?)(at)\b", re.IGNORECASE)
_TAG = re.compile(r"<[^>]{0,500}>")


def usage(words: str) -> str:
    """One form of the grammar (``workflows.requests``) as people type it to the bot in Teams,
    plain: the forms that open a question start with the verb."""
    return f"{VERB} {words}".strip() if not words or words.startswith("<") else words


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


def next_words(view: CardView, person_zone: str | None = None) -> str:
    """When the next step is due, as text: Teams does not render ``{{DATE()}}``/``{{TIME()}}``
    in its cards (readers would see the raw braces), so the time is written out in the
    reader's zone when we know it (an answer to their own message), else the community's."""
    if view.next_step is None or view.next_due_at is None:
        return "Nothing scheduled"
    when = local_time(view.next_due_at, reading_zone(person_zone, view.time_zone))
    return f"{STEP_WORDS.get(view.next_step.value, view.next_step.value).capitalize()} at {when}"


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
        elif action == Action.priority:
            choices = [{"title": p.value.capitalize(), "value": p.value} for p in Priority]
            body = [
                {
                    "type": "Input.ChoiceSet",
                    "id": "priority",
                    "label": "Priority",
                    "choices": choices,
                    "value": view.priority.value,
                }
            ]
            out.append(_show_card(title, body, _execute("Change", "priority", _data(view, "priority"))))
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
    if view.answer_files:
        facts.append({"title": "Files", "value": escape_card_text(files_words(view.answer_files))})
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
        *_likely(view),
    ]
    return {
        "type": "AdaptiveCard",
        "$schema": CARD_SCHEMA,
        "version": CARD_VERSION,
        "body": body,
        "actions": card_actions(view, view.actions) + open_buttons(view.answer_files),
        "msteams": {"width": "Full"},
    }


def _likely(view: CardView) -> list[dict[str, Any]]:
    """Who in the community answered similar questions, each opening the latest one's thread."""
    if not view.likely:
        return []
    out: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": "Answered similar questions", "weight": "Bolder", "spacing": "Medium"}
    ]
    for answerer in view.likely:
        ref = next((r for r in answerer.refs if r.platform == Platform.teams), answerer.refs[0])
        line = f"{answerer.name or ref.label()}: {answerer.answered} (latest: “{answerer.latest_question}”)"
        item: dict[str, Any] = {
            "type": "Container",
            "spacing": "None",
            "items": [{"type": "TextBlock", "text": escape_card_text(line), "wrap": True, "size": "Small"}],
        }
        url = message_link(answerer.latest_card)
        if url:
            item["selectAction"] = {"type": "Action.OpenUrl", "title": "Open the thread", "url": url}
        out.append(item)
    return out


def notify_card(effect: Notify, thread: MessageRef | None = None) -> dict[str, Any]:
    """A private message: what happened, the question in short, what the person can do, and
    a link to the question's thread when it is in a Teams channel."""
    view = effect.view
    card = question_card(view, heading=effect.text)
    card["actions"] = card_actions(view, effect.actions) + open_buttons(effect.files)
    url = message_link(thread)
    if url:
        card["actions"].append({"type": "Action.OpenUrl", "title": "Open the thread", "url": url})
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


# ---------------------------------------------------------------- knowledge, deflection, digest

SUGGESTION_QUESTION_CHARS = 300
SUGGESTION_ANSWER_CHARS = 1200
DIGEST_QUESTION_CHARS = 150
DIGEST_NOTE_CHARS = 200
# Teams refuses a message over about 28 KB; the card must leave room for the activity
# around it, and escaping can double what people typed.
MAX_CARD_BYTES = 24_000
DIGEST_ITEMS_PER_SECTION = 20  # beyond this a channel message is no longer read
TEAMS_WEB = "https://teams.microsoft.com"
DIGEST_SECTIONS = (
    ("unanswered", "Unanswered, oldest first"),
    ("overdue", "Owned but overdue"),
    ("waiting", "Waiting on the requester"),
    ("resolved", "Resolved since the last digest"),
)


def shorten(text: str | None, limit: int, *, one_line: bool = False) -> str:
    """At most ``limit`` characters of plain text, cut with an ellipsis (escape afterwards)."""
    text = (text or "").strip()
    if one_line:
        text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[:limit].rstrip() + " …"


def message_link(ref: MessageRef | None) -> str | None:
    """A Teams deep link to a card's thread in its channel. Only Teams messages have one
    we can build without asking the platform; others are shown without a link. The team's
    group id and names are optional in the link: Teams finds the channel by its id."""
    if ref is None or ref.platform != Platform.teams or not ref.channel or not ref.id:
        return None
    query = {"parentMessageId": ref.id}
    if ref.tenant:
        query["tenantId"] = ref.tenant
    if ref.id.isdigit():  # channel message ids are their creation time in milliseconds
        query["createdTime"] = ref.id
    return f"{TEAMS_WEB}/l/message/{quote(ref.channel, safe='')}/{quote(ref.id, safe='')}?{urlencode(query)}"


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
                _execute("This answers it", "deflect", _data(view, "deflect", suggestions=ids), style="positive")
            )
        elif action == Action.escalate:
            buttons.append(_execute("Still escalate", "escalate", _data(view, "escalate", suggestions=ids)))
    card: dict[str, Any] = {"type": "AdaptiveCard", "$schema": CARD_SCHEMA, "version": CARD_VERSION, "body": body}
    if buttons:
        card["actions"] = buttons
    return card


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
        items.append({"type": "ActionSet", "actions": [_execute("Claim", "claim", data, style="positive")]})
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
