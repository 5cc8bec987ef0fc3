"""A sender that prints what each channel and person would see (the demo, local trials)."""

from __future__ import annotations

import itertools
import textwrap
from typing import TextIO

from adapters.slack.text import escape as slack_escape
from workflows.clock import Clock
from workflows.delivery import Delivered, DeliveryContext, PermanentDeliveryError
from workflows.durations import humanize
from workflows.effects import CardView, Effect, Notify, PostCard, PostDigest, SourceNote, ThreadReply, UpdateCard
from workflows.model import MessageRef, Platform

_STEP_WORDS = {
    "nudge": "nudge the channel",
    "assign": "assign an expert",
    "owner_reminder": "remind the owner",
    "reassign": "reassign",
    "requester_reminder": "remind the requester",
    "auto_close": "close automatically",
}


def next_words(view: CardView, clock: Clock) -> str:
    if view.next_step is None or view.next_due_at is None:
        return "nothing scheduled"
    left = view.next_due_at - clock.now()
    when = f"in {humanize(left)}" if left.total_seconds() > 0 else "now"
    return f"{_STEP_WORDS.get(view.next_step.value, view.next_step.value)} {when}"


_TITLES = {Platform.slack: "Slack", Platform.teams: "Teams"}


class ConsoleSender:
    """Renders effects as plain text, standing in for ``stands_for`` (Slack or Teams): the
    demo, and ``serve`` with no platform set up.

    Its own ``platform`` is ``console``: the dispatcher counts deliveries under the sender's
    platform, so ``/metrics`` never reports printed lines as messages sent to Slack or Teams.
    A channel is always named by its id, the same on the card, its edits, its thread and the
    digest. Standing for Slack, the text is shown escaped exactly as it is sent to Slack."""

    platform = Platform.console

    def __init__(self, out: TextIO, clock: Clock, stands_for: Platform = Platform.slack) -> None:
        self.out = out
        self.clock = clock
        self.stands_for = stands_for
        self._ids = itertools.count(1)

    def _print(self, where: str, body: str) -> None:
        if self.stands_for == Platform.slack:
            body = slack_escape(body)
        stamp = self.clock.now().strftime("%a %H:%M")
        lines = body.splitlines() or [""]
        self.out.write(f"  {stamp}  {where:<22} {lines[0]}\n")
        for line in lines[1:]:
            self.out.write(f"  {'':<9}  {'':<22} {line}\n")

    def _card(self, view: CardView) -> str:
        question = textwrap.shorten(view.question, 90, placeholder="…")
        parts = [
            f"[card v{view.version}] {question!r}",
            f"From {view.requester.label()} · {view.priority.value.capitalize()} priority · {view.status_line} · "
            f"Next: {next_words(view, self.clock)}",
        ]
        if view.answer:
            parts.append(f"Answer: {view.answer}")
        if view.actions:
            parts.append("Buttons: " + " | ".join(a.value.capitalize() for a in view.actions))
        return "\n".join(parts)

    async def deliver(self, effect: Effect, context: DeliveryContext) -> Delivered:
        if isinstance(effect, PostCard):
            ref = MessageRef(
                platform=effect.channel.platform,
                channel=effect.channel.id,
                id=f"m{next(self._ids)}",
                tenant=effect.channel.tenant,
            )
            self._print(f"#{effect.channel.id} (new)", self._card(effect.view))
            return Delivered(refs=[("card", ref, None)], result={"message": ref.id})
        if isinstance(effect, UpdateCard):
            if context.card_in(effect.channel.platform, effect.channel.id) is None:
                raise PermanentDeliveryError("the card was never posted", code="no_card")
            self._print(f"#{effect.channel.id} (edit)", self._card(effect.view))
            return Delivered()
        if isinstance(effect, ThreadReply):
            mentions = " ".join(f"@{m.label()}" for m in effect.mentions)
            self._print(f"#{effect.channel.id} thread", f"{mentions} {effect.text}".strip())
            return Delivered()
        if isinstance(effect, SourceNote):
            self._print(f"#{effect.source.channel} thread", effect.text)
            return Delivered()
        if isinstance(effect, PostDigest):
            title = _TITLES.get(self.stands_for, self.stands_for.value)
            self._print(
                f"#{effect.channel.id} digest", effect.text().replace("Daily digest", f"Daily {title} digest", 1)
            )
            return Delivered()
        if isinstance(effect, Notify):
            buttons = f"  [{' | '.join(a.value.capitalize() for a in effect.actions)}]" if effect.actions else ""
            self._print(f"DM @{effect.person.label()}", effect.text + buttons)
            return Delivered()
        raise PermanentDeliveryError(f"cannot render {type(effect).__name__}", code="unknown_effect")
