"""A click in the page -> the command the Slack or Teams adapter sends for the same click.

Slack's controls are named by their ``action_id`` (and an overflow option's value), Teams'
by the card action's ``verb``; both lists are the ones ``adapters/slack/listeners.py`` and
``adapters/teams/bot.py`` read. No rule is decided here: the service refuses what is not
allowed, with its own words."""

from __future__ import annotations

import json
from collections.abc import Mapping

from workflows.commands import (
    Accept,
    Assign,
    BaseCommand,
    Cancel,
    ChangePriority,
    Claim,
    Decline,
    Deflect,
    Reassign,
    Release,
    Reopen,
    Resolve,
)
from workflows.model import PersonRef, Platform, Priority


def slack_target(value: str) -> tuple[str, str | None] | None:
    """A Slack button's or overflow option's value: (escalation id, sub-action)."""
    try:
        data = json.loads(value)
        return str(data["e"]), data.get("a")
    except (ValueError, KeyError, TypeError):
        return None


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
    base = {"id": f"playground:{click_id}", "escalation_id": escalation_id, "actor": actor}
    answer = (fields.get("answer") or "").strip() or None
    if control == "claim":
        return Claim(**base)
    if control == "accept":
        return Accept(**base)
    if control == "decline":
        return Decline(**base)
    if control == "reopen":
        return Reopen(**base)
    if control == "cancel":
        return Cancel(**base)
    if control == "deflect":
        return Deflect(**base)
    if control == "escalate":
        return Release(**base)
    if control == "resolve":
        return Resolve(**base, answer=answer)
    if platform == Platform.slack:
        chosen = people.get(fields.get("selected_user") or "")
        if control == "assign" and chosen is not None:
            return Assign(**base, assignee=chosen)
        if control == "reassign_to" and chosen is not None:
            return Reassign(**base, to=chosen)
        if control == "more":
            target = slack_target(fields.get("selected_option") or "")
            sub = target[1] if target else None
            if sub == "reassign":
                return Reassign(**base)
            if sub == "cancel":
                return Cancel(**base)
            if sub and sub.startswith("priority:") and sub.removeprefix("priority:") in Priority.__members__:
                return ChangePriority(**base, priority=Priority(sub.removeprefix("priority:")))
        return None
    if control == "assign":
        assignee = PersonRef.from_choice(fields.get("assignee") or "")
        return Assign(**base, assignee=assignee) if assignee is not None else None
    if control == "reassign":
        return Reassign(**base, to=PersonRef.from_choice(fields.get("to") or ""))
    if control == "priority" and (fields.get("priority") or "") in Priority.__members__:
        return ChangePriority(**base, priority=Priority(fields["priority"]))
    return None
