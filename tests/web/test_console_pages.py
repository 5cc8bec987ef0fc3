"""What the escalations' pages promise and no other test looks at: the owner filter, the
next timer, and links that open the Slack or Teams thread (on the escalation and on a
knowledge answer)."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

from workflows.commands import Claim, Resolve
from workflows.model import MessageRef, Platform

from .conftest import ADA, ADMIN, BEN, SAM, TENANT, Console


def hrefs(html: str, text: str) -> list[str]:
    return [h.replace("&amp;", "&") for h in re.findall(rf'<a href="([^"]+)"[^>]*>{re.escape(text)}</a>', html)]


async def test_the_owner_filter_shows_whose_questions_they_are(web: Console) -> None:
    bens = await web.open(SAM, "sdk", "Held by Ben")
    adas = await web.open(SAM, "sdk", "Held by Ada")
    await web.open(SAM, "sdk", "Held by nobody")
    await web.runtime.service.handle(Claim(id="c-ben", escalation_id=bens.id, actor=BEN))
    await web.runtime.service.handle(Claim(id="c-ada", escalation_id=adas.id, actor=ADA))
    await web.sign_in(ADMIN)
    found = await web.page("/console/escalations?owner=slack:U0BEN")
    assert "Held by Ben" in found and "Held by Ada" not in found and "Held by nobody" not in found
    found = await web.page("/console/escalations?owner=slack:U0ADA&state=open")
    assert "Held by Ada" in found and "Held by Ben" not in found


async def test_an_escalation_shows_its_next_timer_and_opens_its_threads(web: Console) -> None:
    source = MessageRef(platform=Platform.slack, channel="C0SUPPORT", id="1772450000.000100", tenant="T0ACME")
    esc = await web.open(SAM, "sdk", "Where is the changelog?", source=source)
    await web.sign_in(ADMIN)
    html = await web.page(f"/console/escalations/{esc.id}")
    due = (web.clock.now() + timedelta(minutes=30)).strftime("%Y-%m-%d %H:%M UTC")
    assert f"<dt>Next timer</dt><dd>nudge at {due}</dd>" in html  # the sdk policy's nudge_after: 30m

    [slack] = hrefs(html, "Open in Slack")
    assert slack.startswith("https://slack.com/app_redirect?")
    query = parse_qs(urlsplit(slack).query)
    assert query["channel"] == ["C0SDK0001"] and query["message_ts"]
    [teams] = hrefs(html, "Open in Teams")
    assert teams.startswith("https://teams.microsoft.com/l/message/19%3Asdk%40thread.tacv2/")
    assert parse_qs(urlsplit(teams).query)["parentMessageId"]

    await web.runtime.service.handle(Resolve(id="r-1", escalation_id=esc.id, actor=ADA, answer="In CHANGES.md."))
    html = await web.page(f"/console/escalations/{esc.id}")
    assert "<dt>Next timer</dt><dd>none</dd>" in html
    knowledge = await web.page("/console/knowledge?q=changelog")
    assert "In CHANGES.md." in knowledge and "answered by Ada" in knowledge
    [thread] = hrefs(knowledge, "thread")
    assert thread.startswith(("https://slack.com/app_redirect?", "https://teams.microsoft.com/l/message/"))


def test_a_slack_link_names_the_workspace_when_the_card_says_it() -> None:
    from adapters.web.links import thread_link

    card = MessageRef(platform=Platform.slack, channel="C0SDK0001", id="1772450000.000100", tenant="T0ACME")
    link = thread_link(card)
    assert link is not None
    assert parse_qs(urlsplit(link).query) == {
        "channel": ["C0SDK0001"],
        "team": ["T0ACME"],
        "message_ts": ["1772450000.000100"],
    }
    teams = MessageRef(platform=Platform.teams, channel="19:sdk@thread.tacv2", id="1772450000100", tenant=TENANT)
    link = thread_link(teams)
    assert link is not None and parse_qs(urlsplit(link).query)["tenantId"] == [TENANT]
