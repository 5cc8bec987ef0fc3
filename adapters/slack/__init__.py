"""Slack: slash command, shortcut, buttons, modals, reactions, threads, DMs and App Home."""

from .platform import DEFAULT_API_URL, EVENTS_PATH, SlackPlatform
from .sender import SlackSender

__all__ = ["DEFAULT_API_URL", "EVENTS_PATH", "SlackPlatform", "SlackSender"]
