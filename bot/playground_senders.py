"""The playground's senders: the real renderers (Slack's Block Kit, Teams' Adaptive Cards)
produce each message, and instead of a Web API call it is recorded in the playground's feed,
where the page shows it. Like ``bot/console.py``, they stand in for the platforms; their own
platform is Slack or Teams, since that is whose messages they render."""

from __future__ import annotations

from typing import Any

from adapters.slack.blocks import md
from adapters.slack.cards import card_blocks
from adapters.slack.digests import digest_blocks
from adapters.slack.likely import likely_urls
from adapters.slack.notices import notify_message
from adapters.slack.text import mention, slack_markup, truncated
from adapters.teams.digest_card import digest_card
from adapters.teams.knowledge_cards import suggestions_card
from adapters.teams.question_card import notify_card, question_card
from adapters.teams.text import thread_text
from adapters.web.playground import BOT, Feed, Post
from workflows.clock import Clock
from workflows.delivery import Delivered, DeliveryContext, PermanentDeliveryError
from workflows.directory import Directory
from workflows.effects import Effect, Notice, Notify, PostCard, PostDigest, SourceNote, ThreadReply, UpdateCard
from workflows.model import MessageRef, Platform


class _Recorder:
    platform: Platform

    def __init__(self, feed: Feed, clock: Clock) -> None:
        self.feed = feed
        self.clock = clock

    def _post(self, where: str, body: dict[str, Any], escalation_id: str, kind: str, thread: str | None = None) -> Post:
        post = Post(
            id=self.feed.new_id(self.platform.value),
            platform=self.platform.value,
            where=where,
            author=BOT,
            at=self.clock.now(),
            body=body,
            escalation_id=escalation_id,
            kind=kind,
        )
        return self.feed.post(post, thread)

    def _card(self, context: DeliveryContext, channel: str) -> MessageRef:
        card = context.card_in(self.platform, channel)
        if card is None or self.feed.get(card.id) is None:
            raise PermanentDeliveryError("the card was never posted", code="no_card")
        return card

    async def deliver(self, effect: Effect, context: DeliveryContext) -> Delivered:
        if isinstance(effect, PostCard):
            post = self._post(effect.channel.id, await self.card_body(effect), effect.escalation_id, "card")
            channel = effect.channel
            ref = MessageRef(platform=self.platform, channel=channel.id, id=post.id, tenant=channel.tenant)
            return Delivered(refs=[("card", ref, {"version": effect.view.version})], result={"message": post.id})
        if isinstance(effect, UpdateCard):
            card = self._card(context, effect.channel.id)
            self.feed.replace(card.id, await self.card_body(effect))
            return Delivered(result={"updated": card.id})
        if isinstance(effect, ThreadReply):
            card = self._card(context, effect.channel.id)
            post = self._post(card.channel, self.thread_body(effect), effect.escalation_id, "thread", card.id)
            ref = MessageRef(platform=self.platform, channel=card.channel, id=post.id, tenant=card.tenant)
            return Delivered(refs=[("thread", ref, {"notice": effect.notice.value})], result={"message": post.id})
        if isinstance(effect, SourceNote):
            # Nothing in the playground is escalated from a message: there is no thread to note in.
            return Delivered(result={"shown": "no source message in the playground"})
        if isinstance(effect, Notify):
            if effect.person.platform != self.platform:
                where_not = f"{effect.person.key} is not on {self.platform.value}"
                raise PermanentDeliveryError(where_not, code="wrong_platform")
            body = await self.dm_body(effect, context)
            if body is None:
                return Delivered(result={"shown": "not as a private message"})
            where = f"dm:{effect.person.key}"
            post = self._post(where, body, effect.escalation_id, "dm")
            ref = MessageRef(platform=self.platform, channel=where, id=post.id, tenant=effect.person.tenant)
            return Delivered(refs=[("dm", ref, {"notice": effect.notice.value})], result={"message": post.id})
        if isinstance(effect, PostDigest):
            post = self._post(effect.channel.id, self.digest_body(effect), effect.escalation_id, "digest")
            return Delivered(result={"message": post.id})
        raise PermanentDeliveryError(f"cannot render {type(effect).__name__}", code="unknown_effect")

    async def card_body(self, effect: PostCard | UpdateCard) -> dict[str, Any]:
        raise NotImplementedError

    def thread_body(self, effect: ThreadReply) -> dict[str, Any]:
        raise NotImplementedError

    async def dm_body(self, effect: Notify, context: DeliveryContext) -> dict[str, Any] | None:
        """None: the platform's sender shows this notice otherwise (or not at all)."""
        raise NotImplementedError

    def digest_body(self, effect: PostDigest) -> dict[str, Any]:
        raise NotImplementedError


class PlaygroundSlack(_Recorder):
    """What ``adapters/slack/sender.py`` would post, built by the same functions."""

    platform = Platform.slack

    def __init__(self, feed: Feed, clock: Clock, page_url: str) -> None:
        super().__init__(feed, clock)
        self.page_url = page_url

    async def archive_url(self, message: MessageRef) -> str:
        """The message's place in the page stands for Slack's permalink."""
        return f"{self.page_url}#m{message.id}"

    async def card_body(self, effect: PostCard | UpdateCard) -> dict[str, Any]:
        # As SlackSender: the similar questions each likely expert answered, linked.
        urls = await likely_urls(effect.view, self.archive_url)
        return {"blocks": card_blocks(effect.view, self.clock.now(), urls)}

    def thread_body(self, effect: ThreadReply) -> dict[str, Any]:
        mentions = " ".join(mention(person) for person in effect.mentions)
        body, _ = truncated(effect.text, 2800)
        text = slack_markup(f"{mentions} {body}".strip())
        return {"blocks": [{"type": "section", "text": md(text).to_dict()}]}

    async def dm_body(self, effect: Notify, context: DeliveryContext) -> dict[str, Any] | None:
        # SlackSender's own message: its links (the thread, suggestions, likely experts) into the page.
        message = await notify_message(effect, context, self.clock.now(), self.archive_url)
        return {"blocks": message[1]} if message is not None else None

    def digest_body(self, effect: PostDigest) -> dict[str, Any]:
        return {"blocks": digest_blocks(effect, {})}


class PlaygroundTeams(_Recorder):
    """What ``adapters/teams/sender.py`` would post, built by the same functions."""

    platform = Platform.teams

    def __init__(self, feed: Feed, clock: Clock, directory: Directory) -> None:
        super().__init__(feed, clock)
        self.directory = directory

    async def card_body(self, effect: PostCard | UpdateCard) -> dict[str, Any]:
        return {"card": question_card(effect.view)}

    def thread_body(self, effect: ThreadReply) -> dict[str, Any]:
        text, _ = thread_text(effect.text, effect.mentions)
        return {"html": text}

    async def dm_body(self, effect: Notify, context: DeliveryContext) -> dict[str, Any] | None:
        if effect.notice == Notice.posted:
            return None  # Teams says where the question went in its answer to the request
        if effect.notice == Notice.suggestions and effect.suggestions:
            names = {c.key: c.name for c in self.directory.all()}
            return {"card": suggestions_card(effect.view, effect.suggestions, names, heading=effect.text)}
        return {"card": notify_card(effect, context.any_card(Platform.teams))}

    def digest_body(self, effect: PostDigest) -> dict[str, Any]:
        return {"card": digest_card(effect)}
