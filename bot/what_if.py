"""``config check`` with a database: what the file being checked would change for the open
questions stored there once it is loaded (open questions take their community's experts and
lead from the configuration in use: bot/reload.py, ``move_on_from_departed``)."""

from __future__ import annotations

import uuid

from workflows.clock import SystemClock
from workflows.commands import MoveOn, Roster
from workflows.decide import decide
from workflows.model import SYSTEM, Community, Escalation, Expert, Status
from workflows.service import EscalationService

from .config import Directory
from .database import open_store, reaching
from .errors import CliError

TITLE = "open questions, if this file is loaded (from the database):"


def _people(community: Community) -> dict[str, Expert]:
    lead = community.lead
    return {e.key: e for e in (*community.experts, *([lead] if lead else []))}


def _would_move_on(esc: Escalation, now_live: Escalation) -> bool:
    """The core's own rule (MoveOn), decided without storing anything. Who is away is left
    out: this reports what the file changes."""
    command = MoveOn(id=f"what_if:{uuid.uuid4().hex}", escalation_id=esc.id, actor=SYSTEM, roster=Roster())
    decision = decide(now_live, command, SystemClock().now())
    return decision.action == "moved_on"


async def what_if_lines(directory: Directory, database_url: str | None) -> list[str]:
    """Per community: experts added to / removed from its open questions, the assigned ones
    that would move on, and communities with open questions that the file drops."""
    if database_url is None:
        return []
    try:
        store = await open_store(database_url)
    except CliError as exc:
        return [f"open questions: what this file would change is not shown ({exc})"]
    service = EscalationService(store, directory, SystemClock())
    lines = [TITLE]
    try:
        with reaching(database_url):
            async with store.unit_of_work() as uow:
                for key in await uow.escalations.open_communities():
                    questions = await uow.escalations.list_by_community(key, status=Status.open)
                    live = await service.live_community(uow, key)
                    if live is None:
                        lines.append(
                            f"  {key}: not in this file: its {len(questions)} open question(s) keep their roster"
                        )
                        continue
                    lines += _community_lines(key, questions, live)
    except CliError as exc:
        return [f"open questions: what this file would change is not shown ({exc})"]
    finally:
        await store.close()
    return lines if len(lines) > 1 else [f"{TITLE} nothing changes"]


def _community_lines(key: str, questions: list[Escalation], live: Community) -> list[str]:
    new = _people(live)
    added: dict[str, Expert] = {}
    removed: dict[str, Expert] = {}
    moving: list[str] = []
    differ = 0
    for esc in questions:
        old = _people(esc.community)
        if old == new:
            continue
        differ += 1
        added.update({k: e for k, e in new.items() if k not in old})
        removed.update({k: e for k, e in old.items() if k not in new})
        community = esc.community.model_copy(update={"experts": live.experts, "lead": live.lead})
        if esc.owner is not None and _would_move_on(esc, esc.model_copy(update={"community": community})):
            moving.append(f"  {key}: would move on: #{esc.short_id()} from {esc.owner.person.label()}")
    out = []
    if added or removed:
        change = [f"added {', '.join(e.label() for e in added.values())}"] if added else []
        change += [f"removed {', '.join(e.label() for e in removed.values())}"] if removed else []
        # Against the roster each question stored when it last changed (a reload leaves untouched ones as they were).
        out.append(f"  {key}: experts, against the roster stored with {differ} open question(s): {'; '.join(change)}")
    return out + moving
