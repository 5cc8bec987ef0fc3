"""The escalation card posted in the experts' channel, and the status words it shares with DMs and lists."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    Option,
    OverflowMenuElement,
    SectionBlock,
    UserSelectElement,
)

from workflows.durations import humanize
from workflows.effects import Action, CardView
from workflows.model import Ball, Ownership, Priority, Status, Step

from .blocks import (
    ASSIGN,
    CARD_QUESTION_LIMIT,
    CLAIM,
    MORE,
    REOPEN,
    RESOLVE,
    SHOW_QUESTION,
    action_value,
    md,
    to_dicts,
)
from .likely import likely_text
from .text import (
    SECTION_LIMIT,
    channel_link,
    date,
    escape,
    file_links,
    link,
    mention,
    plain_excerpt,
    slack_markup,
    truncated,
)

_PRIORITY = {
    Priority.low: ":white_circle: low",
    Priority.normal: ":large_blue_circle: normal",
    Priority.high: ":large_orange_circle: high",
    Priority.urgent: ":red_circle: urgent",
}
_STEP_WORDS = {
    "nudge": "nudge the experts",
    "assign": "assign an expert",
    "owner_reminder": "remind the owner",
    "reassign": "reassign to the next expert",
    "requester_reminder": "ask the requester whether it is answered",
    "auto_close": "close automatically",
    "release": "send it to the experts",
}


def status_text(view: CardView) -> str:
    if view.status == Status.resolved:
        if view.resolved_by is not None and view.resolved_by.platform.value != "system":
            return f":white_check_mark: Resolved by {mention(view.resolved_by)}"
        return f":white_check_mark: {escape(view.status_line)}"
    if view.status == Status.cancelled:
        return ":no_entry_sign: Cancelled"
    if view.status != Status.open:
        return escape(view.status_line)
    if view.next_step == Step.release:  # held: the requester is looking at earlier answers
        return ":mag: Checking similar answers"
    if view.ball == Ball.requester:
        return f":hourglass_flowing_sand: Waiting on {mention(view.requester)}"
    if view.owner is None:
        return ":large_orange_circle: Unclaimed"
    who = mention(view.owner)
    if view.ownership == Ownership.claimed:
        return f":eyes: Claimed by {who}"
    if view.ownership == Ownership.assigned:
        because = f", because {escape(view.because)}" if view.because else ""
        return f":bust_in_silhouette: Assigned to {who} (not yet accepted){because}"
    return f":hammer_and_wrench: {who} is on it"


def next_words(view: CardView, now: datetime) -> str:
    if view.next_step is None or view.next_due_at is None:
        return "nothing scheduled"
    words = _STEP_WORDS.get(view.next_step.value, view.next_step.value)
    left = view.next_due_at - now
    when = f"in {humanize(left)}" if left.total_seconds() > 0 else "now"
    return f"{words} {when}"


def age_words(view: CardView, now: datetime) -> str:
    # Slack shows the date in each reader's time zone; the age is as of this version of the card.
    opened = date(view.created_at, "{date_short_pretty} at {time}", view.created_at.strftime("%Y-%m-%d %H:%M UTC"))
    if view.status != Status.open:
        return f"opened {opened}"
    age = now - view.created_at
    return f"opened {opened} ({humanize(age)} ago)" if age >= timedelta(minutes=1) else f"opened {opened} (just now)"


def summary_line(view: CardView, now: datetime) -> str:
    line = f"{status_text(view)} · {age_words(view, now)}"
    if view.status == Status.open:
        line += f" · next: {next_words(view, now)}"
    return line


# ---------------------------------------------------------------- the card


def bid(view: CardView, name: str) -> str:
    # A fresh block id per version makes Slack redraw the block on chat.update.
    return f"esc:{view.escalation_id}:{view.version}:{name}"


def card_blocks(view: CardView, now: datetime, likely_urls: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    question, cut = truncated(view.question, CARD_QUESTION_LIMIT)
    head = (
        f"*{escape(view.community_name)}* · question from {mention(view.requester)} · "
        f"{_PRIORITY[view.priority]} · `#{view.escalation_id[:8]}`"
    )
    blocks: list[Block] = [
        SectionBlock(block_id=bid(view, "head"), text=md(head)),
        SectionBlock(block_id=bid(view, "question"), text=md(question)),
    ]
    fields = []
    if view.customer:
        fields.append(md(f"*Customer*\n{plain_excerpt(view.customer, 500)}"))
    if view.link:
        fields.append(md(f"*Link*\n{link(view.link, view.link[:200])}"))
    if fields:
        blocks.append(SectionBlock(block_id=bid(view, "fields"), fields=fields))
    if view.answer:
        answer, _ = truncated(view.answer, SECTION_LIMIT - 100)
        blocks.append(SectionBlock(block_id=bid(view, "answer"), text=md(f"*Answer*\n{answer}")))
    if view.answer_files:
        blocks.append(SectionBlock(block_id=bid(view, "answer-files"), text=md(file_links(view.answer_files))))
    blocks.append(ContextBlock(block_id=bid(view, "status"), elements=[md(summary_line(view, now))]))
    likely = likely_text(view, likely_urls)
    if likely:
        blocks.append(ContextBlock(block_id=bid(view, "likely"), elements=[md(likely)]))
    elements = _card_elements(view, cut)
    if elements:
        blocks.append(ActionsBlock(block_id=bid(view, "actions"), elements=elements))
    return to_dicts(blocks)


def show_question_button(view: CardView) -> ButtonElement:
    return ButtonElement(
        text="Show full question", action_id=SHOW_QUESTION, value=action_value(view.escalation_id, view.version)
    )


def _card_elements(view: CardView, cut: bool) -> list[Any]:
    value = action_value(view.escalation_id, view.version)
    elements: list[Any] = []
    actions = set(view.actions)
    if Action.claim in actions:
        elements.append(ButtonElement(text="Claim", action_id=CLAIM, value=value, style="primary"))
    if Action.assign in actions:
        elements.append(UserSelectElement(placeholder="Assign to…", action_id=ASSIGN))
    if Action.resolve in actions:
        elements.append(ButtonElement(text="Resolve", action_id=RESOLVE, value=value))
    if Action.reopen in actions:
        elements.append(ButtonElement(text="Reopen", action_id=REOPEN, value=value))
    overflow = []
    if Action.reassign in actions:
        overflow.append(
            Option(
                value=action_value(view.escalation_id, view.version, "reassign"), label="Reassign to the next expert"
            )
        )
    if Action.priority in actions:
        overflow += [
            Option(
                value=action_value(view.escalation_id, view.version, f"priority:{p.value}"), label=f"Make it {p.value}"
            )
            for p in Priority
            if p != view.priority
        ]
    if Action.cancel in actions:
        overflow.append(Option(value=action_value(view.escalation_id, view.version, "cancel"), label="Cancel question"))
    if overflow:
        elements.append(OverflowMenuElement(action_id=MORE, options=overflow))
    if cut:
        elements.append(show_question_button(view))
    return elements


def posted_text(channel: str, community_name: str, url: str) -> str:
    """The requester's DM once their question's card is posted."""
    return (
        f"Your question is posted in {channel_link(channel)} for the {escape(community_name)} experts: "
        f"{link(url, 'see it and follow the thread')}. I'll tell you here when someone picks it up."
    )


def card_fallback(view: CardView) -> str:
    return slack_markup(
        f"{escape(view.community_name)}: {plain_excerpt(view.question, 200)} ({escape(view.status_line)})"
    )


# ---------------------------------------------------------------- direct messages
