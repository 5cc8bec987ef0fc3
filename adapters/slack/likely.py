"""The card's "answered similar questions": who in the community answered questions like
this one, so anyone pulling it knows whom to ask (Slack's rules: every word escaped)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from workflows.effects import Answerer, CardView
from workflows.model import MessageRef, Platform

from .text import escape, link, mention


async def likely_urls(view: CardView, archive_url: Callable[[MessageRef], Awaitable[str]]) -> dict[str, str]:
    """Links to the latest similar question each of them answered, by that card's ts."""
    return {
        a.latest_card.id: await archive_url(a.latest_card)
        for a in view.likely
        if a.latest_card is not None and a.latest_card.platform == Platform.slack
    }


def likely_text(view: CardView, urls: Mapping[str, str] | None = None) -> str | None:
    """ "Answered similar questions: @Ada 3 (latest: “…”), @Ben 1 (latest: “…”)"; None: nobody."""
    if not view.likely:
        return None
    return "Answered similar questions: " + ", ".join(_one(a, urls or {}) for a in view.likely)


def _one(answerer: Answerer, urls: Mapping[str, str]) -> str:
    # A name where the configuration gives one: a hint on every card should not ping anyone.
    ref = next((r for r in answerer.refs if r.platform == Platform.slack), None)
    who = escape(answerer.name or answerer.refs[0].key) if answerer.name or ref is None else mention(ref)
    url = urls.get(answerer.latest_card.id) if answerer.latest_card is not None else None
    return f"{who} {answerer.answered} (latest: {link(url, f'“{answerer.latest_question}”')})"
