"""Real `escalation-bot serve` processes for the replica and kill tests."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from urllib.parse import urlencode

import aiohttp

from tests.slack.conftest import SECRET, payload, sign

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Serve:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    _log: IO[bytes]

    def log(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    async def ready(self, within: float = 30.0) -> None:
        deadline = time.monotonic() + within
        async with aiohttp.ClientSession() as http:
            while True:
                try:
                    async with http.get(f"http://127.0.0.1:{self.port}/readyz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientConnectionError:
                    pass
                assert self.process.poll() is None, f"{self.name} exited:\n{self.log()[-3000:]}"
                assert time.monotonic() < deadline, f"{self.name} not ready in {within} s:\n{self.log()[-3000:]}"
                await asyncio.sleep(0.2)

    async def stop(self) -> int:
        """SIGTERM, and wait for a graceful exit."""
        if self.process.poll() is None:
            self.process.terminate()
        code = await asyncio.to_thread(self.process.wait, 30)
        self._log.close()
        return code

    async def kill(self) -> None:
        """SIGKILL: no cleanup of any kind, as a crash or an OOM kill."""
        self.process.kill()
        await asyncio.to_thread(self.process.wait, 30)
        self._log.close()


def serve(name: str, tmp_path: Path, *, database_url: str, config: Path, slack_api_url: str, **env: str) -> Serve:
    port = free_port()
    log_path = tmp_path / f"{name}.log"
    log = log_path.open("wb")  # a file, not a pipe: a chatty server must never block on a full pipe
    environment = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": database_url,
        "ESCALATION_CONFIG": str(config),
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "SLACK_BOT_TOKEN": "xoxb-test-token",
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack_api_url,
        "SWEEP_INTERVAL_SECONDS": "0.5",
        "DISPATCH_INTERVAL_SECONDS": "0.5",
        "REPLICA_ID": name,
        "LOG_FORMAT": "json",
        "LOG_LEVEL": "INFO",
        **env,
    }
    environment.pop("TEST_DATABASE_URL", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve"],
        env=environment,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return Serve(name, process, port, log_path, log)


def escalate_form(user: str, text: str, response_url: str, trigger_id: str) -> str:
    """A `/escalate` slash command, form-encoded as Slack posts it."""
    form = payload(
        "slash_command", user=user, user_name=user.lower(), text=text, response_url=response_url, trigger_id=trigger_id
    )
    return urlencode(form)


async def post_command(http: aiohttp.ClientSession, port: int, body: str) -> int | None:
    """Signed as Slack signs; the status, or None when the process died with it in flight."""
    headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}
    try:
        async with http.post(f"http://127.0.0.1:{port}/slack/events", data=body, headers=headers) as response:
            await response.read()
            return response.status
    except (TimeoutError, aiohttp.ClientError):
        return None
