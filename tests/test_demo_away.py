"""The demo's story shows availability: an expert away is passed over, with the reason."""

from __future__ import annotations

import io

from bot.demo import run_demo


async def test_the_demo_passes_over_an_expert_who_is_away_and_says_why() -> None:
    out = io.StringIO()
    assert await run_demo(out) == 0
    text = out.getvalue()
    assert "You are away until Wed 04 Mar 2026 00:00 UTC (offsite)." in text
    assert "Assigned to Ben (not yet accepted), because Ada is away until Wed 04 Mar 2026 00:00 UTC" in text
    nudge = next(line for line in text.splitlines() if "waited 30m" in line)
    assert "@Ada" not in nudge and "@Ben" in nudge
    assert "Away: Ada until Wed 04 Mar 2026 00:00 UTC." in text
