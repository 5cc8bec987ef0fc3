"""The message action "Escalate to experts" (a Teams message extension): the form, filled in
with the message, in a task module; submitted, it opens the escalation like ``escalate``."""

from __future__ import annotations

from typing import Any

from botbuilder.core import CardFactory, TurnContext
from botbuilder.schema.teams import (
    MessagingExtensionAction,
    MessagingExtensionActionResponse,
    TaskModuleContinueResponse,
    TaskModuleMessageResponse,
    TaskModuleTaskInfo,
)

from workflows.model import MessageRef, Platform
from workflows.service import EscalationService

from .activity import channel_of, tenant
from .commands import TeamsCommands
from .forms import open_form_card
from .text import plain_from_html


def form_values(data: dict[str, Any]) -> dict[str, Any]:
    source = data.get("source") if isinstance(data.get("source"), dict) else None
    return {
        "community": str(data.get("community") or "").strip(),
        "question": str(data.get("question") or "").strip(),
        "priority": str(data.get("priority") or "") or None,
        "customer": str(data.get("customer") or "").strip() or None,
        "link": str(data.get("link") or "").strip() or None,
        "source": MessageRef.model_validate(source) if source else None,
    }


def _task(card: dict[str, Any]) -> MessagingExtensionActionResponse:
    return MessagingExtensionActionResponse(
        task=TaskModuleContinueResponse(
            value=TaskModuleTaskInfo(
                title="Escalate to experts", card=CardFactory.adaptive_card(card), height="large", width="medium"
            )
        )
    )


class MessageAction:
    def __init__(self, service: EscalationService, commands: TeamsCommands) -> None:
        self.service = service
        self.commands = commands

    async def fetch_task(
        self, turn_context: TurnContext, action: MessagingExtensionAction
    ) -> MessagingExtensionActionResponse:
        payload = action.message_payload
        question = plain_from_html(payload.body.content if payload and payload.body else "")
        source = None
        activity = turn_context.activity
        if payload and payload.id:
            source = MessageRef(
                platform=Platform.teams, channel=channel_of(activity), id=str(payload.id), tenant=tenant(activity)
            ).model_dump(mode="json")
        form = open_form_card(self.service.directory.all(), question=question, source=source, submit_only=True)
        return _task(form)

    async def submit(
        self, turn_context: TurnContext, action: MessagingExtensionAction
    ) -> MessagingExtensionActionResponse:
        data = action.data if isinstance(action.data, dict) else {}
        form = form_values(data)
        result = await self.commands.open(turn_context.activity, **form)
        if result is None or result[1]:
            message = result[0] if result else "Already escalated."
            return MessagingExtensionActionResponse(task=TaskModuleMessageResponse(value=message))
        note = result[0]
        card = open_form_card(
            self.service.directory.all(),
            question=form["question"],
            community=form["community"],
            source=data.get("source") if isinstance(data.get("source"), dict) else None,
            note=note,
            submit_only=True,
        )
        return _task(card)
