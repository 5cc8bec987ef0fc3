"""One Teams person, two ids: the ``29:`` chat id and the Entra object id. The core treats
them as one person once either side says both, always within one tenant."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, parse_config
from workflows.console import viewer_for
from workflows.directory import is_admin
from workflows.model import PersonRef, Platform

TENANT = "tid-1"
CONFIG = """
admins: {admins}
people:
  - {{name: Ada, slack: U0ADA, teams: "29:ada"}}
communities:
  - key: sdk
    slack: {{channel: C0SDK0001}}
    teams: {{channel: "19:sdk@thread.tacv2", tenant: tid-1}}
    experts: [ada]
    lead: "teams:29:lee"
"""


def teams(ident: str, tenant: str = TENANT, aad: str | None = None) -> PersonRef:
    return PersonRef(platform=Platform.teams, id=ident, tenant=tenant, aad=aad)


def test_a_chat_id_and_an_object_id_are_one_person_when_either_says_both() -> None:
    chat = teams("29:ada", aad="oid-ada")
    assert chat.same(teams("oid-ada")) and teams("oid-ada").same(chat)
    assert teams("29:ada").same(teams("oid-ada", aad="oid-ada")) is False  # nobody said both
    assert not chat.same(teams("oid-ada", tenant="other"))  # never across tenants
    assert not chat.same(PersonRef(platform=Platform.slack, id="oid-ada"))
    # Never stored with the person: an escalation's JSON is as before.
    assert "aad" not in chat.model_dump() and chat == teams("29:ada")


@pytest.mark.parametrize("admins", ['["teams:29:ada"]', '["teams:oid-ada"]', "[ada]", "[Ada]"])
def test_an_admin_is_named_by_chat_id_object_id_or_people_name(admins: str) -> None:
    directory = parse_config(CONFIG.format(admins=admins), "c.yaml")
    signed_in = teams("oid-ada", aad="oid-ada")  # as an Entra sign-in names her
    viewer = viewer_for(signed_in, directory.all(), directory.admins, teams("29:ada", aad="oid-ada"))
    assert viewer.admin and viewer.person.key == "teams:29:ada" and viewer.communities == ("sdk",)
    assert viewer.reach().scope is not None and viewer.reach().scope.tenant == TENANT  # type: ignore[union-attr]
    # The service's own check, on the commands the console sends as her:
    assert is_admin(directory, viewer.person)


def test_a_chat_identity_of_another_tenant_or_object_id_is_ignored() -> None:
    directory = parse_config(CONFIG.format(admins='["teams:29:ada"]'), "c.yaml")
    signed_in = teams("oid-ada", aad="oid-ada")
    for wrong in (teams("29:ada", tenant="other", aad="oid-ada"), teams("29:ada", aad="oid-someone-else")):
        viewer = viewer_for(signed_in, directory.all(), directory.admins, wrong)
        assert viewer.person.key == "teams:oid-ada" and not viewer.admin and viewer.communities == ()


def test_a_lead_known_only_by_chat_id_leads_once_teams_said_who_they_are() -> None:
    directory = parse_config(CONFIG.format(admins="[]"), "c.yaml")
    signed_in = teams("oid-lee", aad="oid-lee")
    assert viewer_for(signed_in, directory.all(), directory.admins).leads == ()
    viewer = viewer_for(signed_in, directory.all(), directory.admins, teams("29:lee", aad="oid-lee"))
    assert viewer.leads == ("sdk",) and viewer.reach().requester == "teams:29:lee"


def test_an_admin_name_nobody_has_is_named() -> None:
    with pytest.raises(ConfigError, match=r"c.yaml: admins\[0\]: 'bob' is not a person: no one in people"):
        parse_config(CONFIG.format(admins="[bob]"), "c.yaml")
