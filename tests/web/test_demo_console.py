"""`escalation-bot demo` ends with the web console: a working link to the demo's escalation
when someone is at a terminal, and one line saying how to get one everywhere else."""

from __future__ import annotations

import asyncio
import os
import pty
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from tests.test_cli import ROOT, run_cli

LINK_SAYS = "The web console shows this escalation (Ctrl-C to stop): "


def _read_until(fd: int, wanted: str, proc: subprocess.Popen[bytes], timeout: float = 90) -> str:
    """What the terminal showed, up to the line holding ``wanted``."""
    seen = b""
    deadline = time.monotonic() + timeout
    while wanted.encode() not in seen or not seen.split(wanted.encode(), 1)[1].count(b"\n"):
        assert time.monotonic() < deadline, seen.decode(errors="replace")[-2000:]
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # the other end closed: the demo ended without the link
            chunk = b""
        assert chunk or proc.poll() is None, seen.decode(errors="replace")[-2000:]
        seen += chunk
    return seen.decode(errors="replace").replace("\r\n", "\n")


async def _shows_the_demo_escalation(link: str) -> None:
    # An IP address as host: aiohttp keeps its cookies only when told to (browsers do).
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar) as http, http.get(link) as response:
        page = await response.text()
        assert response.status == 200 and "/console/escalations/" in str(response.url)
        assert "the iOS SDK crashes on launch" in page and "Add PrivacyInfo.xcprivacy" in page


async def test_in_a_terminal_the_plain_demo_ends_by_serving_a_link_to_its_escalation(tmp_path: Path) -> None:
    controller, terminal = pty.openpty()
    proc = subprocess.Popen(  # noqa: ASYNC220 - the demo as a person runs it, in a terminal
        [sys.executable, "-m", "bot.cli", "demo"],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
    )
    os.close(terminal)
    try:
        shown = await asyncio.to_thread(_read_until, controller, LINK_SAYS, proc)
        assert "Status: resolved" in shown
        link = shown.split(LINK_SAYS, 1)[1].splitlines()[0].strip()
        assert link.startswith("http://127.0.0.1:") and "/console/signin/link?token=" in link
        await _shows_the_demo_escalation(link)
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        assert await asyncio.to_thread(proc.wait, 30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(controller)


def test_without_a_terminal_the_demo_ends_by_itself_and_says_how_to_get_a_link() -> None:
    for args in (["demo"], ["demo", "--no-console"]):
        result = run_cli(*args)
        assert result.returncode == 0, result.stderr
        tail = result.stdout.rstrip().splitlines()[-1]
        assert tail.startswith("To see this story in the web console") and "demo --console" in tail
        assert "http://" not in result.stdout and "token=" not in result.stdout


def test_a_console_port_already_taken_is_one_clear_line() -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("demo", "--console", str(port))
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"escalation-bot: demo: cannot serve the console: port {port} is not free (address already in use); "
        "try --console PORT"
    ]
