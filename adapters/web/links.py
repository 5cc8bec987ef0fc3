"""Links that open a message's thread in Slack or Teams.

Where Slack is connected, a card's link is its permalink, as the Slack adapter builds it for
people's DMs (the workspace's address, ``archives/<channel>/p<ts>``): it opens the message.
Without Slack (a console over a database whose Slack app runs elsewhere, or the demo), the
link is Slack's ``app_redirect``, which opens the channel in the right workspace."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from urllib.parse import quote, urlencode

from workflows.model import MessageRef, PersonRef, Platform

# A Slack message's permalink (adapters/slack/home.py SlackLinks.archive_url).
SlackPermalink = Callable[[MessageRef], Awaitable[str]]
# People's names as their chat shows them, by person key (adapters/slack/names.py).
PeopleNames = Callable[[Sequence[PersonRef]], Awaitable[dict[str, str]]]


async def thread_link_via(ref: MessageRef, slack_permalink: SlackPermalink | None) -> str | None:
    if ref.platform == Platform.slack and slack_permalink is not None and ref.channel and ref.id:
        return await slack_permalink(ref)
    return thread_link(ref)


def thread_link(ref: MessageRef) -> str | None:
    if ref.platform == Platform.slack and ref.channel and ref.id:
        # Slack sends the browser on to the workspace (``team``, when known: someone in several
        # lands in the right one) and the channel; ``message_ts`` is not one of app_redirect's
        # documented parameters (it may be ignored), so the message is only asked for.
        query = {"channel": ref.channel, **({"team": ref.tenant} if ref.tenant else {}), "message_ts": ref.id}
        return "https://slack.com/app_redirect?" + urlencode(query)
    if ref.platform == Platform.teams and ref.channel and ref.id:
        query = {"parentMessageId": ref.id}
        if ref.tenant:
            query["tenantId"] = ref.tenant
        return (
            f"https://teams.microsoft.com/l/message/{quote(ref.channel, safe='')}/{quote(ref.id, safe='')}?"
            + urlencode(query)
        )
    return None
