"""Away and back from the Slack App Home: a button, a form with the same words as
/escalate away, errors shown in the form, the tab saying whether you are away."""

from __future__ import annotations

import pytest

from workflows.availability import away_words

from .conftest import SlackHarness


def home_texts(slack: SlackHarness, user: str) -> str:
    [*_, last] = slack.fake.of("views.publish", user_id=user)
    return str(last.args["view"])


async def test_away_and_back_from_the_app_home(slack: SlackHarness) -> None:
    await slack.event("app_home_opened", user="U0ADA")
    assert "You are available" in home_texts(slack, "U0ADA")
    reply = await slack.action({"action_id": "home_away", "value": "away"}, user="U0ADA", channel="")
    assert reply.status == 200
    [opened] = slack.fake.of("views.open")
    assert opened.args["view"]["callback_id"] == "away_modal"
    values = {
        "when": {"value": {"type": "plain_text_input", "value": "2026-03-06"}},
        "note": {"value": {"type": "plain_text_input", "value": "offsite"}},
    }
    reply = await slack.submit("away_modal", values, user="U0ADA")
    assert reply.status == 200 and not reply.text
    async with slack.runtime.store.unit_of_work() as uow:
        [absence] = await uow.absences.away(slack.clock.now())
    assert (absence.person, absence.note) == ("slack:U0ADA", "offsite")
    assert "You are away until Fri 06 Mar 2026 00:00 UTC" in home_texts(slack, "U0ADA")
    await slack.action({"action_id": "home_back", "value": "back"}, user="U0ADA", channel="")
    async with slack.runtime.store.unit_of_work() as uow:
        assert await uow.absences.away(slack.clock.now()) == []
    assert "You are available" in home_texts(slack, "U0ADA")


async def test_a_date_past_is_shown_in_the_form_and_nothing_changes(slack: SlackHarness) -> None:
    values = {"when": {"value": {"type": "plain_text_input", "value": "2026-03-01"}}}
    reply = await slack.submit("away_modal", values, user="U0ADA")
    body = reply.json()
    assert body["response_action"] == "errors"
    assert body["errors"]["when"].startswith("Sun 01 Mar 2026 00:00 UTC has already begun")
    async with slack.runtime.store.unit_of_work() as uow:
        assert await uow.absences.away(slack.clock.now()) == []


@pytest.mark.parametrize(
    ("until", "note", "words"),
    [
        ("friday", "", "until friday"),
        ("3d", "conference", "for 3d conference"),
        ("until 2026-12-24", "", "until 2026-12-24"),
        ("for 1w", "", "for 1w"),
        ("", "parental leave", "parental leave"),
    ],
)
def test_the_form_s_words(until: str, note: str, words: str) -> None:
    assert away_words(until, note) == words
