"""The escalations list, one escalation's page, and the actions on it: each action is the
command the chat sends, refused or allowed by the same rules, audited as via console."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from workflows.commands import BaseCommand, Cancel, ChangePriority, Reassign, Reopen
from workflows.console import EscalationFilter, ListPlace, Viewer
from workflows.durations import DurationError, parse_duration
from workflows.errors import Reason, Refused
from workflows.model import Escalation, Priority, Status

from ..console import console_of, error_page, render, viewer_of

PER_PAGE = 50
# Old ``page=N`` links are counted from the newest (OFFSET): page 200 skips 9,950 rows, 27-50 ms
# at 1M escalations; page 20,000 would read the whole history (1.7 s). Places go on from there.
MAX_COUNTED_PAGE = 200
MAX_TEXT = 200  # a filter's typed text (a person key, the words) is never longer
_FILTERS = ("community", "state", "owner", "requester", "priority", "older", "newer", "words")


def _filter(request: web.Request) -> tuple[EscalationFilter, dict[str, str], list[str]]:
    """The list's filters from the query string; a value that means nothing is named, not guessed."""
    query = {name: request.query.get(name, "").strip() for name in _FILTERS}
    problems: list[str] = []
    now = console_of(request).clock.now()

    def choice(name: str, kind: Any) -> Any:
        if not query[name]:
            return None
        try:
            return kind(query[name])
        except ValueError:
            problems.append(f"{name}: {query[name]!r} is not one of {', '.join(k.value for k in kind)}")
            return None

    def age(name: str) -> Any:
        if not query[name]:
            return None
        try:
            return now - parse_duration(query[name])
        except DurationError as exc:
            problems.append(f"{name}: {exc}")
        except OverflowError:  # before the year 1
            problems.append(f"{name}: {query[name][:40]!r} reaches further back than any escalation")
        return None

    page = 1
    typed = request.query.get("page", "").strip()
    if typed:
        if not (typed.isascii() and typed.isdigit()) or int(typed) < 1:
            problems.append(f"page: {typed[:20]!r} is not a page number (the newest are shown)")
        elif int(typed) > MAX_COUNTED_PAGE:
            problems.append(
                f"page: counted pages stop at {MAX_COUNTED_PAGE}; the Older links go on (the newest are shown)"
            )
        else:
            page = int(typed)
    if query["community"] and query["community"] not in {c.key for c in _communities(request, viewer_of(request))}:
        problems.append(f"community: {query['community'][:80]!r} is not a community you see")
    for name in ("owner", "requester", "words"):
        if len(query[name]) > MAX_TEXT:
            problems.append(f"{name}: only its first {MAX_TEXT} characters are used")
            query[name] = query[name][:MAX_TEXT]

    def place(name: str) -> ListPlace | None:
        value = request.query.get(name, "").strip()
        if not value:
            return None
        found = place_of(value)
        if found is None:
            problems.append(f"{name}: {value[:80]!r} is not a place in the list (the newest are shown)")
        return found

    before, after = place("before"), place("after")
    where = EscalationFilter(
        community=query["community"] or None,
        status=choice("state", Status),
        owner=query["owner"] or None,
        requester=query["requester"] or None,
        priority=choice("priority", Priority),
        older_than=age("older"),
        newer_than=age("newer"),
        words=query["words"] or None,
        before=before,
        after=None if before else after,
        page=page,
        per_page=PER_PAGE,
    )
    return where, query, problems


def place_text(esc: Escalation) -> str:
    """An escalation's place in the list as a link carries it (``before=``, ``after=``)."""
    at = ListPlace.of(esc).created_at.astimezone(UTC)
    return f"{at.strftime('%Y%m%dT%H%M%S.%f')}Z_{esc.id}"


def place_of(text: str) -> ListPlace | None:
    at, _, esc_id = text.partition("_")
    try:
        when = datetime.strptime(at, "%Y%m%dT%H%M%S.%fZ").replace(tzinfo=UTC)
    except ValueError:
        return None
    return ListPlace(when, esc_id) if esc_id else None


async def escalation_list(request: web.Request) -> web.StreamResponse:
    console, viewer = console_of(request), viewer_of(request)
    where, query, problems = _filter(request)
    found = await console.queries.escalations(viewer.reach(), where)
    # The filters go on to the next page; the place is the link's own.
    kept = {k: v for k, v in query.items() if v}
    context = {
        "page": found,
        "query": query,
        "problems": problems,
        "communities": _communities(request, viewer),
        "states": [s.value for s in Status],
        "priorities": [p.value for p in Priority],
        "kept": kept,
        "older": place_text(found.escalations[-1]) if found.has_next and found.escalations else None,
        "newer": place_text(found.escalations[0]) if found.has_newer and found.escalations else None,
        "now": console.clock.now(),
    }
    return render(request, "escalations.html", context)


