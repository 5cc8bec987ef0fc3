"""The bot token scopes the Slack app needs, and why: every Web API method the bot calls and
every event it subscribes to, with the scopes Slack's reference (docs.slack.dev/reference)
lists for them, narrowed to the conversations the bot uses them in.

``manifest.yaml`` must grant exactly what this needs (tests/slack/test_scopes.py, which also
finds every method the code calls); docs/slack.md shows the same table for admins.
"""

from __future__ import annotations

# Web API method -> the bot scopes it needs where the bot calls it. Methods whose reference
# says "no scope required" have none.
WEB_API: dict[str, tuple[str, ...]] = {
    "auth.test": (),  # the bot's own user id and team (Bolt calls it too)
    "chat.getPermalink": (),  # the shortcut and an escalate emoji link the message escalated
    "chat.postEphemeral": ("chat:write",),  # refusals shown to one person
    "chat.postMessage": ("chat:write",),  # cards, thread replies, DMs, digests
    "chat.update": ("chat:write",),  # the card kept up to date
    # Slack lists channels:manage, groups:write, im:write or mpim:write by conversation type;
    # the bot opens only DMs with one person.
    "conversations.open": ("im:write",),
    # Slack lists the *:history scope of each conversation type. After a crash, a retried
    # delivery looks for its own earlier post (by metadata) in a community's channel, public
    # or private, and in a person's DM.
    "conversations.history": ("channels:history", "groups:history", "im:history"),
    # The same look-up in a card's thread, which is always in a community's channel; and the
    # message an escalate emoji was put on, in any channel the bot is in.
    "conversations.replies": ("channels:history", "groups:history"),
    # An escalate emoji: whether the person who reacted is a person of this workspace (not a
    # bot, not a Slack Connect guest of another), and the message author's name.
    "users.info": ("users:read",),
    "views.open": (),  # the escalation, resolve and question modals
    "views.publish": (),  # the App Home tab
    "usergroups.users.list": ("usergroups:read",),  # a user group as a roster (experts: slack:usergroup:S…)
}

# Bot event (as the manifest subscribes to it) -> the scopes Slack requires for it.
EVENTS: dict[str, tuple[str, ...]] = {
    "app_home_opened": (),
    "message.channels": ("channels:history",),  # replies in a card's thread, public channels
    "message.groups": ("groups:history",),  # the same in private channels
    "reaction_added": ("reactions:read",),  # claim or resolve with an emoji; escalate a message
    # A status that says away (issue 22): read from the events, never asked for per assignment.
    "user_status_changed": ("users:read",),
    "user_change": ("users:read",),
    "subteam_members_changed": ("usergroups:read",),  # a roster's user group changed
    "subteam_updated": ("usergroups:read",),  # the same, or it was disabled
}

# Manifest features that need a scope of their own.
FEATURES: dict[str, tuple[str, ...]] = {
    "slash_commands": ("commands",),  # /escalate
    "shortcuts": ("commands",),  # the message shortcut "Escalate to experts"
}


def needed(methods: set[str], events: set[str], features: set[str]) -> set[str]:
    """The scopes the app needs for these methods, events and manifest features."""
    return {
        scope
        for table, names in ((WEB_API, methods), (EVENTS, events), (FEATURES, features))
        for name in names
        for scope in table[name]
    }


__all__ = ["EVENTS", "FEATURES", "WEB_API", "needed"]
