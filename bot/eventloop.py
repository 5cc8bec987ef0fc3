"""The event loop `serve` runs on: uvloop where it is installed, else the standard library's.

uvloop (libuv underneath) runs the same asyncio programs with less CPU per request; it is a
dependency on every platform it supports (not Windows). ``EVENT_LOOP`` chooses:

- ``auto`` (the default): uvloop if it can be imported, else asyncio's own loop;
- ``uvloop``: uvloop, or a clear error if it is not installed;
- ``asyncio``: the standard library's loop, to rule uvloop out when chasing a problem.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Literal, get_args

LoopFactory = Callable[[], asyncio.AbstractEventLoop]
EventLoopChoice = Literal["auto", "uvloop", "asyncio"]
CHOICES: tuple[str, ...] = get_args(EventLoopChoice)


class LoopUnavailable(Exception):
    """The configured event loop cannot be used here."""


def loop_factory(choice: str) -> LoopFactory:
    """What makes the event loop that ``choice`` (``EVENT_LOOP``) asks for."""
    if choice not in CHOICES:
        raise LoopUnavailable(f"EVENT_LOOP must be {', '.join(CHOICES[:-1])} or {CHOICES[-1]}, not {choice!r}")
    if choice == "asyncio":
        return asyncio.new_event_loop
    try:
        import uvloop
    except ImportError:
        if choice == "uvloop":
            raise LoopUnavailable(
                "EVENT_LOOP=uvloop, but uvloop is not installed here: install it (pip install uvloop; "
                "there is no Windows build), or set EVENT_LOOP=auto or asyncio"
            ) from None
        return asyncio.new_event_loop
    return uvloop.new_event_loop


def loop_name(loop: asyncio.AbstractEventLoop) -> str:
    """``uvloop`` or ``asyncio``: which implementation ``loop`` is."""
    return "uvloop" if type(loop).__module__.split(".")[0] == "uvloop" else "asyncio"
