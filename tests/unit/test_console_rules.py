"""The console's rules, in the core: changing priority, an admin's reach, who sees what."""

from __future__ import annotations

from datetime import timedelta

import pytest

from workflows.commands import ChangePriority, Reassign
from workflows.console import OPERATOR, viewer_for
from workflows.decide import decide
from workflows.errors import Reason, Refused
from workflows.model import PersonRef, Priority, Status

from .helpers import ALICE, LENA, RITA, SAM, T0, cid, community, opened, person


def change(actor: PersonRef, priority: Priority = Priority.urgent, *, admin: bool = False) -> ChangePriority:
    return ChangePriority(id=cid(), escalation_id=opened().id, actor=actor, priority=priority, admin=admin)


def test_the_requester_or_an_expert_changes_the_priority_and_the_card_follows() -> None:
    for actor in (RITA, ALICE, LENA):
        decision = decide(opened(), change(actor), T0 + timedelta(minutes=1))
        assert decision.escalation.priority == Priority.urgent
        assert decision.action == "priority_changed" and decision.detail == {"from": "normal", "to": "urgent"}
        assert [e.kind for e in decision.effects] == ["update_card"]


def test_a_stranger_may_not_unless_an_admin_and_the_same_priority_changes_nothing() -> None:
    with pytest.raises(Refused) as refused:
        decide(opened(), change(SAM), T0)
    assert refused.value.reason == Reason.forbidden
    assert decide(opened(), change(SAM, admin=True), T0).escalation.priority == Priority.urgent
    assert not decide(opened(), change(RITA, Priority.normal), T0).changed
    reassigned = decide(opened(), Reassign(id=cid(), escalation_id=opened().id, actor=SAM, admin=True), T0)
    assert reassigned.escalation.owner is not None


def test_a_closed_escalation_keeps_its_priority() -> None:
    closed = opened().model_copy(update={"status": Status.cancelled})
    with pytest.raises(Refused) as refused:
        decide(closed, change(RITA), T0)
    assert refused.value.reason == Reason.closed


def test_viewers_from_the_configuration() -> None:
    comm = community()
    admin = person("boss")
    assert viewer_for(admin, [comm], [admin]).sees_everything
    expert = viewer_for(ALICE, [comm], [admin])
    assert not expert.admin and expert.communities == (comm.key,) and expert.leads == ()
    assert viewer_for(LENA, [comm], [admin]).leads == (comm.key,)
    stranger = viewer_for(SAM, [comm], [admin])
    assert stranger.communities == () and stranger.reach().requester == SAM.key
    assert not stranger.may_retry_deliveries
    # An admin of another workspace is not an admin here.
    assert not viewer_for(person("boss", tenant="T2"), [comm], [admin]).admin
    operator = viewer_for(OPERATOR, [comm], [])
    assert operator.admin and operator.scope is None


def test_an_admin_sees_the_communities_of_their_own_workspace() -> None:
    from workflows.model import ChannelRef, Platform

    ours = community()  # its channel is in T1
    theirs = ours.model_copy(
        update={
            "key": "theirs",
            "experts": (),
            "channels": (ChannelRef(platform=Platform.slack, id="C9", tenant="T2"),),
        }
    )
    admin = person("boss")
    assert [c.key for c in viewer_for(admin, [ours, theirs], [admin]).visible_communities([ours, theirs])] == [ours.key]
    assert viewer_for(ALICE, [ours, theirs], []).visible_communities([ours, theirs]) == [ours]
    assert viewer_for(SAM, [ours, theirs], []).visible_communities([ours, theirs]) == []
    assert len(viewer_for(OPERATOR, [ours, theirs], []).visible_communities([ours, theirs])) == 2
