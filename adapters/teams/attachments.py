"""What a Teams message in a card's thread carries besides its text, in the core's words.

Teams puts files, pasted images and cards in ``attachments`` (docs/teams.md has the table):

- ``application/vnd.microsoft.teams.file.download.info``: a file from OneDrive/SharePoint.
  Its ``contentUrl`` is the file's link for people; ``content.downloadUrl`` is a short-lived
  pre-authorised URL and is never kept.
- ``image/*``: a pasted image; its ``contentUrl`` needs the bot's token, so people get the
  image's name, not a link.
- ``text/html``: the message as HTML. Inline images and channel file references show only
  here when no attachment of their own came with them (emoji are images too, and skipped).
- ``application/vnd.microsoft.card.*``: a card a person posted (from a messaging extension):
  its words stand for the message's text when the message has none.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from workflows.model import Attachment

FILE_INFO = "application/vnd.microsoft.teams.file.download.info"
CARD_PREFIX = "application/vnd.microsoft.card."
_IMG = re.compile(r"<img\b[^>]{0,2000}>", re.IGNORECASE)
_EMOJI = re.compile(r"schema\.skype\.com/Emoji|emoticon", re.IGNORECASE)
_FILE_REF = re.compile(r"<attachment\s+id=", re.IGNORECASE)
_SAFE_URL = re.compile(r"^https://[^\s<>\"]{1,1990}$")
MAX_FILES = 100
OPEN_BUTTONS = 5
CARD_WORDS = 2000


def _field(attachment: Any, name: str) -> Any:
    if isinstance(attachment, dict):
        return attachment.get(name)
    return getattr(attachment, {"contentType": "content_type", "contentUrl": "content_url"}.get(name, name), None)


def files_of(attachments: Sequence[Any] | None) -> tuple[Attachment, ...]:
    """The files and images a message carries."""
    found: list[Attachment] = []
    kinds: set[str] = set()
    html = ""
    for attachment in attachments or ():
        kind = str(_field(attachment, "contentType") or "").lower()
        kinds.add(kind)
        name = str(_field(attachment, "name") or "").strip()[:300]
        url = _field(attachment, "contentUrl")
        if kind == FILE_INFO:
            link = str(url) if isinstance(url, str) and _SAFE_URL.match(url) else None
            found.append(Attachment(name=name or "a file", url=link))
        elif kind.startswith("image/"):
            found.append(Attachment(name=name or f"image {sum(1 for k in found if k.url is None) + 1}"))
        elif kind == "text/html":
            html += str(_field(attachment, "content") or "")
    if not any(kind.startswith("image/") for kind in kinds):
        images = [tag for tag in _IMG.findall(html) if not _EMOJI.search(tag)]
        found += [Attachment(name=f"image {n}") for n in range(1, len(images) + 1)]
    if FILE_INFO not in kinds:
        found += [Attachment(name="a file") for _ in _FILE_REF.findall(html)]
    return tuple(found[:MAX_FILES])


def card_words(attachments: Sequence[Any] | None) -> str:
    """The words of the cards a message carries: their titles and text blocks."""
    words: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key in ("title", "subtitle", "text"):
                if isinstance(node.get(key), str) and node.get("type") not in ("Action.Submit", "Action.Execute"):
                    words.append(node[key])
            for value in node.values():
                if isinstance(value, (dict, list)):
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for attachment in attachments or ():
        if str(_field(attachment, "contentType") or "").lower().startswith(CARD_PREFIX):
            walk(_field(attachment, "content"))
    return "\n".join(w.strip() for w in words if w.strip())[:CARD_WORDS]


def open_buttons(files: Sequence[Attachment]) -> list[dict[str, Any]]:
    """A button per linked file (the first few): an Action.OpenUrl title is plain text."""
    return [
        {"type": "Action.OpenUrl", "title": f"Open {f.name}"[:100], "url": f.url}
        for f in files
        if f.url and _SAFE_URL.match(f.url)
    ][:OPEN_BUTTONS]
