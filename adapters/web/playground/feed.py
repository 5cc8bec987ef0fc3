"""What the playground's two platforms have shown so far: channels with their cards, threads
and reactions, and each person's private messages.

It holds what the bot's senders produced (Block Kit blocks, an Adaptive Card, a Teams
message's text) as JSON, exactly as it would go to Slack or Teams, plus what people typed
in the page. It lives in memory: the playground's database is a scratch one anyway."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

BOT = "Escalations"


@dataclass
class Post:
    """One message as a platform shows it. ``body``: ``{"blocks": [...]}`` (Slack),
    ``{"card": {...}}`` (an Adaptive Card), ``{"html": "..."}`` (a Teams message's text)
    or ``{"text": "..."}`` (what a person typed, plain)."""

    id: str
    platform: str
    where: str  # a channel id, or "dm:<person key>"
    author: str
    at: datetime
    body: dict[str, Any]
    escalation_id: str | None = None
    kind: str = "message"  # card | digest | thread | dm | typed | answer
    replies: list[Post] = field(default_factory=list)
    reactions: dict[str, list[str]] = field(default_factory=dict)  # emoji -> who reacted
    edited: int = 0

    @property
    def by_bot(self) -> bool:
        return self.author == BOT


class Feed:
    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self._posts: dict[str, Post] = {}
        self._order: list[str] = []

    def new_id(self, platform: str) -> str:
        number = next(self._ids)
        # Slack's message ids are timestamps; Teams' are opaque numbers.
        return f"1700000000.{number:06d}" if platform == "slack" else f"1700000000{number:06d}"

    def post(self, post: Post, thread: str | None = None) -> Post:
        self._posts[post.id] = post
        if thread is not None and thread in self._posts:
            self._posts[thread].replies.append(post)
        else:
            self._order.append(post.id)
        return post

    def get(self, post_id: str) -> Post | None:
        return self._posts.get(post_id)

    def replace(self, post_id: str, body: dict[str, Any]) -> bool:
        post = self._posts.get(post_id)
        if post is None:
            return False
        post.body = body
        post.edited += 1
        return True

    def react(self, post_id: str, emoji: str, who: str) -> None:
        post = self._posts.get(post_id)
        if post is not None and who not in post.reactions.setdefault(emoji, []):
            post.reactions[emoji].append(who)

    def channel(self, platform: str, where: str) -> list[Post]:
        return [p for i in self._order if (p := self._posts[i]).platform == platform and p.where == where]

    def count(self) -> int:
        return len(self._posts)
