"""Signing in with Microsoft Entra ID names a person by their object id (``oid``); Teams
chat knows them by their ``29:`` id. The console matches the two through what Teams
activities say (``aadObjectId``), within the tenant: their own questions, their
communities, and admins named by either id."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from storage.console import ConsoleStore
from storage.tables import AuditRow, TeamsPersonRow
from tests.teams.conftest import SAM as TEAMS_SAM
from tests.teams.conftest import connector, login, make_teams  # noqa: F401 - fixtures used below
from tests.teams.fakes import FakeConnector, FakeLogin
from workflows.clock import FakeClock
from workflows.model import PersonRef, Platform, Status

from .conftest import SAM, TENANT
from .test_oidc import SignIn, signin  # noqa: F401 - the fixture is used below

ADA_TEAMS = ("29:ada", "Ada")  # Ada of the console's configuration: people {slack: U0ADA, teams: "29:ada"}


@dataclass
class Harness:
    """The console with Entra sign-in, and Teams on the same database."""

    signin: SignIn
    clock: FakeClock
    login: FakeLogin
    connector: FakeConnector

    async def teams_says(self, *said: tuple[tuple[str, str], str]) -> None:
        """People write to the bot in Teams (a real activity each, through /api/messages)."""
        store = self.signin.web.runtime.store
        async for teams in make_teams(store, self.clock, self.login, self.connector):
            await teams.install()
            for who, text in said:
                await teams.say(who, text)


@pytest.fixture
async def both(signin: SignIn, clock: FakeClock, login: FakeLogin, connector: FakeConnector) -> Harness:  # noqa: F811
    return Harness(signin, clock, login, connector)


async def _entra(signin: SignIn, oid: str, name: str) -> str:  # noqa: F811
    signin.web.sign_out_locally()
    signin.entra.claims.update({"oid": oid, "name": name})
    response = await signin.through("entra")
    assert response.status == 200, await response.text()
    return str(await response.text())


async def test_a_teams_requester_signed_in_with_entra_sees_their_own_questions(both: Harness) -> None:
    web, store = both.signin, both.signin.web.runtime.store
    await both.teams_says((TEAMS_SAM, "sdk The iOS build crashes at launch"))
    async with store.unit_of_work() as uow:
        rows = (await uow.session.execute(select(TeamsPersonRow))).scalars().all()
    # Who installed the app, and who asked: each by their object id, in the tenant.
    assert {(r.tenant, r.aad_object_id, r.user_id) for r in rows} == {
        (TENANT, "aad-installer", "29:installer"),
        (TENANT, "aad-29:sam", "29:sam"),
    }
    await web.web.open(SAM, "billing", "A Slack question of another person")

    page = await _entra(web, "aad-29:sam", "Sam Teams")
    assert "The iOS build crashes at launch" in page and "A Slack question" not in page
    assert "Sam Teams" in page and "· admin" not in page


async def test_an_expert_signed_in_with_entra_sees_their_community(both: Harness) -> None:
    web = both.signin
    await both.teams_says((TEAMS_SAM, "sdk Gradle sync fails"), (ADA_TEAMS, "help"))
    page = await _entra(web, "aad-29:ada", "Ada Lovelace")
    # Ada is an sdk expert by her Slack id; her people entry gives her Teams id, which Teams
    # said is hers: she sees the sdk question another person asked.
    assert "Gradle sync fails" in page
    assert "Mobile SDK" in await web.web.page("/console/communities")
    # Someone Teams has not seen yet is their object id alone: nobody's questions, no community.
    page = await _entra(web, "aad-29:nobody", "Nora")
    assert "Gradle sync fails" not in page


async def test_an_admin_named_by_object_id_acts_as_their_teams_self(signin: SignIn) -> None:  # noqa: F811
    store = signin.web.runtime.store
    await ConsoleStoreSeed(store).person(TENANT, "entra-admin", "29:erin")
    esc = await signin.web.open(SAM, "sdk", "Please cancel me")
    page = await _entra(signin, "entra-admin", "Erin Entra")  # admins: ["teams:entra-admin", ...]
    assert "Erin Entra · admin" in page
    path = f"/console/escalations/{esc.id}"
    response = await signin.web.post(f"{path}/cancel", {"reason": "duplicate"}, from_page=path)
    assert response.status in (302, 303)
    assert (await signin.web.reload(esc)).status == Status.cancelled
    async with store.unit_of_work() as uow:
        actors = (await uow.session.execute(select(AuditRow.actor).where(AuditRow.action == "cancelled"))).scalars()
        assert list(actors) == ["teams:29:erin"]


async def test_another_tenants_link_is_never_used(signin: SignIn) -> None:  # noqa: F811
    store = signin.web.runtime.store
    seed = ConsoleStoreSeed(store)
    await seed.person("another-tenant", "aad-x", "29:x")
    queries = ConsoleStore(store)
    here = PersonRef(platform=Platform.teams, id="aad-x", tenant=TENANT, aad="aad-x")
    assert await queries.known_as(here) is None
    there = here.model_copy(update={"tenant": "another-tenant"})
    known = await queries.known_as(there)
    assert known is not None and known.key == "teams:29:x" and known.tenant == "another-tenant"


class ConsoleStoreSeed:
    """What the Teams adapter records, written as it writes it."""

    def __init__(self, store: object) -> None:
        from storage.teams_conversations import TeamsConversationStore

        self.conversations = TeamsConversationStore(store)  # type: ignore[arg-type]

    async def person(self, tenant: str, aad: str, user_id: str) -> None:
        await self.conversations.remember_person(tenant, aad, user_id)
