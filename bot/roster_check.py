"""``config check`` with a database: who joined or left open rosters themselves
(``/escalate join``/``leave``), stored in the database rather than the file."""

from __future__ import annotations

from .config import Directory
from .database import open_store, reaching
from .errors import CliError


async def joined_lines(directory: Directory, database_url: str | None) -> list[str]:
    """One line per open community; a line saying why when the database cannot be read."""
    open_ = [c for c in directory.all() if c.open_roster]
    if not open_ or database_url is None:
        return []
    try:
        store = await open_store(database_url)
    except CliError as exc:
        return [f"joined open rosters: not shown ({exc})"]
    lines = ["joined open rosters (from the database):"]
    try:
        with reaching(database_url):
            async with store.unit_of_work() as uow:
                for community in open_:
                    changes = await uow.roster_members.of(community.key)
                    joined = [p.label() for p, member in changes if member and not community.is_expert(p)]
                    left = [
                        (community.expert_for(p) or p).label()
                        for p, member in changes
                        if not member and community.is_expert(p)
                    ]
                    line = f"  {community.key}: joined: {', '.join(joined) or '(nobody)'}"
                    lines.append(line + (f"; left (named in the file): {', '.join(left)}" if left else ""))
    except CliError as exc:
        return [f"joined open rosters: not shown ({exc})"]
    finally:
        await store.close()
    return lines
