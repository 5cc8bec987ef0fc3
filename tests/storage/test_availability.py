"""Availability over a real database: away is stored with who said it and when, honoured by
another replica's assignment, moves what the person held, and ends by itself or with back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.runtime import Runtime
from storage import Store
from storage.tables import AbsenceRow
from tests.support import ADA, BEN, CHEN, LEE, SAM, RecordingSender, directory
from workflows.clock import FakeClock
from workflows.commands import Accept, Assign
from workflows.effects import Notify, ThreadReply
from workflows.errors import Refused
from workflows.model import Platform


@pytest.fixture
def sender() -> RecordingSender:
    return RecordingSender()


@pytest.fixture
async def replicas(store: Store, clock: FakeClock, sender: RecordingSender) -> tuple[Runtime, Runtime]:
    """Two replicas on one database, each with its own service."""
    one = Runtime(store, directory(), {Platform.slack: sender}, clock=clock, holder="one")
    two = Runtime(store, directory(), {Platform.slack: sender}, clock=clock, holder="two")
    return one, two


async def opened(runtime: Runtime) -> str:
    esc = (await runtime.service.open(requester=SAM, community_key="sdk", question="Why?")).escalation
    assert esc is not None
    return esc.id


async def test_away_is_stored_with_who_and_when_and_the_other_replica_honours_it(
    replicas: tuple[Runtime, Runtime], store: Store, clock: FakeClock, sender: RecordingSender
) -> None:
    one, two = replicas
    esc_id = await opened(one)
    said = await one.service.presence.away(ADA, "until 2026-03-06 conference", "Europe/London")
    assert said.text.startswith("You are away until Fri 06 Mar 2026 00:00 Europe/London (conference).")
    async with store.unit_of_work() as uow:
        [row] = (await uow.session.execute(select(AbsenceRow))).scalars().all()
    assert (row.person, row.set_by, row.set_at, row.note) == ("slack:U0ADA", "slack:U0ADA", clock.now(), "conference")
    assert row.until == datetime(2026, 3, 6, tzinfo=UTC)  # London is on UTC in March
    # The timers run on the other replica: the nudge leaves Ada out, the assignment passes her over.
    clock.advance(timedelta(minutes=31))
    await two.sweep()
    clock.advance(timedelta(hours=2))
    await two.sweep()
    esc = await two.service.get(esc_id, None)
    assert esc is not None and esc.owner is not None and esc.owner.person.id == "U0BEN"
    await two.dispatch()
    [nudge] = [e for _, e in sender.delivered if isinstance(e, ThreadReply) and e.notice.value == "nudge"]
    assert "U0ADA" not in [p.id for p in nudge.mentions]
    async with store.unit_of_work() as uow:
        trail = await uow.audit.for_escalation(esc_id)
    assert trail[-1].action == "auto_assigned"
    assert trail[-1].detail["away"] == {"slack:U0ADA": "2026-03-06T00:00:00+00:00"}


async def test_going_away_moves_on_all_they_hold_unless_they_keep_what_they_accepted(
    replicas: tuple[Runtime, Runtime], sender: RecordingSender
) -> None:
    one, two = replicas
    assigned = await opened(one)
    accepted = await opened(one)
    await one.service.handle(Assign(id="a1", escalation_id=assigned, actor=LEE, assignee=ADA))
    await one.service.handle(Assign(id="a2", escalation_id=accepted, actor=LEE, assignee=ADA))
    await one.service.handle(Accept(id="ok", escalation_id=accepted, actor=ADA))
    said = await two.service.presence.away(ADA, "for 1w keep, at the offsite")
    assert said.moved == 1 and "(at the offsite)" in said.text
    assert "1 question you held moved on to the next expert. You keep 1 question you took on." in said.text
    moved = await one.service.get(assigned, None)
    kept = await one.service.get(accepted, None)
    assert moved is not None and moved.owner is not None and moved.owner.person.same(BEN)
    assert kept is not None and kept.owner is not None and kept.owner.person.same(ADA)
    await one.dispatch()
    told = [(e.person.id, e.text) for _, e in sender.delivered if isinstance(e, Notify) and e.escalation_id == assigned]
    because = "because slack:U0ADA is away until Mon 09 Mar 2026 09:00 UTC"
    assert any(who == "U0SAM" and because in text for who, text in told)
    assert any(who == "U0BEN" and "It comes to you because slack:U0ADA is away until" in text for who, text in told)
    # Away again without keep: what Ada accepted moves on too, the requester and Ben told why.
    said = await one.service.presence.away(ADA, "for 2w")
    assert said.moved == 1 and "1 question you held moved on" in said.text and "You keep" not in said.text
    gone = await one.service.get(accepted, None)
    assert gone is not None and gone.owner is not None and gone.owner.person.same(BEN)
    await one.dispatch()
    told = [(e.person.id, e.text) for _, e in sender.delivered if isinstance(e, Notify) and e.escalation_id == accepted]
    assert any(who == "U0SAM" and "because slack:U0ADA is away until" in text for who, text in told)
    assert any(who == "U0BEN" and "It comes to you because slack:U0ADA is away until" in text for who, text in told)


async def test_everyone_away_goes_to_the_lead(replicas: tuple[Runtime, Runtime], clock: FakeClock) -> None:
    one, two = replicas
    esc_id = await opened(one)
    for expert in (ADA, BEN, CHEN):
        await one.service.presence.away(expert, "for 3d")
    clock.advance(timedelta(hours=3))
    await two.sweep()
    esc = await two.service.get(esc_id, None)
    assert esc is not None and esc.owner is not None and esc.owner.person.id == "U0LEE"
    async with two.store.unit_of_work() as uow:
        trail = await uow.audit.for_escalation(esc_id)
    assert "nobody in the Mobile SDK rotation is available until" in trail[-1].detail["because"]


async def test_back_and_an_end_date_that_passed_both_end_it(
    replicas: tuple[Runtime, Runtime], clock: FakeClock
) -> None:
    one, _ = replicas
    await one.service.presence.away(ADA, "for 1h")
    await one.service.presence.away(BEN, "")
    async with one.store.unit_of_work() as uow:
        assert [a.person for a in await uow.absences.away(clock.now())] == ["slack:U0ADA", "slack:U0BEN"]
    clock.advance(timedelta(hours=2))
    assert (await one.service.presence.back(BEN)).text.startswith("Welcome back")
    assert (await one.service.presence.back(BEN)).text == "You were not away; nothing changed."
    async with one.store.unit_of_work() as uow:
        assert await uow.absences.away(clock.now()) == []


@pytest.mark.parametrize(
    ("words", "message"),
    [
        ("until 2026-03-01", "has already begun"),
        ("until someday", "is not a date I know"),
        ("for ever", "not a duration"),
    ],
)
async def test_bad_words_are_refused_and_nothing_is_stored(
    replicas: tuple[Runtime, Runtime], clock: FakeClock, words: str, message: str
) -> None:
    one, _ = replicas
    with pytest.raises(Refused, match=message):
        await one.service.presence.away(ADA, words)
    async with one.store.unit_of_work() as uow:
        assert await uow.absences.away(clock.now()) == []
