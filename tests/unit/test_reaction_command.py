"""An emoji on a question's card: the one rule Slack and the playground both read."""

from __future__ import annotations

import pytest

from workflows.commands import Claim, Resolve, reaction_command

from .helpers import ALICE, opened


@pytest.mark.parametrize(
    ("emoji", "expected"),
    [
        ("eyes", Claim),  # the policy's claim emoji
        ("raising_hand", Claim),
        ("white_check_mark", Resolve),  # its resolve emoji
        ("tada", None),  # any other asks for nothing
        ("", None),
    ],
)
def test_an_emoji_asks_for_what_the_policy_names_it(emoji: str, expected: type | None) -> None:
    esc = opened()
    command = reaction_command(esc, emoji, id="r-1", actor=ALICE)
    if expected is None:
        assert command is None
        return
    assert isinstance(command, expected)
    assert (command.id, command.escalation_id, command.actor) == ("r-1", esc.id, ALICE)
    assert getattr(command, "via_reaction", True)  # a resolve by emoji counts only from owner or requester


def test_the_policy_copied_onto_the_question_decides() -> None:
    esc = opened()
    policy = esc.policy.model_copy(update={"claim_reactions": ("pushpin",)})
    esc = esc.model_copy(update={"community": esc.community.model_copy(update={"policy": policy})})
    assert isinstance(reaction_command(esc, "pushpin", id="r-2", actor=ALICE), Claim)
    assert reaction_command(esc, "eyes", id="r-3", actor=ALICE) is None
