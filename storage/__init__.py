"""Persistence: tables, repositories, outbox, idempotency, unit of work."""

from workflows.ports import Scope

from . import knowledge  # noqa: F401 - registers the knowledge table on the metadata
from .escalations import StaleWrite
from .outbox import effect_of
from .unit_of_work import Store, UnitOfWork

__all__ = ["Scope", "StaleWrite", "Store", "UnitOfWork", "effect_of"]
