"""A fixed, generated, realistic history for judging ``rotation: expertise`` (seeded RNG).

20 support topics, each with its own words (several shared between topics: a token is an
OAuth token and a push token), 8 experts each strong in a few topics: every topic has a
primary expert, who answers 60% of its questions, and a secondary (25%); anyone else
answers the rest (15%). Topics are not equally popular (Zipf-like weights), so some experts
are asked far more than others. Three topics changed hands a year ago: their old primary
answered them before, the new one since, so only recent evidence points to who answers now.
Questions mix two or three of the topic's words with the shared symptoms and contexts of
bench/text.py, sometimes a word from another topic, sometimes a typo.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import insert

from bot.config import Directory, parse_config
from storage import Store
from storage.knowledge import KnowledgeRow
from storage.tables import EscalationRow, MessageRefRow, ScopeRow

from .seed import _template, timed
from .text import CONTEXTS, SYMPTOMS

TOPICS: list[list[str]] = [
    ["push", "notification", "apns", "fcm", "token", "badge", "silent", "payload"],
    ["oauth", "token", "refresh", "scope", "consent", "authorize", "redirect", "pkce"],
    ["export", "invoice", "csv", "currency", "ledger", "billing", "tax", "proration"],
    ["saml", "sso", "idp", "okta", "assertion", "metadata", "certificate", "login"],
    ["webhook", "retry", "signature", "delivery", "endpoint", "payload", "hmac", "callback"],
    ["rate", "limit", "throttle", "429", "quota", "burst", "backoff", "header"],
    ["offline", "cache", "sync", "conflict", "migration", "sqlite", "schema", "stale"],
    ["react", "native", "bridge", "metro", "hermes", "module", "javascript", "expo"],
    ["gradle", "proguard", "r8", "manifest", "aar", "kotlin", "dependency", "build"],
    ["xcode", "cocoapods", "swift", "bitcode", "framework", "signing", "provisioning", "archive"],
    ["import", "csv", "column", "mapping", "encoding", "delimiter", "rows", "upload"],
    ["audit", "log", "retention", "export", "event", "siem", "trail", "compliance"],
    ["search", "index", "query", "ranking", "relevance", "synonyms", "elasticsearch", "facet"],
    ["payment", "card", "3ds", "refund", "chargeback", "stripe", "decline", "capture"],
    ["email", "smtp", "bounce", "spf", "dkim", "template", "deliverability", "spam"],
    ["scim", "provisioning", "user", "group", "deprovision", "directory", "sync", "role"],
    ["report", "dashboard", "chart", "metric", "aggregation", "timezone", "filter", "schedule"],
    ["upload", "file", "s3", "bucket", "presigned", "storage", "size", "virus"],
    ["websocket", "realtime", "socket", "reconnect", "presence", "channel", "heartbeat", "latency"],
    ["api", "version", "deprecation", "endpoint", "breaking", "changelog", "sdk", "header"],
]
EXPERTS = [f"U0EXP{n}" for n in range(8)]
OPENERS = ["Customer reports", "Why does", "How do we fix", "Urgent:", "Question about", "Seeing that", "", ""]
WEIGHTS = [1 / (rank + 1) ** 0.8 for rank in range(len(TOPICS))]
CHANGED_HANDS = {0: 5, 7: 2, 13: 6}  # topic -> its primary before the change
CHANGE_AGO = timedelta(days=365)
SPAN = timedelta(days=730)
COMMUNITY = "support"

CONFIG = f"""
defaults:
  policy: {{nudge_after: 30m, assign_after: 2h, deflection_wait: "off"}}
communities:
  - key: {COMMUNITY}
    name: Support
    slack: {{channel: C0SUPP001}}
    experts: [{", ".join(f'"slack:{e}"' for e in EXPERTS)}]
    rotation: expertise
