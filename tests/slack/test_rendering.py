"""Slack's text rules, without the network."""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.slack.blocks import parse_action
from adapters.slack.notices import dm_blocks
from adapters.slack.text import escape, escaped_chunks, link, truncated
from bot.config import parse_config
from workflows.commands import Claim, Open
from workflows.decide import decide
from workflows.effects import Notify
from workflows.model import PersonRef, Platform

from .conftest import CONFIG

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_escape_the_three_control_characters() -> None:
    assert escape("<!channel> & <@U1> > x") == "&lt;!channel&gt; &amp; &lt;@U1&gt; &gt; x"


def test_chunks_never_cut_an_entity_and_fit() -> None:
    text = "&<>" * 3000
    chunks = escaped_chunks(text, 100)
    assert all(len(c) <= 100 for c in chunks)
    assert all(not c.endswith(("&", "&a", "&am", "&l", "&g")) for c in chunks)
    assert "".join(chunks) == escape(text)


def test_truncated_marks_the_cut() -> None:
    short, cut = truncated("hello", 100)
    assert (short, cut) == ("hello", False)
    long, cut = truncated("x" * 5000, 3000)
    assert cut and len(long) <= 3000 and "5,000 characters" in long


def test_links_only_for_plain_http_urls() -> None:
    assert link("https://a.example/x?y=1&z=2", "doc") == "<https://a.example/x?y=1&amp;z=2|doc>"
    assert link("javascript:alert(1)", "doc") == "javascript:alert(1)"
    assert link("https://a.example/|<!channel>", "doc") == "https://a.example/|&lt;!channel&gt;"


def test_action_values_round_trip_and_junk_is_ignored() -> None:
    assert parse_action({"value": '{"e":"abc","v":3}'}).escalation_id == "abc"  # type: ignore[union-attr]
    assert parse_action({"block_id": "esc:abc:4:actions"}).version == 4  # type: ignore[union-attr]
    assert parse_action({"value": "junk"}) is None
    assert parse_action({"block_id": "nope"}) is None


def test_people_without_a_name_are_mentioned_in_dms() -> None:
    directory = parse_config(CONFIG.replace("  - {name: Ada, slack: U0ADA}\n", ""))
    sam = PersonRef(platform=Platform.slack, id="U0SAM", tenant="T0ACME")
    ada = PersonRef(platform=Platform.slack, id="U0ADA", tenant="T0ACME")
    opened = decide(
        None,
        Open(
            id="o",
            escalation_id="e1",
            actor=sam,
            tenant="slack:T0ACME",
            community_key="sdk",
            question="Is slack:U0EVIL here?",
            community=directory.get("sdk"),
        ),
        NOW,
    )
    claimed = decide(opened.escalation, Claim(id="c", escalation_id="e1", actor=ada), NOW)
    notify = next(e for e in claimed.effects if isinstance(e, Notify))
    text = dm_blocks(notify, NOW, None)[0]["text"]["text"]
    assert text == "<@U0ADA> is looking at your question."
    question = dm_blocks(notify, NOW, None)[1]["text"]["text"]
    assert "slack:U0EVIL" in question and "<@U0EVIL>" not in question


def test_excerpts_fit_once_escaped_and_cut_at_words() -> None:
    from adapters.slack.text import excerpt

    assert excerpt("short & sweet", 100) == "short &amp; sweet"
    nasty = "<>&" * 2000
    assert len(excerpt(nasty, 700)) <= 700 and excerpt(nasty, 700).endswith("…")
    words = excerpt("alpha beta gamma delta epsilon", 17)
    assert words == "alpha beta…"
    lines = excerpt("one\n\n\n\ntwo\nthree", 100, max_lines=2)
    assert lines == "one…"


def test_slack_markup_escapes_all_but_our_own_sequences_once() -> None:
    from adapters.slack.text import slack_markup

    ours = "<@U0ADA> <#C0SDK0001> <!date^1^{time}|09:00 &amp; on> <https://a.test/?a=1&amp;b=2|doc> &lt;x&gt;"
    assert slack_markup(ours) == ours
    assert slack_markup("`/escalate <community> <question>` a & b <!channel> <!subteam^S1>") == (
        "`/escalate &lt;community&gt; &lt;question&gt;` a &amp; b &lt;!channel&gt; &lt;!subteam^S1&gt;"
    )
    assert slack_markup(slack_markup("<b> & <@U0ADA>")) == slack_markup("<b> & <@U0ADA>")
