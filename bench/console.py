"""The web console at size: each page's server time (p50, p99) with 10k and 1M escalations of
history, and the weight of a page with everything it loads (HTML, CSS, JS).

    python -m bench.console [--quick] [--db sqlite|postgres] [--sizes 10000,1000000] [--repeat 30]
    python -m bench.console --existing postgresql+asyncpg://postgres@127.0.0.1:5432/copy [--repeat 30]

History is seeded as bench.growth seeds it (``seed.PER_DAY`` resolved escalations a day back
from now, with knowledge rows and card refs), plus a working day's open questions; the console
runs in process behind aiohttp's test server, signed in as an admin, and each page is fetched
``--repeat`` times over loopback (the time includes the HTTP round trip on this machine). The
SELECT statements the overview runs are EXPLAINed at the largest size.

``--existing URL`` measures a database that is already seeded and migrated (a copy of a kept
one: seeding a million escalations takes minutes), without writing to it beyond what the pages
themselves do; the statements of the lists are then EXPLAINed with ANALYZE as well.
"""

from __future__ import annotations

import asyncio
import html
import re
import time
from datetime import timedelta
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import text

from adapters.web import ConsoleConfig, WebConsole
from bot.app import build_app
from bot.config import parse_config
from bot.config_check import describe_policy
from bot.runtime import Runtime
from storage import Store
from storage.console import ConsoleStore
from workflows.clock import FakeClock
from workflows.console import EscalationFilter, Reach
from workflows.model import PersonRef, Platform
from workflows.ports import Scope

from .common import database, emit, parser, summary, table
from .growth import NOW, Capture, explain, scans_history
from .seed import CONFIG, seed_history, seed_live

ADMIN = PersonRef(platform=Platform.slack, id="U0ADMIN", tenant="T0ACME", name="Admin")
ADMIN_REACH = Reach(scope=Scope("slack", "T0ACME"))
FIRST = EscalationFilter(per_page=1)
PAGES = {
    "overview": "/console/overview?period=28d",
    "overview_sdk_90d": "/console/overview?period=90d&community=sdk",
    "escalations": "/console/escalations",
    "escalations_open_sdk": "/console/escalations?community=sdk&state=open",
    "escalations_words": "/console/escalations?words=token+refresh",
    "escalations_words_none": "/console/escalations?words=zebra+unicorn",  # no question holds them
    "escalations_older": "{older}",  # the second page, from the first one's "Older" link
    "escalations_page_100": "/console/escalations?page=100",  # an old counted link: OFFSET 4,950
    "escalation": "/console/escalations/{id}",
    "knowledge": "/console/knowledge?q=token+refresh+crash",
    "knowledge_none": "/console/knowledge?q=zebra+unicorn",
    "communities": "/console/communities",
    "deliveries": "/console/deliveries",
}
# The pages whose statements ``--existing`` EXPLAINs with ANALYZE.
LISTS = ("escalations", "escalations_open_sdk", "escalations_words", "escalations_words_none", "knowledge")
# And those of the figures (the overview's window, open questions, hand-overs; the communities' loads).
FIGURES = ("overview", "communities")


async def page_weight(client: TestClient[Any, Any], path: str) -> int:
    """Bytes of a page and of every stylesheet and script it links."""
    response = await client.get(path)
    html = await response.read()
    total = len(html)
    for asset in re.findall(rb'(?:href|src)="(/console/static/[^"]+)"', html):
        total += len(await (await client.get(asset.decode())).read())
    return total


async def explain_analyze(store: Store, statements: dict[str, Any]) -> list[tuple[str, str]]:
    """EXPLAIN ANALYZE on PostgreSQL (the plan with what each step really read), the query
    plan on SQLite."""
    if store.engine.dialect.name != "postgresql":
        return await explain(store, statements)
    out = []
    async with store.engine.connect() as conn:
        for statement, parameters in statements.items():
            result = await conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            lines = [str(r[0]) if len(str(r[0])) < 300 else str(r[0])[:300] + " ..." for r in result.fetchall()]
            out.append((" ".join(statement.split()), "\n".join(lines)))
    return out


async def plans_of(store: Store, client: TestClient[Any, Any], paths: list[str]) -> list[tuple[str, str]]:
    capture = Capture(store)
    capture.on = True
    for path in paths:
        await client.get(path)
    capture.on = False
    return await explain_analyze(store, capture.statements)


