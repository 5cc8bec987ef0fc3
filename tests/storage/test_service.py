"""The service over a real database (SQLite, or PostgreSQL with TEST_DATABASE_URL)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import event, func, select

from bot.runtime import Runtime
from storage import Store
from storage.knowledge import schema_filter
from storage.tables import Base, EscalationRow, OutboxRow
from tests.conftest import on_postgres
from tests.support import ADA, BEN, SAM, RecordingSender, directory, slack
from workflows.clock import FakeClock
from workflows.commands import Accept, Assign, Claim, Reply, Resolve
from workflows.errors import Reason, Refused
from workflows.model import Ball, Escalation, MessageRef, PersonRef, Platform, Status, Step
from workflows.ports import Scope


@pytest.fixture
def sender() -> RecordingSender:
    return RecordingSender()


@pytest.fixture
async def runtime(store: Store, clock: FakeClock, sender: RecordingSender) -> Runtime:
    return Runtime(store, directory(), {Platform.slack: sender}, clock=clock, holder="test")


async def test_migrations_create_exactly_the_models(store: Store) -> None:
    async with store.engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(
                MigrationContext.configure(sync, opts={"include_object": schema_filter}), Base.metadata
            )
        )
    assert diff == []


async def test_open_is_stored_with_audit_and_outbox(runtime: Runtime, store: Store) -> None:
    outcome = await runtime.service.open(requester=SAM, community_key="sdk", question="Why does it crash?")
    esc = outcome.escalation
    assert esc is not None
    loaded = await runtime.service.get(esc.id, Scope.of(SAM))
    assert loaded == esc
    assert loaded.next_step == Step.nudge
    async with store.unit_of_work() as uow:
        trail = await uow.audit.for_escalation(esc.id)
        rows = await uow.outbox.list()
    assert [a.action for a in trail] == ["opened"]
    assert [(r.kind, r.status, r.target) for r in rows] == [
        ("post_card", "pending", "C0SDK0001"),
        ("notify", "pending", "dm:U0SAM"),  # the requester's confirmation, after the card
    ]


async def test_unknown_community_is_refused_with_the_known_ones(runtime: Runtime, store: Store) -> None:
    with pytest.raises(Refused) as refusal:
        await runtime.service.open(requester=SAM, community_key="nope", question="?")
    assert refusal.value.reason == Reason.unknown_community
    assert "sdk" in refusal.value.message and "billing" in refusal.value.message
    async with store.unit_of_work() as uow:
        assert await uow.outbox.list() == []


async def test_queries_are_scoped_to_the_workspace(runtime: Runtime) -> None:
    esc = (await runtime.service.open(requester=SAM, community_key="sdk", question="q")).escalation
    assert esc is not None
    assert await runtime.service.get(esc.id, Scope("slack", "T0ACME")) is not None
    assert await runtime.service.get(esc.id, Scope("slack", "T0OTHER")) is None
    assert await runtime.service.get(esc.id, Scope("teams", "tenant-1")) is None
    intruder = slack("U0ADA", tenant="T0OTHER")
    with pytest.raises(Refused) as refusal:
        await runtime.service.handle(Claim(id="c1", escalation_id=esc.id, actor=intruder), scope=Scope.of(intruder))
    assert refusal.value.reason == Reason.not_found
    assert await runtime.service.requested_by(SAM, Scope("slack", "T0OTHER")) == []
    assert [e.id for e in await runtime.service.requested_by(SAM, Scope.of(SAM))] == [esc.id]


async def test_cards_and_messages_are_found_only_within_the_workspace(runtime: Runtime, store: Store) -> None:
    first = (await runtime.service.open(requester=SAM, community_key="sdk", question="q1")).escalation
    second = (await runtime.service.open(requester=SAM, community_key="sdk", question="q2")).escalation
    assert first is not None and second is not None
    await runtime.dispatch()  # posts both cards (and DMs the requester about each)
    home = Scope.of(SAM)
    cards = await runtime.service.cards_of([second.id, "nope", first.id], home)
    assert list(cards) == [second.id, first.id]  # the order asked, unknown ids left out
    assert all(len(refs) == 1 and refs[0].channel == "C0SDK0001" for refs in cards.values())
    assert await runtime.service.cards_of([first.id, second.id], Scope("slack", "T0OTHER")) == {}
    card = cards[first.id][0]
    found = await runtime.service.find_by_message("slack", card.channel, card.id, home, "card")
    assert found is not None and found.id == first.id
    assert await runtime.service.find_by_message("slack", card.channel, card.id, Scope("slack", "T0OTHER")) is None
    # A reply the bot posted in the card's thread belongs to the escalation but is not its card.
    reply = MessageRef(platform=Platform.slack, channel=card.channel, id="99.0001", tenant=card.tenant)
    async with store.unit_of_work() as uow:
        await uow.messages.add(first.id, "thread_reply", reply, runtime.clock.now())
    assert await runtime.service.find_by_message("slack", reply.channel, reply.id, home) is not None
    assert await runtime.service.find_by_message("slack", reply.channel, reply.id, home, "card") is None


async def test_a_redelivered_event_changes_nothing(runtime: Runtime, store: Store) -> None:
    esc = (await runtime.service.open(requester=SAM, community_key="sdk", question="q")).escalation
    assert esc is not None
    claim = Claim(id="slack:Ev1", escalation_id=esc.id, actor=ADA)
    first = await runtime.service.handle(claim, scope=Scope.of(ADA), event=("slack", "Ev1"))
    again = await runtime.service.handle(
        claim.model_copy(update={"id": "slack:Ev1-retry"}), scope=Scope.of(ADA), event=("slack", "Ev1")
    )
    assert first.changed and again.duplicate and not again.changed
    async with store.unit_of_work() as uow:
        assert [a.action for a in await uow.audit.for_escalation(esc.id)] == ["opened", "claimed"]
        assert len(await uow.outbox.list()) == 4  # card, confirmation, card update, requester DM


async def test_a_refused_command_changes_nothing(runtime: Runtime, store: Store) -> None:
    esc = (await runtime.service.open(requester=SAM, community_key="sdk", question="q")).escalation
    assert esc is not None
    outsider = slack("U0NOBODY")
    with pytest.raises(Refused) as refusal:
        await runtime.service.handle(
            Assign(id="a1", escalation_id=esc.id, actor=outsider, assignee=ADA), scope=Scope.of(outsider)
        )
    assert refusal.value.reason == Reason.forbidden
    after = await runtime.service.get(esc.id, None)
    assert after == esc
    async with store.unit_of_work() as uow:
        assert len(await uow.outbox.list()) == 2  # the card and the requester's confirmation


async def test_whole_story_through_timers_and_outbox(
    runtime: Runtime, store: Store, clock: FakeClock, sender: RecordingSender
) -> None:
    esc = (await runtime.service.open(requester=SAM, community_key="sdk", question="q")).escalation
    assert esc is not None
    assert await runtime.dispatch() == 2  # the card, then the requester's confirmation
    clock.advance(timedelta(minutes=30))
    assert await runtime.sweep() == 1  # nudge
    clock.advance(timedelta(minutes=90))
    assert await runtime.sweep() == 1  # assign
    await runtime.dispatch()
    held = await runtime.service.get(esc.id, None)
    assert held is not None and held.owner is not None and held.owner.person.same(ADA)
    assert ("U0ADA", "assigned") in sender.notices()
    await runtime.service.handle(Accept(id="acc", escalation_id=esc.id, actor=ADA))
    await runtime.service.handle(Reply(id="rep", escalation_id=esc.id, actor=ADA, text="do X"))
    await runtime.service.handle(Resolve(id="res", escalation_id=esc.id, actor=SAM, answer="X"))
    await runtime.dispatch()
    done = await runtime.service.get(esc.id, None)
    assert done is not None and done.status == Status.resolved and done.next_due_at is None
    assert done.first_responder is not None and done.first_responder.same(ADA)
    assert done.first_response_pull is False
    # Per-escalation order: the card first, then updates, in the order they were decided.
    kinds = sender.kinds(esc.id)
    assert kinds[0] == "post_card"
    keys = [int(k.split(":")[1]) for k, e in sender.delivered if e.escalation_id == esc.id]
    assert keys == sorted(keys)
    async with store.unit_of_work() as uow:
        counts = await uow.outbox.counts()
    assert counts == {"sent": len(sender.delivered)}


async def test_rotation_memory_spans_escalations(runtime: Runtime, clock: FakeClock) -> None:
    owners = []
    for n in range(4):
        esc = (await runtime.service.open(requester=SAM, community_key="sdk", question=f"q{n}")).escalation
        assert esc is not None
        clock.advance(timedelta(hours=2))
        await runtime.sweep()
        now = await runtime.service.get(esc.id, None)
        assert now is not None and now.owner is not None
        owners.append(now.owner.person.id)
        # resolve so reminders of earlier ones do not interfere
        await runtime.service.handle(Resolve(id=f"r{n}", escalation_id=esc.id, actor=SAM))
    assert owners == ["U0ADA", "U0BEN", "U0CHEN", "U0ADA"]


async def test_ticks_twice_and_late_ticks_are_harmless(runtime: Runtime, store: Store, clock: FakeClock) -> None:
    esc = (await runtime.service.open(requester=SAM, community_key="sdk", question="q")).escalation
    assert esc is not None
    clock.advance(timedelta(hours=5))  # the process was down; nudge and assign are both overdue
    assert await runtime.sweep() == 2
    assert await runtime.sweep() == 0
    async with store.unit_of_work() as uow:
        trail = await uow.audit.for_escalation(esc.id)
    assert [a.action for a in trail] == ["opened", "nudged", "auto_assigned"]
    late = trail[1].detail or {}
    assert late["late_s"] == pytest.approx(4.5 * 3600)


async def test_requester_reply_hands_the_ball_back(runtime: Runtime) -> None:
    esc = (await runtime.service.open(requester=SAM, community_key="sdk", question="q")).escalation
    assert esc is not None
    await runtime.service.handle(Reply(id="r1", escalation_id=esc.id, actor=BEN, text="which version?"))
    waiting = await runtime.service.get(esc.id, None)
    assert waiting is not None and waiting.ball == Ball.requester and waiting.next_step == Step.requester_reminder
    assert waiting.first_response_pull is True
    await runtime.service.handle(Reply(id="r2", escalation_id=esc.id, actor=SAM, text="5.2"))
    back = await runtime.service.get(esc.id, None)
    assert back is not None and back.ball == Ball.experts and back.next_step == Step.nudge


async def test_outbox_rows_are_stable_idempotency_keys(runtime: Runtime, store: Store) -> None:
    esc = (await runtime.service.open(requester=SAM, community_key="sdk", question="q")).escalation
    assert esc is not None
    await runtime.service.handle(Claim(id="c", escalation_id=esc.id, actor=ADA))
    async with store.unit_of_work() as uow:
        keys = (await uow.session.execute(select(OutboxRow.idempotency_key).order_by(OutboxRow.id))).scalars().all()
        total = (await uow.session.execute(select(func.count()).select_from(OutboxRow))).scalar_one()
    assert keys == [f"{esc.id}:1:0", f"{esc.id}:1:1", f"{esc.id}:2:0", f"{esc.id}:2:1"]
    assert total == len(set(keys))


async def _posted_card(runtime: Runtime) -> tuple[Escalation, MessageRef]:
    """An open escalation whose Slack question card has been posted."""
    esc = (await runtime.service.open(requester=SAM, community_key="sdk", question="q1")).escalation
    assert esc is not None
    await runtime.dispatch()
    [card] = (await runtime.service.cards_of([esc.id], Scope.of(SAM)))[esc.id]
    return esc, card


def _reply_by(person: PersonRef, card: MessageRef) -> Callable[[Escalation], Reply]:
    """``command_for`` of a thread reply by ``person`` on ``card``."""

    def reply(found: Escalation) -> Reply:
        message = MessageRef(platform=Platform.slack, channel=card.channel, id="5.0001", tenant=card.tenant)
        return Reply(id="r1", escalation_id=found.id, actor=person, message=message, text="try this")

    return reply


async def test_a_reply_on_a_card_is_found_and_recorded_in_one_transaction(runtime: Runtime, store: Store) -> None:
    _, card = await _posted_card(runtime)
    ada = slack("U0ADA")
    reply = _reply_by(ada, card)
    commits: list[int] = []
    store.commit_observers.append(lambda: commits.append(1))
    outcome = await runtime.service.handle_on_card(
        "slack", card.channel, card.id, reply, scope=Scope.of(ada), event=("slack", "Ev1")
    )
    assert outcome is not None and outcome.changed and len(commits) == 1
    assert outcome.escalation is not None and outcome.escalation.first_responder is not None
    # The same event again: a duplicate, nothing more written.
    again = await runtime.service.handle_on_card(
        "slack", card.channel, card.id, reply, scope=Scope.of(ada), event=("slack", "Ev1")
    )
    assert again is not None and again.duplicate
    # Not a card, or a card of another workspace: nothing is made of it and nothing recorded.
    made: list[str] = []

    def never(found: Escalation) -> Reply:
        made.append(found.id)
        return reply(found)

    elsewhere = Scope("slack", "T0OTHER")
    for channel, ts, scope in [(card.channel, "7.0001", Scope.of(ada)), (card.channel, card.id, elsewhere)]:
        assert (
            await runtime.service.handle_on_card("slack", channel, ts, never, scope=scope, event=("slack", ts)) is None
        )
    assert made == []
    async with store.unit_of_work() as uow:
        assert await uow.inbound.record("slack", "7.0001", runtime.clock.now())  # never recorded before


def _reads_of_escalations(store: Store) -> list[str]:
    """Every SELECT from now on that reads the escalations table, as sent to the database:
    through SQLAlchemy, and on the direct path (storage/direct.py), which its events do not see."""
    seen: list[str] = []

    def observe(statement: str, *_: object) -> None:
        words = " ".join(statement.split())
        if words.startswith("SELECT") and " FROM escalations" in words:
            seen.append(words)

    event.listen(store.engine.sync_engine, "before_cursor_execute", lambda _conn, _cursor, sql, *_: observe(sql))
    store.direct_observers.append(observe)
    return seen


async def test_an_open_under_an_id_made_for_it_does_not_look_that_id_up(runtime: Runtime, store: Store) -> None:
    reads = _reads_of_escalations(store)
    outcome = await runtime.service.open(
        requester=SAM, community_key="sdk", question="Why does it crash?", event=("slack", "cmd-1")
    )
    assert outcome.escalation is not None and outcome.changed
    assert reads == []
    # The same command delivered again is still a duplicate, found by its event id.
    again = await runtime.service.open(
        requester=SAM, community_key="sdk", question="Why does it crash?", event=("slack", "cmd-1")
    )
    assert again.duplicate and not again.changed
    async with store.unit_of_work() as uow:
        assert (await uow.session.execute(select(func.count()).select_from(EscalationRow))).scalar_one() == 1


async def test_a_command_on_a_card_reads_its_escalation_once_and_locked(runtime: Runtime, store: Store) -> None:
    esc, card = await _posted_card(runtime)
    ada = slack("U0ADA")
    reply = _reply_by(ada, card)
    reads = _reads_of_escalations(store)
    outcome = await runtime.service.handle_on_card(
        "slack", card.channel, card.id, reply, scope=Scope.of(ada), event=("slack", "Ev1")
    )
    assert outcome is not None and outcome.changed and outcome.escalation is not None
    assert outcome.escalation.version == esc.version + 1
    assert len(reads) == 1
    if not store.is_sqlite:  # SQLite's unit of work holds the database's one write lock already
        assert reads[0].endswith("FOR UPDATE OF escalations")
    reads.clear()
    again = await runtime.service.handle_on_card(
        "slack", card.channel, card.id, reply, scope=Scope.of(ada), event=("slack", "Ev1")
    )
    assert again is not None and again.duplicate and again.escalation == outcome.escalation
    assert len(reads) == 1


@pytest.mark.skipif(not on_postgres(), reason="row locks are PostgreSQL's; SQLite's writers take turns")
async def test_the_locked_read_on_a_card_holds_off_other_writers_until_it_commits(
    runtime: Runtime, store: Store
) -> None:
    esc, card = await _posted_card(runtime)
    ada, ben = slack("U0ADA"), slack("U0BEN")
    async with store.unit_of_work() as uow:
        found = await uow.escalations.find_by_message("slack", card.channel, card.id, Scope.of(ada), "card", lock=True)
        assert found is not None
        claim = asyncio.create_task(
            runtime.service.handle(Claim(id="c1", escalation_id=esc.id, actor=ben), scope=Scope.of(ben))
        )
        await asyncio.sleep(0.3)
        assert not claim.done()  # waiting for the row
    outcome = await asyncio.wait_for(claim, 10)
    assert outcome.changed and outcome.escalation is not None and outcome.escalation.owner is not None
