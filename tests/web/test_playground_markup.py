"""Platform text as the playground shows it: escaped first, then only the constructs named."""

from __future__ import annotations

from adapters.web.playground.markup import card_markdown, mrkdwn, teams_message


def test_slack_mrkdwn() -> None:
    shown = mrkdwn("*<https://example.com/a?b=1&amp;c=2|#72f5be0d>* from <@U0SAM> :eyes:", {"U0SAM": "Sam"})
    assert shown == (
        '<b><a href="https://example.com/a?b=1&amp;c=2" rel="noopener noreferrer">#72f5be0d</a></b>'
        ' from <span class="mention">@Sam</span> 👀'
    )
    # What Slack shows as text stays text: its entities read once, escaped again for HTML.
    assert (
        mrkdwn("&lt;script&gt;alert(1)&lt;/script&gt; &amp;lt;", {}) == "&lt;script&gt;alert(1)&lt;/script&gt; &amp;lt;"
    )
    # A link that is not http(s) is only its label.
    assert mrkdwn("<javascript:alert(1)|click> &lt;b&gt;", {}) == "click &lt;b&gt;"


def test_card_markdown_and_teams_messages() -> None:
    assert card_markdown(r"\*not bold\* **bold** [docs](https://example.com) <i>") == (
        '*not bold* <b>bold</b> <a href="https://example.com" rel="noopener noreferrer">docs</a> &lt;i&gt;'
    )
    assert card_markdown("[x](javascript:alert(1))") == "x)"
    assert (
        teams_message("<at>Ada</at> hi &lt;b&gt;<br>next") == '<span class="mention">@Ada</span> hi &lt;b&gt;<br>next'
    )