def detail_words(
    detail: dict[str, Any], names: dict[str, str], actor: str, communities: dict[str, str] | None = None
) -> list[str]:
    """An audit entry's details as a reader wants them: people and communities by name, a
    flag by its name alone (``answer`` rather than ``answer: True``), nothing for an unset
    one, and not again who acted."""
    words = []
    for key, value in detail.items():
        label = key.replace("_", " ")
        if key == "community" and isinstance(value, str):
            value = (communities or {}).get(value, value)
        if key == "via" or (key == "by" and value == actor) or value is None or value is False or value in ("", [], {}):
            continue
        if value is True:
            words.append(label)
        elif isinstance(value, list):
            words.append(f"{label}: {', '.join(names.get(str(v), str(v)) for v in value)}")
        else:
            words.append(f"{label}: {names.get(str(value), value)}")
    return words


def _communities(request: web.Request, viewer: Viewer) -> list[Any]:
    return viewer.visible_communities(console_of(request).communities())


async def escalation_page(request: web.Request, *, problem: str | None = None, status: int = 200) -> web.Response:
    console, viewer = console_of(request), viewer_of(request)
    detail = await console.queries.detail(viewer.reach(), request.match_info["id"])
    if detail is None:
        raise web.HTTPNotFound()
    esc = detail.escalation
    threads = [(kind, ref, await console.thread_link(ref)) for kind, ref in detail.messages if kind == "card"]
    community = esc.community
    people = [*community.experts, *([community.lead] if community.lead else [])]
    labels = await console.labels(people)
    names = {ref.key: labels[person.key] for person in people for ref in person.refs}
    names.update(labels)
    for ref in (esc.requester, esc.owner.person if esc.owner else None, esc.resolved_by):
        if ref is not None and ref.name:
            names.setdefault(ref.key, ref.name)
    community_names = {c.key: c.name for c in console.communities()}
    context = {
        "esc": esc,
        "detail": detail,
        "threads": threads,
        "experts": [e for e in esc.community.experts],
        "priorities": [p.value for p in Priority],
        "names": names,
        "timeline": [
            (entry, detail_words(entry.detail, names, entry.actor, community_names)) for entry in detail.audit
        ],
        "problem": problem,
        "may_retry": viewer.may_retry_deliveries,
    }
    return render(request, "escalation.html", context, status=status)


async def escalation_detail(request: web.Request) -> web.StreamResponse:
    return await escalation_page(request)


def _command(action: str, esc: Escalation, viewer: Viewer, form: Any) -> BaseCommand:
    base: dict[str, Any] = {
        "id": f"console:{uuid.uuid4().hex}",
        "escalation_id": esc.id,
        "actor": viewer.person,
        "via": "console",
    }
    reason = str(form.get("reason") or "").strip()[:2000] or None
    if action == "reassign":
        chosen = str(form.get("to") or "")
        expert = next((e for e in esc.community.experts if e.key == chosen), None)
        if chosen and expert is None:
            raise Refused(Reason.invalid, f"{chosen} is not an expert of {esc.community.name}.")
        to = (expert.ref_on(viewer.person.platform) or expert.refs[0]) if expert else None
        return Reassign(**base, to=to)
    if action == "cancel":
        return Cancel(**base, reason=reason)
    if action == "reopen":
        return Reopen(**base, reason=reason)
    if action == "priority":
        try:
            priority = Priority(str(form.get("priority") or ""))
        except ValueError:
            raise Refused(Reason.invalid, "Choose a priority: low, normal, high or urgent.") from None
        return ChangePriority(**base, priority=priority)
    raise web.HTTPNotFound()


async def escalation_action(request: web.Request) -> web.StreamResponse:
    console, viewer = console_of(request), viewer_of(request)
    escalation_id = request.match_info["id"]
    detail = await console.queries.detail(viewer.reach(), escalation_id)
    if detail is None:
        raise web.HTTPNotFound()
    form = await request.post()
    try:
        command = _command(request.match_info["action"], detail.escalation, viewer, form)
        await console.service.handle(command, scope=viewer.scope)
    except Refused as refusal:
        if refusal.reason == Reason.not_found:
            raise web.HTTPNotFound() from None
        if refusal.reason == Reason.forbidden:
            return error_page(request, 403, refusal.message)
        return await escalation_page(request, problem=refusal.message, status=409)
    return web.Response(status=303, headers={"Location": f"/console/escalations/{escalation_id}"})


def routes(app: web.Application) -> None:
    async def home(_: web.Request) -> web.StreamResponse:
        return web.Response(status=302, headers={"Location": "/console/overview"})

    app.router.add_get("/", home)
    app.router.add_get("/escalations", escalation_list)
    app.router.add_get("/escalations/{id}", escalation_detail)
    app.router.add_post("/escalations/{id}/{action}", escalation_action)
