"""Files shared with replies, in the core: what is kept, and how it is said (issue 27)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from workflows.attachments import MAX_KEPT, files_words, kept
from workflows.decide import decide
from workflows.effects import Notice
from workflows.model import Attachment, ChannelRef, Platform

from .helpers import ALICE, BOB, RITA, T0, community, notices_to, opened, reply, resolve

LOG = Attachment(name="crash.log", url="https://files.example/crash.log")
SHOT = Attachment(name="screen.png", url="https://files.example/screen.png")


def test_files_are_said_by_count_and_name_the_rest_counted() -> None:
    assert files_words(()) == ""
    assert files_words((LOG,)) == "with 1 file: crash.log"
    many = tuple(Attachment(name=f"f{n}.txt") for n in range(7))
    assert files_words(many) == "with 7 files: f0.txt, f1.txt, f2.txt, f3.txt, f4.txt and 2 more"


def test_a_file_shared_again_is_kept_once_and_only_the_newest_are_kept() -> None:
    assert kept((LOG, SHOT), (LOG,)) == (SHOT, LOG)
    unnamed = (Attachment(name="image 1"), Attachment(name="image 1"))
    assert kept((), unnamed) == unnamed  # without a link, two images are two images
    lots = tuple(Attachment(name=f"{n}", url=f"https://files.example/{n}") for n in range(MAX_KEPT + 5))
    assert kept((), lots) == lots[-MAX_KEPT:]


def test_an_experts_files_are_a_first_response_and_stay_with_the_answer() -> None:
    esc = opened()
    decision = decide(esc, reply(ALICE, "").model_copy(update={"attachments": (LOG, SHOT)}), T0)
    [told] = notices_to(decision.effects, RITA)
    assert told.notice == Notice.first_response
    assert told.text == "Alice replied to your question with 2 files: crash.log, screen.png"
    assert told.files == (LOG, SHOT)
    assert decision.escalation.files == (LOG, SHOT) and decision.escalation.first_responder == ALICE
    done = decide(decision.escalation, resolve(BOB, "Rebuild the index."), T0 + timedelta(hours=1))
    [resolved] = notices_to(done.effects, RITA)
    said = "Bob resolved your question. Answer: Rebuild the index.\nWith 2 files: crash.log, screen.png"
    assert resolved.text == said
    assert resolved.view.answer_files == (LOG, SHOT)


def test_the_requesters_files_are_not_the_answer() -> None:
    esc = decide(opened(), reply(ALICE), T0).escalation
    after = decide(esc, reply(RITA, "Here is mine").model_copy(update={"attachments": (LOG,)}), T0).escalation
    assert after.replies == 2 and after.files == ()


def test_a_later_reply_with_only_files_reaches_a_requester_who_cannot_see_the_thread() -> None:
    teams_only = community(channels=(ChannelRef(platform=Platform.teams, id="19:x", tenant="T1"),))
    esc = decide(opened(teams_only), reply(ALICE), T0).escalation
    decision = decide(esc, reply(ALICE, "").model_copy(update={"attachments": (SHOT,)}), T0)
    [told] = notices_to(decision.effects, RITA)
    assert told.notice == Notice.reply and told.text == "Alice replied with 1 file: screen.png"


def test_only_an_https_link_is_a_files_link() -> None:
    for url in ("javascript:alert(1)", "http://files.example/a", 'https://x.example/"onmouseover=1', "https://a b"):
        with pytest.raises(ValidationError):
            Attachment(name="a", url=url)
