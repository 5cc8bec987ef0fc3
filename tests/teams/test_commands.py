"""What people type to the bot in Teams, over Bot Framework activities: whoami, help, a
mistake and an unknown community, answered as on Slack (the same grammar and words)."""

from __future__ import annotations

from .conftest import ADA, SAM, SUPPORT, TEAM, TENANT, Teams


async def test_whoami_in_the_personal_chat_is_the_reply(teams: Teams) -> None:
    await teams.install()
    await teams.send("personal_message", user=ADA[0], name=ADA[1], text="whoami")
    [reply] = teams.connector.of("reply")
    text = reply.text()
    assert reply.conversation == f"a:dm-{ADA[0]}"
    assert "teams:29:ada" in text  # as experts and lead take it
    assert 'teams: "29:ada"' in text  # under people
    assert "You are an expert of sdk (Mobile SDK)." in text
    assert "channel:" not in text  # a personal chat is no community's channel


async def test_whoami_in_a_channel_goes_to_the_person_alone_with_the_channel_as_configured(teams: Teams) -> None:
    await teams.install()
    teams.connector.clear()
    await teams.say(SAM, "whoami")
    [dm] = teams.connector.dms_to(SAM[0])
    text = dm.text()
    assert "teams:29:sam" in text
    assert f'teams: {{channel: "{SUPPORT}", team: "{TEAM}", tenant: "{TENANT}"}}' in text
    assert "not an expert or a lead of any community yet" in text
    [pointer] = teams.connector.of("reply")
    assert pointer.conversation.startswith(SUPPORT) and "1:1 chat" in pointer.text()
    assert "29:sam" not in pointer.text()


async def test_help_lists_every_form_and_the_communities(teams: Teams) -> None:
    await teams.install()
    await teams.send("personal_message", user=SAM[0], name=SAM[1], text="help")
    text = teams.connector.of("reply")[-1].text()
    for form in ("escalate &lt;community&gt; &lt;question&gt;", "search &lt;words&gt;", "status", "whoami", "help"):
        assert form in text
    assert "sdk (Mobile SDK)" in text and "billing (Billing)" in text


async def test_search_without_words_says_how(teams: Teams) -> None:
    await teams.install()
    await teams.send("personal_message", user=SAM[0], name=SAM[1], text="search")
    assert teams.connector.of("reply")[-1].text() == "Say what to look for: search &lt;words&gt;"


async def test_an_unknown_community_gets_the_same_form_and_words_as_on_slack(teams: Teams) -> None:
    await teams.install()
    await teams.send("personal_message", user=SAM[0], name=SAM[1], text="nope Something")
    card = teams.connector.of("reply")[-1].card()
    assert card is not None
    note, community, question = card["body"][1], card["body"][2], card["body"][3]
    assert note["text"] == "There is no community called “nope”. Pick one below."
    assert [c["value"] for c in community["choices"]] == ["sdk", "billing"]
    assert question["value"] == "nope Something"
