"""Acknowledgement latency and throughput of ``escalation-bot serve`` vs bare Bolt / bare botbuilder.

    python -m bench.ack [--quick] [--db sqlite|postgres] [--replicas N] [--event-loop auto|uvloop|asyncio]

Processes: ``serve`` (a real subprocess, Slack and Teams on, Teams authentication off), the
bare baselines (subprocesses), fake Slack Web API and fake Bot Connector (subprocesses),
and this process, which is the load generator (aiohttp client, loopback only).

Baselines, each in the same run on the same loop: bare Bolt and bare botbuilder, which only
acknowledge, and for Slack the durable floor (``bench.bare slack-durable``): bare Bolt
committing one row to a database of its own (same engine) before each ack.

Mix per platform: 40% open (``/escalate sdk ...`` / ``@bot escalate sdk ...``), 40% thread
replies on posted cards, 20% Claim button clicks. Phases: fixed rates (open loop, latency
measured from the intended send time, so a slow server cannot hide queueing) and saturation
(closed loop, N concurrent clients). Also the footprint: start-up time to ``/readyz`` 200 and
resident memory (VmRSS) idle and under load.

``--replicas N`` (PostgreSQL) runs N ``serve`` processes on the one database, as the
deployment in README.md does behind a load balancer; the load generator spreads the
requests over them in turn (the balancer's own cost is not measured), and the CPU per
request is that of all of them.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import hmac
import itertools
import json
import math
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from bot.eventloop import CHOICES
from storage import Store

from .common import ROOT, database, emit, parser, ratio, rss_kib, summary, table
from .fakes import fake_process
from .text import question

SECRET = "bench-signing-secret-0123456789ab"
SLACK_CHANNEL = "C0SDK0001"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
TEAM = "19:support-engineering@thread.tacv2"
TEAMS_CHANNEL = "19:sdk-experts@thread.tacv2"
SUPPORT = "19:support-floor@thread.tacv2"
BOT = "28:bench-bot"
EXPERTS = ["ADA", "BEN", "CHEN"]
# Requesters are U0SAM0..U0SAM49 (``Traffic.open``).
HOME_WATCHERS = [f"U0{who}" for who in EXPERTS] + [f"U0SAM{n}" for n in range(0, 50, 5)]

CONFIG = f"""
defaults:
  policy: {{nudge_after: 30m, assign_after: 2h, owner_reminder_after: 4h, reassign_after: 1d,
           requester_reminder_after: 1d, digest_at: "off"}}
people:
  - {{name: Ada, slack: U0ADA, teams: "29:ada"}}
  - {{name: Ben, slack: U0BEN, teams: "29:ben"}}
  - {{name: Chen, slack: U0CHEN, teams: "29:chen"}}
communities:
  - key: sdk
    name: Mobile SDK
    slack: {{channel: {SLACK_CHANNEL}}}
    teams: {{channel: "{TEAMS_CHANNEL}", team: "{TEAM}", tenant: "{TENANT}"}}
    experts: ["slack:U0ADA", "slack:U0BEN", "slack:U0CHEN", "teams:29:ada", "teams:29:ben", "teams:29:chen"]
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ------------------------------------------------------------------ processes


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    url: str
    startup_s: float
    log: Path
    # Further replicas of ``serve`` on the same database: the load is spread over all of
    # them, request by request, as a load balancer would.
    replicas: list[Server] = field(default_factory=list)
    event_loop: str = "?"  # which loop it runs on, as it reported at start

    @property
    def urls(self) -> list[str]:
        return [self.url, *(r.url for r in self.replicas)]

    @property
    def processes(self) -> list[subprocess.Popen[bytes]]:
        return [self.proc, *(r.proc for r in self.replicas)]

    def cpu_s(self) -> float:
        return sum(cpu_s(proc.pid) for proc in self.processes)


async def wait_ready(url: str, proc: subprocess.Popen[Any], limit_s: float = 60.0) -> float:
    started = time.perf_counter()
    async with aiohttp.ClientSession() as session:
        while time.perf_counter() - started < limit_s:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode}")
            try:
                async with session.get(f"{url}/readyz") as response:
                    if response.status == 200:
                        return time.perf_counter() - started
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.01)
    raise RuntimeError("server not ready in time")


