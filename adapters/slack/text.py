"""Slack's text rules: escaping user text, mentions, links and Block Kit length limits."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from workflows.model import Attachment, PersonRef, Platform

SECTION_LIMIT = 3000  # a section's text object
FALLBACK_LIMIT = 3000  # the notification text beside blocks: short is kinder anyway
_SAFE_URL = re.compile(r"^https?://[^\s<>|]+$")
_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_ESCAPE_TABLE = str.maketrans(_ESCAPES)


def escape(text: str) -> str:
    """Slack's three control characters, so ``<!channel>`` or ``<@U1>`` in user text never ping."""
    # str.translate, not a generator over the characters: a card or an App Home tab escapes
    # thousands of characters, and the generator was 15% of a tab's CPU (profiled).
    return text.translate(_ESCAPE_TABLE)


# The only sequences in angle brackets we ever send: a user, a channel, a date, a link. An
# ``&`` that already starts an entity was escaped upstream. ``<!channel>``, ``<!here>``,
# ``<!everyone>`` and ``<!subteam…>`` are not among them, so nothing can ping a crowd.
_OURS_OR_RAW = re.compile(
    r"(<(?:@[UW][A-Z0-9]+|#[CGD][A-Z0-9]+|!date\^\d+\^[^<>|]*(?:\|[^<>]*)?|https?://[^\s<>|]+(?:\|[^<>]*)?)>"
    r"|&(?:amp|lt|gt);)|[<>&]"
)


def slack_markup(text: str) -> str:
    """``text`` as Slack must receive it: every ``<``, ``>``, ``&`` escaped except our own
    mentions, links, dates and entities already escaped. Every mrkdwn and message text the
    adapter sends passes through here (``blocks.md``, the listeners' answers, fallbacks), so a
    fixed hint such as ``/escalate <community> <question>`` is as safe as escaped user text.
    Idempotent: text escaped upstream (all user text is) passes unchanged."""
    return _OURS_OR_RAW.sub(lambda m: m.group(1) or _ESCAPES[m.group(0)], text)


SLASH = "/escalate"


def usage(words: str) -> str:
    """One form of the grammar (``workflows.requests``) as people type it in Slack: escaped, as code."""
    return f"`{escape(f'{SLASH} {words}'.strip())}`"


def mention(person: PersonRef | None) -> str:
    if person is None:
        return "someone"
    if person.platform == Platform.slack and re.fullmatch(r"[UW][A-Z0-9]+", person.id):
        return f"<@{person.id}>"
    return escape(person.label())


def channel_link(channel: str) -> str:
    return f"<#{channel}>" if re.fullmatch(r"[CGD][A-Z0-9]+", channel) else escape(channel)


def link(url: str | None, label: str) -> str:
    """A link only for plain http(s) URLs; anything else is shown as escaped text."""
    if not url:
        return escape(label)
    if _SAFE_URL.match(url):
        return f"<{escape(url)}|{escape(label)}>"
    return escape(url)


def file_links(files: Sequence[Attachment], budget: int = SECTION_LIMIT - 100) -> str:
    """Shared files as links to their permalinks (names only where Slack gave none), within
    one section's length; the rest counted."""
    shown: list[str] = []
    used = 0
    for file in files:
        item = link(file.url, file.name)
        if used + len(item) + 40 > budget:
            break
        shown.append(item)
        used += len(item) + 3
    more = len(files) - len(shown)
    return ":paperclip: " + " · ".join(shown) + (f" · and {more} more" if more else "")


def date(moment: datetime, token: str, fallback: str) -> str:
    """Slack renders this in each reader's own time zone."""
    return f"<!date^{int(moment.timestamp())}^{token}|{escape(fallback)}>"


def escaped_chunks(text: str, limit: int = SECTION_LIMIT - 100) -> list[str]:
    """Escape ``text`` and split it so each piece fits ``limit`` without cutting an entity."""
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for ch in text:
        piece = _ESCAPES.get(ch, ch)
        if size + len(piece) > limit:
            chunks.append("".join(current))
            current, size = [], 0
        current.append(piece)
        size += len(piece)
    if current or not chunks:
        chunks.append("".join(current))
    return chunks


def truncated(text: str, limit: int) -> tuple[str, bool]:
    """The escaped text cut to ``limit`` characters (with a marker), and whether it was cut."""
    chunks = escaped_chunks(text, limit - 40)
    if len(chunks) == 1:
        return chunks[0], False
    return f"{chunks[0]}… _(truncated, {len(text):,} characters in all)_", True


def plain_excerpt(text: str, limit: int) -> str:
    """A short one-line excerpt of user text, escaped: for notifications and lists."""
    flat = " ".join(text.split())
    if len(flat) > limit:
        flat = flat[: limit - 1].rstrip() + "…"
    return escape(flat)


def excerpt(text: str, limit: int, *, max_lines: int = 8) -> str:
    """User text cut at a word boundary so that, escaped, it fits ``limit`` characters,
    keeping its first lines (an answer often is a command or a short list)."""
    lines = [" ".join(line.split()) for line in text.strip().splitlines()]
    kept: list[str] = []
    for line in lines:
        if line or (kept and kept[-1]):
            kept.append(line)
    cut = len(kept) > max_lines
    flat = "\n".join(kept[:max_lines]).strip()
    room = limit - 1  # for the ellipsis
    while len(escape(flat)) > room:
        # Escaping lengthens text (& -> &amp;): shrink the raw text until the escaped one fits.
        size = max(len(flat) * room // len(escape(flat)) - 1, 0)
        head = flat[:size]
        flat = head.rsplit(None, 1)[0] if " " in head.strip() else head
        cut = True
    flat = flat.rstrip()
    return escape(flat) + "…" if cut else escape(flat)
