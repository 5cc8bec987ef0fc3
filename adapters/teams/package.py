"""The Teams app package: manifest.json (schema v1.29) and the two icons, zipped for upload."""

from __future__ import annotations

import io
import json
import re
import zipfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from workflows.requests import FORMS

from .icons import ASSETS
from .text import usage

MANIFEST_VERSION = "1.29"
MANIFEST_SCHEMA = f"https://developer.microsoft.com/json-schemas/teams/v{MANIFEST_VERSION}/MicrosoftTeams.schema.json"
COMMAND_ID = "escalateMessage"
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
_HOST = re.compile(r"^[A-Za-z0-9.-]+(:\d{1,5})?$")
_VERSION = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
_URL = re.compile(r"^https?://[^\s]+$", re.IGNORECASE)
NAME_MAX = 30  # name.short in Teams' manifest schema v1.29


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


def _checked(version: str, name: str, urls: dict[str, str]) -> None:
    if not _VERSION.match(version):
        raise PackageError(f"--version {version!r} must be MAJOR.MINOR.PATCH, like 1.0.0")
    if not name.strip():
        raise PackageError("--name must not be empty")
    if len(name) > NAME_MAX:
        raise PackageError(f"--name {name!r} is {len(name)} characters; Teams allows at most {NAME_MAX}")
    for option, url in urls.items():
        if not _URL.match(url) or len(url) > 2048:
            raise PackageError(f"{option} {url!r} must be an http(s) URL, like https://bot.example.com/privacy")


# What each word of the grammar does, as Teams shows it in the bot's command list.
COMMAND_DESCRIPTIONS = {
    "escalate": "escalate <community> <question> posts a question to the experts; escalate alone shows a form",
    "search": "search <words>: answers to earlier questions, sent to you alone",
    "status": "Your open questions and what you hold, with what happens next and when",
    "whoami": "Your id (and this channel's) as the bot's configuration takes them",
    "away": "away [until <date> | for <duration>] [keep] [note]: no questions assigned to you until then",
    "back": "You are back in the rotation",
    "join": "join <community>: add yourself to an open community's rotation",
    "leave": "leave <community>: take yourself out of an open community's rotation",
    "help": "How to use the bot",
}


def bot_commands() -> list[dict[str, str]]:
    """The bot's command list in Teams: every word of the grammar (workflows.requests), once."""
    words = dict.fromkeys(usage(form.words).split()[0] for form in FORMS)
    return [{"title": word, "description": COMMAND_DESCRIPTIONS[word]} for word in words]


def build_manifest(
    *,
    app_id: str,
    host: str,
    teams_app_id: str | None = None,
    version: str = "1.0.0",
    name: str = "Escalations",
    developer: str = "escalation-bot",
    privacy_url: str | None = None,
    terms_url: str | None = None,
) -> dict[str, Any]:
    """``app_id``: the bot's Microsoft App ID (Entra app registration). The privacy and terms
    pages default to the ones the bot serves itself (``/privacy``, ``/terms``)."""
    for label, value in (("--app-id", app_id), ("--teams-app-id", teams_app_id or app_id)):
        if not _GUID.match(value or ""):
            raise PackageError(f"{label} {value!r} must be a GUID like 00000000-0000-0000-0000-000000000000")
    domain = _host(host)
    site = f"https://{domain}"
    privacy_url = privacy_url or f"{site}/privacy"
    terms_url = terms_url or f"{site}/terms"
    _checked(version, name, {"--privacy-url": privacy_url, "--terms-url": terms_url})
    commands = bot_commands()
    return {
        "$schema": MANIFEST_SCHEMA,
        "manifestVersion": MANIFEST_VERSION,
        "version": version,
        "id": teams_app_id or app_id,
        "developer": {
            "name": developer[:32],
            "websiteUrl": site,
            "privacyUrl": privacy_url,
            "termsOfUseUrl": terms_url,
        },
        "name": {"short": name, "full": "Escalations: customer questions to the experts"},
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
