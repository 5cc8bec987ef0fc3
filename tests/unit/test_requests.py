"""The grammar of what people type, table-tested: the same text means the same on every platform."""

from __future__ import annotations

import pytest

from workflows.model import ChannelRef, Community, Expert, PersonRef, Platform
from workflows.requests import (
    COMMAND_WORDS,
    FORMS,
    RESERVED,
    Away,
    Back,
    Compose,
    Help,
    Join,
    Leave,
    Mistake,
    Open,
    Request,
    Search,
    Status,
    UnknownCommunity,
    WhoAmI,
    parse,
    whoami,
)

KEYS = ("sdk", "billing")

TABLE: list[tuple[str, Request]] = [
    ("help", Help()),
    ("  HELP  ", Help()),
    ("?", Help()),
    ("help me please", Help()),
    ("status", Status()),
    ("Status now", Status()),
    ("whoami", WhoAmI()),
    ("WhoAmI", WhoAmI()),
    ("search rotate signing keys", Search("rotate signing keys")),
    ("search   two  spaces ", Search("two  spaces")),
    ("search", Mistake("Say what to look for:", "search <words>")),
    ("search   ", Mistake("Say what to look for:", "search <words>")),
    ("", Compose()),
    ("   ", Compose()),
    ("sdk", Compose(community="sdk")),
    ("SDK", Compose(community="sdk")),
    ("sdk How do I rotate keys?", Open("sdk", "How do I rotate keys?")),
    ("billing  Why\ntwo lines?", Open("billing", "Why\ntwo lines?")),
    ("Billing <!channel> & co", Open("billing", "<!channel> & co")),
    ("nosuch How do refunds work?", UnknownCommunity("nosuch", "nosuch How do refunds work?", KEYS)),
    ("nosuch", UnknownCommunity("nosuch", "nosuch", KEYS)),
    ("Refunds?", UnknownCommunity("Refunds?", "Refunds?", KEYS)),
    # Teams' verb may lead, on any platform.
    ("escalate", Compose()),
    ("escalate sdk", Compose(community="sdk")),
    ("Escalate sdk Why?", Open("sdk", "Why?")),
    ("escalate nope Something", UnknownCommunity("nope", "nope Something", KEYS)),
    ("escalate help", Help()),
    ("escalate search", Mistake("Say what to look for:", "search <words>")),
    ("away", Away("")),
    ("Away until friday at the offsite", Away("until friday at the offsite")),
    ("escalate away for 3d", Away("for 3d")),
    ("back", Back()),
    ("BACK again", Back()),
    ("join SDK", Join("sdk")),
    ("leave sdk please", Leave("sdk")),
    ("join", Mistake("Say which community:", "join <community>")),
    ("escalate leave", Mistake("Say which community:", "leave <community>")),
]


@pytest.mark.parametrize(("text", "expected"), TABLE, ids=[repr(t) for t, _ in TABLE])
def test_parse(text: str, expected: Request) -> None:
    assert parse(text, KEYS) == expected


def test_an_unknown_community_says_which_word_and_lists_the_known_ones() -> None:
    request = parse("nope Something", KEYS)
    assert isinstance(request, UnknownCommunity)
    assert request.note == "There is no community called “nope”. Pick one below."
    assert request.known == KEYS


def test_every_command_word_is_reserved_and_listed_in_help() -> None:
    listed = {form.words.split()[0] for form in FORMS if form.words and not form.words.startswith("<")}
    assert listed == {"search", "status", "whoami", "away", "back", "join", "leave", "help"}
    assert listed <= COMMAND_WORDS <= RESERVED
    for word in COMMAND_WORDS - {"?"}:
        # A community with a reserved key could never be reached by its key.
        assert not isinstance(parse(f"{word} question", (word,)), Open)


ADA = PersonRef(platform=Platform.slack, id="U0ADA", tenant="T0ACME")
TEAMS_ADA = PersonRef(platform=Platform.teams, id="29:1abc", tenant="72f988bf")
COMMUNITIES = (
    Community(
        key="sdk",
        name="Mobile SDK",
        experts=(Expert(key="slack:U0ADA", refs=(PersonRef(platform=Platform.slack, id="U0ADA"),)),),
    ),
    Community(
        key="billing",
        name="Billing",
        lead=Expert(key="slack:U0ADA", refs=(PersonRef(platform=Platform.slack, id="U0ADA"),)),
    ),
)


def test_whoami_on_slack_in_a_channel() -> None:
    channel = ChannelRef(platform=Platform.slack, id="C0SUPPORT1", tenant="T0ACME")
    identity = whoami(ADA, COMMUNITIES, channel)
    assert identity.facts == (
        ("Your id, as experts and lead take it", "slack:U0ADA"),
        ("Under people", "slack: U0ADA"),
        ("This channel, as a community's channel", "slack: {channel: C0SUPPORT1}"),
    )
    assert identity.roles == "You are an expert of sdk (Mobile SDK), the lead of billing (Billing)."


def test_whoami_on_teams_quotes_ids_with_colons_and_names_team_and_tenant() -> None:
    channel = ChannelRef(platform=Platform.teams, id="19:x@thread.tacv2", tenant="72f988bf", team="19:t@thread.tacv2")
    identity = whoami(TEAMS_ADA, COMMUNITIES, channel)
    assert identity.facts == (
        ("Your id, as experts and lead take it", "teams:29:1abc"),
        ("Under people", 'teams: "29:1abc"'),
        (
            "This channel, as a community's channel",
            'teams: {channel: "19:x@thread.tacv2", team: "19:t@thread.tacv2", tenant: "72f988bf"}',
        ),
    )
    assert identity.roles == "You are not an expert or a lead of any community yet."


def test_whoami_outside_a_channel_gives_no_channel() -> None:
    assert len(whoami(ADA, COMMUNITIES, None).facts) == 2


def test_what_whoami_gives_is_what_the_configuration_reads() -> None:
    """The strings pasted into the YAML parse back to the same person and channel."""
    from bot.config import parse_config

    for person, channel in (
        (ADA, ChannelRef(platform=Platform.slack, id="C0SUPPORT1")),
        (TEAMS_ADA, ChannelRef(platform=Platform.teams, id="19:x@thread.tacv2", tenant="72f988bf", team="19:t")),
    ):
        own_id, people_entry, channel_entry = (value for _, value in whoami(person, (), channel).facts)
        yaml = (
            f"people:\n  - {{name: Ada, {people_entry}}}\n"
            f"communities:\n  - key: sdk\n    {channel_entry}\n"
            f'    experts: ["{own_id}"]\n'
        )
        [community] = parse_config(yaml).all()
        assert community.is_expert(person)
        assert community.channels[0].id == channel.id
        assert community.channels[0].team == channel.team


@pytest.mark.parametrize("key", ["whoami", "search", "escalate", "away", "join"])
def test_the_configuration_refuses_a_community_key_that_is_a_command_word(key: str) -> None:
    from bot.config import ConfigError, parse_config

    with pytest.raises(ConfigError, match=f"'{key}' is a command word"):
        parse_config(f"communities:\n  - key: {key}\n    slack: {{channel: C0123ABCD}}\n")
