"""The Teams app package: manifest.json (schema v1.29) and the two icons, zipped for upload."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .icons import ASSETS

MANIFEST_VERSION = "1.29"
MANIFEST_SCHEMA = f"https://developer.microsoft.com/json-schemas/teams/v{MANIFEST_VERSION}/MicrosoftTeams.schema.json"
COMMAND_ID = "escalateMessage"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_HOST = re.compile(r"^[A-Za-z0-9.-]+(:\d{1,5})?$")


class PackageError(ValueError):
    """Input the operator must fix (printed without a traceback)."""


def _host(host: str) -> str:
    value = host.strip()
    if "//" in value:
        value = urlsplit(value).netloc
    value = value.strip("/")
    if not value or not _HOST.match(value):
        raise PackageError(f"--host {host!r} must be the bot's public host name, like bot.example.com")
    return value


def build_manifest(
    *,
    app_id: str,
    host: str,
    teams_app_id: str | None = None,
    version: str = "1.0.0",
    name: str = "Escalations",
    developer: str = "escalation-bot",
) -> dict[str, Any]:
    """``app_id``: the bot's Microsoft App ID (Entra app registration)."""
    for label, value in (("--app-id", app_id), ("--teams-app-id", teams_app_id or app_id)):
        if not _GUID.match(value or ""):
            raise PackageError(f"{label} {value!r} must be a GUID like 00000000-0000-0000-0000-000000000000")
    domain = _host(host)
    site = f"https://{domain}"
    commands = [
        {"title": "escalate", "description": "escalate <community> <question>, or escalate alone for a form"},
        {"title": "status", "description": "Your open questions and what you hold: owner, next step and when"},
        {"title": "help", "description": "How to use the bot"},
    ]
    return {
        "$schema": MANIFEST_SCHEMA,
        "manifestVersion": MANIFEST_VERSION,
        "version": version,
        "id": teams_app_id or app_id,
        "developer": {
            "name": developer[:32],
            "websiteUrl": site,
            "privacyUrl": f"{site}/privacy",
            "termsOfUseUrl": f"{site}/terms",
        },
        "name": {"short": name[:30], "full": "Escalations: customer questions to the experts"},
        "description": {
            "short": "Get hard customer questions to the experts, and answered.",
            "full": (
                "Escalate a customer question to the experts' channel with escalate <community> <question> or the "
                "'Escalate to experts' action on any message. Experts claim it, reply in the thread and resolve it; "
                "when nobody does in time, the bot nudges the channel and assigns an expert by rotation. The "
                "requester is kept up to date in a personal chat."
            ),
        },
        "icons": {"color": "color.png", "outline": "outline.png"},
        "accentColor": "#464EB8",
        "bots": [
            {
                "botId": app_id,
                "scopes": ["team", "groupChat", "personal"],
                "supportsFiles": False,
                "isNotificationOnly": False,
                "commandLists": [
                    {"scopes": ["team", "groupChat", "personal"], "commands": commands},
                ],
            }
        ],
        "composeExtensions": [
            {
                "botId": app_id,
                "commands": [
                    {
                        "id": COMMAND_ID,
                        "type": "action",
                        "title": "Escalate to experts",
                        "description": "Send this message to the experts as a question",
                        "context": ["message"],
                        "fetchTask": True,
                    }
                ],
            }
        ],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [domain],
        "webApplicationInfo": {"id": app_id, "resource": f"api://{domain}/{app_id}"},
        "authorization": {
            "permissions": {
                # Lets the bot see replies in its cards' threads without being @mentioned.
                "resourceSpecific": [{"name": "ChannelMessage.Read.Group", "type": "Application"}],
            }
        },
    }


def build_package(manifest: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest, indent=2) + "\n")
        archive.writestr("color.png", (ASSETS / "color.png").read_bytes())
        archive.writestr("outline.png", (ASSETS / "outline.png").read_bytes())
    return buffer.getvalue()


def write_package(path: str | Path, **manifest_args: Any) -> Path:
    target = Path(path)
    target.write_bytes(build_package(build_manifest(**manifest_args)))
    return target
