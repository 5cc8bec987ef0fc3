"""Someone's availability set in the console is the chat's away and back, allowed by the
core's rule and audited under the person as via console, with who said it."""

from __future__ import annotations

from workflows.presence import AWAY_ENDED, AWAY_SET, availability_subject

from .conftest import ADA, ADMIN, BEN, LEE, Console

PAGE = "/console/communities"
BEN_PATH = "/console/communities/sdk/people/slack:U0BEN"


async def audited(web: Console) -> list[tuple[str, str, object]]:
    async with web.runtime.store.unit_of_work() as uow:
        rows = await uow.audit.for_escalation(availability_subject(BEN))
    return [(r.action, r.actor, r.detail) for r in rows]


async def test_a_member_is_refused_and_nothing_is_written(web: Console) -> None:
    await web.sign_in(ADA)  # an sdk expert, not its lead
    for what, data in (("away", {"words": "for 3d"}), ("back", {})):
        response = await web.post(f"{BEN_PATH}/{what}", data, from_page=PAGE)
        assert response.status == 403
        assert "only an admin or the Mobile SDK lead can set someone else&#39;s" in await response.text()
    async with web.runtime.store.unit_of_work() as uow:
        assert await uow.absences.away(web.clock.now()) == []
    assert await audited(web) == []


async def test_a_lead_and_an_admin_are_audited_via_console(web: Console) -> None:
    await web.sign_in(LEE)  # the sdk lead
    assert (await web.post(f"{BEN_PATH}/away", {"words": "for 3d at a conference"}, from_page=PAGE)).status == 303
    assert "set by Lee via console" in await web.page(PAGE)
    assert (await web.post(f"{BEN_PATH}/back", {}, from_page=PAGE)).status == 303
    assert "set by" not in await web.page(PAGE)
    web.sign_out_locally()
    await web.sign_in(ADMIN)
    assert (await web.post(f"{BEN_PATH}/away", {"words": "for 1w"}, from_page=PAGE)).status == 303
    assert "since 2026-03-02 09:00 UTC, set by Alex Admin via console" in await web.page(PAGE)
    assert (await web.post(f"{BEN_PATH}/back", {}, from_page=PAGE)).status == 303
    assert (await web.post(f"{BEN_PATH}/back", {}, from_page=PAGE)).status == 303  # not away: nothing to audit
    now = web.clock.now()
    assert await audited(web) == [
        (
            AWAY_SET,
            LEE.key,
            {
                "person": BEN.key,
                "until": "2026-03-05T09:00:00+00:00",
                "words": "for 3d at a conference",
                "via": "console",
                "by_name": "Lee",
            },
        ),
        (AWAY_ENDED, LEE.key, {"person": BEN.key, "via": "console"}),
        (
            AWAY_SET,
            ADMIN.key,
            {
                "person": BEN.key,
                "until": "2026-03-09T09:00:00+00:00",
                "words": "for 1w",
                "via": "console",
                "by_name": "Alex Admin",
            },
        ),
        (AWAY_ENDED, ADMIN.key, {"person": BEN.key, "via": "console"}),
    ]
    async with web.runtime.store.unit_of_work() as uow:
        assert await uow.absences.away(now) == []


ADA_PATH = "/console/communities/sdk/people/slack:U0ADA"


async def test_a_member_sets_themself_away_and_back_on_their_own_row_only(web: Console) -> None:
    await web.sign_in(ADA)  # an sdk expert, not its lead
    page = await web.page(PAGE)
    assert f'action="{ADA_PATH}/away"' in page  # the form on her own row
    assert f'action="{BEN_PATH}/away"' not in page and "/people/slack:U0LEE/" not in page  # none on a colleague's
    assert (await web.post(f"{ADA_PATH}/away", {"words": "for 2d"}, from_page=PAGE)).status == 303
    page = await web.page(PAGE)
    assert "set by Ada via console" in page and f'action="{ADA_PATH}/back"' in page
    async with web.runtime.store.unit_of_work() as uow:
        assert [a.person for a in await uow.absences.away(web.clock.now())] == [ADA.key]
    assert (await web.post(f"{ADA_PATH}/back", {}, from_page=PAGE)).status == 303
    assert "set by" not in await web.page(PAGE)
    refused = await web.post(f"{BEN_PATH}/away", {"words": "for 2d"}, from_page=PAGE)
    assert refused.status == 403
    assert "only an admin or the Mobile SDK lead can set someone else&#39;s" in await refused.text()
    async with web.runtime.store.unit_of_work() as uow:
        assert await uow.absences.away(web.clock.now()) == []
        rows = await uow.audit.for_escalation(availability_subject(ADA))
    assert [(r.action, r.actor, r.detail.get("via")) for r in rows] == [
        (AWAY_SET, ADA.key, "console"),
        (AWAY_ENDED, ADA.key, "console"),
    ]
    assert await audited(web) == []  # nothing written about Ben
