"""The words of a knowledge search: which a query holds, which say little (stop words), how
FTS5 reads them and how rare a term is among the candidates. Pure text and arithmetic."""

from __future__ import annotations

import math
import re

_WORD = re.compile(r"\w+", re.UNICODE)
MAX_QUERY_WORDS = 12

STOPWORDS = frozenset(
    [
        "the",
        "and",
        "for",
        "are",
        "but",
        "not",
        "you",
        "your",
        "with",
        "this",
        "that",
        "from",
        "have",
        "has",
        "had",
        "was",
        "were",
        "will",
        "would",
        "can",
        "could",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "how",
        "does",
        "did",
        "doing",
        "our",
        "out",
        "any",
        "all",
        "its",
        "into",
        "than",
        "then",
        "them",
        "they",
        "there",
        "their",
        "about",
        "after",
        "before",
        "again",
        "also",
        "just",
        "like",
        "get",
        "got",
        "please",
        "help",
        "need",
        "issue",
        "problem",
    ]
)


def words_of(query: str, limit: int | None = MAX_QUERY_WORDS) -> list[str]:
    seen = list(dict.fromkeys(_WORD.findall(query.lower())))
    return seen if limit is None else seen[:limit]


def fts5_query(words: list[str]) -> str:
    """Any word matches (stemmed); the whole phrase, when present, scores on top.

    Every word is quoted, so nothing a person types is read as FTS5 syntax.
    """
    quoted = [f'"{w}"' for w in words]
    parts = [" OR ".join(quoted)]
    if len(words) > 1:
        parts.insert(0, '"' + " ".join(words) + '"')
    return " OR ".join(parts)


def idf(holding: int, candidates: int) -> float:
    """A term's weight: the BM25 inverse document frequency, counted among the candidates.
    Registered on every SQLite connection as ``eb_idf`` (storage/db.py): SQLite's own
    ``ln`` exists only where it was compiled in."""
    return math.log(1 + (candidates - holding + 0.5) / (holding + 0.5))
