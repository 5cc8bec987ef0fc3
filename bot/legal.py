"""The privacy statement and terms of use the Teams app package links to (``/privacy``,
``/terms``): plain HTML pages, with a sensible default text that an admin may replace with
their own (``PRIVACY_FILE``, ``TERMS_FILE``: plain text, paragraphs separated by blank lines)."""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path

from aiohttp import web

from .config import ConfigError

DEFAULT_PRIVACY = """\
This bot is run by your organisation, on your organisation's servers.

It keeps, in your organisation's own database: the questions escalated through it, their \
answers and the replies in their threads, who asked, claimed, answered or resolved each \
one and when, and the ids Slack or Microsoft Teams gives people and channels.

It uses them only to get questions to the experts who can answer them, to follow them up, \
and to show earlier answers to similar questions. It shares them with nobody but the chat \
platform it posts them to.

To see, correct or delete what it holds about you, ask the administrators of this bot in \
your organisation."""

DEFAULT_TERMS = """\
Use this bot for your organisation's work, under your organisation's policies for Slack \
and Microsoft Teams.

Questions and answers are seen by the members of the experts' channels, and may be shown \
again to people who ask similar questions later.

The software is provided as is, without warranty of any kind."""


def page(title: str, text: str) -> str:
    paragraphs = [" ".join(p.split()) for p in text.strip().split("\n\n") if p.strip()]
    body = "\n".join(f"<p>{html.escape(p, quote=False)}</p>" for p in paragraphs)
    return (
        '<!doctype html>\n<html lang="en">\n<head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head>\n<body>\n<h1>{html.escape(title)}</h1>\n{body}\n</body>\n</html>\n"
    )


def read_text(path: str | None, setting: str, default: str) -> str:
    if not path:
        return default
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{setting}={path}: cannot read it ({exc.__class__.__name__})") from None
    if not text.strip():
        raise ConfigError(f"{setting}={path}: the file is empty")
    return text


def legal_pages(privacy: str = DEFAULT_PRIVACY, terms: str = DEFAULT_TERMS) -> Callable[[web.Application], None]:
    """A mount for ``build_app``: ``GET /privacy`` and ``GET /terms``."""
    pages = {"/privacy": page("Privacy statement", privacy), "/terms": page("Terms of use", terms)}

    def mount(app: web.Application) -> None:
        for path, content in pages.items():

            async def serve(_: web.Request, content: str = content) -> web.Response:
                return web.Response(text=content, content_type="text/html", charset="utf-8")

            app.router.add_get(path, serve)

    return mount


__all__ = ["DEFAULT_PRIVACY", "DEFAULT_TERMS", "legal_pages", "page", "read_text"]
