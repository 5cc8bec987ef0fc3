"""Effects -> Slack Web API calls: the Sender the outbox dispatcher uses for ``Platform.slack``."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from workflows.clock import Clock
from workflows.delivery import (
    Delivered,
    DeliveryContext,
    PermanentDeliveryError,
    TransientDeliveryError,
)
from workflows.effects import Effect, Notify, PostCard, PostDigest, SourceNote, ThreadReply, UpdateCard
from workflows.model import MessageRef, Platform
from workflows.ports import Scope

from .blocks import MAX_BLOCKS, md
from .cards import card_blocks, card_fallback
from .digests import digest_blocks, digest_fallback
from .home import SlackHome, SlackLinks
from .likely import likely_urls
from .notices import notify_message
from .text import link, mention, slack_markup, truncated

log = logging.getLogger("escalation_bot.slack")

# Slack errors worth retrying; every other ``ok: false`` is the same on the next try.
TRANSIENT_ERRORS = frozenset(
    {"ratelimited", "rate_limited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)


def retry_after_of(headers: Any) -> float | None:
    if not headers:
        return None
    for key, value in dict(headers).items():
        if str(key).lower() == "retry-after":
            raw = value[0] if isinstance(value, list) else value
            try:
                return float(raw)
            except (TypeError, ValueError):
                return None
    return None


async def call_slack(call: Callable[[], Awaitable[AsyncSlackResponse]], what: str) -> AsyncSlackResponse:
    """One Web API call, its failure mapped to the outbox's transient/permanent errors."""
    try:
        return await call()
    except SlackApiError as exc:
        response = exc.response
        status = getattr(response, "status_code", 0) or 0
        error = str(response.get("error", "")) if isinstance(response.data, dict) else ""
        if status == 429 or error in ("ratelimited", "rate_limited"):
            raise TransientDeliveryError(
                f"{what}: rate limited", code="ratelimited", retry_after=retry_after_of(response.headers)
            ) from exc
        if status >= 500 or error in TRANSIENT_ERRORS:
            raise TransientDeliveryError(f"{what}: {error or status}", code=error or f"http_{status}") from exc
        raise PermanentDeliveryError(f"{what}: {error or status}", code=error or f"http_{status}") from exc
    except (TimeoutError, aiohttp.ClientError, SlackClientError) as exc:
        raise TransientDeliveryError(f"{what}: {type(exc).__name__}: {exc}", code="network") from exc


