"""Where the Teams bot may post proactively, as a port: ``storage/`` implements it."""

from __future__ import annotations

from typing import Any, Protocol


class StoredConversation(Protocol):
    """A conversation the bot was installed in or spoken to in."""

    @property
    def conversation_id(self) -> str: ...
    @property
    def kind(self) -> str: ...  # channel | groupChat | personal
    @property
    def tenant(self) -> str: ...
    @property
    def service_url(self) -> str: ...
    @property
    def team_id(self) -> str | None: ...
    @property
    def channel_id(self) -> str | None: ...
    @property
    def user_id(self) -> str | None: ...
    @property
    def bot_id(self) -> str | None: ...
    @property
    def reference(self) -> dict[str, Any]: ...  # ConversationReference JSON
    @property
    def unreachable(self) -> bool: ...


class ConversationStore(Protocol):
    async def save_conversation(
        self,
        *,
        conversation_id: str,
        kind: str,
        tenant: str,
        service_url: str,
        team_id: str | None,
        channel_id: str | None,
        user_id: str | None,
        bot_id: str | None,
        reference: dict[str, Any],
    ) -> None: ...

    async def conversation(self, conversation_id: str) -> StoredConversation | None: ...
    async def personal_conversation(self, tenant: str, user_id: str) -> StoredConversation | None: ...
    async def team_conversation(self, team_id: str) -> StoredConversation | None: ...
    async def tenant_conversation(self, tenant: str) -> StoredConversation | None: ...
    async def mark_unreachable(self, conversation_id: str, reason: str) -> None: ...
    async def remember_person(self, tenant: str, aad_object_id: str, user_id: str) -> None:
        """Their ``29:`` chat id by their Entra object id (the console's Entra sign-in)."""
        ...
