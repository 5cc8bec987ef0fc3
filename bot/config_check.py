"""``config check``: what the configuration will do here, and what in it is likely a mistake.

A warning names configuration that is valid but does harm quietly (a channel nobody will
see, a nudge that can never come first). ``serve`` logs the same warnings at start;
``config check --strict`` refuses a configuration that has any.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Collection

from workflows.durations import format_duration
from workflows.model import Community, Expert, Platform

from .config import Directory, load_config
from .escalate_reactions import describe as describe_escalate_reactions
from .priorities import TIMER_FIELDS, describe_priorities
from .roster_check import joined_lines
from .user_groups import check_user_groups
from .what_if import what_if_lines

# What turns a platform on, for the warning that says it is off.
_SWITCH = {
    Platform.slack: "SLACK_BOT_TOKEN",
    Platform.teams: "MICROSOFT_APP_ID",
}


def warnings(directory: Directory, enabled: Collection[Platform]) -> list[str]:
    """Everything worth an admin's second look, one sentence each, naming the community.
    ``enabled`` is the platforms this process talks to; empty means none is configured
    (messages go to the console), so no channel is reported as unused."""
    out: list[str] = []
    for community in directory.all():
        where = f"community {community.key!r}"
        if enabled:
            out += _platform_warnings(community, where, frozenset(enabled))
        out += _policy_warnings(community, where)
        for expert in (*community.experts, *([community.lead] if community.lead else [])):
            for ref in expert.refs:
                if ref.platform == Platform.slack and (ref.id != ref.id.upper() or ref.tenant != ref.tenant.upper()):
                    written = f"{ref.tenant}/{ref.id}" if ref.tenant else ref.id
                    out.append(
                        f"{where}: slack:{written} is not a Slack id as Slack writes it: Slack ids are upper case "
                        f"(slack:{written.upper()}); as written it matches nobody"
                    )
    return out


def serving(directory: Directory, enabled: Collection[Platform], log: logging.Logger) -> Directory:
    """The directory as ``serve`` uses it (at start and at each reload): every warning logged,
    and nothing left that is on a platform this process does not talk to, so the core never
    addresses one. With no platform configured (the console prints both), it stays whole."""
    for warning in warnings(directory, enabled):
        log.warning(warning)
    return directory.on_platforms(enabled) if enabled else directory


def _platform_warnings(community: Community, where: str, enabled: frozenset[Platform]) -> list[str]:
    out = []
    for channel in community.channels:
        if channel.platform not in enabled:
            out.append(
                f"{where}: its {channel.platform.value} channel {channel.id} is not used, because "
                f"{channel.platform.value} is not configured here (set {_SWITCH[channel.platform]} to use it)"
            )
    if community.channels and not any(c.platform in enabled for c in community.channels):
        out.append(f"{where}: has no channel on a configured platform: questions to it are refused")
    for role, people in (("expert", community.experts), ("lead", (community.lead,) if community.lead else ())):
        for expert in people:
            if not any(ref.platform in enabled for ref in expert.refs):
                platforms = ", ".join(sorted({r.platform.value for r in expert.refs}))
                out.append(
                    f"{where}: {role} {_who(expert)} is only on {platforms}, which is not configured here: "
                    "nobody can reach them, so they are left out"
                )
    return out


def _policy_warnings(community: Community, where: str) -> list[str]:
    out = []
    policy = community.policy
    clocks = [("", policy.timers)] + [(f", priority {p.value}", policy.timers_for(p)) for p in policy.priorities]
    for which, timers in clocks:
        nudge, assign = timers.nudge_after, timers.assign_after
        if nudge is not None and assign is not None and nudge > assign:
            out.append(
                f"{where}{which}: nudge_after ({format_duration(nudge)}) is longer than assign_after "
                f"({format_duration(assign)}): questions are assigned before any nudge, so the channel is never nudged"
            )
    both = [emoji for emoji in policy.claim_reactions if emoji in policy.resolve_reactions]
    if both:
        out.append(
            f"{where}: {', '.join(f':{e}:' for e in both)} is in both claim_reactions and resolve_reactions; "
            "give each reaction one meaning"
        )
    return out


def _who(expert: Expert) -> str:
    refs = ", ".join(ref.key for ref in expert.refs)
    return f"{expert.name} ({refs})" if expert.name else refs


def _hours_of(expert: Expert) -> str:
    """The expert, with their own working hours when the configuration gives them."""
    hours = expert.hours
    if hours is None:
        return expert.label()
    return f"{expert.label()} ({hours.start:%H:%M}-{hours.end:%H:%M} {hours.timezone})"


def describe_policy(community: Community, enabled: Collection[Platform] = ()) -> list[str]:
    """Each community's effective policy, for ``config check``."""
    policy = community.policy
    lines = [f"{community.key} — {community.name}"]
    lines.append(
        "  channels: "
        + ", ".join(
            f"{c.platform.value}:{c.id}"
            + (" (not used: platform not configured)" if enabled and c.platform not in enabled else "")
            for c in community.channels
        )
    )
    named = [_hours_of(e) for e in community.experts] + [f"{g.key} (its members)" for g in community.user_groups]
    lines.append("  experts: " + (", ".join(named) or "(none)"))
    lines.append(f"  lead: {community.lead.label() if community.lead else '(none)'}")
    lines.append(f"  rotation: {policy.rotation.value}")
    for name in TIMER_FIELDS:
        value = getattr(policy.timers, name)
        lines.append(f"  {name}: {format_duration(value) if value else 'off'}")
    lines += describe_priorities(policy.priorities)
    hours = policy.business_hours
    if hours:
        lines.append(
            f"  business hours: {', '.join(hours.days)} {hours.start:%H:%M}-{hours.end:%H:%M} {hours.timezone}"
            + (f", holidays {hours.holidays}" if hours.holidays else "")
        )
    else:
        lines.append("  business hours: 24/7")
    lines.append(f"  claim reactions: {', '.join(policy.claim_reactions)}")
    lines.append(f"  resolve reactions: {', '.join(policy.resolve_reactions)}")
    lines.append(f"  anyone can claim: {'yes' if policy.anyone_can_claim else 'no'}")
    if policy.digest_at:
        # The digest keeps the community's clock (its business hours' zone), else UTC.
        zone = hours.timezone if hours else "UTC"
        when_empty = "also when empty" if policy.digest_when_empty else "skipped when empty"
        lines.append(f"  digest at: {policy.digest_at:%H:%M} {zone}, working days, {when_empty}")
    else:
        lines.append("  digest: off")
    wait = policy.deflection_wait
    lines.append(
        f"  similar answers shown first, for up to {format_duration(wait)}" if wait else "  similar answers: not shown"
    )
    return lines


