"""A question escalated with an emoji reports back in the source message's thread: when its
card is posted, and when it is closed or reopened; one without a source thread never does."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from workflows.commands import Release
from workflows.decide import decide
from workflows.effects import Effect, Notice, Notify, PostCard, SourceNote, Suggestion
from workflows.model import MessageRef, Platform

from .helpers import ALICE, RITA, T0, cancel, cid, claim, open_cmd, reopen, resolve

SOURCE = MessageRef(platform=Platform.slack, channel="C0SUPPORT", id="1700.000200", tenant="T1")


def notes(effects: Sequence[Effect]) -> list[tuple[Notice, str, str]]:
    return [(e.notice, e.text, e.thread) for e in effects if isinstance(e, SourceNote)]


def test_posted_then_answered_then_reopened_then_cancelled() -> None:
    opened = decide(None, open_cmd(source=SOURCE, source_thread="1700.000100"), T0)
    kinds = [type(e) for e in opened.effects]
    assert kinds == [PostCard, SourceNote, Notify]  # the note after the card it links to; the confirmation
    assert notes(opened.effects) == [(Notice.escalated, "Escalated to Databases experts.", "1700.000100")]
    esc = opened.escalation
    esc = decide(esc, claim(ALICE), T0 + timedelta(minutes=1)).escalation
    done = decide(esc, resolve(ALICE, "Raise wal_keep_size."), T0 + timedelta(minutes=5))
    assert notes(done.effects) == [(Notice.resolved, "Answered by Alice: Raise wal_keep_size.", "1700.000100")]
    again = decide(done.escalation, reopen(RITA), T0 + timedelta(minutes=6))
    assert notes(again.effects) == [(Notice.reopened, "Reopened: back with the Databases experts.", "1700.000100")]
    closed = decide(again.escalation, cancel(RITA), T0 + timedelta(minutes=7))
    assert notes(closed.effects) == [(Notice.cancelled, "The escalation was cancelled.", "1700.000100")]


def test_resolved_without_an_answer_points_to_the_thread() -> None:
    esc = decide(None, open_cmd(source=SOURCE, source_thread=SOURCE.id), T0).escalation
    done = decide(esc, resolve(ALICE), T0 + timedelta(minutes=5))
    assert notes(done.effects) == [
        (Notice.resolved, "Resolved by Alice: the answer is in the question's thread.", SOURCE.id)
    ]


def test_a_held_question_says_nothing_until_its_card_is_posted() -> None:
    earlier = Suggestion(escalation_id="old", community_key="db", question="Replica lag?", answer="Check the WAL.")
    held = decide(None, open_cmd(source=SOURCE, source_thread=SOURCE.id, suggestions=(earlier,)), T0)
    assert held.escalation.held and notes(held.effects) == []
    released = decide(held.escalation, Release(id=cid(), escalation_id=held.escalation.id, actor=RITA), T0)
    assert notes(released.effects) == [(Notice.escalated, "Escalated to Databases experts.", SOURCE.id)]


def test_the_shortcut_and_the_slash_command_do_not_report_back() -> None:
    opened = decide(None, open_cmd(source=SOURCE), T0)  # a source, but no thread to report in
    assert notes(opened.effects) == []
    assert notes(decide(opened.escalation, resolve(RITA, "Never mind."), T0).effects) == []