async def measure(
    url: str, size: int, repeat: int, explain_overview: bool, explain_lists: bool = False
) -> dict[str, Any]:
    directory = parse_config(CONFIG.replace("communities:", 'admins: ["slack:T0ACME/U0ADMIN"]\ncommunities:', 1))
    clock = FakeClock(NOW)
    store = Store(url)
    runtime = Runtime(store, directory, {}, clock=clock)
    queries = ConsoleStore(store)
    config = ConsoleConfig(secret=b"bench" * 8, public_url="http://localhost")
    console = WebConsole(config, runtime.service, directory, queries, queries, clock, describe_policy)
    client: TestClient[Any, Any] = TestClient(TestServer(build_app(runtime, mounts=[console.mount], start_jobs=False)))
    await client.start_server()
    figures: dict[str, Any] = {}
    try:
        link = await console.new_link(ADMIN)
        assert (await client.get(link.split("localhost", 1)[1])).status == 200
        page = await queries.escalations(ADMIN_REACH, FIRST)
        detail_id = page.escalations[0].id
        first = await (await client.get(PAGES["escalations"])).text()
        older = re.search(r'<a href="(\?[^"]*)" rel="next">', first)
        older_path = "/console/escalations" + html.unescape(older.group(1)) if older else PAGES["escalations"]
        for name, path in PAGES.items():
            path = path.format(id=detail_id, older=older_path)
            timings = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                response = await client.get(path)
                await response.read()
                timings.append((time.perf_counter() - t0) * 1000)
                assert response.status == 200, (path, response.status)
            figures[name] = summary(timings)
        figures["overview_weight_bytes"] = await page_weight(client, PAGES["overview"])
        figures["escalations_weight_bytes"] = await page_weight(client, PAGES["escalations"])
        if explain_overview:
            capture = Capture(store)
            capture.on = True
            await client.get(PAGES["overview"])
            capture.on = False
            figures["plans"] = await explain(store, capture.statements)
        if explain_lists:
            figures["list_plans"] = await plans_of(store, client, [PAGES[p] for p in (*LISTS, *FIGURES)])
    finally:
        await client.close()
        await store.close()
    return figures


async def run_existing(args: Any) -> dict[str, Any]:
    """Measure a seeded, migrated database as it is (``--existing``)."""
    args.db = "postgres" if args.existing.startswith("postgres") else "sqlite"
    store = Store(args.existing)
    async with store.engine.connect() as conn:
        size = int((await conn.exec_driver_sql("SELECT count(*) FROM escalations")).scalar_one())
    await store.close()
    figures = await measure(args.existing, size, args.repeat, explain_overview=False, explain_lists=True)
    rows = [[size, page, figures[page]["p50"], figures[page]["p99"], figures[page]["n"]] for page in PAGES]
    table(
        "Console pages, existing database (ms per request, over loopback)",
        ["history", "page", "p50", "p99", "n"],
        rows,
    )
    for statement, plan in figures.pop("list_plans", []):
        flag = "FULL SCAN OF HISTORY" if scans_history(plan) else "index"
        print(f"-- [{flag}]\n{statement[:900]}\n{plan}\n")
    return {"sizes": [size], "sizes_measured": {str(size): figures}}


async def run(args: Any) -> dict[str, Any]:
    if args.existing:
        return await run_existing(args)
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else ([2000, 10000] if args.quick else [10000])
    results: dict[str, Any] = {"sizes": sizes, "sizes_measured": {}}
    rows, seeded = [], 0
    async with database(args.db) as url:
        directory = parse_config(CONFIG)
        # A working day's open questions, spread over the last hours, at every size.
        await seed_live(url, directory, [("sdk", NOW - timedelta(minutes=5 * n)) for n in range(100)])
        for n, size in enumerate(sizes):
            seed_s = await seed_history(url, size - seeded, NOW, offset=seeded)
            seeded = size
            store = Store(url)
            async with store.engine.connect() as conn:
                if args.db == "postgres":
                    await conn.execute(text("COMMIT"))
                await conn.exec_driver_sql("ANALYZE")
            await store.close()
            figures = await measure(url, size, args.repeat, explain_overview=n == len(sizes) - 1)
            figures["seed_s"] = round(seed_s, 1)
            results["sizes_measured"][str(size)] = figures
            for page in PAGES:
                rows.append([size, page, figures[page]["p50"], figures[page]["p99"], figures[page]["n"]])
                print(f"{size} {page}: p50 {figures[page]['p50']} ms, p99 {figures[page]['p99']} ms", flush=True)
            print(f"{size} escalations: seeded in {seed_s:.1f} s", flush=True)
    table(f"Console pages, db={args.db} (ms per request, over loopback)", ["history", "page", "p50", "p99", "n"], rows)
    last = results["sizes_measured"][str(sizes[-1])]
    print(
        f"\npage weight: overview {last['overview_weight_bytes']} B, escalations {last['escalations_weight_bytes']} B"
    )
    lines = []
    for statement, plan in last.pop("plans", []):
        flag = "FULL SCAN OF HISTORY" if scans_history(plan) else "index"
        lines.append(f"-- overview [{flag}]\n{statement[:600]}\n{plan}\n")
    print(f"\nEXPLAIN of the overview at {sizes[-1]} escalations ({args.db}):\n")
    print("\n".join(lines))
    return results


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = parser(__doc__ or "")
    p.add_argument("--sizes", help="comma-separated history sizes (default 10000; --quick 2000,10000)")
    p.add_argument("--repeat", type=int, default=30, help="requests per page (default 30)")
    p.add_argument("--existing", metavar="URL", help="measure this seeded, migrated database instead of seeding one")
    args = p.parse_args(argv)
    return emit("console", args, asyncio.run(run(args)))


if __name__ == "__main__":
    main()
