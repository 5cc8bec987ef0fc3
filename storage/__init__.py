"""Persistence: tables, repositories, outbox, idempotency, unit of work."""

from .repositories import Scope, StaleWrite, effect_of
from .unit_of_work import Store, UnitOfWork

__all__ = ["Scope", "StaleWrite", "Store", "UnitOfWork", "effect_of"]
