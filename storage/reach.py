"""A console viewer's reach as SQL: the tenant (through the escalation's scopes, as the
chat's own queries are), and unless the viewer is an admin, their own questions and their
communities'. Used by every console read and by retrying a delivery."""

from __future__ import annotations

from sqlalchemy import ColumnElement, exists, false, or_

from workflows.console import Reach

from .tables import EscalationRow, ScopeRow


def within(reach: Reach) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if reach.scope is not None:
        conditions.append(
            exists().where(
                ScopeRow.escalation_id == EscalationRow.id,
                ScopeRow.platform == reach.scope.platform,
                # Every column a key: one probe of pk_escalation_scopes per escalation.
                ScopeRow.tenant.in_([reach.scope.tenant, ""]),
            )
        )
    if reach.communities is not None:
        mine: list[ColumnElement[bool]] = []
        if reach.requester:
            mine.append(EscalationRow.requester == reach.requester)
        if reach.communities:
            mine.append(EscalationRow.community.in_(list(reach.communities)))
        conditions.append(or_(*mine) if mine else false())
    return conditions
