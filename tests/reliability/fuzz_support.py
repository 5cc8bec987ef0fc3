"""Shared pieces of the endpoint fuzz tests: settings, a database snapshot, hostile text."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from sqlalchemy import text

from storage import Store


def fuzz(max_examples: int) -> Any:
    """Deterministic (the same examples on every run and in CI), no per-example deadline:
    the whole app and a database answer each one."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


async def snapshot(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the tables an inbound request could change."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    async with store.unit_of_work() as uow:
        for table in ("escalations", "outbox", "audit", "message_refs"):
            rows = (await uow.session.execute(text(f"SELECT * FROM {table} ORDER BY 1"))).all()
            out[table] = [tuple(row) for row in rows]
    return out


# Text a person might type, or an attacker: mentions, markdown, HTML-ish, control and RTL characters.
HOSTILE = st.sampled_from(
    [
        "<!channel>",
        "<!here>",
        "<!everyone>",
        "<@U0ADA>",
        "<#C0SDK0001>",
        "<https://evil.example|click>",
        "*bold* _it_ ~s~ `code` ```block```",
        "&lt;&gt;&amp;",
        "<script>alert(1)</script>",
        "@channel",
        "\u202egnp.exe",
        "\x00\x01\x1b[31m",
        "👩‍👩‍👧‍👦" * 20,
        "ﷺ" * 50,
        "\n" * 30,
        "{{}}",
        "%s%n",
        "' OR 1=1 --",
    ]
)
TEXT = st.one_of(
    st.text(max_size=200),
    HOSTILE,
    st.lists(st.one_of(HOSTILE, st.text(max_size=20)), max_size=8).map(" ".join),
    st.integers(min_value=3_000, max_value=60_000).map(lambda n: "ü" * n),
)
JSON_LEAF = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), TEXT)
JSON = st.recursive(
    JSON_LEAF,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)


def mutated(data: dict[str, Any], draw: Any) -> dict[str, Any]:
    """A copy with some fields removed or replaced by values of the wrong type, at any depth."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        choice = draw(st.integers(min_value=0, max_value=9))
        if choice == 0:
            continue  # missing
        if choice == 1:
            out[key] = draw(JSON)  # wrongly typed
        elif isinstance(value, dict) and choice < 6:
            out[key] = mutated(value, draw)
        else:
            out[key] = value
    return out
