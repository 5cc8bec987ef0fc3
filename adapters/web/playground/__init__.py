"""The playground: Slack and Teams side by side in a browser, on a simulated clock, against
the real service and outbox. A separate mode (``escalation-bot playground``); ``serve`` never
mounts it."""

from .app import Playground
from .feed import BOT, Feed, Post

__all__ = ["BOT", "Feed", "Playground", "Post"]
