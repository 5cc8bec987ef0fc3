"""Modals, the App Home tab, the status list and search answers."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ContextBlock,
    InputBlock,
    Option,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from workflows.effects import CardView, Suggestion
from workflows.model import Community, Priority
from workflows.requests import COMPOSE_USAGE, OPEN_USAGE

from .blocks import (
    AWAY_MODAL,
    ESCALATE_MODAL,
    HOME_AWAY,
    HOME_BACK,
    MODAL_INPUT_LIMIT,
    RESOLVE_MODAL,
    md,
    to_dicts,
)
from .cards import (
    next_words,
    status_text,
)
from .notices import suggestion_text
from .text import (
    escape,
    escaped_chunks,
    link,
    mention,
    plain_excerpt,
    truncated,
    usage,
)


def escalate_modal(
    communities: Sequence[Community],
    *,
    community: str | None = None,
    question: str = "",
    link_url: str | None = None,
    note: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    options = [Option(value=c.key, label=c.name[:75]) for c in communities]
    initial = next((o for o in options if o.value == community), None)
    blocks: list[Block] = []
    if note:
        blocks.append(ContextBlock(elements=[md(escape(note))]))
    blocks += [
        InputBlock(
            block_id="community",
            label="Community",
            element=StaticSelectElement(
                action_id="value", placeholder="Which experts?", options=options, initial_option=initial
            ),
        ),
        InputBlock(
            block_id="question",
            label="Question",
            element=PlainTextInputElement(
                action_id="value",
                multiline=True,
                max_length=MODAL_INPUT_LIMIT,
                initial_value=question[:MODAL_INPUT_LIMIT] or None,
                placeholder="What do you need help with? Include what you already tried.",
            ),
        ),
        InputBlock(
            block_id="priority",
            label="Priority",
            element=StaticSelectElement(
                action_id="value",
                options=[Option(value=p.value, label=p.value.capitalize()) for p in Priority],
                initial_option=Option(value=Priority.normal.value, label="Normal"),
            ),
        ),
        InputBlock(
            block_id="customer",
            label="Customer",
            optional=True,
            element=PlainTextInputElement(action_id="value", max_length=500),
        ),
        InputBlock(
            block_id="link",
            label="Link",
            optional=True,
            hint="A ticket, a message or a document (https://…)",
            element=PlainTextInputElement(action_id="value", max_length=2000, initial_value=link_url or None),
        ),
    ]
    view = View(
        type="modal",
        callback_id=ESCALATE_MODAL,
        title="Escalate to experts",
        submit="Escalate",
        close="Cancel",
        blocks=blocks,
        private_metadata=json.dumps(metadata or {}, separators=(",", ":"))[:3000],
    )
    return view.to_dict()


def resolve_modal(escalation_id: str, version: int | None, question: str) -> dict[str, Any]:
    view = View(
        type="modal",
        callback_id=RESOLVE_MODAL,
        title="Resolve",
        submit="Resolve",
        close="Cancel",
        private_metadata=json.dumps({"e": escalation_id, "v": version}, separators=(",", ":")),
        blocks=[
            SectionBlock(text=md(f"*Question*\n{truncated(question, 1000)[0]}")),
            InputBlock(
                block_id="answer",
                label="Answer summary",
                optional=True,
                hint="What solved it? It is sent to the requester and kept for the knowledge base.",
                element=PlainTextInputElement(action_id="value", multiline=True, max_length=MODAL_INPUT_LIMIT),
            ),
        ],
    )
    return view.to_dict()


def away_modal() -> dict[str, Any]:
    """The App Home's "I'm away…": the same words as ``/escalate away``."""
    view = View(
        type="modal",
        callback_id=AWAY_MODAL,
        title="Away",
        submit="I'm away",
        close="Cancel",
        blocks=[
            InputBlock(
                block_id="when",
                label="Until when",
                optional=True,
                hint="until friday, until 2026-12-24, for 3d; empty: until you say you are back",
                element=PlainTextInputElement(action_id="value", max_length=100),
            ),
            InputBlock(
                block_id="note",
                label="Note",
                optional=True,
                element=PlainTextInputElement(action_id="value", max_length=200),
            ),
        ],
    )
    return view.to_dict()


def question_modal(view: CardView) -> dict[str, Any]:
    """The whole question, split over as many sections as it needs."""
    chunks = escaped_chunks(view.question)
    blocks: list[Block] = [
        ContextBlock(elements=[md(f"*{escape(view.community_name)}* · from {mention(view.requester)}")])
    ]
    blocks += [SectionBlock(text=md(chunk)) for chunk in chunks[:98]]
    return View(type="modal", title="Question", close="Close", blocks=blocks).to_dict()


