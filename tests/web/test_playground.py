"""The playground over HTTP: the sample story played with forms, what the page shows, and
that it is a mode of its own."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from adapters.web.playground import Playground
from bot.errors import CliError
from bot.playground import build_playground, refuse_outside_playground
from bot.settings import Settings
from storage import Store
from workflows.model import Ownership, Status


@dataclass
class Player:
    client: TestClient[Any, Any]
    playground: Playground
    store: Store

    async def page(self, query: str = "") -> str:
        response = await self.client.get(f"/playground/{query}")
        assert response.status == 200, await response.text()
        return await response.text()

    async def csrf(self) -> str:
        found = re.search(r'name="csrf" value="([^"]+)"', await self.page())
        assert found is not None
        return found.group(1)

    async def post(self, path: str, **fields: str) -> str:
        response = await self.client.post(
            f"/playground/{path}", data={"csrf": await self.csrf(), "c": "sdk", **fields}, allow_redirects=False
        )
        assert response.status == 303, await response.text()
        return await self.page(f"?{response.headers['Location'].partition('?')[2]}")

    async def be(self, name: str) -> None:
        person = next(p for p in self.playground.people if p.label().startswith(name))
        await self.post("as", person=person.key)

    def card(self, platform: str, channel: str) -> str:
        cards = [p for p in self.playground.feed.channel(platform, channel) if p.kind == "card"]
        return cards[-1].id


@pytest.fixture
async def player(store: Store) -> AsyncIterator[Player]:
    app, playground = await build_playground(store, "http://localhost:8765")
    async with TestClient(TestServer(app)) as client:
        response = await client.get(f"/playground/?key={playground.key}")
        assert response.status == 200
        yield Player(client, playground, store)


SLACK, TEAMS = "C0SDKEXPERTS", "19:sdk-experts@thread.tacv2"
REPO = str(Path(__file__).resolve().parents[2])


async def test_the_link_is_the_way_in(store: Store) -> None:
    app, playground = await build_playground(store, "http://localhost:8765")
    async with TestClient(TestServer(app)) as client:
        assert (await client.get("/playground/")).status == 403
        assert (await client.get("/playground/?key=guessed")).status == 403
        assert (await client.post("/playground/clock", data={"step": "1h"})).status == 403
        response = await client.get(f"/playground/?key={playground.key}", allow_redirects=False)
        assert response.status == 303
        page = await client.get("/playground/")
        assert page.status == 200
        assert "script-src 'self'" in page.headers["Content-Security-Policy"]
        # A POST without the page's CSRF token is refused.
        assert (await client.post("/playground/clock", data={"step": "1h"})).status == 403


async def test_a_story_played_in_both_panes(player: Player) -> None:
    page = await player.post("say", platform="slack", text="sdk The iOS SDK crashes on launch <!channel> & more")
    assert "Escalated to <b>Mobile SDK</b>" in page  # Slack's own words, its mrkdwn rendered
    # The card is in the Slack channel and in the Teams channel, each as its renderer made it.
    slack_card = player.playground.feed.get(player.card("slack", SLACK))
    teams_card = player.playground.feed.get(player.card("teams", TEAMS))
    assert slack_card is not None and teams_card is not None
    assert slack_card.body["blocks"][0]["type"] == "section"
    assert teams_card.body["card"]["type"] == "AdaptiveCard"
    # Shown escaped, never as a ping: Slack's own escaping, then HTML's.
    assert "&lt;!channel&gt; &amp; more" in page
    assert '<span class="mention">@channel' not in page
    # As the Slack sender does, the requester gets a DM pointing at the posted card.
    dms = player.playground.feed.channel("slack", "dm:slack:U0SAM")
    confirmations = [p for p in dms if "Your question is posted in <#C0SDKEXPERTS>" in str(p.body)]
    assert len(confirmations) == 1
    assert f'href="http://localhost:8765/playground/#m{slack_card.id}"' in page

    page = await player.post("clock", step="15m")
    assert "Mon 02 Mar, 09:15 UTC" in page
    nudges = [r for r in slack_card.replies if r.kind == "thread"]
    assert nudges, "the nudge is posted in the card's thread"
    assert '<span class="mention">@Ada</span>' in page  # Slack mentions the experts by id, shown by name

    await player.be("Chen")  # on Teams only
    page = await player.post("react", platform="teams", post=teams_card.id, emoji="like")
    esc_id = teams_card.escalation_id
    assert esc_id is not None
    esc = await player.playground.service.get(esc_id, None)
    assert esc is not None and esc.owner is not None and esc.owner.person.id == "29:chen"
    assert "Chen" in str(player.playground.feed.get(slack_card.id).body)  # the Slack card updated too

    page = await player.post("reply", platform="teams", post=teams_card.id, text="Add PrivacyInfo.xcprivacy <b>now</b>")
    assert "Add PrivacyInfo.xcprivacy &lt;b&gt;now&lt;/b&gt;" in page
    page = await player.post(
        "act", platform="teams", post=teams_card.id, control="resolve", escalation=esc_id, answer="Add the manifest."
    )
    esc = await player.playground.service.get(esc_id, None)
    assert esc is not None and esc.status == Status.resolved and esc.answer == "Add the manifest."
    assert "Add the manifest." in page

    page = await player.post("clock", step="morning")
    assert "Tue 03 Mar, 09:00 UTC" in page
    assert any(p.kind == "digest" for p in player.playground.feed.channel("slack", SLACK))
    assert any(p.kind == "digest" for p in player.playground.feed.channel("teams", TEAMS))


async def test_slack_buttons_and_pickers(player: Player) -> None:
    await player.post("say", platform="slack", text="sdk Why does the build fail?")
    card = player.card("slack", SLACK)
    esc_id = player.playground.feed.get(card).escalation_id  # type: ignore[union-attr]
    await player.be("Lee")  # the lead assigns with Slack's user picker
    await player.post("act", platform="slack", post=card, control="assign", selected_user="U0BEN")
    esc = await player.playground.service.get(esc_id, None)  # type: ignore[arg-type]
    assert esc is not None and esc.owner is not None and esc.owner.person.id == "U0BEN"
    await player.be("Ben")
    page = await player.page("?c=sdk")
    assert "Accept" in page and "Decline" in page  # Ben's DM, with its buttons
    dm = player.playground.feed.channel("slack", "dm:slack:U0BEN")[-1]
    buttons = [e for b in dm.body["blocks"] if b["type"] == "actions" for e in b["elements"]]
    value = next(e["value"] for e in buttons if e.get("text", {}).get("text") == "Decline")
    await player.post("act", platform="slack", post=dm.id, control="decline", value=value)
    esc = await player.playground.service.get(esc_id, None)  # type: ignore[arg-type]
    assert esc is not None and esc.owner is not None and esc.owner.person.id != "U0BEN"


async def test_the_grammar_and_refusals_answer_privately(player: Player) -> None:
    page = await player.post("say", platform="slack", text="help")
    assert "Only visible to you" in page and "search &lt;words&gt;" in page
    await player.be("Ben")
    page = await player.post("say", platform="slack", text="away for 2d on holiday")
    assert "You are away" in page
    page = await player.post("say", platform="slack", text="back")
    assert "Welcome back" in page
    page = await player.post("say", platform="slack", text="away yesterday")
    assert "Only visible to you" in page  # refused, in the core's words, to Ben alone
    page = await player.post("say", platform="slack", text="search crash")
    assert "Nothing in the knowledge base matches" in page  # Slack's own words (search_blocks)
    page = await player.post("say", platform="slack", text="nosuch My question")
    assert "There is no community called" in page and '<details class="form" open>' in page
    # Someone on Slack only cannot act in the Teams pane.
    page = await player.page()
    assert "Ben has no Microsoft Teams account" in page


async def test_this_answers_it(player: Player) -> None:
    await player.post("say", platform="slack", text="sdk The app crashes on launch after the upgrade")
    card = player.card("slack", SLACK)
    esc_id = player.playground.feed.get(card).escalation_id  # type: ignore[union-attr]
    await player.post("act", platform="slack", post=card, control="resolve", answer="Add the privacy manifest.")
    await player.post("say", platform="slack", text="sdk The app crashes on launch after upgrading")
    dm = player.playground.feed.channel("slack", "dm:slack:U0SAM")[-1]
    assert "This answers it" in str(dm.body)
    await player.be("Chen")  # Teams answers a search with its own card
    page = await player.post("say", platform="teams", text="search crashes launch")
    assert "Add the privacy manifest." in page and 'class="ac-card"' in page
    page = await player.post("say", platform="teams", text="help")
    assert "Escalate a customer question to the experts" in page  # Teams' help, not Slack's
    await player.be("Sam")
    page = await player.post("act", platform="slack", post=dm.id, control="deflect")
    held = dm.escalation_id
    assert held is not None and held != esc_id
    esc = await player.playground.service.get(held, None)
    assert esc is not None and esc.status == Status.deflected
    assert page


def test_never_beside_a_platform_or_a_real_database(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "SLACK_BOT_TOKEN", "MICROSOFT_APP_ID", "TEAMS_ENABLED"):
        monkeypatch.delenv(name, raising=False)
    refuse_outside_playground(Settings(_env_file=None))  # type: ignore[call-arg]
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    with pytest.raises(CliError, match="SLACK_BOT_TOKEN is set"):
        refuse_outside_playground(Settings(_env_file=None))  # type: ignore[call-arg]
    monkeypatch.delenv("SLACK_BOT_TOKEN")
    monkeypatch.setenv("TEAMS_ENABLED", "true")
    with pytest.raises(CliError, match="TEAMS_ENABLED is set"):
        refuse_outside_playground(Settings(_env_file=None))  # type: ignore[call-arg]
    monkeypatch.delenv("TEAMS_ENABLED")
    monkeypatch.setenv("DATABASE_URL", "postgresql+asyncpg://bot@db.example.com/escalations")
    with pytest.raises(CliError, match="DATABASE_URL is set"):
        refuse_outside_playground(Settings(_env_file=None))  # type: ignore[call-arg]


@pytest.mark.parametrize("platform", [{}, {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}])
async def test_serve_never_mounts_it(store: Store, platform: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.config import parse_config
    from bot.playground import PLAYGROUND_CONFIG
    from bot.wiring import build_server

    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "MICROSOFT_APP_ID", "TEAMS_ENABLED"):
        monkeypatch.delenv(name, raising=False)
    for name, value in platform.items():
        monkeypatch.setenv(name, value)
    app = await build_server(Settings(_env_file=None), parse_config(PLAYGROUND_CONFIG), store)  # type: ignore[call-arg]
    async with TestClient(TestServer(app)) as client:
        for path in ("/playground/", "/playground/static/playground.css"):
            assert (await client.get(path, allow_redirects=False)).status == 404
        assert (await client.post("/playground/clock", data={"step": "1h"})).status in (404, 405)


async def test_app_home_join_and_the_console(player: Player) -> None:
    page = await player.post("say", platform="slack", text="sdk Where are the SDK's release notes?")
    short = player.playground.feed.get(player.card("slack", SLACK)).escalation_id[:8]  # type: ignore[union-attr]
    assert "Home tab of Sam (support)" in page and "My escalations" in page and f"#{short}" in page
    page = await player.post("say", platform="slack", text="join billing")
    assert "Only visible to you" in page  # the core's answer (billing's roster is not open)
    # The web console over the same story, signed in as whoever plays now.
    response = await player.client.post(
        "/playground/console", data={"csrf": await player.csrf()}, allow_redirects=False
    )
    assert response.status == 303
    link = response.headers["Location"]
    assert link.startswith("http://localhost:8765/console/signin/link?token=")
    signed_in = await player.client.get(link.removeprefix("http://localhost:8765"))
    assert signed_in.status == 200 and "Sam (support)" in await signed_in.text()


async def test_teams_reassign_from_the_card(player: Player) -> None:
    await player.post("say", platform="slack", text="sdk Which Android versions are supported?")
    card = player.card("teams", TEAMS)
    esc_id = player.playground.feed.get(card).escalation_id  # type: ignore[union-attr]
    await player.be("Dana")
    await player.post("act", platform="teams", post=card, control="claim", escalation=esc_id)
    await player.post("act", platform="teams", post=card, control="reassign", escalation=esc_id, to="")
    esc = await player.playground.service.get(esc_id, None)  # type: ignore[arg-type]
    assert esc is not None and esc.owner is not None and esc.owner.person.id != "29:dana"


async def test_the_clock_runs_every_timer(player: Player) -> None:
    """Nobody answers: nudge at 15 min, assignment at 1 h, the owner reminded an hour later
    and the question reassigned after two silent hours: each in front of you."""
    await player.post("say", platform="slack", text="sdk Is there a Flutter plugin?")
    card = player.playground.feed.get(player.card("slack", SLACK))
    assert card is not None and card.escalation_id is not None
    esc_id = card.escalation_id
    await player.post("clock", step="15m")
    await player.post("clock", step="1h")
    esc = await player.playground.service.get(esc_id, None)
    assert esc is not None and esc.owner is not None
    first = esc.owner.person
    dms = player.playground.feed.channel(first.platform.value, f"dm:{first.key}")
    assert dms and "Accept" in str(dms[-1].body), "the assignee is told, with Accept and Decline"
    await player.post("clock", step="1h")
    dms = player.playground.feed.channel(first.platform.value, f"dm:{first.key}")
    assert len(dms) >= 2, "the silent owner is reminded"
    await player.post("clock", step="1h")
    await player.post("clock", step="1h")
    esc = await player.playground.service.get(esc_id, None)
    assert esc is not None and esc.owner is not None and not esc.owner.person.same(first)


def test_the_command_refuses_in_one_line(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from bot.cli import main

    monkeypatch.chdir("/")  # no .env read
    for name in ("DATABASE_URL", "SLACK_SIGNING_SECRET", "SLACK_APP_TOKEN", "MICROSOFT_APP_ID", "TEAMS_ENABLED"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-1")
    assert main(["playground", "--port", "1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "SLACK_BOT_TOKEN is set" in err
    monkeypatch.delenv("SLACK_BOT_TOKEN")
    assert main(["playground", "--database", "/no/such/folder/play.db"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "a folder that does not exist" in err


async def test_the_command_prints_a_link_that_opens_it(tmp_path: Any) -> None:
    import asyncio
    import os
    import signal
    import socket
    import sys

    import aiohttp

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "MICROSOFT_", "TEAMS_", "DATABASE_"))}
    env["PYTHONPATH"] = REPO
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "playground", "--port", str(port),
        cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 60)).decode()
        assert line.startswith(f"playground: open http://127.0.0.1:{port}/playground/?key="), line
        jar = aiohttp.CookieJar(unsafe=True)  # the link's host is an IP address
        async with aiohttp.ClientSession(cookie_jar=jar) as session, session.get(line.split()[-1]) as response:
            assert response.status == 200
            assert "escalation-bot <b>playground</b>" in await response.text()
    finally:
        process.send_signal(signal.SIGINT)
        assert await asyncio.wait_for(process.wait(), 30) == 0


async def test_opening_and_status_are_answered_in_each_adapters_own_words(player: Player) -> None:
    """Not a second copy of the texts: what /escalate and Teams answer is what the pane shows."""
    page = await player.post("say", platform="slack", text="sdk The app crashes on launch")
    assert "I&#39;ll send you a link to the question as soon as it is posted" in page  # Slack's opened_words
    page = await player.post("say", platform="slack", text="status")
    assert "Your open escalations" in page and "The app crashes on launch" in page  # Slack's status_blocks
    await player.be("Ada")  # on both platforms
    page = await player.post("say", platform="teams", text="sdk Push tokens expire after a day")
    assert "The experts see it now" in page  # Teams' opened_words
    page = await player.post("say", platform="teams", text="status")
    assert "Questions you asked" in page and "Questions you hold" in page  # Teams' status_card


def _buttons(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for b in body.get("blocks", []) if b["type"] == "actions" for e in b["elements"]]


async def test_a_dm_whose_button_was_used_is_replaced_as_slack_replaces_it(player: Player) -> None:
    """After Decline and Accept in the Slack pane, the DM shows what happened instead of its
    buttons: the Slack listener's own ``answered_dm``, not a copy of it."""
    from adapters.slack.actions import answered_dm

    await player.post("say", platform="slack", text="sdk Why does the release build fail to link?")
    card = player.card("slack", SLACK)
    esc_id = player.playground.feed.get(card).escalation_id  # type: ignore[union-attr]
    await player.be("Lee")
    await player.post("act", platform="slack", post=card, control="assign", selected_user="U0BEN")
    await player.be("Ben")
    dm = player.playground.feed.channel("slack", "dm:slack:U0BEN")[-1]
    original = list(dm.body["blocks"])
    value = next(e["value"] for e in _buttons(dm.body) if e.get("text", {}).get("text") == "Decline")
    page = await player.post("act", platform="slack", post=dm.id, control="decline", value=value)
    replaced = answered_dm("decline", None, None, original)
    assert replaced is not None
    assert dm.body == {"blocks": replaced[1]} and dm.edited == 1
    assert _buttons(dm.body) == []  # no stale buttons left to press
    assert "You declined this question; it goes to the next expert." in page

    # The lead gives it to Ada, who accepts from her DM.
    await player.be("Lee")
    await player.post("act", platform="slack", post=card, control="assign", selected_user="U0ADA")
    await player.be("Ada")
    dm = player.playground.feed.channel("slack", "dm:slack:U0ADA")[-1]
    original = list(dm.body["blocks"])
    value = next(e["value"] for e in _buttons(dm.body) if e.get("text", {}).get("text") == "Accept")
    page = await player.post("act", platform="slack", post=dm.id, control="accept", value=value)
    esc = await player.playground.service.get(esc_id, None)  # type: ignore[arg-type]
    assert esc is not None and esc.owner is not None and esc.owner.kind == Ownership.accepted
    replaced = answered_dm("accept", None, None, original)
    assert replaced is not None and dm.body == {"blocks": replaced[1]}
    assert "You accepted this question. Thank you!" in page


