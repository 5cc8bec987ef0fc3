"""The Teams ``Sender``: renders effects as Adaptive Cards and delivers them proactively."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from botbuilder.core import CardFactory, MessageFactory
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    ChannelAccount,
    ConversationAccount,
    ConversationParameters,
    ConversationReference,
    Mention,
)

from workflows.delivery import Delivered, DeliveryContext, PermanentDeliveryError
from workflows.effects import Effect, Notice, Notify, PostCard, PostDigest, ThreadReply, UpdateCard
from workflows.model import ChannelRef, MessageRef, PersonRef, Platform

from .connector import Connector, Unreachable, delivery_error
from .conversations import ConversationStore, StoredConversation
from .digest_card import digest_card
from .knowledge_cards import suggestions_card
from .question_card import notify_card, question_card
from .text import thread_text

log = logging.getLogger("escalation_bot.teams")

CHANNEL_ID = "msteams"


def thread_id(channel_id: str, root_id: str) -> str:
    return f"{channel_id};messageid={root_id}"


def _reference(
    conversation_id: str, service_url: str, tenant: str, bot_id: str | None, activity_id: str | None = None
) -> dict[str, Any]:
    reference = ConversationReference(
        activity_id=activity_id,
        bot=ChannelAccount(id=bot_id) if bot_id else None,
        channel_id=CHANNEL_ID,
        conversation=ConversationAccount(id=conversation_id, tenant_id=tenant),
        service_url=service_url,
    )
    data: dict[str, Any] = reference.serialize()
    return data


class TeamsSender:
    platform = Platform.teams

    # Pacing to Teams' per-conversation limits is the outbox dispatcher's job (bot/pacing.py).
    def __init__(
        self,
        connector: Connector,
        conversations: ConversationStore,
        community_names: Callable[[], Mapping[str, str]] | None = None,
    ) -> None:
        self.connector = connector
        self.conversations = conversations
        # Community key -> name, as configured now (suggestions name where they were answered).
        self.community_names = community_names or dict

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
            return await self._post_digest(effect)
        raise PermanentDeliveryError(f"cannot render {type(effect).__name__}", code="unknown_effect")

    # ------------------------------------------------------------ the channel card

    async def _home(self, channel: ChannelRef) -> StoredConversation:
        """A stored conversation that tells where (service URL, tenant, bot) the channel lives."""
        found = await self.conversations.conversation(channel.id)
        if found is None and channel.team:
            found = await self.conversations.team_conversation(channel.team)
        if found is None and channel.tenant:
            found = await self.conversations.tenant_conversation(channel.tenant)
        if found is None:
            raise PermanentDeliveryError(
                f"the bot is not installed in the team of channel {channel.id}; add the app to that team",
                code="not_installed",
            )
        return found

    async def _new_thread(self, channel: ChannelRef, activity: Activity) -> tuple[StoredConversation, str, str, str]:
        """Posts ``activity`` as a new thread in ``channel``: (home, tenant, root id, thread conversation id)."""
        home = await self._home(channel)
        tenant = channel.tenant or home.tenant
        client = await self.connector.client(home.service_url)
        params = ConversationParameters(
            is_group=True,
            bot=ChannelAccount(id=home.bot_id) if home.bot_id else None,
            tenant_id=tenant,
            channel_data={"channel": {"id": channel.id}, "tenant": {"id": tenant}},
            activity=activity,
        )
        try:
            created = await client.conversations.create_conversation(params)
        except Exception as exc:
            raise delivery_error(exc, "post in channel") from exc
        root = created.activity_id or (created.id or "").partition(";messageid=")[2]
        if not root:
            raise PermanentDeliveryError("Teams returned no message id for the card", code="no_message_id")
        conversation = created.id if created.id and ";messageid=" in created.id else thread_id(channel.id, root)
        return home, tenant, root, conversation

    async def _post_card(self, effect: PostCard, context: DeliveryContext) -> Delivered:
        channel = effect.channel
        activity = MessageFactory.attachment(CardFactory.adaptive_card(question_card(effect.view)))
        activity.summary = f"Question for {effect.view.community_name}"
        home, tenant, root, conversation = await self._new_thread(channel, activity)
        ref = MessageRef(platform=Platform.teams, channel=channel.id, id=root, tenant=tenant)
        data = {
            "service_url": home.service_url,
            "conversation_id": conversation,
            "channel_id": channel.id,
            "team_id": channel.team or home.team_id,
            "tenant": tenant,
            "reference": _reference(conversation, home.service_url, tenant, home.bot_id, root),
        }
        log.info(
            "card posted", extra={"escalation_id": effect.escalation_id, "channel": channel.id, "message_id": root}
        )
        return Delivered(refs=[("card", ref, data)], result={"message": root, "conversation": conversation})

    async def _post_digest(self, effect: PostDigest) -> Delivered:
        """The daily digest as a new thread in the channel. It is not an escalation's card,
        so no message ref is kept: replies under it are not answers to any question."""
        activity = MessageFactory.attachment(CardFactory.adaptive_card(digest_card(effect)))
        activity.summary = f"Daily digest for {effect.community_name}"
        _, _, root, conversation = await self._new_thread(effect.channel, activity)
        log.info(
            "digest posted",
            extra={"escalation_id": effect.escalation_id, "channel": effect.channel.id, "message_id": root},
        )
        return Delivered(result={"message": root, "conversation": conversation})

    def _card_of(self, channel: ChannelRef, context: DeliveryContext) -> tuple[MessageRef, dict[str, Any]]:
        card = context.card_in(Platform.teams, channel.id)
        data = context.data_for(card) if card is not None else None
        if card is None or not data:
            raise PermanentDeliveryError("the card was never posted in that channel", code="no_card")
        return card, data

    async def _update_card(self, effect: UpdateCard, context: DeliveryContext) -> Delivered:
        card, data = self._card_of(effect.channel, context)
        client = await self.connector.client(data["service_url"])
        activity = MessageFactory.attachment(CardFactory.adaptive_card(question_card(effect.view)))
        activity.id = card.id
        try:
            await client.conversations.update_activity(data["conversation_id"], card.id, activity)
        except Exception as exc:
            raise delivery_error(exc, "update card") from exc
        return Delivered(result={"updated": card.id})

    async def _send_in_thread(
        self, channel: ChannelRef, context: DeliveryContext, text: str, mentions: tuple[PersonRef, ...]
    ) -> str:
        _, data = self._card_of(channel, context)
        client = await self.connector.client(data["service_url"])
        body, entities = thread_text(text, mentions)
        activity = Activity(
            type=ActivityTypes.message,
            text=body,
            entities=[
                Mention(text=e["text"], mentioned=ChannelAccount(**e["mentioned"]), type="mention") for e in entities
            ],
        )
        try:
            sent = await client.conversations.send_to_conversation(data["conversation_id"], activity)
        except Exception as exc:
            raise delivery_error(exc, "thread reply") from exc
        return str(getattr(sent, "id", "") or "")

    async def _thread_reply(self, effect: ThreadReply, context: DeliveryContext) -> Delivered:
        sent = await self._send_in_thread(effect.channel, context, effect.text, effect.mentions)
        return Delivered(result={"message": sent})

    # ------------------------------------------------------------ 1:1 messages

    async def personal_conversation(self, person: PersonRef) -> tuple[str, str]:
        """(conversation id, service URL) of the bot's 1:1 chat with ``person``, created if needed."""
        known = await self.conversations.personal_conversation(person.tenant, person.id)
        if known is not None and not known.unreachable:
            return known.conversation_id, known.service_url
        base = known or await self.conversations.tenant_conversation(person.tenant)
        if base is None:
            raise PermanentDeliveryError(
                "the bot is not installed anywhere in this tenant yet, so it cannot message people",
                code="not_installed",
            )
        tenant = person.tenant or base.tenant
        client = await self.connector.client(base.service_url)
        params = ConversationParameters(
            is_group=False,
            bot=ChannelAccount(id=base.bot_id) if base.bot_id else None,
            members=[ChannelAccount(id=person.id)],
            tenant_id=tenant,
            channel_data={"tenant": {"id": tenant}},
        )
        try:
            created = await client.conversations.create_conversation(params)
        except Exception as exc:
            raise delivery_error(exc, "create 1:1 chat") from exc
        conversation_id = str(created.id)
        service_url = str(getattr(created, "service_url", None) or base.service_url)
        await self.conversations.save_conversation(
            conversation_id=conversation_id,
            kind="personal",
            tenant=tenant,
            service_url=service_url,
            team_id=None,
            channel_id=None,
            user_id=person.id,
            bot_id=base.bot_id,
            reference=_reference(conversation_id, service_url, tenant, base.bot_id),
        )
        return conversation_id, service_url

    async def send_personal(self, person: PersonRef, activity: Activity) -> tuple[str, str]:
        """Sends to the person's 1:1 chat; returns (conversation id, activity id)."""
        conversation_id, service_url = await self.personal_conversation(person)
        client = await self.connector.client(service_url)
        try:
            sent = await client.conversations.send_to_conversation(conversation_id, activity)
        except Exception as exc:
            error = delivery_error(exc, "1:1 message")
            if isinstance(error, Unreachable):
                await self.conversations.mark_unreachable(conversation_id, error.code)
            raise error from exc
        return conversation_id, str(getattr(sent, "id", "") or "")

    async def _notify(self, effect: Notify, context: DeliveryContext) -> Delivered:
        person = effect.person
        if person.platform != Platform.teams:
            raise PermanentDeliveryError(f"{person.key} is not a Teams user", code="wrong_platform")
        if effect.notice == Notice.posted:
            # Teams answers the request itself with where the question went (adapters/teams/bot.py),
            # in the conversation the requester asked in: a 1:1 message would only repeat it.
            return Delivered(result={"shown": "in the reply to the request"})
        if effect.notice == Notice.suggestions and effect.suggestions:
            card = suggestions_card(effect.view, effect.suggestions, self.community_names(), heading=effect.text)
        else:
            card = notify_card(effect, context.any_card(Platform.teams))
        activity = MessageFactory.attachment(CardFactory.adaptive_card(card))
        activity.summary = effect.text[:200]
        try:
            conversation_id, sent = await self.send_personal(person, activity)
        except Unreachable as blocked:
            return await self._fall_back(effect, context, blocked)
        ref = MessageRef(platform=Platform.teams, channel=conversation_id, id=sent or "", tenant=person.tenant)
        refs: list[tuple[str, MessageRef, dict[str, Any] | None]] = (
            [("dm", ref, {"notice": effect.notice.value})] if sent else []
        )
        return Delivered(refs=refs, result={"message": sent, "conversation": conversation_id})

    async def _fall_back(self, effect: Notify, context: DeliveryContext, blocked: Unreachable) -> Delivered:
        """The 1:1 chat is blocked (the app uninstalled for that person): say it in the
        question's thread instead, mentioning them, rather than retrying forever."""
        for kind, card, _ in context.refs:
            if kind == "card" and card.platform == Platform.teams:
                channel = ChannelRef(platform=Platform.teams, id=card.channel, tenant=card.tenant)
                sent = await self._send_in_thread(channel, context, effect.text, (effect.person,))
                log.warning(
                    "1:1 message blocked; told the person in the channel thread instead",
                    extra={"escalation_id": effect.escalation_id, "person": effect.person.key, "error": blocked.code},
                )
                return Delivered(result={"message": sent, "fallback": "channel", "error": blocked.code})
        raise blocked
