"""The words people type to the bot: one small grammar for every platform.

Slack hands us the text after ``/escalate``; Teams the text of a message to the bot with
the @mention taken out. Both go through ``parse`` and get the same typed request back, and
every usage hint and error people see comes from here, so the platforms cannot drift
apart. An adapter only extracts the text and renders the answer in its own format.

A word that is not a command is taken as a community key: ``sdk How do I…`` opens a
question in ``sdk``. Commands to come (``away``, ``back``, ``join``, ``leave``) become one
more request type and one more line in ``WORDS``; their names are reserved already so no
community key can take them.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from .model import ChannelRef, Community, PersonRef, Platform

# Teams' verb for opening a question (Slack's slash command is ``/escalate``). On either
# platform it may lead the text: ``escalate sdk Why…`` is ``sdk Why…``.
VERB = "escalate"


@dataclass(frozen=True)
class Form:
    """One thing people can type: ``words`` after the platform's prefix, and what it does."""

    words: str
    does: str


OPEN_USAGE = "<community> <question>"
COMPOSE_USAGE = ""

AWAY_FORM = "away [until <date> | for <duration>] [keep] [note]"

# The forms of the grammar, in the order help lists them.
FORMS: tuple[Form, ...] = (
    Form(OPEN_USAGE, "posts the question to that community's experts at once"),
    Form(COMPOSE_USAGE, "opens a form (community, question, priority, customer, link)"),
    Form("search <words>", "finds questions the experts already answered, for you alone"),
    Form("status", "your open questions and what you hold, with what happens next and when"),
    Form("whoami", "your id (and this channel's) as it goes in the bot's configuration"),
    Form(
        AWAY_FORM,
        "you are away: no question is assigned to you and no nudge mentions you until then;"
        " what you hold moves on to the next expert, unless you say keep (what you accepted stays yours)",
    ),
    Form("back", "you are back in the rotation"),
    Form("join <community>", "adds you to an open community's rotation"),
    Form("leave <community>", "takes you out of an open community's rotation"),
    Form("help", "shows this"),
)
SEARCH_USAGE = "search <words>"

# Every word the grammar gives a meaning to, and the ones kept for the commands to come:
# a community key may be none of them (``bot/config`` refuses it).
COMMAND_WORDS = frozenset({VERB, "help", "?", "status", "search", "whoami", "away", "back", "join", "leave"})
RESERVED_FOR_LATER: frozenset[str] = frozenset()
RESERVED = COMMAND_WORDS | RESERVED_FOR_LATER


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class Status:
    pass


@dataclass(frozen=True)
class WhoAmI:
    pass


@dataclass(frozen=True)
class Search:
    words: str


@dataclass(frozen=True)
class Away:
    """``away [until <date> | for <duration>] [keep] [note]``: the words after ``away``, read by
    ``workflows.availability`` in the person's time zone when the service stores them."""

    words: str


@dataclass(frozen=True)
class Back:
    pass


@dataclass(frozen=True)
class Join:
    community: str


@dataclass(frozen=True)
class Leave:
    community: str


@dataclass(frozen=True)
class Compose:
    """The escalation form, with what was already said filled in."""

    community: str | None = None
    question: str = ""


@dataclass(frozen=True)
class Open:
    community: str
    question: str


@dataclass(frozen=True)
class UnknownCommunity:
    """The first word named no community: the form again, with the communities to pick from."""

    word: str
    question: str
    known: tuple[str, ...]

    @property
    def note(self) -> str:
        return f"There is no community called “{self.word}”. Pick one below."


@dataclass(frozen=True)
class Mistake:
    """Text the grammar cannot use: what is wrong, and the form that works."""

    problem: str
    usage: str


Request = Help | Status | WhoAmI | Search | Away | Back | Join | Leave | Compose | Open | UnknownCommunity | Mistake


def parse(text: str, communities: Collection[str]) -> Request:
    """``communities``: the configured keys (lower case), in the order people should see them."""
    first, rest = _split(text)
    if first.lower() == VERB:
        first, rest = _split(rest)
    word = first.lower()
    if word in ("help", "?"):
        return Help()
    if word == "status":
        return Status()
    if word == "whoami":
        return WhoAmI()
    if word == "away":
        return Away(rest)
    if word == "back":
        return Back()
    if word in ("join", "leave"):
        key = rest.split()[0].lower() if rest else ""
        if not key:
            return Mistake("Say which community:", f"{word} <community>")
        return Join(key) if word == "join" else Leave(key)
    if word == "search":
        return Search(rest) if rest else Mistake("Say what to look for:", SEARCH_USAGE)
    if not word:
        return Compose()
    if word in communities:
        return Open(word, rest) if rest else Compose(community=word)
    return UnknownCommunity(word=first, question=f"{first} {rest}".strip(), known=tuple(communities))


@dataclass(frozen=True)
class Identity:
    """What ``whoami`` answers: (what it is, the exact text for the configuration) pairs,
    and a sentence saying where the configuration already names the person."""

    facts: tuple[tuple[str, str], ...]
    roles: str


def whoami(person: PersonRef, communities: Sequence[Community], channel: ChannelRef | None) -> Identity:
    """The ids are written as ``bot/config`` reads them.

    The ids are written as ``bot/config`` reads them. The channel is there for whoever sets
    up a community (a channel's id is no secret to its members); it is None outside a channel.
    """
    platform = person.platform.value
    quoted = f'"{person.id}"' if person.platform == Platform.teams else person.id
    facts = [
        ("Your id, as experts and lead take it", person.key),
        ("Under people", f"{platform}: {quoted}"),
    ]
    if channel is not None:
        if channel.platform == Platform.teams:
            parts = [f'channel: "{channel.id}"']
            parts += [f'team: "{channel.team}"'] if channel.team else []
            parts += [f'tenant: "{channel.tenant}"'] if channel.tenant else []
            facts.append(("This channel, as a community's channel", "teams: {" + ", ".join(parts) + "}"))
        else:
            facts.append(
                ("This channel, as a community's channel", f"{channel.platform.value}: {{channel: {channel.id}}}")
            )
    roles = [f"an expert of {c.key} ({c.name})" for c in communities if c.is_expert(person)]
    roles += [f"the lead of {c.key} ({c.name})" for c in communities if c.is_lead(person)]
    said = f"You are {', '.join(roles)}." if roles else "You are not an expert or a lead of any community yet."
    return Identity(facts=tuple(facts), roles=said)


def _split(text: str) -> tuple[str, str]:
    parts = text.strip().split(maxsplit=1)
    if not parts:
        return "", ""
    return parts[0], (parts[1].strip() if len(parts) > 1 else "")


__all__ = [
    "AWAY_FORM",
    "COMMAND_WORDS",
    "COMPOSE_USAGE",
    "FORMS",
    "OPEN_USAGE",
    "RESERVED",
    "RESERVED_FOR_LATER",
    "SEARCH_USAGE",
    "VERB",
    "Away",
    "Back",
    "Compose",
    "Form",
    "Help",
    "Identity",
    "Join",
    "Leave",
    "Mistake",
    "Open",
    "Request",
    "Search",
    "Status",
    "UnknownCommunity",
    "WhoAmI",
    "parse",
    "whoami",
]
