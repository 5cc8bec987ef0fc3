"""Block Kit for cards, DMs, modals and the App Home, built with slack_sdk's models.

Everything a person typed goes through ``text.escape`` (mrkdwn with ``verbatim``), so
nothing in a question can ping or break the layout; people the bot means to mention
come from structured refs and are rendered ``<@U…>``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    OverflowMenuElement,
    PlainTextInputElement,
    SectionBlock,
    StaticSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from workflows.durations import humanize
from workflows.effects import Action, CardView, DigestItem, Notice, Notify, PostDigest, Suggestion
from workflows.model import Ball, Community, Ownership, Priority, Status, Step
from workflows.requests import COMPOSE_USAGE, OPEN_USAGE

from .likely import likely_text
from .text import (
    SECTION_LIMIT,
    channel_link,
    date,
    escape,
    escaped_chunks,
    excerpt,
    file_links,
    link,
    mention,
    plain_excerpt,
    slack_markup,
    truncated,
    usage,
)

# Interactive ids: the listeners register exactly these.
CLAIM = "claim"
ASSIGN = "assign"
RESOLVE = "resolve"
MORE = "more"
REOPEN = "reopen"
ACCEPT = "accept"
DECLINE = "decline"
REASSIGN_TO = "reassign_to"
SHOW_QUESTION = "show_question"
DEFLECT = "deflect"  # "This answers it"
ESCALATE = "escalate"  # "Still escalate"
HOME_AWAY = "home_away"  # the App Home's "I'm away…": opens the away form
HOME_BACK = "home_back"  # the App Home's "I'm back"
ACTION_IDS = (CLAIM, ASSIGN, RESOLVE, MORE, REOPEN, ACCEPT, DECLINE, REASSIGN_TO, SHOW_QUESTION, DEFLECT, ESCALATE)
HOME_ACTION_IDS = (HOME_AWAY, HOME_BACK)
AWAY_MODAL = "away_modal"

ESCALATE_MODAL = "escalate_modal"
RESOLVE_MODAL = "resolve_modal"
VIEW_CALLBACKS = (ESCALATE_MODAL, RESOLVE_MODAL)

CARD_QUESTION_LIMIT = 2800
DM_QUESTION_LIMIT = 1200
MODAL_INPUT_LIMIT = 3000  # Slack's maximum for plain_text_input

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
MAX_BLOCKS = 50  # Slack's limit per message
SUGGESTIONS_SHOWN = 3
SUGGESTION_QUESTION_LIMIT = 300
SUGGESTION_ANSWER_LIMIT = 700
SUGGESTION_FILES_LIMIT = 900
DIGEST_BLOCK_PREFIX = "digest"


def md(text: str) -> MarkdownTextObject:
    # verbatim: Slack must not turn plain words into links or mentions.
    return MarkdownTextObject(text=slack_markup(text), verbatim=True)


def action_value(escalation_id: str, version: int | None, action: str | None = None) -> str:
    data: dict[str, Any] = {"e": escalation_id}
    if version is not None:
        data["v"] = version
    if action:
        data["a"] = action
    return json.dumps(data, separators=(",", ":"))


@dataclass(frozen=True)
class ActionTarget:
    escalation_id: str
    version: int | None
    action: str | None = None


def parse_action(action: dict[str, Any]) -> ActionTarget | None:
    """Where a button/select/overflow points: its value, else its block id."""
    raw = action.get("value") or (action.get("selected_option") or {}).get("value")
    if raw:
        try:
            data = json.loads(raw)
            return ActionTarget(str(data["e"]), int(data["v"]) if "v" in data else None, data.get("a"))
        except (ValueError, KeyError, TypeError):
            return None
    parts = str(action.get("block_id", "")).split(":")
    if len(parts) >= 3 and parts[0] == "esc":
        try:
            return ActionTarget(parts[1], int(parts[2]))
        except ValueError:
            return None
    return None


def _blocks(blocks: Sequence[Block]) -> list[dict[str, Any]]:
    return [b.to_dict() for b in blocks]


# ---------------------------------------------------------------- status words


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


def _bid(view: CardView, name: str) -> str:
    # A fresh block id per version makes Slack redraw the block on chat.update.
    return f"esc:{view.escalation_id}:{view.version}:{name}"


def card_blocks(view: CardView, now: datetime, likely_urls: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    question, cut = truncated(view.question, CARD_QUESTION_LIMIT)
    head = (
        f"*{escape(view.community_name)}* · question from {mention(view.requester)} · "
        f"{_PRIORITY[view.priority]} · `#{view.escalation_id[:8]}`"
    )
    blocks: list[Block] = [
        SectionBlock(block_id=_bid(view, "head"), text=md(head)),
        SectionBlock(block_id=_bid(view, "question"), text=md(question)),
    ]
    fields = []
    if view.customer:
        fields.append(md(f"*Customer*\n{plain_excerpt(view.customer, 500)}"))
    if view.link:
        fields.append(md(f"*Link*\n{link(view.link, view.link[:200])}"))
    if fields:
        blocks.append(SectionBlock(block_id=_bid(view, "fields"), fields=fields))
    if view.answer:
        answer, _ = truncated(view.answer, SECTION_LIMIT - 100)
        blocks.append(SectionBlock(block_id=_bid(view, "answer"), text=md(f"*Answer*\n{answer}")))
    if view.answer_files:
        blocks.append(SectionBlock(block_id=_bid(view, "answer-files"), text=md(file_links(view.answer_files))))
    blocks.append(ContextBlock(block_id=_bid(view, "status"), elements=[md(summary_line(view, now))]))
    likely = likely_text(view, likely_urls)
    if likely:
        blocks.append(ContextBlock(block_id=_bid(view, "likely"), elements=[md(likely)]))
    elements = _card_elements(view, cut)
    if elements:
        blocks.append(ActionsBlock(block_id=_bid(view, "actions"), elements=elements))
    return _blocks(blocks)


def _show_question_button(view: CardView) -> ButtonElement:
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
        elements.append(_show_question_button(view))
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
        SectionBlock(block_id=_bid(view, f"dm-{effect.notice.value}"), text=md(body)),
        *([SectionBlock(block_id=_bid(view, "dm-files"), text=md(file_links(effect.files)))] if effect.files else []),
        SectionBlock(
            block_id=_bid(view, "dm-question"),
            text=md(f"*{escape(view.community_name)}* · from {mention(view.requester)}\n{question}"),
        ),
    ]
    if effect.notice == Notice.suggestions:
        for number, suggestion in enumerate(effect.suggestions[:SUGGESTIONS_SHOWN], start=1):
            url = (suggestion_urls or {}).get(suggestion.escalation_id)
            blocks.append(
                SectionBlock(
                    block_id=_bid(view, f"dm-suggestion-{number}"),
                    text=md(suggestion_text(suggestion, url, number=number)),
                )
            )
    likely = likely_text(view, likely_urls) if effect.notice == Notice.assigned else None
    if likely:  # the evidence behind "it comes to you because …", with links
        blocks.append(ContextBlock(block_id=_bid(view, "dm-likely"), elements=[md(likely)]))
    context = summary_line(view, now)
    if thread_url:
        context += f" · {link(thread_url, 'Open the thread')}"
    blocks.append(ContextBlock(block_id=_bid(view, "dm-status"), elements=[md(context)]))
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
        elements.append(_show_question_button(view))
    if elements:
        blocks.append(ActionsBlock(block_id=_bid(view, f"dm-actions-{effect.notice.value}"), elements=elements))
    return _blocks(blocks)


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
        return _blocks([SectionBlock(text=md("You have no open escalations."))])
    blocks: list[Block] = [SectionBlock(text=md(f"*Your open escalations* ({len(items)})"))]
    blocks += [SectionBlock(text=md(listed_line(item, now))) for item in items[:40]]
    if len(items) > 40:
        blocks.append(ContextBlock(elements=[md(f"…and {len(items) - 40} more")]))
    return _blocks(blocks)


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
        return _blocks(
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
    return _blocks(blocks)


# ---------------------------------------------------------------- the daily digest

DIGEST_GROUPS = (
    ("unanswered", "Unanswered, oldest first"),
    ("overdue", "Owned but overdue"),
    ("waiting", "Waiting on the requester"),
    ("resolved", "Resolved since the last digest"),
)
DIGEST_QUESTION_LIMIT = 200


def _share(sizes: Sequence[int], budget: int) -> list[int]:
    """Item slots per group, one round at a time so every group shows its oldest items."""
    shown = [0] * len(sizes)
    while budget > 0 and any(s < n for s, n in zip(shown, sizes, strict=True)):
        for index, size in enumerate(sizes):
            if budget > 0 and shown[index] < size:
                shown[index] += 1
                budget -= 1
    return shown


def _digest_item(group: str, item: DigestItem, url: str | None) -> Block:
    name = f"#{item.escalation_id[:8]}"
    title = link(url, name) if url else escape(name)
    ago = f"asked {escape(item.age)} ago" if group == "resolved" else f"open {escape(item.age)}"
    text = (
        f"*{title}* {plain_excerpt(item.question, DIGEST_QUESTION_LIMIT)}\n"
        f"{ago} · from {escape(item.requester.label())} · {escape(item.note)}"
    )
    accessory = None
    if item.claimable and group != "resolved":
        accessory = ButtonElement(text="Claim", action_id=CLAIM, value=action_value(item.escalation_id, None))
    return SectionBlock(
        block_id=f"{DIGEST_BLOCK_PREFIX}:{group}:{item.escalation_id}"[:255], text=md(text), accessory=accessory
    )


def digest_blocks(digest: PostDigest, urls: Mapping[str, str | None] | None = None) -> list[dict[str, Any]]:
    """The digest as one message within Block Kit's limits: groups share the 50 blocks,
    and what does not fit is counted ("…and N more")."""
    urls = urls or {}
    head = f":newspaper: *Daily digest · {escape(digest.community_name)}* · {digest.day:%A %d %B}"
    blocks: list[Block] = [SectionBlock(block_id=f"{DIGEST_BLOCK_PREFIX}:head", text=md(head))]
    week = [ContextBlock(block_id=f"{DIGEST_BLOCK_PREFIX}:week", elements=[md(escape(digest.week))])]
    week = week if digest.week else []
    if digest.away:
        week.append(ContextBlock(block_id=f"{DIGEST_BLOCK_PREFIX}:away", elements=[md(escape(digest.away))]))
    if digest.joined:
        week.append(ContextBlock(block_id=f"{DIGEST_BLOCK_PREFIX}:joined", elements=[md(escape(digest.joined))]))
    groups = [(key, title, tuple(getattr(digest, key))) for key, title in DIGEST_GROUPS]
    groups = [(key, title, items) for key, title, items in groups if items]
    if digest.empty or not groups:
        blocks.append(md_section("Nothing open, nothing overdue, nothing resolved since the last digest."))
        return _blocks([*blocks, *week])
    sizes = [len(items) for _, _, items in groups]
    room = MAX_BLOCKS - len(blocks) - len(week) - len(groups)
    shown = _share(sizes, room)
    # Each group cut short needs a line saying so; take the room from the items.
    while True:
        cut = sum(1 for s, n in zip(shown, sizes, strict=True) if s < n)
        again = _share(sizes, room - cut)
        if again == shown:
            break
        shown = again
    for (key, title, items), count in zip(groups, shown, strict=True):
        blocks.append(md_section(f"*{title}* ({len(items)})", block_id=f"{DIGEST_BLOCK_PREFIX}:{key}"))
        blocks += [_digest_item(key, item, urls.get(item.escalation_id)) for item in items[:count]]
        if count < len(items):
            more = f"…and {len(items) - count} more"
            blocks.append(ContextBlock(block_id=f"{DIGEST_BLOCK_PREFIX}:{key}:more", elements=[md(more)]))
    return _blocks([*blocks, *week])


def digest_fallback(digest: PostDigest) -> str:
    """The notification text: counts only, so no user text needs a second escaping."""
    name = escape(digest.community_name)
    if digest.empty:
        return slack_markup(f"Daily digest for {name}: nothing open, nothing overdue, nothing resolved.")
    return slack_markup(
        f"Daily digest for {name}: {len(digest.unanswered)} unanswered, {len(digest.overdue)} overdue, "
        f"{len(digest.waiting)} waiting on the requester, {len(digest.resolved)} resolved."
    )


def md_section(text: str, block_id: str | None = None) -> SectionBlock:
    return SectionBlock(block_id=block_id, text=md(text))
