"""A button press -> the core's command: the one rule Slack, Teams and the playground read."""

from __future__ import annotations

from typing import Any

import pytest

from workflows.commands import (
    BUTTON_ACTIONS,
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
    button_command,
)
from workflows.errors import Reason, Refused
from workflows.model import Priority

from .helpers import ALICE, BOB, CAROL

ASKED = {"id": "b-1", "escalation_id": "e-1", "actor": ALICE}


@pytest.mark.parametrize(
    ("action", "fields", "kind", "expected"),
    [
        ("claim", {}, Claim, {}),
        ("accept", {}, Accept, {}),
        ("reopen", {}, Reopen, {}),
        ("cancel", {}, Cancel, {}),
        ("deflect", {}, Deflect, {}),
        ("escalate", {}, Release, {}),
        ("assign", {"assignee": BOB}, Assign, {"assignee": BOB}),
        ("reassign", {"to": CAROL}, Reassign, {"to": CAROL}),
        ("reassign", {}, Reassign, {"to": None}),  # the next expert in rotation
        ("resolve", {"answer": "  Restart it.  "}, Resolve, {"answer": "Restart it.", "via_reaction": False}),
        ("resolve", {"answer": "   "}, Resolve, {"answer": None}),
        ("resolve", {}, Resolve, {"answer": None}),
        ("decline", {"reason": " on leave "}, Decline, {"reason": "on leave"}),
        ("decline", {"reason": ""}, Decline, {"reason": None}),
        ("priority", {"priority": "urgent"}, ChangePriority, {"priority": Priority.urgent}),
        ("priority", {"priority": "low"}, ChangePriority, {"priority": Priority.low}),
        # Fields another action reads are not carried over.
        ("claim", {"assignee": BOB, "to": CAROL, "priority": "high", "answer": "x", "reason": "y"}, Claim, {}),
    ],
)
def test_each_action_asks_for_its_command(
    action: str, fields: dict[str, Any], kind: type[BaseCommand], expected: dict[str, Any]
) -> None:
    command = button_command(action, **ASKED, **fields)
    assert type(command) is kind
    assert (command.id, command.escalation_id, command.actor) == ("b-1", "e-1", ALICE)
    for name, value in expected.items():
        assert getattr(command, name) == value


def test_every_listed_action_makes_a_command() -> None:
    fields: dict[str, Any] = {"assignee": BOB, "priority": "high"}
    kinds = {type(button_command(action, **ASKED, **fields)) for action in BUTTON_ACTIONS}
    assert len(kinds) == len(BUTTON_ACTIONS)


@pytest.mark.parametrize(
    ("action", "fields", "words"),
    [
        ("frobnicate", {}, "Unknown action 'frobnicate'."),
        ("", {}, "Unknown action ''."),
        ("Claim", {}, "Unknown action 'Claim'."),  # names are exact; an adapter normalises its own
        ("refresh", {}, "Unknown action 'refresh'."),  # a Teams verb that is no command
        ("assign", {}, "Choose the expert to assign this question to."),
        ("priority", {"priority": "critical"}, "Choose a priority: low, normal, high, urgent."),
        ("priority", {"priority": "HIGH"}, "Choose a priority: low, normal, high, urgent."),
        ("priority", {}, "Choose a priority: low, normal, high, urgent."),
    ],
)
def test_what_no_command_can_come_of_is_refused_in_one_line(action: str, fields: dict[str, Any], words: str) -> None:
    with pytest.raises(Refused) as refused:
        button_command(action, **ASKED, **fields)
    assert refused.value.reason == Reason.invalid
    assert refused.value.message == words