def check(
    path: str,
    enabled: Collection[Platform],
    *,
    strict: bool = False,
    slack: tuple[str | None, str] = (None, ""),
    database_url: str | None = None,
    what_if_url: str | None = None,
) -> int:
    """Print what ``path`` configures; 0 when usable, 1 when ``strict`` and there are warnings,
    or when Slack will not give a user group named as a roster (asked with ``slack``: the bot
    token and API URL). With ``what_if_url``, what the file would change for the open questions
    stored there. An invalid file raises ``ConfigError`` (the CLI prints it and exits 2)."""
    directory = load_config(path)
    found = warnings(directory, enabled)
    for warning in found:
        print(f"warning: {warning}", file=sys.stderr)
    if strict and found:
        print(f"{path}: refused (--strict): {len(found)} warning(s)", file=sys.stderr)
        return 1
    summary = f", {len(found)} warning(s)" if found else ""
    print(f"{path}: OK, {len(directory.all())} communities{summary}")
    if not enabled:
        print(
            "no chat platform is configured here (SLACK_BOT_TOKEN, MICROSOFT_APP_ID or TEAMS_ENABLED), "
            "so channels were not checked against the platforms in use"
        )
    print()
    for community in directory.all():
        print("\n".join(describe_policy(community, enabled)))
        print()
    print("\n".join(describe_escalate_reactions(directory.escalate_reactions, directory.all())))
    for line in asyncio.run(joined_lines(directory, database_url)):
        print(line)
    for line in asyncio.run(what_if_lines(directory, what_if_url)):
        print(line)
    groups = asyncio.run(check_user_groups(directory.all(), *slack))
    for line in groups:
        print(line, file=sys.stderr if line.startswith("error:") else sys.stdout)
    return 1 if any(line.startswith("error:") for line in groups) else 0
