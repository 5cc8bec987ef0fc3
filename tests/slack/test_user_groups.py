"""A Slack user group as a roster (``experts: ["slack:usergroup:S…"]``), over signed Slack
events against the fake Web API: its members are assigned to, it follows
``subteam_members_changed`` and ``subteam_updated``, it is read from the cache (never per
assignment), and a group Slack will not give is said clearly with nothing else changed."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from bot.cli import main
from storage import Store
from workflows.clock import FakeClock

from .conftest import CONFIG, SlackHarness, make_harness
from .fake_slack import FakeSlack

GROUP = "S0SDKONCALL"
GROUP_CONFIG = CONFIG.replace(
    'experts: ["slack:U0ADA", "slack:U0BEN", "slack:U0CHEN"]', f'experts: ["slack:usergroup:{GROUP}"]', 1
)


async def _harness(store: Store, clock: FakeClock, fake: FakeSlack, config: str = GROUP_CONFIG) -> SlackHarness:
    slack, client = await make_harness(store, clock, fake, config=config)
    slack.client = client
    # Read now (the startup read runs in the background too; reading twice changes nothing).
    await slack.platform.user_groups.read_all()
    return slack


async def test_a_user_group_roster_assigns_to_its_members_and_follows_slack(
    store: Store, clock: FakeClock, fake_slack: FakeSlack
) -> None:
    fake_slack.user_groups[GROUP] = ["U0ADA", "U0BEN"]
    slack = await _harness(store, clock, fake_slack)
    try:
        assert fake_slack.of("usergroups.users.list", usergroup=GROUP)
        reads = len(fake_slack.of("usergroups.users.list"))
        reply = await slack.command("sdk Why does the build fail on arm64?")
        assert reply.status == 200
        await slack.settle()
        await slack.wait(hours=2, minutes=1)
        esc = await slack.only_escalation()
        assert [e.key for e in esc.community.experts] == ["slack:U0ADA", "slack:U0BEN"]
        assert esc.owner is not None and esc.owner.person.id == "U0ADA"
        # The assignment came from the cache: Slack was not asked again.
        assert len(fake_slack.of("usergroups.users.list")) == reads

        # An admin takes Ada and Ben out of the group in Slack and puts Chen in.
        fake_slack.user_groups[GROUP] = ["U0CHEN"]
        reply = await slack.event(
            "subteam_members_changed",
            subteam=GROUP,
            added=["U0CHEN"],
            added_count="1",
            removed=["U0ADA", "U0BEN"],
            removed_count="2",
        )
        assert reply.status == 200
        await slack.settle()
        esc = await slack.escalation(esc.id)
        # Ada left the roster: the question she held moved on to the group's member now.
        assert esc.owner is not None and esc.owner.person.id == "U0CHEN"
        assert [e.key for e in esc.community.experts] == ["slack:U0CHEN"]
        assert any("<@U0CHEN>" in str(c.args) for c in fake_slack.posts() if c.args["channel"] in ("U0CHEN", "D0CHEN"))

        # subteam_updated (the whole group, or a rename) reads it again too; other groups are no roster.
        fake_slack.user_groups[GROUP] = ["U0CHEN", "U0DANA"]
        reply = await slack.event("subteam_updated", subteam=GROUP, users=["U0CHEN", "U0DANA"], user_count=2)
        assert reply.status == 200
        before = len(fake_slack.of("usergroups.users.list"))
        reply = await slack.event("subteam_updated", subteam="S0SOMEOTHER", users=["U0ADA"], user_count=1)
        assert reply.status == 200
        assert len(fake_slack.of("usergroups.users.list")) == before
        esc = await slack.escalation(esc.id)
        assert [e.key for e in esc.community.experts] == ["slack:U0CHEN"]  # read on its next step
        async with store.unit_of_work() as uow:
            live = await slack.runtime.service.live_community(uow, "sdk")
        assert live is not None and [e.key for e in live.experts] == ["slack:U0CHEN", "slack:U0DANA"]

        # Disabled in Slack: said so; the members last read stay until the configuration changes.
        reply = await slack.event("subteam_updated", subteam=GROUP, users=[], user_count=0, date_delete=1772443000)
        assert reply.status == 200
        [cached] = await slack.runtime.service.user_groups.cached()
        assert cached.error is not None and cached.error.startswith("the user group was disabled in Slack")
        assert cached.members == ("U0CHEN", "U0DANA")
    finally:
        await slack.client.close()


async def test_named_experts_and_a_group_together_count_each_person_once(
    store: Store, clock: FakeClock, fake_slack: FakeSlack
) -> None:
    config = GROUP_CONFIG.replace(f'["slack:usergroup:{GROUP}"]', f'["slack:U0BEN", "slack:usergroup:{GROUP}"]', 1)
    fake_slack.user_groups[GROUP] = ["U0ADA", "U0BEN"]
    slack = await _harness(store, clock, fake_slack, config)
    try:
        reply = await slack.command("sdk Why does the build fail on arm64?")
        assert reply.status == 200
        esc = await slack.only_escalation()
        assert [e.key for e in esc.community.experts] == ["slack:U0BEN", "slack:U0ADA"]
        assert esc.community.experts[0].name == "Ben"
    finally:
        await slack.client.close()


async def test_a_group_slack_will_not_give_is_said_clearly_and_changes_nothing_else(
    store: Store,
    clock: FakeClock,
    fake_slack: FakeSlack,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="escalation_bot.user_groups")
    config = GROUP_CONFIG.replace(f'["slack:usergroup:{GROUP}"]', '["slack:U0BEN", "slack:usergroup:S0NOSUCH1"]', 1)
    slack = await _harness(store, clock, fake_slack, config)
    try:
        warnings = [r for r in caplog.records if r.getMessage() == "user group cannot be read"]
        assert warnings and warnings[0].user_group == "slack:usergroup:S0NOSUCH1"
        assert warnings[0].error.startswith("no user group has this id in the workspace")
        cached = await slack.runtime.service.user_groups.cached()
        assert [(c.key, c.members, c.error is not None) for c in cached] == [("slack:usergroup:S0NOSUCH1", (), True)]
        # The rest of the community works as configured: Ben is assigned.
        reply = await slack.command("sdk Why does the build fail on arm64?")
        assert reply.status == 200
        await slack.settle()
        await slack.wait(hours=2, minutes=1)
        esc = await slack.only_escalation()
        assert esc.owner is not None and esc.owner.person.id == "U0BEN"

        # A group read before and unreadable now keeps the members last read.
        fake_slack.user_groups["S0NOSUCH1"] = ["U0ADA"]
        assert await slack.platform.user_groups.read_all() == 1
        del fake_slack.user_groups["S0NOSUCH1"]
        assert await slack.platform.user_groups.read_all() == 0
        cached = await slack.runtime.service.user_groups.cached()
        assert cached[0].members == ("U0ADA",) and cached[0].error is not None
        # An app installed from an older manifest may not read user groups: said how to fix it.
        fake_slack.fail("usergroups.users.list", "missing_scope")
        assert await slack.platform.user_groups.read_all() == 0
        [cached_group] = await slack.runtime.service.user_groups.cached()
        assert cached_group.error == (
            "the bot may not read user groups: add the usergroups:read scope and reinstall the app (missing_scope)"
        )
        assert cached_group.members == ("U0ADA",)
        esc = await slack.escalation(esc.id)
        assert esc.owner is not None and esc.owner.person.id == "U0BEN"
    finally:
        await slack.client.close()


async def test_config_check_asks_slack_about_each_user_group(
    tmp_path: Path, fake_slack: FakeSlack, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "escalation.yaml"
    path.write_text(
        GROUP_CONFIG.replace(
            f'["slack:usergroup:{GROUP}"]', f'["slack:usergroup:{GROUP}", "slack:usergroup:S0NOSUCH1"]'
        )
    )
    fake_slack.user_groups[GROUP] = ["U0ADA", "U0BEN"]
    monkeypatch.setenv("SLACK_API_URL", fake_slack.api_url)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    assert await asyncio.to_thread(main, ["config", "check", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"experts: slack:usergroup:{GROUP} (its members), slack:usergroup:S0NOSUCH1 (its members)" in out
    assert f"user group slack:usergroup:{GROUP}: not checked (SLACK_BOT_TOKEN is not set)" in out

    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-token")
    assert await asyncio.to_thread(main, ["config", "check", str(path)]) == 1
    out, err = capsys.readouterr()
    assert f"user group slack:usergroup:{GROUP}: 2 members in Slack" in out
    assert err.strip() == (
        "error: user group slack:usergroup:S0NOSUCH1: no user group has this id in the workspace "
        "(use the id, like S0123ABCD, not the @handle) (no_such_subteam)"
    )
    assert "Traceback" not in err


def test_a_user_group_id_that_is_not_one_is_refused_in_the_config(tmp_path: Path) -> None:
    from bot.config import ConfigError, parse_config

    with pytest.raises(ConfigError) as refused:
        parse_config(GROUP_CONFIG.replace(GROUP, "@sdk-oncall"), "x.yaml")
    assert str(refused.value) == (
        "x.yaml: community 'sdk', experts[0]: '@sdk-oncall' is not a Slack user group id (like S0123ABCD); "
        "use the id, not the @handle"
    )


async def test_a_members_slack_status_makes_them_away_until_it_expires(
    store: Store, clock: FakeClock, fake_slack: FakeSlack
) -> None:
    fake_slack.user_groups[GROUP] = ["U0ADA", "U0BEN"]
    slack = await _harness(store, clock, fake_slack)
    try:
        # Ada is in the rotation only through the group; Slack sends her whole profile.
        expires = int(clock.now().timestamp()) + 3 * 3600
        reply = await slack.event("user_change", user="U0ADA", emoji=":palm_tree:", text="Skiing", expiration=expires)
        assert reply.status == 200
        # The digest lists her among who is away.
        assert await slack.runtime.digest() >= 1
        await slack.settle()
        digest = [c.args for c in fake_slack.posts("C0SDK0001") if "Away:" in str(c.args)]
        assert digest and "U0ADA" in str(digest[-1]), digest
        reply = await slack.command("sdk Why does the build fail on arm64?")
        assert reply.status == 200
        await slack.settle()
        await slack.wait(hours=2, minutes=1)
        esc = await slack.only_escalation()
        assert esc.owner is not None and esc.owner.person.id == "U0BEN"
        # The status has expired: when Ben goes away, his question moves on to Ada (not the lead).
        await slack.wait(hours=1)
        reply = await slack.command("away for 1w", user="U0BEN")
        assert reply.status == 200
        esc = await slack.escalation(esc.id)
        assert esc.owner is not None and esc.owner.person.id == "U0ADA"
    finally:
        await slack.client.close()
