"""Links that open a message's thread in Slack or Teams, built without asking either."""

from __future__ import annotations

from urllib.parse import quote, urlencode

from workflows.model import MessageRef, Platform


def thread_link(ref: MessageRef) -> str | None:
    if ref.platform == Platform.slack and ref.channel and ref.id:
        # Slack sends the browser on to the workspace (``team``, when known: someone in several
        # lands in the right one) and the channel; ``message_ts`` asks for the message.
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
