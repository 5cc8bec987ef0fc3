"""Retrying a failed delivery from the console is the service's own command (the one
`outbox retry` runs): admins only, within their reach, audited "via console" as every
command is."""

from __future__ import annotations

import pytest

from workflows.console import OPERATOR
from workflows.deliveries import RetryDeliveries
from workflows.delivery import PermanentDeliveryError
from workflows.errors import Reason, Refused
from workflows.model import PersonRef, Platform

from .conftest import ADMIN, LEE, SAM, TENANT, Console

ENTRA_ADMIN = PersonRef(platform=Platform.teams, id="entra-admin", tenant=TENANT, name="Erin")


async def _failed_delivery(web: Console, community: str = "sdk") -> tuple[str, int]:
    web.slack.fail = lambda effect: PermanentDeliveryError("channel_not_found", code="channel_not_found")
    esc = await web.open(SAM, community, "Delivery will fail")
    web.slack.fail = None
    async with web.runtime.store.unit_of_work() as uow:
        failed = [r for r in await uow.outbox.list("failed") if r.escalation_id == esc.id]
    assert failed, "the card's delivery failed"
    return esc.id, failed[0].id


async def _state(web: Console, escalation_id: str, row_id: int) -> tuple[str, list[tuple[str, object]]]:
    async with web.runtime.store.unit_of_work() as uow:
        status = next(r.status for r in await uow.outbox.list() if r.id == row_id)
        audit = [(r.actor, r.detail) for r in await uow.audit.for_escalation(escalation_id)]
    return status, [a for a in audit if isinstance(a[1], dict) and "deliveries" in a[1]]


async def test_a_member_cannot_do_an_admins_action(web: Console) -> None:
    esc_id, row_id = await _failed_delivery(web)
    await web.sign_in(LEE)  # the sdk lead: acts on sdk, but retrying deliveries is for admins
    page = await web.page("/console/deliveries")
    assert "channel_not_found" in page and f"/console/deliveries/{row_id}/retry" not in page
    response = await web.post(f"/console/deliveries/{row_id}/retry", {}, from_page="/console/deliveries")
    assert response.status == 403 and "Only an admin can retry a delivery." in await response.text()
    assert await _state(web, esc_id, row_id) == ("failed", [])


async def test_an_admin_retries_a_failed_delivery_audited_via_console(web: Console) -> None:
    esc_id, row_id = await _failed_delivery(web)
    await web.sign_in(ADMIN)
    response = await web.post(f"/console/deliveries/{row_id}/retry", {}, from_page="/console/deliveries")
    assert response.status == 303
    assert await _state(web, esc_id, row_id) == ("pending", [(ADMIN.key, {"deliveries": [row_id], "via": "console"})])
    await web.runtime.dispatch()
    assert (await _state(web, esc_id, row_id))[0] == "sent"
    page = await web.page(f"/console/escalations/{esc_id}")
    assert "delivery_retried" in page or "delivery retried" in page
    # Only a failed delivery can be retried: the same row again is not found.
    again = await web.post(f"/console/deliveries/{row_id}/retry", {}, from_page="/console/deliveries")
    assert again.status == 404


async def test_an_admin_of_another_tenant_gets_not_found_and_nothing_changes(web: Console) -> None:
    esc_id, row_id = await _failed_delivery(web, "billing")  # Slack only: not the Teams tenant's
    await web.sign_in(ENTRA_ADMIN)
    response = await web.post(f"/console/deliveries/{row_id}/retry", {}, from_page="/console/deliveries")
    assert response.status == 404
    assert await _state(web, esc_id, row_id) == ("failed", [])
    for bad in ("abc", "999999"):
        response = await web.post(f"/console/deliveries/{bad}/retry", {}, from_page="/console/deliveries")
        assert response.status == 404


async def test_the_rule_is_the_cores_whoever_asks(web: Console) -> None:
    esc_id, row_id = await _failed_delivery(web)
    retry = web.runtime.service.deliveries.retry
    with pytest.raises(Refused) as refused:
        await retry(RetryDeliveries(LEE, (row_id,), via="console"))
    assert refused.value.reason == Reason.forbidden
    assert await _state(web, esc_id, row_id) == ("failed", [])
    # The operator at the terminal (`outbox retry`) may; every failed row when none is named,
    # audited once on their escalation.
    async with web.runtime.store.unit_of_work() as uow:
        failed = [r.id for r in await uow.outbox.list("failed") if r.escalation_id == esc_id]
    assert row_id in failed
    assert await retry(RetryDeliveries(OPERATOR, None, via="cli")) == len(failed)
    assert await _state(web, esc_id, row_id) == ("pending", [(OPERATOR.key, {"deliveries": failed, "via": "cli"})])
