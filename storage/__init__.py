"""Persistence: tables, repositories, outbox, idempotency, unit of work."""

from . import knowledge  # noqa: F401 - registers the knowledge table on the metadata
from .repositories import Scope, StaleWrite, effect_of
from .unit_of_work import Store, UnitOfWork

__all__ = ["Scope", "StaleWrite", "Store", "UnitOfWork", "effect_of"]
