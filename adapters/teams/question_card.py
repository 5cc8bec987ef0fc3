"""The question's card in the community's channel, and the private messages built on it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from workflows.attachments import files_words
from workflows.effects import Action, CardView, Notify
from workflows.local_time import local_time, reading_zone
from workflows.model import MessageRef, Platform, Priority, Status

from .attachments import open_buttons
from .card_parts import CARD_SCHEMA, CARD_VERSION, action_data, execute_action
from .text import escape_card_text, message_link

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


def next_words(view: CardView, person_zone: str | None = None) -> str:
    """When the next step is due, as text: Teams does not render ``{{DATE()}}``/``{{TIME()}}``
    in its cards (readers would see the raw braces), so the time is written out in the
    reader's zone when we know it (an answer to their own message), else the community's."""
    if view.next_step is None or view.next_due_at is None:
        return "Nothing scheduled"
    when = local_time(view.next_due_at, reading_zone(person_zone, view.time_zone))
    return f"{STEP_WORDS.get(view.next_step.value, view.next_step.value).capitalize()} at {when}"


def _show_card(title: str, body: list[dict[str, Any]], submit: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "Action.ShowCard",
        "title": title,
        "card": {"type": "AdaptiveCard", "version": CARD_VERSION, "body": body, "actions": [submit]},
    }


def _expert_choices(view: CardView) -> list[dict[str, str]]:
    return [{"title": ref.label(), "value": ref.as_choice()} for ref in view.experts]


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
            out.append(_show_card(title, body, execute_action("Assign", "assign", action_data(view, "assign"))))
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
                _show_card(
                    title, body, execute_action("Resolve", "resolve", action_data(view, "resolve"), style="positive")
                )
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
            out.append(_show_card(title, body, execute_action("Change", "priority", action_data(view, "priority"))))
        elif action == Action.reassign:
            choices = [{"title": "Next expert in rotation", "value": ""}, *_expert_choices(view)]
            body = [{"type": "Input.ChoiceSet", "id": "to", "label": "Reassign to", "choices": choices, "value": ""}]
            out.append(_show_card(title, body, execute_action("Reassign", "reassign", action_data(view, "reassign"))))
        else:
            style = "positive" if action in (Action.claim, Action.accept) else None
            if action in (Action.cancel, Action.decline):
                style = "destructive"
            out.append(execute_action(title, action.value, action_data(view, action.value), style=style))
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
