"""The web console: pages that translate HTTP into the service's queries and commands."""

from .config import ConsoleConfig, OidcProvider
from .console import WebConsole

__all__ = ["ConsoleConfig", "OidcProvider", "WebConsole"]