class SlackSender:
    """Renders effects to Block Kit and sends them. Implements ``workflows.delivery.Sender``.

    After a question card is posted, the requester gets a DM with its permalink (the core's
    ``Notice.posted``): a DM stays findable, while an ephemeral message needs a channel the
    requester is in and disappears on reload.
    """

    platform = Platform.slack

    def __init__(self, client: AsyncWebClient, links: SlackLinks, clock: Clock, home: SlackHome | None = None) -> None:
        self.client = client
        self.links = links
        self.clock = clock
        self.home = home

    @staticmethod
    def _metadata(event_type: str, escalation_id: str, context: DeliveryContext) -> dict[str, Any]:
        # Lets a later recovery find a message that was posted before a crash lost its record.
        return {
            "event_type": event_type,
            "event_payload": {"escalation_id": escalation_id, "idempotency_key": context.idempotency_key},
        }

    async def deliver(self, effect: Effect, context: DeliveryContext) -> Delivered:
        if isinstance(effect, PostCard):
            return await self._post_card(effect, context)
        if isinstance(effect, UpdateCard):
            return await self._update_card(effect, context)
        if isinstance(effect, ThreadReply):
            return await self._thread_reply(effect, context)
        if isinstance(effect, Notify):
            return await self._notify(effect, context)
        if isinstance(effect, PostDigest):
            return await self._post_digest(effect, context)
        if isinstance(effect, SourceNote):
            return await self._source_note(effect, context)
        raise PermanentDeliveryError(f"cannot render {type(effect).__name__}", code="unknown_effect")

    async def _post_card(self, effect: PostCard, context: DeliveryContext) -> Delivered:
        view = effect.view
        urls = await likely_urls(view, self.links.archive_url)
        found = await self._already_posted(effect.channel.id, context)
        if found is not None:
            channel, ts = effect.channel.id, found
        else:
            response = await call_slack(
                lambda: self.client.chat_postMessage(
                    channel=effect.channel.id,
                    text=card_fallback(view),
                    blocks=card_blocks(view, self.clock.now(), urls),
                    metadata=self._metadata("escalation_card", effect.escalation_id, context),
                    unfurl_links=False,
                    unfurl_media=False,
                ),
                "chat.postMessage (card)",
            )
            context.arrived()
            channel, ts = str(response["channel"]), str(response["ts"])
        tenant = effect.channel.tenant or await self.links.team_id()
        ref = MessageRef(platform=Platform.slack, channel=channel, id=ts, tenant=tenant)
        if self.home is not None:
            self.home.refresh(view.requester)
        return Delivered(refs=[("card", ref, {"version": view.version})], result={"channel": ref.channel, "ts": ref.id})

    def _card(self, context: DeliveryContext, channel: str) -> MessageRef:
        card = context.card_in(Platform.slack, channel)
        if card is None:
            raise PermanentDeliveryError("the card was never posted", code="no_card")
        return card

    async def _update_card(self, effect: UpdateCard, context: DeliveryContext) -> Delivered:
        card = self._card(context, effect.channel.id)
        urls = await likely_urls(effect.view, self.links.archive_url)
        await call_slack(
            lambda: self.client.chat_update(
                channel=card.channel,
                ts=card.id,
                text=card_fallback(effect.view),
                blocks=card_blocks(effect.view, self.clock.now(), urls),
            ),
            "chat.update (card)",
        )
        context.arrived()
        if self.home is not None and effect.view.owner is not None:
            self.home.refresh(effect.view.owner)
        return Delivered(result={"channel": card.channel, "ts": card.id, "version": effect.view.version})

    async def _thread_reply(self, effect: ThreadReply, context: DeliveryContext) -> Delivered:
        card = self._card(context, effect.channel.id)
        mentions = " ".join(mention(person) for person in effect.mentions)
        body, _ = truncated(effect.text, 2800)
        text = slack_markup(f"{mentions} {body}".strip())
        ts = await self._already_posted(card.channel, context, thread_ts=card.id)
        if ts is None:
            response = await call_slack(
                lambda: self.client.chat_postMessage(
                    channel=card.channel,
                    thread_ts=card.id,
                    text=text,
                    blocks=[{"type": "section", "text": md(text).to_dict()}],
                    metadata=self._metadata("escalation_message", effect.escalation_id, context),
                    unfurl_links=False,
                ),
                "chat.postMessage (thread)",
            )
            context.arrived()
            ts = str(response["ts"])
        ref = MessageRef(platform=Platform.slack, channel=card.channel, id=ts, tenant=card.tenant)
        return Delivered(refs=[("thread", ref, {"notice": effect.notice.value})], result={"ts": ref.id})

    async def _source_note(self, effect: SourceNote, context: DeliveryContext) -> Delivered:
        """In the thread of the message escalated with an emoji: what became of it, linking the card."""
        card = context.any_card(Platform.slack)
        text, _ = truncated(effect.text, 2800)
        if card is not None:
            text += f" {link(await self.links.archive_url(card), 'See the question')}"
        channel, thread = effect.source.channel, effect.thread
        ts = await self._already_posted(channel, context, thread_ts=thread)
        if ts is None:
            response = await call_slack(
                lambda: self.client.chat_postMessage(
                    channel=channel,
                    thread_ts=thread,
                    text=slack_markup(text),
                    metadata=self._metadata("escalation_message", effect.escalation_id, context),
                    unfurl_links=False,
                ),
                "chat.postMessage (source thread)",
            )
            context.arrived()
            ts = str(response["ts"])
        ref = MessageRef(platform=Platform.slack, channel=channel, id=ts, tenant=effect.source.tenant)
        return Delivered(refs=[("source", ref, {"notice": effect.notice.value})], result={"ts": ts})

    async def _notify(self, effect: Notify, context: DeliveryContext) -> Delivered:
        message = await notify_message(effect, context, self.clock.now(), self.links.archive_url)
        if message is None:
            return Delivered(result={"shown": "no card was posted"})
        text, blocks = message
        found = await self._already_in_dm(effect.person.id, context)
        if found is not None:
            channel, ts = found
        else:
            # Posting to a user id lands in the bot's DM with them (the app's Messages tab).
            response = await call_slack(
                lambda: self.client.chat_postMessage(
                    channel=effect.person.id,
                    text=slack_markup(text),
                    blocks=blocks,
                    metadata=self._metadata("escalation_message", effect.escalation_id, context),
                    unfurl_links=False,
                ),
                "chat.postMessage (dm)",
            )
            context.arrived()
            channel, ts = str(response["channel"]), str(response["ts"])
        ref = MessageRef(
            platform=Platform.slack,
            channel=channel,
            id=ts,
            tenant=effect.person.tenant or await self.links.team_id(),
        )
        if self.home is not None:
            self.home.refresh(effect.person)
        return Delivered(refs=[("dm", ref, {"notice": effect.notice.value})], result={"channel": ref.channel})

    # ------------------------------------------------------------ the daily digest

    async def _post_digest(self, effect: PostDigest, context: DeliveryContext) -> Delivered:
        found = await self._already_posted(effect.channel.id, context)
        if found is not None:
            return Delivered(result={"channel": effect.channel.id, "ts": found})
        blocks = digest_blocks(effect, await self._digest_links(effect))
        response = await call_slack(
            lambda: self.client.chat_postMessage(
                channel=effect.channel.id,
                text=digest_fallback(effect),
                blocks=blocks,
                metadata=self._metadata("escalation_digest", effect.escalation_id, context),
                unfurl_links=False,
                unfurl_media=False,
            ),
            "chat.postMessage (digest)",
        )
        context.arrived()
        # No message ref is kept: a digest is no escalation's message (and never a card).
        return Delivered(result={"channel": str(response["channel"]), "ts": str(response["ts"])})

    async def _digest_links(self, effect: PostDigest) -> dict[str, str | None]:
        """Each item's card in this channel, for a link; best effort (the Claim button works without)."""
        if self.home is None:
            return {}
        scope = Scope(Platform.slack.value, effect.channel.tenant)
        ids = dict.fromkeys(
            item.escalation_id
            for group in (effect.unanswered, effect.overdue, effect.waiting, effect.resolved)
            for item in group[:MAX_BLOCKS]
        )
        urls: dict[str, str | None] = {}
        try:
            cards_of = await self.home.service.cards_of(list(ids), scope)
            for escalation_id in ids:
                cards = cards_of.get(escalation_id, [])
                card = next((c for c in cards if c.platform == Platform.slack and c.channel == effect.channel.id), None)
                urls[escalation_id] = await self.links.archive_url(card) if card is not None else None
        except Exception:
            log.warning("digest links not found", exc_info=True, extra={"escalation_id": effect.escalation_id})
        return urls

    # ------------------------------------------------------------ duplicate detection

    async def _already_in_dm(self, user: str, context: DeliveryContext) -> tuple[str, str] | None:
        if not context.retrying or not context.idempotency_key:
            return None
        try:
            opened = await call_slack(lambda: self.client.conversations_open(users=user), "conversations.open")
        except PermanentDeliveryError as exc:
            log.warning("dm lookup skipped", extra={"escalation_id": context.escalation_id, "error": exc.code})
            return None
        channel = str((opened.get("channel") or {}).get("id") or "")
        if not channel:
            return None
        ts = await self._already_posted(channel, context)
        return (channel, ts) if ts is not None else None

    async def _already_posted(
        self, channel: str, context: DeliveryContext, *, thread_ts: str | None = None
    ) -> str | None:
        """The ts of a message this effect already posted, found by the idempotency key in its metadata.

        Only asked on a retry (an earlier attempt may have reached Slack before its outcome was
        recorded). A transient failure of the lookup retries the delivery; a permanent one (a
        missing ``*:history`` scope) posts anyway: a possible duplicate beats a lost message.
        """
        if not context.retrying or not context.idempotency_key:
            return None
        oldest = "0"
        if context.queued_at is not None:
            oldest = f"{max(context.queued_at.timestamp() - LOOKUP_SKEW_S, 0):.6f}"
        cursor: str | None = None
        for _ in range(LOOKUP_PAGES):
            try:
                if thread_ts is not None:
                    response = await call_slack(
                        partial(
                            self.client.conversations_replies,
                            channel=channel,
                            ts=thread_ts,
                            oldest=oldest,
                            include_all_metadata=True,
                            limit=LOOKUP_PAGE_SIZE,
                            cursor=cursor,
                        ),
                        "conversations.replies (duplicate check)",
                    )
                else:
                    response = await call_slack(
                        partial(
                            self.client.conversations_history,
                            channel=channel,
                            oldest=oldest,
                            include_all_metadata=True,
                            limit=LOOKUP_PAGE_SIZE,
                            cursor=cursor,
                        ),
                        "conversations.history (duplicate check)",
                    )
            except PermanentDeliveryError as exc:
                log.warning(
                    "duplicate check skipped", extra={"escalation_id": context.escalation_id, "error": exc.code}
                )
                return None
            for message in response.get("messages") or []:
                if _idempotency_key_of(message) == context.idempotency_key and message.get("ts"):
                    log.info(
                        "already posted; recorded instead of posting again",
                        extra={"escalation_id": context.escalation_id, "key": context.idempotency_key},
                    )
                    return str(message["ts"])
            cursor = str((response.get("response_metadata") or {}).get("next_cursor") or "") or None
            if cursor is None:
                return None
        return None


# A crash-recovery lookup reads at most this many messages back (newest first).
LOOKUP_PAGES = 5
LOOKUP_PAGE_SIZE = 200
# Slack's clock and ours may disagree a little about when the effect was queued.
LOOKUP_SKEW_S = 120.0


def _idempotency_key_of(message: Any) -> str | None:
    metadata = message.get("metadata") if isinstance(message, dict) else None
    if not isinstance(metadata, dict):
        return None
    payload = metadata.get("event_payload")
    if not isinstance(payload, dict):
        return None
    key = payload.get("idempotency_key")
    return str(key) if key is not None else None
