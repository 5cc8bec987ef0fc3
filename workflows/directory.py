"""The communities as configured now, and who the configuration makes an admin."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from .model import Community, PersonRef


class Directory(Protocol):
    """The communities as configured now."""

    def get(self, key: str) -> Community | None: ...
    def all(self) -> Sequence[Community]: ...


def is_admin(directory: Directory, person: PersonRef) -> bool:
    """Whether the configuration names ``person`` among its ``admins`` (a directory built
    without that list names nobody)."""
    admins: Sequence[PersonRef] = getattr(directory, "admins", ())
    return any(admin.same(person) for admin in admins)
