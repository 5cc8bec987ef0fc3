"""Fast seeding: history by bulk inserts (executemany), live escalations through decide()."""

from __future__ import annotations

import copy
import random
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert

from bot.config import Directory, parse_config
from storage import Store
from storage.escalations import _row_values, scopes_of
from storage.knowledge import KnowledgeRow
from storage.tables import EscalationRow, MessageRefRow, ScopeRow
from workflows.commands import Claim, Open, Resolve
from workflows.decide import decide
from workflows.metrics import business_seconds, wall_seconds
from workflows.model import Escalation, PersonRef, Platform

from .text import answer, question

SAM = PersonRef(platform=Platform.slack, id="U0SAM", tenant="T0ACME")

CONFIG = """
defaults:
  policy: {nudge_after: 30m, assign_after: 2h, owner_reminder_after: 4h, reassign_after: 1d,
           requester_reminder_after: 1d}
communities:
  - key: sdk
    name: Mobile SDK
    slack: {channel: C0SDK0001}
    experts: ["slack:U0ADA", "slack:U0BEN", "slack:U0CHEN"]
  - key: billing
    name: Billing
    slack: {channel: C0BILL001}
    experts: ["slack:U0BILL1", "slack:U0BILL2"]
  - key: platform
    name: Platform
    slack: {channel: C0PLAT001}
    experts: ["slack:U0PLAT1", "slack:U0PLAT2"]
  - key: nodeflect
    name: SDK without deflection
    slack: {channel: C0NODF001}
    experts: ["slack:U0ADA", "slack:U0BEN"]
    policy: {deflection_wait: "off"}
"""

# New history per day, whatever the size: a bigger database is a longer history, not a busier week.
PER_DAY = 300
BATCH = 5000


def directory() -> Directory:
    return parse_config(CONFIG, "bench.yaml")


def opened(directory: Directory, community: str, n: int, at: datetime, text: str, prefix: str = "live") -> Escalation:
    command = Open(
        id=f"{prefix}-open-{n}",
        escalation_id=f"{prefix}-{community}-{n:07d}",
        actor=SAM,
        tenant="slack:T0ACME",
        community_key=community,
        question=text,
        community=directory.get(community),
    )
    return decide(None, command, at).escalation


def _template(directory: Directory, community: str, at: datetime) -> dict[str, Any]:
    esc = opened(directory, community, 0, at, "template")
    ref = esc.community.experts[0].refs[0]
    expert = PersonRef(platform=ref.platform, id=ref.id, tenant="T0ACME")
    esc = decide(esc, Claim(id="c", escalation_id=esc.id, actor=expert), at + timedelta(minutes=5)).escalation
    esc = decide(
        esc, Resolve(id="r", escalation_id=esc.id, actor=expert, answer="x"), at + timedelta(minutes=40)
    ).escalation
    # Seeded through SQLAlchemy, which takes the document itself (not the direct path's text).
    values = {**_row_values(esc), "data": esc.model_dump(mode="json")}
    responded = esc.first_response_at - esc.created_at if esc.first_response_at else None
    hours = esc.policy.business_hours
    return {"values": values, "scopes": sorted(scopes_of(esc)), "responded_after": responded, "hours": hours}


def timed(template: dict[str, Any], created: datetime, resolved: datetime) -> dict[str, Any]:
    """The template's row columns that depend on its times (the figures' durations too),
    for an escalation opened at ``created`` and resolved at ``resolved``."""
    hours, after = template["hours"], template["responded_after"]
    responded = created + after if after is not None else None
    return {
        "created_at": created,
        "updated_at": resolved,
        "resolved_at": resolved,
        "closed_at": resolved,
        "first_response_at": responded,
        "first_response_s": wall_seconds(created, responded) if responded else None,
        "first_response_business_s": business_seconds(hours, created, responded) if responded else None,
        "resolution_s": wall_seconds(created, resolved),
        "resolution_business_s": business_seconds(hours, created, resolved),
    }


async def seed_history(
    url: str,
    count: int,
    now: datetime,
    communities: Sequence[str] = ("sdk", "billing", "platform"),
    *,
    offset: int = 0,
) -> float:
    """``count`` resolved escalations (with their knowledge rows and card refs), newest first,
    ``PER_DAY`` a day back from ``now``. Returns the seconds it took."""
    started = time.perf_counter()
    rng = random.Random(42)
    d = directory()
    templates = {c: _template(d, c, now) for c in communities}
    spacing = 86400 / PER_DAY
    store = Store(url)
    try:
        for start in range(offset, offset + count, BATCH):
            esc_rows: list[dict[str, Any]] = []
            scope_rows: list[dict[str, Any]] = []
            knowledge_rows: list[dict[str, Any]] = []
            card_rows: list[dict[str, Any]] = []
            for i in range(start, min(offset + count, start + BATCH)):
                community = communities[i % len(communities)]
                template = templates[community]
                created = now - timedelta(seconds=(i + 1) * spacing)
                resolved = created + timedelta(minutes=rng.randint(5, 600))
                q, a = question(rng), answer(rng)
                esc_id = f"hist-{i:08d}"
                values = dict(template["values"])
                data = copy.copy(values["data"])
                data.update(
                    id=esc_id,
                    question=q,
                    answer=a,
                    created_at=created.isoformat(),
                    updated_at=resolved.isoformat(),
                    resolved_at=resolved.isoformat(),
                    experts_since=created.isoformat(),
                    applied=[],
                )
                values.update(id=esc_id, data=data, **timed(template, created, resolved))
                responded = values["first_response_at"]
                data.update(first_response_at=responded.isoformat() if responded else None)
                esc_rows.append(values)
                scope_rows += [{"escalation_id": esc_id, "platform": p, "tenant": t} for p, t in template["scopes"]]
                knowledge_rows.append(
                    {
                        "escalation_id": esc_id,
                        "tenant": values["tenant"],
                        "community": community,
                        "question": q,
                        "answer": a,
                        "tags": f"{community} normal",
                        "answered_by": "slack:U0ADA",
                        "resolved_at": resolved,
                        "data": {"link": None, "answer_ref": None},
                    }
                )
                card_rows.append(
                    {
                        "escalation_id": esc_id,
                        "kind": "card",
                        "platform": "slack",
                        "tenant": "T0ACME",
                        "channel": "C0SDK0001",
                        "message_id": f"17{i:08d}.000100",
                        "data": None,
                        "created_at": created,
                    }
                )
            async with store.unit_of_work() as uow:
                session = uow.session
                await session.execute(insert(EscalationRow), esc_rows)
                await session.execute(insert(ScopeRow), scope_rows)
                await session.execute(insert(KnowledgeRow), knowledge_rows)
                await session.execute(insert(MessageRefRow), card_rows)
    finally:
        await store.close()
    return time.perf_counter() - started


async def seed_live(
    url: str, directory: Directory, opens: Sequence[tuple[str, datetime]], text: str = "", prefix: str = "live"
) -> list[str]:
    """Open escalations through decide() and the repositories (no service, no outbox)."""
    rng = random.Random(len(opens))
    ids: list[str] = []
    store = Store(url)
    try:
        for start in range(0, len(opens), 1000):
            async with store.unit_of_work() as uow:
                for n, (community, at) in enumerate(opens[start : start + 1000], start):
                    esc = opened(directory, community, n, at, text or question(rng), prefix)
                    await uow.escalations.add(esc)
                    ids.append(esc.id)
    finally:
        await store.close()
    return ids
