"""Microsoft Teams: inbound activities -> commands, effects -> Adaptive Cards."""

from .config import DEFAULT_SERVICE_URL_ALLOWLIST, ServiceUrlAllowlist, TeamsConfig
from .conversations import ConversationStore, StoredConversation
from .endpoint import TeamsIntegration
from .sender import TeamsSender

__all__ = [
    "DEFAULT_SERVICE_URL_ALLOWLIST",
    "ConversationStore",
    "ServiceUrlAllowlist",
    "StoredConversation",
    "TeamsConfig",
    "TeamsIntegration",
    "TeamsSender",
]
