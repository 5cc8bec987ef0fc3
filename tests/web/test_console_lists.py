"""The escalations list at size: pages that go on from a place ("older than this one"), old
counted ``page=`` links, and the words filter through the question's full-text index, on
SQLite and PostgreSQL."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, text

import adapters.web.views.escalations as views
from storage import Store
from storage.console import ConsoleStore, list_query
from storage.question_words import question_has
from storage.tables import EscalationRow
from tests.conftest import on_postgres
from workflows.commands import Cancel, Claim, Resolve
from workflows.console import EscalationFilter, Reach
from workflows.ports import Scope

from .conftest import ADA, ADMIN, GLOBEX_USER, SAM, Console


def _questions(page: str) -> list[str]:
    return re.findall(r'<a href="/console/escalations/[^"]+">Question (\d+)', page)


def _link(page: str, rel: str) -> str | None:
    found = re.search(rf'<a href="(\?[^"]*)" rel="{rel}">', page)
    return "/console/escalations" + html.unescape(found.group(1)) if found else None


async def test_pages_go_on_from_the_last_one_shown_and_back(web: Console, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(views, "PER_PAGE", 3)
    opened = []
    for n in range(8):
        opened.append(await web.open(SAM, "sdk" if n != 5 else "billing", f"Question {n}: the build fails"))
        if n % 2:  # two at a time share their creation time: the id orders them
            web.clock.advance(timedelta(minutes=7))
    newest = [e.question.split()[1].rstrip(":") for e in sorted(opened, key=lambda e: (e.created_at, e.id))][::-1]
    await web.sign_in(ADMIN)

    first = await web.page("/console/escalations")
    assert _questions(first) == newest[:3] and _link(first, "prev") is None
    second = await web.page(_link(first, "next") or "")
    assert _questions(second) == newest[3:6]
    last = await web.page(_link(second, "next") or "")
    assert _questions(last) == newest[6:] and _link(last, "next") is None
    back = await web.page(_link(last, "prev") or "")
    assert _questions(back) == newest[3:6]
    assert _questions(await web.page(_link(back, "prev") or "")) == newest[:3]

    # The filters go on with the place; an old counted link still shows its page.
    sdk = [n for n in newest if n != "5"]
    first_sdk = await web.page("/console/escalations?community=sdk&words=build")
    assert _questions(first_sdk) == sdk[:3]
    assert _questions(await web.page(_link(first_sdk, "next") or "")) == sdk[3:6]
    assert _questions(await web.page("/console/escalations?page=2")) == newest[3:6]
    too_far = await web.page(f"/console/escalations?page={views.MAX_COUNTED_PAGE + 1}")
    assert "page: counted pages stop at" in too_far and _questions(too_far) == newest[:3]
    made_up = await web.page("/console/escalations?before=yesterday")
    assert "before: &#39;yesterday&#39; is not a place in the list" in made_up
    assert _questions(made_up) == newest[:3]


async def test_the_words_filter_finds_questions_in_every_state_by_their_words(web: Console) -> None:
    open_one = await web.open(SAM, "sdk", "Token refresh fails on Android")
    resolved = await web.open(SAM, "sdk", "OAuth tokens stop refreshing after an hour")
    await web.runtime.service.handle(Claim(id="c", escalation_id=resolved.id, actor=ADA))
    await web.runtime.service.handle(Resolve(id="r", escalation_id=resolved.id, actor=ADA, answer="Rotate the key."))
    cancelled = await web.open(SAM, "billing", "Refresh token expired early; 100% of logins fail")
    await web.runtime.service.handle(Cancel(id="x", escalation_id=cancelled.id, actor=SAM, reason="duplicate"))
    await web.open(SAM, "billing", "Invoice totals are wrong")
    await web.open(GLOBEX_USER, "globex", "Token refresh broken for Globex")
    await web.sign_in(ADMIN)

    found = await web.page("/console/escalations?words=token+refresh")
    for esc in (open_one, resolved, cancelled):
        assert esc.id in found
    assert "Invoice" not in found and "Globex" not in found  # another tenant's reads as missing
    assert "Android" in await web.page("/console/escalations?words=ANDROID+refr")  # any case, a prefix
    assert "Android" not in await web.page("/console/escalations?words=token+invoice")  # every word
    only_open = await web.page("/console/escalations?words=token&state=open")
    assert open_one.id in only_open and resolved.id not in only_open


@pytest.mark.parametrize("typed", ["%", "_", "100%", "'", '"token', "token' OR '1'='1", "<script>", "a\\b", "*:"])
async def test_the_words_filter_reads_what_is_typed_as_words_only(web: Console, typed: str) -> None:
    await web.open(SAM, "sdk", "Token refresh fails on Android")
    await web.open(SAM, "sdk", "Invoice totals are wrong")
    await web.sign_in(ADMIN)
    page = await web.page(f"/console/escalations?words={typed.replace('%', '%25')}")
    assert "<script>" not in page.split("<main", 1)[-1]  # what was typed comes back escaped
    if typed in ("%", "_", "'", "*:", "<script>"):
        assert "No escalation matches" in page
    assert "Invoice" not in page or typed == "a\\b"


async def test_the_list_and_the_words_filter_read_through_their_indexes(store: Store) -> None:
    """The planner can use them (with tables this small it would rather scan, so scans and
    sorts are switched off): the list's order from ix_escalations_created with the tenant as
    a probe of pk_escalation_scopes, and the question's words from ix_escalations_words."""
    if not on_postgres():
        async with store.engine.connect() as conn:
            names = {r[0] for r in (await conn.execute(text("SELECT name FROM sqlite_master"))).all()}
        assert {"escalation_words", "escalation_words_fts", "ix_escalations_created"} <= names
        return
    reach = Reach(scope=Scope("slack", "T0ACME"))
    first = list_query(reach, EscalationFilter(), "postgresql")
    words = select(EscalationRow.id).where(question_has("token refresh", "postgresql"))
    plans = []
    async with store.engine.connect() as conn:
        await conn.execute(text("SET enable_seqscan = off"))
        await conn.execute(text("SET enable_sort = off"))
        for query in (first, words):
            sql = str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
            plans.append("\n".join(r[0] for r in (await conn.exec_driver_sql("EXPLAIN " + sql)).all()))
    assert "ix_escalations_created" in plans[0] and "pk_escalation_scopes" in plans[0], plans[0]
    assert "ix_escalations_words" in plans[1], plans[1]

    # Each run is planned for its own words: no cached generic plan made for common words.
    statements: list[str] = []

    def keep(conn: Any, cursor: Any, statement: str, *rest: Any) -> None:
        statements.append(statement)

    event.listen(store.engine.sync_engine, "before_cursor_execute", keep)
    try:
        await ConsoleStore(store).escalations(reach, EscalationFilter(words="zebra"))
    finally:
        event.remove(store.engine.sync_engine, "before_cursor_execute", keep)
    custom = [n for n, s in enumerate(statements) if "force_custom_plan" in s]
    assert custom and custom[0] < next(n for n, s in enumerate(statements) if "ix_" in s or "escalations.data" in s)
