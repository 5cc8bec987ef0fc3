"""Reading an inbound Teams activity: who sent it, from where, and how to dedupe it."""

from __future__ import annotations

import logging
import uuid

from botbuilder.core import TurnContext
from botbuilder.schema import Activity

from workflows.model import ChannelRef, PersonRef, Platform
from workflows.ports import Scope

from .conversations import ConversationStore

log = logging.getLogger("escalation_bot.teams")


def event_id(activity: Activity) -> str:
    """Teams re-sends an activity it thinks timed out with the same id: that id dedupes.
    One without an id (never seen from Teams) must not collide with another."""
    if not activity.id:
        activity.id = f"noid-{uuid.uuid4().hex}"
    return str(activity.id)


def tenant(activity: Activity) -> str:
    conversation = activity.conversation
    if conversation is not None and conversation.tenant_id:
        return str(conversation.tenant_id)
    data = activity.channel_data or {}
    found = data.get("tenant") if isinstance(data, dict) else None
    return str(found.get("id", "")) if isinstance(found, dict) else ""


def channel_data(activity: Activity, key: str) -> str | None:
    data = activity.channel_data if isinstance(activity.channel_data, dict) else {}
    value = data.get(key)
    return str(value["id"]) if isinstance(value, dict) and value.get("id") else None


def base_conversation(activity: Activity) -> str:
    return str(activity.conversation.id if activity.conversation else "").partition(";messageid=")[0]


def thread_root(activity: Activity) -> str | None:
    root = str(activity.conversation.id if activity.conversation else "").partition(";messageid=")[2]
    return root or None


def channel_of(activity: Activity) -> str:
    return channel_data(activity, "channel") or base_conversation(activity)


def actor_of(activity: Activity) -> PersonRef:
    sender = activity.from_property
    return PersonRef(
        platform=Platform.teams,
        id=str(sender.id if sender else ""),
        tenant=tenant(activity),
        name=(sender.name if sender and sender.name else None),
        aad=str(sender.aad_object_id) if sender and sender.aad_object_id else None,
    )


def personal(activity: Activity) -> bool:
    return str(activity.conversation.conversation_type or "personal") == "personal"


def scope(activity: Activity) -> Scope:
    return Scope(Platform.teams.value, tenant(activity))


def channel_ref(activity: Activity) -> ChannelRef | None:
    """The Teams channel the activity came from, as a community's configuration names it;
    None in a personal or group chat."""
    channel = channel_data(activity, "channel")
    if channel is None:
        return None
    return ChannelRef(platform=Platform.teams, id=channel, tenant=tenant(activity), team=channel_data(activity, "team"))


def from_bot(activity: Activity) -> bool:
    sender, recipient = activity.from_property, activity.recipient
    if sender is None:
        return True
    if recipient is not None and sender.id == recipient.id:
        return True
    return str(sender.role or "").lower() == "bot" or str(sender.id or "").startswith("28:")


def mentions_bot(activity: Activity) -> bool:
    recipient = activity.recipient.id if activity.recipient else None
    for mention in TurnContext.get_mentions(activity):
        mentioned = (mention.additional_properties or {}).get("mentioned") or {}
        if recipient and mentioned.get("id") == recipient:
            return True
    return False


async def remember(conversations: ConversationStore, activity: Activity) -> None:
    """Keep the conversation reference: proactive posts need its service URL, tenant and bot id."""
    if not activity.conversation or not activity.conversation.id or not activity.service_url:
        return
    kind = str(activity.conversation.conversation_type or "personal")
    conversation_id = base_conversation(activity)
    reference = TurnContext.get_conversation_reference(activity)
    reference.conversation.id = conversation_id
    reference.activity_id = None
    user_id = activity.from_property.id if kind == "personal" and activity.from_property else None
    try:
        await conversations.save_conversation(
            conversation_id=conversation_id,
            kind=kind,
            tenant=tenant(activity),
            service_url=str(activity.service_url),
            team_id=channel_data(activity, "team"),
            channel_id=channel_data(activity, "channel") if kind == "channel" else None,
            user_id=str(user_id) if user_id else None,
            bot_id=str(activity.recipient.id) if activity.recipient and activity.recipient.id else None,
            reference=reference.serialize(),
        )
    except Exception:  # remembering is best effort; the activity itself must still be handled
        log.exception("could not save the Teams conversation reference")


async def remember_person(
    conversations: ConversationStore, activity: Activity, known: set[tuple[str, str, str]]
) -> None:
    """Keep who the sender is by their Entra object id (``aadObjectId``): signing in to the
    console with Entra ID names them by it. ``known``: what this process saved already."""
    sender = activity.from_property
    if sender is None or not sender.id or not sender.aad_object_id or from_bot(activity):
        return
    seen = (tenant(activity), str(sender.aad_object_id), str(sender.id))
    if not seen[0] or seen in known:
        return
    try:
        await conversations.remember_person(*seen)
    except Exception:  # best effort, as the conversation reference
        log.exception("could not save the Teams person's object id")
        return
    if len(known) > 10_000:
        known.clear()
    known.add(seen)
