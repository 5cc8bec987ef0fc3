"""Who has answered questions like this one before (pure): the ranking behind
``rotation: expertise``, the card's "answered similar questions" and the nudge's order.

The evidence is the knowledge base's own search, run by the service when the question
opens (``Escalation.precedents``). Each similar question counts for whoever answered it,
weighed by how close it is (its relevance over the best match's, squared so that the
closest questions count most, and so that the SQLite and PostgreSQL scores, on different
scales, rank alike) and by how recent (halved every ``HALF_LIFE``: people move on, products
change, and last month's answerer is likelier to know than last year's). The square and
the year were chosen on bench/expertise.py's data: against the relevance itself and a
90-day half-life they gain 2-5 points of top-1 accuracy on both engines.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from .model import Expert, Precedent

HALF_LIFE = timedelta(days=365)
# How many similar questions an escalation keeps as evidence: enough to tell a few experts
# apart, few enough to keep the stored escalation small.
MAX_PRECEDENTS = 20
TITLE_LIMIT = 80


@dataclass(frozen=True)
class Standing:
    """One expert's record on questions like this one."""

    expert: Expert
    score: float
    answered: int
    latest: Precedent


def weight(precedent: Precedent, best: float, now: datetime) -> float:
    """How much one similar question says about its answerer, now."""
    closeness = (precedent.relevance / best) ** 2 if best > 0 else 1.0
    age = max((now - precedent.resolved_at).total_seconds(), 0.0)
    return closeness * 0.5 ** (age / HALF_LIFE.total_seconds())


def standings(experts: Sequence[Expert], precedents: Sequence[Precedent], now: datetime) -> list[Standing]:
    """The ``experts`` who answered any of the ``precedents``, best first (the order given
    among equals)."""
    best = max((p.relevance for p in precedents), default=0.0)
    out: list[Standing] = []
    for expert in experts:
        keys = {ref.key for ref in expert.refs}
        theirs = [p for p in precedents if p.answered_by in keys]
        if not theirs:
            continue
        score = sum(weight(p, best, now) for p in theirs)
        latest = max(theirs, key=lambda p: p.resolved_at)
        out.append(Standing(expert, score, len(theirs), latest))
    order = {e.key: n for n, e in enumerate(experts)}
    return sorted(out, key=lambda s: (-s.score, order[s.expert.key]))


def by_expertise(
    experts: Sequence[Expert], precedents: Sequence[Precedent], loads: dict[str, int], now: datetime
) -> list[Expert]:
    """``experts`` (the rotation's candidates, already without anyone away, in rotation
    order) best first: the most similar-question evidence, then the fewest open questions
    held, then the rotation's order. Nobody with evidence: least loaded."""
    scores = {s.expert.key: s.score for s in standings(experts, precedents, now)}
    order = {e.key: n for n, e in enumerate(experts)}
    return sorted(experts, key=lambda e: (-round(scores.get(e.key, 0.0), 9), loads.get(e.key, 0), order[e.key]))


def title(question: str, limit: int = TITLE_LIMIT) -> str:
    """A question's first line, short enough to quote in a sentence."""
    line = next((ln.strip() for ln in question.splitlines() if ln.strip()), "")
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def reason(standing: Standing) -> str:
    """ "Ada answered 3 similar questions, latest: “Rotating the signing key”"."""
    n = standing.answered
    questions = "question" if n == 1 else "questions"
    return f"{standing.expert.label()} answered {n} similar {questions}, latest: “{title(standing.latest.question)}”"