def notice_modal(title: str, text: str) -> dict[str, Any]:
    return View(type="modal", title=title[:24], close="Close", blocks=[SectionBlock(text=md(text))]).to_dict()


def modal_values(view: dict[str, Any]) -> dict[str, str | None]:
    """``{block_id: value}`` from a submitted view's state."""
    out: dict[str, str | None] = {}
    for block_id, elements in (view.get("state") or {}).get("values", {}).items():
        for element in elements.values():
            kind = element.get("type")
            if kind == "static_select":
                out[block_id] = (element.get("selected_option") or {}).get("value")
            elif kind == "users_select":
                out[block_id] = element.get("selected_user")
            else:
                out[block_id] = element.get("value")
    return out


# ---------------------------------------------------------------- lists: App Home and /escalate status


@dataclass(frozen=True)
class Listed:
    view: CardView
    url: str | None


def listed_line(item: Listed, now: datetime) -> str:
    view = item.view
    name = f"#{view.escalation_id[:8]}"
    title = link(item.url, name) if item.url else escape(name)
    owner = f" · owner {mention(view.owner)}" if view.owner else ""
    return (
        f"*{title}* {escape(view.community_name)} · {plain_excerpt(view.question, 150)}\n"
        f"{status_text(view)}{owner} · next: {next_words(view, now)}"
    )


def status_blocks(items: Sequence[Listed], now: datetime) -> list[dict[str, Any]]:
    if not items:
        return to_dicts([SectionBlock(text=md("You have no open escalations."))])
    blocks: list[Block] = [SectionBlock(text=md(f"*Your open escalations* ({len(items)})"))]
    blocks += [SectionBlock(text=md(listed_line(item, now))) for item in items[:40]]
    if len(items) > 40:
        blocks.append(ContextBlock(elements=[md(f"…and {len(items) - 40} more")]))
    return to_dicts(blocks)


def home_view(
    requested: Sequence[Listed], held: Sequence[Listed], now: datetime, away: str | None = None
) -> dict[str, Any]:
    """``away``: "until …" while the person is away, else None."""
    if away is not None:
        availability: Block = SectionBlock(
            text=md(f":palm_tree: You are away {escape(away)}: nobody assigns you questions."),
            accessory=ButtonElement(text="I'm back", action_id=HOME_BACK, value="back", style="primary"),
        )
    else:
        availability = SectionBlock(
            text=md("You are available: questions may be assigned to you."),
            accessory=ButtonElement(text="I'm away…", action_id=HOME_AWAY, value="away"),
        )
    blocks: list[Block] = [availability, SectionBlock(text=md("*My escalations*"))]
    if requested:
        blocks += [SectionBlock(text=md(listed_line(item, now))) for item in requested[:45]]
    else:
        blocks.append(ContextBlock(elements=[md(f"Nothing open. Ask the experts with {usage(COMPOSE_USAGE)}.")]))
    blocks.append(SectionBlock(text=md("*Assigned to me*")))
    if held:
        blocks += [SectionBlock(text=md(listed_line(item, now))) for item in held[:45]]
    else:
        blocks.append(ContextBlock(elements=[md("Nothing is assigned to you.")]))
    return View(type="home", blocks=blocks).to_dict()


# ---------------------------------------------------------------- /escalate search


def search_blocks(
    query: str, hits: Sequence[tuple[Suggestion, str | None]], community_names: Mapping[str, str]
) -> list[dict[str, Any]]:
    """The knowledge base's best matches, for the asker alone (sent ephemeral)."""
    asked = plain_excerpt(query, 100)
    if not hits:
        return to_dicts(
            [
                SectionBlock(
                    text=md(
                        f"Nothing in the knowledge base matches “{asked}”. Try other words, or ask the "
                        f"experts with {usage(OPEN_USAGE)}."
                    )
                )
            ]
        )
    found = "1 answered question" if len(hits) == 1 else f"{len(hits)} answered questions"
    blocks: list[Block] = [SectionBlock(text=md(f"*{found} for “{asked}”*, best match first"))]
    for number, (suggestion, url) in enumerate(hits, start=1):
        text = suggestion_text(suggestion, url, number=number)
        name = community_names.get(suggestion.community_key, suggestion.community_key)
        blocks.append(SectionBlock(text=md(f"{text} · {escape(name)}" if url else f"{text}\n{escape(name)}")))
    blocks.append(ContextBlock(elements=[md(f"Not what you need? Ask the experts with {usage(OPEN_USAGE)}.")]))
    return to_dicts(blocks)


# ---------------------------------------------------------------- the daily digest