async def test_a_refused_click_leaves_the_dm_as_it_was(player: Player) -> None:
    await player.post("say", platform="slack", text="sdk Does the SDK support watchOS?")
    card = player.card("slack", SLACK)
    await player.be("Lee")
    await player.post("act", platform="slack", post=card, control="assign", selected_user="U0BEN")
    dm = player.playground.feed.channel("slack", "dm:slack:U0BEN")[-1]
    before = dict(dm.body)
    value = next(e["value"] for e in _buttons(dm.body) if e.get("text", {}).get("text") == "Accept")
    await player.post("act", platform="slack", post=dm.id, control="accept", value=value)  # Lee is not Ben
    assert dm.body == before and dm.edited == 0


async def test_an_assignment_dm_links_the_similar_questions_as_slack_does(player: Player) -> None:
    """The expertise line of an assignment DM names who answered similar questions, each with
    a link to that question (the page's anchor for Slack's permalink), as SlackSender does."""
    await player.post("say", platform="slack", text="sdk The iOS SDK crashes on launch after the upgrade")
    first = player.card("slack", SLACK)
    await player.be("Ada")
    await player.post("act", platform="slack", post=first, control="claim")
    await player.post("reply", platform="slack", post=first, text="Add the privacy manifest to the app bundle.")
    await player.post("act", platform="slack", post=first, control="resolve", answer="Add the privacy manifest.")
    await player.be("Sam")
    await player.post("say", platform="slack", text="sdk The iOS SDK crashes on launch since upgrading")
    offer = player.playground.feed.channel("slack", "dm:slack:U0SAM")[-1]
    assert "This answers it" in str(offer.body)  # the earlier answer is offered first: Sam still escalates
    await player.post("act", platform="slack", post=offer.id, control="escalate")
    second = player.card("slack", SLACK)
    assert second != first
    held = offer.escalation_id
    await player.be("Lee")
    await player.post("act", platform="slack", post=second, control="assign", selected_user="U0BEN")
    [assigned] = [p for p in player.playground.feed.channel("slack", "dm:slack:U0BEN") if p.escalation_id == held]
    text = str(assigned.body)
    assert "Answered similar questions" in text
    assert f"<http://localhost:8765/playground/#m{first}|" in text  # linked, as Slack links it
    # The card says the same, linked the same way.
    assert f"<http://localhost:8765/playground/#m{first}|" in str(player.playground.feed.get(second).body)  # type: ignore[union-attr]


