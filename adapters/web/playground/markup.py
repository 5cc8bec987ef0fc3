"""Platform text as HTML: Slack's mrkdwn, the markdown of Adaptive Cards, a Teams message's
HTML. Every piece of text is escaped before it becomes markup; only the constructs named
here (bold, italic, code, links to http(s), mentions, emoji names) turn into tags."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Mapping

from markupsafe import Markup, escape

EMOJI = {
    "eyes": "👀",
    "raising_hand": "🙋",
    "white_check_mark": "✅",
    "white_circle": "⚪",
    "large_blue_circle": "🔵",
    "large_orange_circle": "🟠",
    "red_circle": "🔴",
    "no_entry_sign": "🚫",
    "newspaper": "📰",
    "mag": "🔍",
    "hourglass_flowing_sand": "⏳",
    "hammer_and_wrench": "🛠️",
    "bust_in_silhouette": "👤",
    "paperclip": "📎",
    "warning": "⚠️",
    "thumbsup": "👍",
    "+1": "👍",
    "like": "👍",
}

_SAFE_URL = re.compile(r"^https?://[^\s<>\"']+$")
_SLACK_TOKEN = re.compile(r"<([^<>]+)>")
_SLACK_STYLE = re.compile(r"(?<![\w*])\*([^*\n]+)\*(?![\w*])|(?<![\w_])_([^_\n]+)_(?![\w_])|`([^`\n]+)`|~([^~\n]+)~")
_EMOJI_NAME = re.compile(r":([a-z0-9_+-]+):")


def emoji(name: str) -> str:
    return EMOJI.get(name.strip(":"), f":{name.strip(':')}:")


def _link(url: str, label: str) -> str:
    if _SAFE_URL.match(url):
        return f'<a href="{escape(url)}" rel="noopener noreferrer">{escape(label)}</a>'
    return str(escape(label))


def _slack_plain(text: str) -> str:
    """Text between Slack's <…> constructs: its entities read, then escaped, then styled."""
    out = str(escape(html.unescape(text)))

    def style(match: re.Match[str]) -> str:
        bold, italic, code, strike = match.groups()
        if bold is not None:
            return f"<b>{bold}</b>"
        if italic is not None:
            return f"<i>{italic}</i>"
        if code is not None:
            return f"<code>{code}</code>"
        return f"<s>{strike}</s>"

    out = _SLACK_STYLE.sub(style, out)
    out = _EMOJI_NAME.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), out)
    return out.replace("\n", "<br>")


def mrkdwn(text: str, names: Mapping[str, str]) -> Markup:
    """Slack mrkdwn as Slack shows it. ``names``: Slack user id -> display name. Each <…>
    construct becomes a placeholder first, so bold or italic may span a link or a mention."""
    made: list[str] = []

    def construct(match: re.Match[str]) -> str:
        target, _, label = match.group(1).partition("|")
        if target.startswith("@"):
            who = names.get(target[1:], target[1:])
            made.append(f'<span class="mention">@{escape(who)}</span>')
        elif target.startswith("#"):
            made.append(f'<span class="mention">#{escape(html.unescape(label or target[1:]))}</span>')
        elif target.startswith("!date^"):
            made.append(str(escape(html.unescape(label))))
        elif target.startswith("!"):
            made.append(f'<span class="mention">@{escape(target[1:])}</span>')
        else:
            url = html.unescape(target)
            made.append(_link(url, html.unescape(label) if label else url))
        return f"\ue000{len(made) - 1}\ue001"

    plain = _SLACK_TOKEN.sub(construct, text.replace("\ue000", "").replace("\ue001", ""))
    out = _PLACEHOLDER.sub(lambda m: made[int(m.group(1))], _slack_plain(plain))
    return Markup(out)  # noqa: S704 - every piece was escaped above


_PLACEHOLDER = re.compile("\ue000(\\d+)\ue001")


_CARD_TOKEN = re.compile(r"\\(.)|\*\*(.+?)\*\*|\[([^\]\n]+)\]\(([^)\s]+)\)", re.DOTALL)


def card_markdown(text: str) -> Markup:
    """A TextBlock's text: Adaptive Cards' markdown (bold, links) with backslash escapes."""
    parts: list[str] = []
    position = 0
    for match in _CARD_TOKEN.finditer(text):
        parts.append(str(escape(text[position : match.start()])))
        position = match.end()
        char, bold, label, url = match.groups()
        if char is not None:
            parts.append(str(escape(char)))
        elif bold is not None:
            parts.append(f"<b>{card_markdown(bold)}</b>")
        else:
            parts.append(_link(url, label))
    parts.append(str(escape(text[position:])))
    return Markup("".join(parts).replace("\n", "<br>"))  # noqa: S704 - every piece was escaped above


_AT = re.compile(r"<at>(.*?)</at>")


def teams_message(text: str) -> Markup:
    """A Teams message's HTML as the bot sends it: ``<at>`` mentions, escaped text, ``<br>``."""
    parts: list[str] = []
    position = 0

    def plain(chunk: str) -> str:
        chunk = re.sub(r"<br\s*/?>", "\n", chunk)
        chunk = re.sub(r"<[^>]+>", "", chunk)
        return str(card_markdown(html.unescape(chunk)))

    for match in _AT.finditer(text):
        parts.append(plain(text[position : match.start()]))
        position = match.end()
        parts.append(f'<span class="mention">@{escape(html.unescape(match.group(1)))}</span>')
    parts.append(plain(text[position:]))
    return Markup("".join(parts))  # noqa: S704 - every piece was escaped above


def filters(names: Callable[[], Mapping[str, str]]) -> dict[str, Callable[..., Markup | str]]:
    return {
        "mrkdwn": lambda text: mrkdwn(str(text or ""), names()),
        "card_markdown": lambda text: card_markdown(str(text or "")),
        "teams_message": lambda text: teams_message(str(text or "")),
        "emoji": lambda name: emoji(str(name)),
    }
