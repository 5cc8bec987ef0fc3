"""`escalation-bot console-link`: a one-time sign-in link for the web console."""

from __future__ import annotations

from .config import load_config, parse_person
from .database import open_store
from .errors import CliError
from .settings import Settings


async def console_link(settings: Settings, person_text: str | None) -> int:
    from .runtime import Runtime
    from .web import build_console, first_admin

    directory = load_config(settings.escalation_config)
    try:
        person = parse_person(person_text) if person_text else first_admin(directory)
    except ValueError as exc:
        raise CliError(f"--as: {exc}") from None
    store = await open_store(settings.database_url)
    try:
        console = build_console(settings, Runtime(store, directory, {}), directory)
        print(await console.new_link(person))
    finally:
        await store.close()
    return 0
