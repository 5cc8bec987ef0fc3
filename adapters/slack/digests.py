"""The weekly digest posted in a community's channel."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ButtonElement,
    ContextBlock,
    SectionBlock,
)

from workflows.effects import DigestItem, PostDigest

from .blocks import (
    CLAIM,
    DIGEST_BLOCK_PREFIX,
    MAX_BLOCKS,
    action_value,
    md,
    md_section,
    to_dicts,
)
from .text import (
    escape,
    link,
    plain_excerpt,
    slack_markup,
)

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
        return to_dicts([*blocks, *week])
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
    return to_dicts([*blocks, *week])


def digest_fallback(digest: PostDigest) -> str:
    """The notification text: counts only, so no user text needs a second escaping."""
    name = escape(digest.community_name)
    if digest.empty:
        return slack_markup(f"Daily digest for {name}: nothing open, nothing overdue, nothing resolved.")
    return slack_markup(
        f"Daily digest for {name}: {len(digest.unanswered)} unanswered, {len(digest.overdue)} overdue, "
        f"{len(digest.waiting)} waiting on the requester, {len(digest.resolved)} resolved."
    )
