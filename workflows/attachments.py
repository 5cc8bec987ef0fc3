"""Files shared with a reply: which ones an escalation keeps, and how they are said.

The words are said once here ("with 2 files: crash.log, screen.png"); adapters add the
links from the ``Attachment`` values themselves, escaped for their platform.
"""

from __future__ import annotations

from collections.abc import Iterable

from .model import Attachment

# Files kept per escalation: a thread with more than this is a file exchange, and its
# newest files are the ones an answer refers to.
MAX_KEPT = 20
NAMES_SAID = 5


def kept(earlier: Iterable[Attachment], new: Iterable[Attachment]) -> tuple[Attachment, ...]:
    """The files an escalation keeps after a reply: a linked file once (shared again, it has
    the same link), the newest ``MAX_KEPT``."""
    out: list[Attachment] = []
    for file in (*earlier, *new):
        if file.url:
            out = [f for f in out if f.url != file.url]
        out.append(file)
    return tuple(out[-MAX_KEPT:])


def files_words(files: tuple[Attachment, ...] | list[Attachment]) -> str:
    """``with 2 files: crash.log, screen.png`` (empty for none)."""
    if not files:
        return ""
    count = "1 file" if len(files) == 1 else f"{len(files)} files"
    names = [f.name for f in files[:NAMES_SAID]]
    more = len(files) - len(names)
    listed = ", ".join(names) + (f" and {more} more" if more else "")
    return f"with {count}: {listed}"


def files_line(files: tuple[Attachment, ...]) -> str:
    """``With 2 files: crash.log, screen.png``, as a line of its own (empty for none)."""
    words = files_words(files)
    return words[:1].upper() + words[1:]


def said(lead: str, text: str, files: tuple[Attachment, ...]) -> str:
    """``Ada replied: <text>`` followed by what was attached, in one plain sentence or two."""
    words = files_words(files)
    if text:
        return f"{lead}: {text}" + (f"\n{files_line(files)}" if files else "")
    return f"{lead} {words}" if words else f"{lead}."
