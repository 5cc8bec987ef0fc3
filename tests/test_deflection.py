"""Deflection: a question like one already answered is shown that answer first."""

from __future__ import annotations

from datetime import timedelta

from bot.runtime import Runtime
from storage import Store
from tests.support import ADA, SAM, RecordingSender, directory
from workflows.clock import FakeClock
from workflows.commands import Deflect, Release, Resolve
from workflows.effects import Action, Notify
from workflows.errors import Refused
from workflows.model import Platform, Status, Step
from workflows.ports import Scope


async def answered(runtime: Runtime, question: str, answer: str) -> str:
    esc = (await runtime.service.open(requester=SAM, community_key="sdk", question=question)).escalation
    assert esc is not None
    await runtime.service.handle(Resolve(id=f"r-{esc.id}", escalation_id=esc.id, actor=ADA, answer=answer))
    await runtime.dispatch()
    return esc.id


async def test_similar_question_is_shown_the_answer_first_and_can_be_deflected(
    database_url: str, clock: FakeClock
) -> None:
    sender = RecordingSender()
    runtime = Runtime(Store(database_url), directory(), {Platform.slack: sender}, clock=clock)
    try:
        old = await answered(runtime, "iOS build fails with a signing certificate error", "Renew the certificate.")
        await answered(runtime, "Android push notifications arrive late", "Disable battery optimisation.")
        before = len(sender.delivered)
        outcome = await runtime.service.open(
            requester=SAM, community_key="sdk", question="Our iOS build fails: signing certificate expired?"
        )
        esc = outcome.escalation
        assert esc is not None and esc.held and esc.next_step == Step.release
        await runtime.dispatch()
        new = sender.delivered[before:]
        assert [e.kind for _, e in new] == ["notify"]  # no card yet: the requester looks first
        shown = new[0][1]
        assert isinstance(shown, Notify) and shown.person.id == "U0SAM"
        assert [s.escalation_id for s in shown.suggestions] == [old]
        assert shown.suggestions[0].card is not None  # a link to its thread
        assert shown.actions == (Action.deflect, Action.escalate)
        # Only the requester may say it was answered.
        try:
            await runtime.service.handle(Deflect(id="x", escalation_id=esc.id, actor=ADA))
            raise AssertionError("an expert deflected someone else's question")
        except Refused:
            pass
        await runtime.service.handle(Deflect(id="d", escalation_id=esc.id, actor=SAM))
        done = await runtime.service.get(esc.id, Scope.of(SAM))
        assert done is not None and done.status == Status.deflected and done.next_due_at is None
        await runtime.dispatch()
        assert all(e.kind != "post_card" for _, e in sender.delivered[before:])
    finally:
        await runtime.stop()


async def test_still_escalate_posts_the_card_and_starts_the_timers(database_url: str, clock: FakeClock) -> None:
    sender = RecordingSender()
    runtime = Runtime(Store(database_url), directory(), {Platform.slack: sender}, clock=clock)
    try:
        await answered(runtime, "Gradle sync hangs on the corporate proxy", "Use the offline mirror.")
        esc = (
            await runtime.service.open(requester=SAM, community_key="sdk", question="gradle sync hangs behind proxy")
        ).escalation
        assert esc is not None and esc.held
        clock.advance(timedelta(minutes=3))
        await runtime.service.handle(Release(id="go", escalation_id=esc.id, actor=SAM))
        posted = await runtime.service.get(esc.id, None)
        assert posted is not None and not posted.held and posted.next_step == Step.nudge
        assert posted.next_due_at == clock.now() + timedelta(minutes=30)  # timers count from the release
        await runtime.dispatch()
        assert sender.kinds(esc.id)[-2:] == ["post_card", "notify"]  # the card, then "your question is posted"
        assert sender.notices()[-1] == ("U0SAM", "posted")
    finally:
        await runtime.stop()


async def test_a_requester_who_never_answers_is_escalated_anyway(database_url: str, clock: FakeClock) -> None:
    sender = RecordingSender()
    runtime = Runtime(Store(database_url), directory(), {Platform.slack: sender}, clock=clock)
    try:
        await answered(runtime, "Crash reports missing symbols", "Upload the dSYM files.")
        esc = (
            await runtime.service.open(requester=SAM, community_key="sdk", question="crash reports missing symbols")
        ).escalation
        assert esc is not None and esc.held
        clock.advance(timedelta(minutes=10))
        assert await runtime.sweep() == 1
        await runtime.dispatch()
        assert "post_card" in sender.kinds(esc.id)
        async with runtime.store.unit_of_work() as uow:
            trail = [a.action for a in await uow.audit.for_escalation(esc.id)]
        assert trail == ["opened", "released"]
    finally:
        await runtime.stop()


async def test_an_unrelated_question_goes_straight_to_the_experts(database_url: str, clock: FakeClock) -> None:
    sender = RecordingSender()
    runtime = Runtime(Store(database_url), directory(), {Platform.slack: sender}, clock=clock)
    try:
        await answered(runtime, "Crash reports missing symbols", "Upload the dSYM files.")
        # One shared word is not similarity.
        esc = (
            await runtime.service.open(requester=SAM, community_key="sdk", question="Billing page missing VAT field")
        ).escalation
        assert esc is not None and not esc.held and esc.next_step == Step.nudge
    finally:
        await runtime.stop()
