"""The figures' columns of an escalation's row (workflows/metrics.Facts), written with the
row on every save, and read back by the console instead of the documents."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import DateTime, func, type_coerce

from workflows.metrics import Facts, fact_of
from workflows.model import Escalation

from .tables import EscalationRow, UTCDateTime

# Facts field -> column; id, community, status, created_at and owner are the row's own.
FACT_COLUMNS = (
    "closed_at",
    "first_response_at",
    "first_response_pull",
    "reassignments",
    "first_responder",
    "resolver",
    "first_response_s",
    "first_response_business_s",
    "resolution_s",
    "resolution_business_s",
)
_ROW = EscalationRow


def _selected(raw_times: bool) -> tuple[Any, ...]:
    columns = [
        _ROW.id,
        _ROW.community,
        _ROW.status,
        _ROW.created_at,
        _ROW.closed_at,
        _ROW.owner,
        func.coalesce(_ROW.reassignments, 0),
        *(getattr(_ROW, name) for name in Facts._fields[7:]),
    ]
    if not raw_times:
        return tuple(columns)
    # asyncpg hands back timestamptz as aware UTC already: no per-value conversion.
    return tuple(type_coerce(c, DateTime(timezone=True)) if c.type.__class__ is UTCDateTime else c for c in columns)


# What the console selects for a window, in the order of Facts' fields: narrow columns, no
# document; on PostgreSQL, with the times as the driver gives them.
SELECTED = _selected(raw_times=False)
SELECTED_POSTGRES = _selected(raw_times=True)


def fact_values(esc: Escalation) -> dict[str, Any]:
    facts = fact_of(esc)
    return {name: getattr(facts, name) for name in FACT_COLUMNS}


def fact_values_of_document(data: str) -> dict[str, Any]:
    """The columns of a stored document (the migration that added them backfills with this)."""
    return fact_values(Escalation.model_validate_json(data))


def facts_of_row(row: Iterable[Any]) -> Facts:
    """A row of ``SELECTED`` as the core's Facts."""
    return Facts._make(row)