def profiler_args() -> list[str]:
    """BENCH_PROFILE_SERVE=<file>: run serve under a profiler, written when it stops (file.txt:
    pyinstrument's text report of the event loop's thread; any other name: cProfile's stats)."""
    profile = os.environ.get("BENCH_PROFILE_SERVE", "").strip()
    if not profile:
        return []
    if profile.endswith(".txt"):
        return ["-m", "pyinstrument", "--show-all", "-r", "text", "-o", os.path.abspath(profile)]
    return ["-m", "cProfile", "-o", os.path.abspath(profile)]


async def start_serve(
    database_url: str, slack_api: str, connector: str, workdir: Path, replica: int = 1, event_loop: str = "auto"
) -> Server:
    config = workdir / "escalation.yaml"
    config.write_text(CONFIG)
    port = free_port()
    log = workdir / ("serve.log" if replica == 1 else f"serve-{replica}.log")
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "ESCALATION_CONFIG": str(config),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": f"{slack_api}/api/",
        "TEAMS_ENABLED": "true",
        "TEAMS_SERVICE_URL_ALLOWLIST": f"{connector}/",
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
        "REPLICA_ID": f"bench-{replica}",
        "EVENT_LOOP": event_loop,
    }
    for key in ("MICROSOFT_APP_ID", "MICROSOFT_APP_PASSWORD", "SLACK_APP_TOKEN"):
        env.pop(key, None)
    profiler = profiler_args()
    t0 = time.perf_counter()
    with log.open("wb") as out:
        proc = subprocess.Popen(  # noqa: ASYNC220 - started before anything is measured
            [sys.executable, *profiler, "-m", "bot.cli", "serve"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=workdir,
        )
    url = f"http://127.0.0.1:{port}"
    await wait_ready(url, proc)
    startup_s = time.perf_counter() - t0
    listening = [json.loads(line) for line in log.read_text().splitlines() if '"event": "listening"' in line]
    return Server(proc, url, startup_s, log, event_loop=listening[0]["event_loop"] if listening else "?")


async def start_bare(
    kind: str, slack_api: str, workdir: Path, event_loop: str = "auto", database_url: str = ""
) -> Server:
    log = workdir / f"bare-{kind}.log"
    t0 = time.perf_counter()
    command = [
        "-m",
        "bench.bare",
        kind,
        "--secret",
        SECRET,
        "--api-url",
        f"{slack_api}/api/",
        "--event-loop",
        event_loop,
        *(["--database-url", database_url] if database_url else []),
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(  # noqa: ASYNC220 - started before anything is measured
            [sys.executable, *command],
            stdout=subprocess.PIPE,
            stderr=out,
            cwd=ROOT,
        )
    assert proc.stdout is not None
    line = (await asyncio.to_thread(proc.stdout.readline)).decode()
    if not line.startswith("READY "):
        raise RuntimeError(f"bare {kind} did not start: {log.read_text()[-2000:]}")
    url = f"http://127.0.0.1:{int(line.split()[1])}"
    await wait_ready(url, proc)
    return Server(proc, url, time.perf_counter() - t0, log, event_loop=line.split()[2])


def cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used so far (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop(server: Server) -> None:
    for proc in server.processes:
        proc.terminate()
    for proc in server.processes:
        try:
            # A profiled serve needs longer to stop: the profiler writes its report at exit.
            proc.wait(timeout=120 if profiler_args() else 20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# ------------------------------------------------------------------ requests


def sign(body: str) -> dict[str, str]:
    ts = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


@dataclass
class Card:
    escalation_id: str
    version: int
    channel: str
    message_id: str


Request = tuple[str, str, dict[str, str]]  # path, body, headers


@dataclass
class Traffic:
    """Builds the next request of the mix, every one with fresh ids, as the platforms send them."""

    platform: str
    slack_api: str
    connector: str
    cards: list[Card] = field(default_factory=list)
    rng: random.Random = field(default_factory=lambda: random.Random(7))
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def next(self) -> Request:
        roll = self.rng.random()
        if not self.cards or roll < 0.4:
            return self.open()
        card = self.rng.choice(self.cards)
        return self.reply(card) if roll < 0.8 else self.click(card)

    # Slack
    def _slack(self, body: str, content_type: str) -> Request:
        return "/slack/events", body, {"Content-Type": content_type, **sign(body)}

    def open(self) -> Request:
        n = next(self.ids)
        if self.platform == "teams":
            return self._teams(self._mention(n, f"escalate sdk {question(self.rng)}"))
        form = {
            "token": "x",
            "team_id": "T0ACME",
            "team_domain": "acme",
            "channel_id": "C0SUPPORT1",
            "channel_name": "support",
            "user_id": f"U0SAM{n % 50}",
            "user_name": "sam",
            "command": "/escalate",
            "text": f"sdk {question(self.rng)}",
            "api_app_id": "A0ESCALATE",
            "is_enterprise_install": "false",
            "response_url": f"{self.slack_api}/response/command",
            "trigger_id": f"trigger.{n}.{time.time_ns()}",
        }
        return self._slack(urlencode(form), "application/x-www-form-urlencoded")

    def reply(self, card: Card) -> Request:
        n = next(self.ids)
        who = self.rng.choice(EXPERTS)
        text = f"Have you tried clearing the cache? See ticket {n}; this looks like the token refresh bug."
        if self.platform == "teams":
            activity = self._activity(n, who, "message")
            activity.update(
                conversation={
                    "id": f"{card.channel};messageid={card.message_id}",
                    "conversationType": "channel",
                    "isGroup": True,
                    "tenantId": TENANT,
                },
                replyToId=card.message_id,
                textFormat="plain",
                text=text,
                channelData=self._channel_data(card.channel),
            )
            return self._teams(activity)
        ts = f"1772450000.{n:06d}"
        event = {
            "type": "message",
            "user": f"U0{who}",
            "text": text,
            "ts": ts,
            "thread_ts": card.message_id,
            "channel": card.channel,
            "channel_type": "channel",
            "event_ts": ts,
            "team": "T0ACME",
        }
        return self._event(event, f"Ev{n:08d}{time.time_ns()}")

    def home_opened(self, user: str) -> Request:
        """``user`` opens the bot's App Home tab (Slack): from then on changes refresh it."""
        event = {"type": "app_home_opened", "user": user, "channel": f"D0{user}", "tab": "home"}
        return self._event(event, f"EvHome{next(self.ids):08d}{time.time_ns()}")

    def _event(self, event: dict[str, Any], event_id: str) -> Request:
        body = {
            "token": "x",
            "team_id": "T0ACME",
            "api_app_id": "A0ESCALATE",
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [{"team_id": "T0ACME", "user_id": "U0BOT", "is_bot": True}],
        }
        return self._slack(json.dumps(body), "application/json")

    def click(self, card: Card) -> Request:
        n = next(self.ids)
        who = self.rng.choice(EXPERTS)
        if self.platform == "teams":
            data = {"verb": "claim", "escalation_id": card.escalation_id, "version": card.version}
            activity = self._activity(n, who, "invoke")
            activity.update(
                name="adaptiveCard/action",
                conversation={
                    "id": f"{card.channel};messageid={card.message_id}",
                    "conversationType": "channel",
                    "tenantId": TENANT,
                },
                replyToId=card.message_id,
                value={"action": {"type": "Action.Execute", "id": "claim", "verb": "claim", "data": data}},
                channelData={"channel": {"id": card.channel}, "tenant": {"id": TENANT}},
            )
            return self._teams(activity)
        value = json.dumps({"e": card.escalation_id, "v": card.version}, separators=(",", ":"))
        payload = {
            "type": "block_actions",
            "user": {"id": f"U0{who}", "username": who.lower(), "name": who.lower(), "team_id": "T0ACME"},
            "api_app_id": "A0ESCALATE",
            "token": "x",
            "container": {"type": "message", "message_ts": card.message_id, "channel_id": card.channel},
            "trigger_id": f"trigger.{n}.{time.time_ns()}",
            "team": {"id": "T0ACME", "domain": "acme"},
            "channel": {"id": card.channel, "name": "sdk-experts"},
            "message": {"type": "message", "user": "U0BOT", "ts": card.message_id, "text": "card", "blocks": []},
            "state": {"values": {}},
            "response_url": f"{self.slack_api}/response/action",
            "actions": [
                {
                    "action_id": "claim",
                    "block_id": "actions",
                    "type": "button",
                    "value": value,
                    "action_ts": f"1772443{n:06d}.000001",
                }
            ],
        }
        return self._slack(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")

    # Teams
    def _teams(self, activity: dict[str, Any]) -> Request:
        return "/api/messages", json.dumps(activity), {"Content-Type": "application/json"}

    def _activity(self, n: int, who: str, kind: str) -> dict[str, Any]:
        return {
            "type": kind,
            "id": f"bench{n}{time.time_ns()}",
            "timestamp": "2026-03-02T09:00:00.000Z",
            "serviceUrl": f"{self.connector}/",
            "channelId": "msteams",
            "from": {"id": f"29:{who.lower()}", "name": who.title(), "aadObjectId": f"aad-{who.lower()}"},
            "recipient": {"id": BOT, "name": "Escalations"},
        }

    @staticmethod
    def _channel_data(channel: str) -> dict[str, Any]:
        return {
            "teamsChannelId": channel,
            "teamsTeamId": TEAM,
            "channel": {"id": channel},
            "team": {"id": TEAM},
            "tenant": {"id": TENANT},
        }

    def _mention(self, n: int, text: str) -> dict[str, Any]:
        activity = self._activity(n, "SAM", "message")
        activity.update(
            conversation={
                "id": f"{SUPPORT};messageid={activity['id']}",
                "conversationType": "channel",
                "isGroup": True,
                "tenantId": TENANT,
            },
            textFormat="plain",
            text=f"<at>Escalations</at> {text}",
            entities=[
                {"type": "mention", "text": "<at>Escalations</at>", "mentioned": {"id": BOT, "name": "Escalations"}}
            ],
            channelData=self._channel_data(SUPPORT),
        )
        return activity

    def install(self) -> Request:
        activity = self._activity(0, "ADMIN", "conversationUpdate")
        activity.update(
            conversation={"id": TEAM, "conversationType": "channel", "isGroup": True, "tenantId": TENANT},
            membersAdded=[{"id": BOT}],
            channelData={
                "eventType": "teamMemberAdded",
                "team": {"id": TEAM, "name": "Support"},
                "channel": {"id": TEAM},
                "tenant": {"id": TENANT},
            },
        )
        return self._teams(activity)


# ------------------------------------------------------------------ load


@dataclass
class PhaseResult:
    latencies_ms: list[float]
    errors: int
    elapsed_s: float

    @property
    def rps(self) -> float:
        return len(self.latencies_ms) / self.elapsed_s if self.elapsed_s else 0.0


async def send(session: aiohttp.ClientSession, base: str, request: Request) -> bool:
    path, body, headers = request
    async with session.post(base + path, data=body.encode(), headers=headers) as response:
        await response.read()
        return response.status == 200


async def fixed_rate(
    session: aiohttp.ClientSession, bases: list[str], build: Callable[[], Request], rate: float, seconds: float
) -> PhaseResult:
    """Open loop: request i is due at t0 + i/rate, sent to ``bases[i % len(bases)]``; latency
    counts from the instant it was due."""
    count = int(rate * seconds)
    latencies: list[float] = []
    errors = 0
    loop = asyncio.get_running_loop()
    t0 = loop.time() + 0.05

    async def one(i: int) -> None:
        nonlocal errors
        due = t0 + i / rate
        delay = due - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        # Built when due, not when the phase starts: building all of them first took longer
        # than the phase's head start, and the first requests then went out in a burst.
        request = build()
        try:
            ok = await asyncio.wait_for(send(session, bases[i % len(bases)], request), timeout=30)
        except (TimeoutError, aiohttp.ClientError):
            ok = False
        if ok:
            latencies.append((loop.time() - due) * 1000)
        else:
            errors += 1

    await asyncio.gather(*(one(i) for i in range(count)))
    return PhaseResult(latencies, errors, max(loop.time() - t0, seconds))


async def saturate(
    session: aiohttp.ClientSession,
    bases: list[str],
    build: Callable[[], Request],
    concurrency: int,
    seconds: float,
    max_requests: int,
) -> PhaseResult:
    """Closed loop: ``concurrency`` clients, each sending its next request when the last is
    answered; request i goes to ``bases[i % len(bases)]``."""
    latencies: list[float] = []
    errors = 0
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    issued = itertools.count()

    async def client() -> None:
        nonlocal errors
        while loop.time() - t0 < seconds and (i := next(issued)) < max_requests:
            request = build()
            start = loop.time()
            try:
                ok = await asyncio.wait_for(send(session, bases[i % len(bases)], request), timeout=30)
            except (TimeoutError, aiohttp.ClientError):
                ok = False
            if ok:
                latencies.append((loop.time() - start) * 1000)
            else:
                errors += 1

    await asyncio.gather(*(client() for _ in range(concurrency)))
    return PhaseResult(latencies, errors, loop.time() - t0)


Phase = Callable[[Server, Traffic], Awaitable[PhaseResult]]


def at_rate(session: aiohttp.ClientSession, rate: float, seconds: float) -> Phase:
    def phase(server: Server, traffic: Traffic) -> Awaitable[PhaseResult]:
        return fixed_rate(session, server.urls, traffic.next, rate, seconds)

    return phase


def saturating(session: aiohttp.ClientSession, clients: int, seconds: float, max_requests: int) -> Phase:
    def phase(server: Server, traffic: Traffic) -> Awaitable[PhaseResult]:
        return saturate(session, server.urls, traffic.next, clients, seconds, max_requests)

    return phase


# ------------------------------------------------------------------ the run


async def cards(database_url: str, platform: str) -> list[Card]:
    from sqlalchemy import select

    from storage.tables import EscalationRow, MessageRefRow

    store = Store(database_url)
    try:
        async with store.unit_of_work() as uow:
            rows = (
                await uow.session.execute(
                    select(
                        MessageRefRow.escalation_id,
                        EscalationRow.version,
                        MessageRefRow.channel,
                        MessageRefRow.message_id,
                    )
                    .join(EscalationRow, EscalationRow.id == MessageRefRow.escalation_id)
                    .where(MessageRefRow.kind == "card", MessageRefRow.platform == platform)
                )
            ).all()
    finally:
        await store.close()
    return [Card(str(e), int(v), str(c), str(m)) for e, v, c, m in rows]


async def warm_up(session: aiohttp.ClientSession, server: Server, traffic: Traffic, database_url: str, n: int) -> None:
    """Open ``n`` escalations and wait until their cards are posted, so replies and clicks hit real cards."""
    for _ in range(n):
        assert await send(session, server.url, traffic.open()), server.log.read_text()[-3000:]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = await cards(database_url, traffic.platform)
        if len(found) >= n:
            traffic.cards = found
            return
        await asyncio.sleep(0.2)
    raise RuntimeError(
        f"only {len(await cards(database_url, traffic.platform))} of {n} {traffic.platform} cards posted"
    )


async def sample_rss(pid: int, stop_at: asyncio.Event, out: list[int]) -> None:
    while not stop_at.is_set():
        try:
            out.append(rss_kib(pid)["VmRSS"])
        except (OSError, KeyError):
            return
        await asyncio.sleep(0.1)


def keep_logs(logs: list[Path]) -> None:
    """BENCH_KEEP_LOGS=<dir>: serve's logs are copied there before the run's directory goes."""
    if keep := os.environ.get("BENCH_KEEP_LOGS", "").strip():
        Path(keep).mkdir(parents=True, exist_ok=True)
        for log in logs:
            shutil.copy(log, Path(keep) / log.name)


async def loop_lag(session: aiohttp.ClientSession, server: Server) -> dict[float, float]:
    """serve's event-loop lag histogram (cumulative counts by upper bound, seconds), summed
    over the replicas: a difference of two readings is what a phase saw."""
    out: dict[float, float] = {}
    for url in server.urls:
        async with session.get(url + "/metrics") as response:
            text = await response.text()
        for family in text_string_to_metric_families(text):
            if family.name != "escalation_event_loop_lag_seconds":
                continue
            for sample in family.samples:
                if sample.name.endswith("_bucket"):
                    le = float(sample.labels["le"])
                    out[le] = out.get(le, 0.0) + sample.value
    return out


def lag_over(before: dict[float, float], after: dict[float, float], bound: float) -> int:
    """How many of the loop's wake-ups in between were later than ``bound`` seconds."""
    total = after.get(math.inf, 0.0) - before.get(math.inf, 0.0)
    within = after.get(bound, 0.0) - before.get(bound, 0.0)
    return int(total - within)


async def audit_counts(database_url: str) -> dict[str, int]:
    from sqlalchemy import func, select

    from storage.tables import AuditRow

    store = Store(database_url)
    try:
        async with store.unit_of_work() as uow:
            rows = (await uow.session.execute(select(AuditRow.action, func.count()).group_by(AuditRow.action))).all()
            failed = await uow.outbox.list("failed", limit=500)
    finally:
        await store.close()
    counts = {str(a): int(n) for a, n in rows}
    reasons: dict[str, int] = {}
    for row in failed:
        reason = f"{row.platform}:{row.kind}: {(row.last_error or '')[:120]}"
        reasons[reason] = reasons.get(reason, 0) + 1
    for reason, n in reasons.items():
        print(f"failed delivery x{n}: {reason}")
    return counts


async def run(args: Any) -> dict[str, Any]:
    rates = (
        [float(r) for r in args.rates.split(",")]
        if args.rates
        else ([20.0, 50.0] if args.quick else [50.0, 100.0, 200.0])
    )
    seconds = args.seconds or (2.0 if args.quick else 10.0)
    sat_seconds = seconds
    concurrency = 16 if args.quick else 64
    warm = 5 if args.quick else 50
    results: dict[str, Any] = {
        "replicas": args.replicas,
        "rates": rates,
        "phase_seconds": seconds,
        "saturation_clients": concurrency,
        "platforms": {},
    }
    rows: list[list[Any]] = []
    with (
        tempfile.TemporaryDirectory(prefix="eb-ack-") as tmp,
        fake_process("slack") as slack_api,
        fake_process("teams") as connector,
    ):
        workdir = Path(tmp)
        async with database(args.db) as url, AsyncExitStack() as floor_db:
            # serve starts alone, so its start-up time is not shared with the baselines' imports.
            serve = await start_serve(url, slack_api, connector, workdir, event_loop=args.event_loop)
            bare: dict[str, Server] = {}
            pause = min(0.5, seconds / 4)
            footprint: dict[str, Any] = {"startup_to_ready_s": round(serve.startup_s, 3)}
            try:
                for n in range(2, args.replicas + 1):
                    serve.replicas.append(
                        await start_serve(url, slack_api, connector, workdir, replica=n, event_loop=args.event_loop)
                    )
                bare_slack, bare_teams = await asyncio.gather(
                    start_bare("slack", slack_api, workdir, args.event_loop),
                    start_bare("teams", slack_api, workdir, args.event_loop),
                )
                bare.update(slack=bare_slack, teams=bare_teams)
                if "slack" in args.platforms.split(","):
                    floor_url = await floor_db.enter_async_context(database(args.db))
                    bare["floor"] = await start_bare(
                        "slack-durable", slack_api, workdir, args.event_loop, database_url=floor_url
                    )
                results["event_loop"] = {
                    "serve": serve.event_loop,
                    "bare_slack": bare_slack.event_loop,
                    "bare_teams": bare_teams.event_loop,
                }
                if "floor" in bare:
                    results["event_loop"]["floor"] = bare["floor"].event_loop
                # This process is the load generator: its collector's full passes over what
                # it has built so far (100 ms and more) would land in whichever side's
                # latencies they fell on.
                gc.collect()
                gc.freeze()
                await asyncio.sleep(2 * pause)
                footprint["rss_idle_mib"] = round(rss_kib(serve.proc.pid)["VmRSS"] / 1024, 1)
                footprint["bare_slack_rss_idle_mib"] = round(rss_kib(bare["slack"].proc.pid)["VmRSS"] / 1024, 1)
                footprint["bare_teams_rss_idle_mib"] = round(rss_kib(bare["teams"].proc.pid)["VmRSS"] / 1024, 1)
                connector_ = aiohttp.TCPConnector(limit=512)
                async with aiohttp.ClientSession(connector=connector_) as session:
                    rss_samples: list[int] = []
                    stop_sampling = asyncio.Event()
                    sampler = asyncio.create_task(sample_rss(serve.proc.pid, stop_sampling, rss_samples))
                    # Installed in the team first, as in real life: cards go to both platforms' channels.
                    assert await send(session, serve.url, Traffic("teams", slack_api, connector).install())
                    for platform in args.platforms.split(","):
                        traffic = Traffic(platform, slack_api, connector)
                        if platform == "slack":
                            # Those who watch their App Home tab: the experts and one requester in
                            # five. The tabs of the others are not refreshed (none opened them).
                            for user in HOME_WATCHERS:
                                assert await send(session, serve.url, traffic.home_opened(user))
                        await warm_up(session, serve, traffic, url, warm)
                        baseline = Traffic(platform, slack_api, connector, cards=list(traffic.cards))
                        figures: dict[str, Any] = {}
                        phases: list[tuple[str, Phase]] = [(f"{r:g}/s", at_rate(session, r, seconds)) for r in rates]
                        phases.append(
                            (f"saturation x{concurrency}", saturating(session, concurrency, sat_seconds, 20_000))
                        )
                        for name, phase in phases:
                            cpu0 = serve.cpu_s()
                            lag0 = await loop_lag(session, serve)
                            ours: PhaseResult = await phase(serve, traffic)
                            # CPU per request (of every replica): where a missed target goes (CPU, or waiting).
                            cpu_ours = (serve.cpu_s() - cpu0) / max(1, len(ours.latencies_ms)) * 1000
                            lag1 = await loop_lag(session, serve)
                            await asyncio.sleep(pause)
                            cpu0 = bare[platform].cpu_s()
                            base: PhaseResult = await phase(bare[platform], baseline)
                            cpu_base = (bare[platform].cpu_s() - cpu0) / max(1, len(base.latencies_ms)) * 1000
                            await asyncio.sleep(pause)
                            floor: PhaseResult | None = None
                            cpu_floor = 0.0
                            if platform == "slack":
                                cpu0 = bare["floor"].cpu_s()
                                floor = await phase(
                                    bare["floor"], Traffic(platform, slack_api, connector, cards=list(traffic.cards))
                                )
                                cpu_floor = (bare["floor"].cpu_s() - cpu0) / max(1, len(floor.latencies_ms)) * 1000
                                await asyncio.sleep(pause)
                            o, b = summary(ours.latencies_ms), summary(base.latencies_ms)
                            f = summary(floor.latencies_ms) if floor else None
                            figures[name] = {
                                "serve": {
                                    **o,
                                    "rps": round(ours.rps, 1),
                                    "errors": ours.errors,
                                    "cpu_ms_per_request": round(cpu_ours, 2),
                                    # serve's loop woke late (a 50 ms tick): how often, by how much.
                                    "loop_lag_over_100ms": lag_over(lag0, lag1, 0.1),
                                    "loop_lag_over_250ms": lag_over(lag0, lag1, 0.25),
                                },
                                "bare": {
                                    **b,
                                    "rps": round(base.rps, 1),
                                    "errors": base.errors,
                                    "cpu_ms_per_request": round(cpu_base, 2),
                                },
                                "p99_ratio": ratio(o["p99"], b["p99"]),
                                "rps_ratio": ratio(ours.rps, base.rps),
                            }
                            if floor and f:
                                figures[name]["floor"] = {
                                    **f,
                                    "rps": round(floor.rps, 1),
                                    "errors": floor.errors,
                                    "cpu_ms_per_request": round(cpu_floor, 2),
                                }
                                figures[name]["rps_ratio_floor"] = ratio(ours.rps, floor.rps)
                            rows.append(
                                [
                                    platform,
                                    name,
                                    o["p50"],
                                    o["p99"],
                                    o["max"],
                                    round(ours.rps, 1),
                                    ours.errors,
                                    round(cpu_ours, 2),
                                    figures[name]["serve"]["loop_lag_over_100ms"],
                                    b["p50"],
                                    b["p99"],
                                    b["max"],
                                    round(base.rps, 1),
                                    base.errors,
                                    round(cpu_base, 2),
                                    figures[name]["p99_ratio"],
                                    figures[name]["rps_ratio"],
                                    f["p99"] if f else "-",
                                    round(floor.rps, 1) if floor else "-",
                                    round(cpu_floor, 2) if floor else "-",
                                    figures[name].get("rps_ratio_floor", "-"),
                                ]
                            )
                        results["platforms"][platform] = figures
                    stop_sampling.set()
                    await sampler
                footprint["rss_under_load_max_mib"] = round(max(rss_samples, default=0) / 1024, 1)
                footprint["rss_peak_hwm_mib"] = round(rss_kib(serve.proc.pid)["VmHWM"] / 1024, 1)
                results["footprint"] = footprint
                results["audit_actions"] = await audit_counts(url)
            finally:
                stop(serve)
                for process in bare.values():
                    stop(process)
            logs = [serve.log, *(r.log for r in serve.replicas)]
            keep_logs(logs)
            lines = [line for log in logs for line in log.read_text().splitlines()]
            errors = [line for line in lines if '"level": "error"' in line.lower()]
            results["serve_error_log_lines"] = len(errors)
            stalls = [json.loads(line) for line in lines if '"event": "event loop blocked"' in line]
            results["serve_loop_stalls"] = {
                "count": len(stalls),
                "max_ms": max((stall["blocked_ms"] for stall in stalls), default=0),
            }
            for stall in sorted(stalls, key=lambda s: -s["blocked_ms"])[:3]:
                print(f"serve's loop was blocked {stall['blocked_ms']} ms, in: {' < '.join(stall['stack'][::-1][:6])}")
            for line in errors[:3]:
                print(f"serve logged an error: {line[:300]} ... {line[-1500:]}")
    table(
        f"Acknowledgement latency (ms) and throughput, db={args.db}, serve x{args.replicas}, "
        f"event loop {results['event_loop']['serve']}: serve vs bare, and (Slack) vs the durable floor"
        " (bare Bolt committing one row before its ack; same run, same loop)",
        [
            "platform",
            "phase",
            "p50",
            "p99",
            "max",
            "req/s",
            "err",
            "cpu ms/req",
            "lag>100ms",
            "bare p50",
            "bare p99",
            "bare max",
            "bare req/s",
            "bare err",
            "bare cpu ms/req",
            "p99 x",
            "req/s x",
            "floor p99",
            "floor req/s",
            "floor cpu ms/req",
            "req/s x floor",
        ],
        rows,
    )
    of = " (the first replica)" if args.replicas > 1 else ""
    table(f"Footprint of serve{of}", ["figure", "value"], [[k, v] for k, v in results["footprint"].items()])
    table("Work done (audit rows by action)", ["action", "count"], sorted(results["audit_actions"].items()))
    return results


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = parser(__doc__ or "")
    p.add_argument("--rates", help="comma-separated fixed rates in requests/s (default 50,100,200; --quick 20,50)")
    p.add_argument("--platforms", default="slack,teams", help="which to load (default slack,teams)")
    p.add_argument("--seconds", type=float, default=0.0, help="length of each phase (default 10; --quick 2)")
    p.add_argument(
        "--replicas",
        type=int,
        default=1,
        help="serve processes on the one database, the load spread over them (PostgreSQL only; default 1)",
    )
    p.add_argument(
        "--event-loop",
        default="auto",
        choices=CHOICES,
        help="the loop serve and the baselines run on, as serve's EVENT_LOOP (default auto: uvloop where installed)",
    )
    args = p.parse_args(argv)
    if args.replicas < 1:
        p.error("--replicas must be at least 1")
    if args.replicas > 1 and args.db != "postgres":
        p.error("--replicas above 1 needs --db postgres: SQLite serves one process (a second serve is refused)")
    return emit("ack", args, asyncio.run(run(args)))


if __name__ == "__main__":
    main()
