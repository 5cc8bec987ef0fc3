"""Direct messages: a notice to one person about one escalation, with its suggestions."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    SectionBlock,
    UserSelectElement,
)

from workflows.delivery import DeliveryContext
from workflows.effects import Action, Notice, Notify, Suggestion
from workflows.model import MessageRef, Platform

from .blocks import (
    ACCEPT,
    CLAIM,
    DECLINE,
    DEFLECT,
    DM_QUESTION_LIMIT,
    ESCALATE,
    REASSIGN_TO,
    REOPEN,
    RESOLVE,
    SUGGESTION_ANSWER_LIMIT,
    SUGGESTION_FILES_LIMIT,
    SUGGESTION_QUESTION_LIMIT,
    SUGGESTIONS_SHOWN,
    action_value,
    md,
    to_dicts,
)
from .cards import (
    bid,
    posted_text,
    show_question_button,
    summary_line,
)
from .likely import likely_text, likely_urls
from .text import (
    SECTION_LIMIT,
    escape,
    excerpt,
    file_links,
    link,
    mention,
    plain_excerpt,
    truncated,
)


async def notify_message(
    effect: Notify, context: DeliveryContext, now: datetime, archive_url: Callable[[MessageRef], Awaitable[str]]
) -> tuple[str, list[dict[str, Any]]] | None:
    """The private message a ``Notify`` is on Slack: its text and blocks, every link made by
    ``archive_url`` (a message's permalink): to the question's thread, to each suggestion, and
    on an assignment to the similar questions each likely expert answered. None: nothing to
    show (every card failed, so there is no posted question to confirm)."""
    if effect.notice == Notice.posted and not any(kind == "card" for kind, _, _ in context.refs):
        return None
    card = context.any_card(Platform.slack)
    thread_url = await archive_url(card) if card is not None else None
    if effect.notice == Notice.posted and card is not None and thread_url is not None:
        # Where the question went, as a link: the one thing this message is for.
        text = posted_text(card.channel, effect.view.community_name, thread_url)
        return text, [{"type": "section", "text": md(text).to_dict()}]
    suggestion_urls: dict[str, str | None] = {}
    if effect.notice == Notice.suggestions:
        for suggestion in effect.suggestions[:SUGGESTIONS_SHOWN]:
            ref = suggestion.card
            on_slack = ref is not None and ref.platform == Platform.slack
            suggestion_urls[suggestion.escalation_id] = await archive_url(ref) if ref is not None and on_slack else None
    urls = await likely_urls(effect.view, archive_url) if effect.notice == Notice.assigned else {}
    return plain_excerpt(effect.text, 300), dm_blocks(effect, now, thread_url, suggestion_urls, urls)


def dm_blocks(
    effect: Notify,
    now: datetime,
    thread_url: str | None,
    suggestion_urls: Mapping[str, str | None] | None = None,
    likely_urls: Mapping[str, str] | None = None,
) -> list[dict[str, Any]]:
    view = effect.view
    body, _ = truncated(effect.text, SECTION_LIMIT - 100)
    body = _people_as_mentions(body, effect)
    question, cut = truncated(view.question, DM_QUESTION_LIMIT)
    blocks: list[Block] = [
        SectionBlock(block_id=bid(view, f"dm-{effect.notice.value}"), text=md(body)),
        *([SectionBlock(block_id=bid(view, "dm-files"), text=md(file_links(effect.files)))] if effect.files else []),
        SectionBlock(
            block_id=bid(view, "dm-question"),
            text=md(f"*{escape(view.community_name)}* · from {mention(view.requester)}\n{question}"),
        ),
    ]
    if effect.notice == Notice.suggestions:
        for number, suggestion in enumerate(effect.suggestions[:SUGGESTIONS_SHOWN], start=1):
            url = (suggestion_urls or {}).get(suggestion.escalation_id)
            blocks.append(
                SectionBlock(
                    block_id=bid(view, f"dm-suggestion-{number}"),
                    text=md(suggestion_text(suggestion, url, number=number)),
                )
            )
    likely = likely_text(view, likely_urls) if effect.notice == Notice.assigned else None
    if likely:  # the evidence behind "it comes to you because …", with links
        blocks.append(ContextBlock(block_id=bid(view, "dm-likely"), elements=[md(likely)]))
    context = summary_line(view, now)
    if thread_url:
        context += f" · {link(thread_url, 'Open the thread')}"
    blocks.append(ContextBlock(block_id=bid(view, "dm-status"), elements=[md(context)]))
    value = action_value(view.escalation_id, view.version)
    elements: list[Any] = []
    for action in effect.actions:
        if action == Action.accept:
            elements.append(ButtonElement(text="Accept", action_id=ACCEPT, value=value, style="primary"))
        elif action == Action.reassign:
            elements.append(UserSelectElement(placeholder="Reassign to…", action_id=REASSIGN_TO))
        elif action == Action.decline:
            elements.append(ButtonElement(text="Decline", action_id=DECLINE, value=value, style="danger"))
        elif action == Action.resolve:
            elements.append(ButtonElement(text="Resolve", action_id=RESOLVE, value=value))
        elif action == Action.reopen:
            elements.append(ButtonElement(text="Reopen", action_id=REOPEN, value=value))
        elif action == Action.claim:
            elements.append(ButtonElement(text="Claim", action_id=CLAIM, value=value))
        elif action == Action.deflect:
            elements.append(ButtonElement(text="This answers it", action_id=DEFLECT, value=value, style="primary"))
        elif action == Action.escalate:
            elements.append(ButtonElement(text="Still escalate", action_id=ESCALATE, value=value))
    if cut:
        elements.append(show_question_button(view))
    if elements:
        blocks.append(ActionsBlock(block_id=bid(view, f"dm-actions-{effect.notice.value}"), elements=elements))
    return to_dicts(blocks)


def suggestion_text(suggestion: Suggestion, url: str | None, *, number: int | None = None) -> str:
    """One earlier question and its answer, with a link to its thread; all user text escaped."""
    prefix = f"*{number}.* " if number is not None else ""
    lines = [
        f"{prefix}*Asked:* {excerpt(suggestion.question, SUGGESTION_QUESTION_LIMIT, max_lines=3)}",
        f"*Answer:* {excerpt(suggestion.answer, SUGGESTION_ANSWER_LIMIT)}",
    ]
    if suggestion.files:
        lines.append(file_links(suggestion.files, SUGGESTION_FILES_LIMIT))
    if url:
        lines.append(link(url, "Open the thread"))
    return "\n".join(lines)


def _people_as_mentions(text: str, effect: Notify) -> str:
    """The core words people without a configured name as ``slack:U…``; show them as Slack
    users. Only people this escalation involves, and only in a DM, where a mention of
    someone outside the conversation notifies nobody."""
    view = effect.view
    known = {
        person.id
        for person in (view.requester, view.owner, view.resolved_by, view.first_responder, effect.person, *view.experts)
        if person is not None and person.platform.value == "slack" and not person.name
    }
    if not known:
        return text
    return re.sub(
        r"\bslack:([UW][A-Z0-9]+)\b", lambda m: f"<@{m.group(1)}>" if m.group(1) in known else m.group(0), text
    )


def answered_dm_blocks(original: Sequence[dict[str, Any]], note: str) -> list[dict[str, Any]]:
    """The DM after its buttons were used: the same message, buttons replaced by what happened."""
    kept = [b for b in original if b.get("type") != "actions"]
    return [*kept, ContextBlock(elements=[md(note)]).to_dict()]


# ---------------------------------------------------------------- modals
