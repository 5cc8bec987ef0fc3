"""Which ``message`` events in a card's thread are a person's reply, and what they carry.

Slack sends every message in a channel the app is in, with a ``subtype`` for most that are
not a person's plain message. Each kind is decided here, deliberately (docs/slack.md has
the table): a person's words, with or without files, are a reply; edits, deletions,
notices, bots and other apps change nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from workflows.model import Attachment

# A person writing in the thread: plain, "also send to #channel", a file with or without
# text (files shared in a thread are always ``file_share``), and ``/me``.
REPLY_SUBTYPES = frozenset({None, "thread_broadcast", "file_share", "me_message"})
# Named so the table in docs/slack.md and the tests can say why each one is not a reply:
IGNORED_SUBTYPES = {
    "message_changed": "an edit: the reply was counted when it was posted",
    "message_deleted": "a deletion: what was said was said",
    "message_replied": "Slack's notice that the thread's parent got a reply; the reply comes as its own event",
    "bot_message": "a bot or integration, not a person",
    "channel_join": "a notice that someone joined the channel",
    "channel_leave": "a notice that someone left the channel",
    "huddle_thread": "Slack's notice of a huddle, posted by Slack",
    "tombstone": "what is left of a deleted parent message",
    "ekm_access_denied": "a message the app may not read",
}
MAX_FILES = 100
_PERMALINK = re.compile(r"^https://[^\s<>\"]{1,1990}$")


@dataclass(frozen=True)
class ThreadMessage:
    user: str
    ts: str
    thread_ts: str
    text: str
    files: tuple[Attachment, ...]


def person_reply(event: dict[str, Any], bot_user: str | None) -> ThreadMessage | None:
    """The reply in ``event`` if it is a person's message in a thread (not its parent), else None."""
    thread_ts, ts, user = event.get("thread_ts"), event.get("ts"), event.get("user")
    if not thread_ts or not ts or thread_ts == ts or not user or user == bot_user:
        return None
    # An app posting, even as a person (``bot_id`` with a ``user``), is not a person replying.
    if event.get("subtype") not in REPLY_SUBTYPES or event.get("bot_id") or event.get("hidden"):
        return None
    files = event.get("files")
    files = files if isinstance(files, list) else []
    return ThreadMessage(
        user=str(user),
        ts=str(ts),
        thread_ts=str(thread_ts),
        text=str(event.get("text") or ""),
        files=tuple(_attachment(f) for f in files[:MAX_FILES] if isinstance(f, dict)),
    )


def _attachment(file: dict[str, Any]) -> Attachment:
    """A shared file as people can open it: its name and permalink. A file the app may not
    see (``file_access: check_file_info``, ``mode: hidden_by_limit``) comes without either."""
    name = str(file.get("name") or file.get("title") or "").strip()[:300] or "a file"
    url = file.get("permalink")
    return Attachment(name=name, url=url if isinstance(url, str) and _PERMALINK.match(url) else None)
