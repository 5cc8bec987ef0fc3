"""Text for Teams, from what people typed: escaped for Adaptive Card markdown in cards, and
for HTML, markdown and ``<at>`` mentions in message text; links to threads; choice values."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote, urlencode

from workflows.model import MessageRef, PersonRef, Platform
from workflows.requests import VERB

TEAMS_WEB = "https://teams.microsoft.com"

# Markdown that means something anywhere (emphasis, code, links), and at a line start
# (headings, quotes, lists).
_CARD_MARKDOWN = re.compile(r"([\\*_~`\[\]])")
_LIST_START = re.compile(r"^(\s*)([-+#>]|\d+\.)(\s)", re.MULTILINE)
_AT_TAG = re.compile(r"<(/?)(at)\b", re.IGNORECASE)
_TAG = re.compile(r"<[^>]{0,500}>")


def usage(words: str) -> str:
    """One form of the grammar (``workflows.requests``) as people type it to the bot in Teams,
    plain: the forms that open a question start with the verb."""
    return f"{VERB} {words}".strip() if not words or words.startswith("<") else words


def escape_card_text(text: str | None) -> str:
    """Plain text for a TextBlock/FactSet: no markdown, links or mentions take effect."""
    if not text:
        return ""
    text = _AT_TAG.sub(lambda m: "<\u200b" + m.group(1) + m.group(2), text)
    text = _CARD_MARKDOWN.sub(r"\\\1", text)
    return _LIST_START.sub(lambda m: m.group(1) + "\\" + m.group(2) + m.group(3), text)


def escape_message_text(text: str | None) -> str:
    """Plain text for a Teams message: HTML-escaped (so ``<at>`` is inert) and markdown-escaped."""
    if not text:
        return ""
    text = _CARD_MARKDOWN.sub(r"\\\1", text)
    text = _LIST_START.sub(lambda m: m.group(1) + "\\" + m.group(2) + m.group(3), text)
    return html.escape(text, quote=False).replace("\n", "<br>")


def plain_from_html(text: str | None) -> str:
    """What a person wrote, from a Teams message body (HTML with entities)."""
    if not text:
        return ""
    text = re.sub(r"<br\s*/?>|</p>|</div>", "\n", text, flags=re.IGNORECASE)
    return html.unescape(_TAG.sub("", text)).replace("\xa0", " ").strip()


def shorten(text: str | None, limit: int, *, one_line: bool = False) -> str:
    """At most ``limit`` characters of plain text, cut with an ellipsis (escape afterwards)."""
    text = (text or "").strip()
    if one_line:
        text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[:limit].rstrip() + " …"


def message_link(ref: MessageRef | None) -> str | None:
    """A Teams deep link to a card's thread in its channel. Only Teams messages have one
    we can build without asking the platform; others are shown without a link. The team's
    group id and names are optional in the link: Teams finds the channel by its id."""
    if ref is None or ref.platform != Platform.teams or not ref.channel or not ref.id:
        return None
    query = {"parentMessageId": ref.id}
    if ref.tenant:
        query["tenantId"] = ref.tenant
    if ref.id.isdigit():  # channel message ids are their creation time in milliseconds
        query["createdTime"] = ref.id
    return f"{TEAMS_WEB}/l/message/{quote(ref.channel, safe='')}/{quote(ref.id, safe='')}?{urlencode(query)}"


def thread_text(text: str, mentions: Sequence[PersonRef]) -> tuple[str, list[dict[str, Any]]]:
    """Message text with ``<at>`` mentions for the Teams people, and their entities."""
    tags: list[str] = []
    entities: list[dict[str, Any]] = []
    for ref in mentions:
        if ref.platform != Platform.teams:
            continue
        name = html.escape(ref.name or "expert", quote=False)
        tag = f"<at>{name}</at>"
        tags.append(tag)
        entities.append({"type": "mention", "text": tag, "mentioned": {"id": ref.id, "name": ref.name or "expert"}})
    body = escape_message_text(text)
    return (" ".join([*tags, body]) if tags else body), entities