"""


@dataclass(frozen=True)
class Asked:
    topic: int
    question: str
    answered_by: str  # slack:U…
    at: datetime


def directory() -> Directory:
    return parse_config(CONFIG, "bench-expertise.yaml")


def primary(topic: int, at: datetime, now: datetime) -> int:
    if topic in CHANGED_HANDS and at < now - CHANGE_AGO:
        return CHANGED_HANDS[topic]
    return topic % len(EXPERTS)


def secondary(topic: int) -> int:
    first = topic % len(EXPERTS)
    second = (topic * 3 + 1) % len(EXPERTS)
    return second if second != first else (second + 1) % len(EXPERTS)


def _typo(rng: random.Random, word: str) -> str:
    if len(word) < 5 or rng.random() > 0.1:
        return word
    cut = rng.randrange(1, len(word) - 1)
    return word[:cut] + word[cut + 1 :]


def question_for(rng: random.Random, topic: int) -> str:
    words = [_typo(rng, w) for w in rng.sample(TOPICS[topic], rng.choice((2, 2, 3)))]
    if rng.random() < 0.15:  # a word from elsewhere: people mention what is around
        words.append(rng.choice(TOPICS[rng.randrange(len(TOPICS))]))
    parts = [rng.choice(OPENERS), words[0], rng.choice(SYMPTOMS), *words[1:], rng.choice(CONTEXTS)]
    return " ".join(p for p in parts if p)


def ask(rng: random.Random, at: datetime, now: datetime) -> Asked:
    topic = rng.choices(range(len(TOPICS)), WEIGHTS)[0]
    roll = rng.random()
    if roll < 0.60:
        who = primary(topic, at, now)
    elif roll < 0.85:
        who = secondary(topic)
    else:
        who = rng.randrange(len(EXPERTS))
    return Asked(topic, question_for(rng, topic), f"slack:{EXPERTS[who]}", at)


def history(count: int, held_out: int, now: datetime, seed: int = 22) -> tuple[list[Asked], list[Asked]]:
    """``count`` resolved questions over two years, and ``held_out`` asked now."""
    rng = random.Random(seed)
    past = [ask(rng, now - SPAN * rng.random(), now) for _ in range(count)]
    return past, [ask(rng, now, now) for _ in range(held_out)]


async def seed_answers(url: str, past: Sequence[Asked], now: datetime) -> None:
    """The resolved questions as escalations, knowledge rows and card refs, in bulk."""
    template = _template(directory(), COMMUNITY, now)
    store = Store(url)
    try:
        for start in range(0, len(past), 2000):
            esc_rows: list[dict[str, Any]] = []
            scope_rows: list[dict[str, Any]] = []
            knowledge_rows: list[dict[str, Any]] = []
            card_rows: list[dict[str, Any]] = []
            for i, asked in enumerate(past[start : start + 2000], start):
                esc_id = f"exp-{i:07d}"
                values = dict(template["values"])
                data = copy.copy(values["data"])
                stamp = asked.at.isoformat()
                data.update(id=esc_id, question=asked.question, answer="See the runbook.", applied=[])
                data.update(created_at=stamp, updated_at=stamp, resolved_at=stamp, experts_since=stamp)
                values.update(id=esc_id, data=data, **timed(template, asked.at, asked.at))
                responded = values["first_response_at"]
                data.update(first_response_at=responded.isoformat() if responded else None)
                esc_rows.append(values)
                scope_rows += [{"escalation_id": esc_id, "platform": p, "tenant": t} for p, t in template["scopes"]]
                knowledge_rows.append(
                    {
                        "escalation_id": esc_id,
                        "tenant": values["tenant"],
                        "community": COMMUNITY,
                        "question": asked.question,
                        "answer": "See the runbook.",
                        "tags": f"{COMMUNITY} normal",
                        "answered_by": asked.answered_by,
                        "resolved_at": asked.at,
                        "data": {"link": None, "answer_ref": None},
                    }
                )
                card_rows.append(
                    {
                        "escalation_id": esc_id,
                        "kind": "card",
                        "platform": "slack",
                        "tenant": "T0ACME",
                        "channel": "C0SUPP001",
                        "message_id": f"16{i:08d}.000100",
                        "data": None,
                        "created_at": asked.at,
                    }
                )
            async with store.unit_of_work() as uow:
                await uow.session.execute(insert(EscalationRow), esc_rows)
                await uow.session.execute(insert(ScopeRow), scope_rows)
                await uow.session.execute(insert(KnowledgeRow), knowledge_rows)
                await uow.session.execute(insert(MessageRefRow), card_rows)
    finally:
        await store.close()
