"""A click in the page -> the command the Slack or Teams adapter sends for the same click.

Slack's controls are named by their ``action_id`` (and an overflow option's value), Teams'
by the card action's ``verb``; both lists are the ones ``adapters/slack/listeners.py`` and
``adapters/teams/bot.py`` read. No rule is decided here: the service refuses what is not
allowed, with its own words."""

from __future__ import annotations

import json
from collections.abc import Mapping

from workflows.commands import BaseCommand, button_command
from workflows.errors import Refused
from workflows.model import PersonRef, Platform


def slack_target(value: str) -> tuple[str, str | None] | None:
    """A Slack button's or overflow option's value: (escalation id, sub-action)."""
    try:
        data = json.loads(value)
        return str(data["e"]), data.get("a")
    except (ValueError, KeyError, TypeError):
        return None


def _slack_action(control: str, fields: Mapping[str, str], chosen: PersonRef | None) -> tuple[str, str | None] | None:
    """The playground's Slack controls, read as Slack's adapter reads them; "resolve" is its
    modal, shown on the page at once."""
    if control == "more":
        target = slack_target(fields.get("selected_option") or "")
        sub = target[1] if target else None
        if sub and sub.startswith("priority:"):
            return "priority", sub.removeprefix("priority:")
        return (sub, None) if sub in ("reassign", "cancel") else None
    if control in ("assign", "reassign_to"):
        return ("assign" if control == "assign" else "reassign", None) if chosen is not None else None
    return (
        (control, None)
        if control in ("claim", "accept", "decline", "reopen", "cancel", "deflect", "escalate", "resolve")
        else None
    )


def command_for(
    platform: Platform,
    control: str,
    escalation_id: str,
    actor: PersonRef,
    fields: Mapping[str, str],
    click_id: str,
    people: Mapping[str, PersonRef],
) -> BaseCommand | None:
    """``control``: the Slack action_id or the Teams verb. ``people``: Slack user id -> person,
    for Slack's user pickers. None: the click asks for no command (a modal, say)."""
    if platform == Platform.slack:
        chosen = people.get(fields.get("selected_user") or "")
        asked = _slack_action(control, fields, chosen)
        if asked is None:
            return None
        action, level = asked
        assignee, to = chosen, (chosen if control == "reassign_to" else None)
    else:
        action, level = control, fields.get("priority")
        assignee = PersonRef.from_choice(fields.get("assignee") or "")
        to = PersonRef.from_choice(fields.get("to") or "")
    try:
        return button_command(
            action,
            id=f"playground:{click_id}",
            escalation_id=escalation_id,
            actor=actor,
            assignee=assignee,
            to=to,
            priority=level,
            answer=fields.get("answer"),
        )
    except Refused:
        return None