async def test_a_teams_dm_whose_button_was_used_shows_the_card_headed_as_teams_does(player: Player) -> None:
    from adapters.teams.bot import DONE_WORDS
    from adapters.teams.question_card import question_card
    from workflows.decide import card_view
    from workflows.model import PersonRef, Platform

    await player.post("say", platform="slack", text="sdk Is Kotlin 2 supported by the Android SDK?")
    card = player.card("teams", TEAMS)
    esc_id = player.playground.feed.get(card).escalation_id  # type: ignore[union-attr]
    assert esc_id is not None
    await player.be("Lee")
    chen = PersonRef(platform=Platform.teams, id="29:chen", tenant="playground-tenant")
    await player.post(
        "act", platform="teams", post=card, control="assign", escalation=esc_id, assignee=chen.as_choice()
    )
    await player.be("Chen")
    dm = player.playground.feed.channel("teams", "dm:teams:29:chen")[-1]
    page = await player.post("act", platform="teams", post=dm.id, control="accept", escalation=esc_id)
    esc = await player.playground.service.get(esc_id, None)
    assert esc is not None and esc.owner is not None and esc.owner.kind == Ownership.accepted
    # The Teams bot's invoke answer in a personal chat: the question's card, headed by what happened.
    assert dm.body == {"card": question_card(card_view(esc), heading=DONE_WORDS["accept"])}
    assert DONE_WORDS["accept"] in page
