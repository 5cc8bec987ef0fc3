"""Installed like any Python service: the wheel, in a fresh virtualenv outside the repository,
gives a working `escalation-bot` (migrate, demo, serve) with every package file it needs."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import venv
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_cli_commands import fresh_database_url  # noqa: F401 - a fixture
from tests.test_cli_errors import OURS, free_port

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "adapters", "workflows", "storage", "migrations")
# Where the web console keeps its pages: they must travel too, once they exist.
PROBES = ("adapters/web/templates/probe/page.html", "adapters/web/static/probe.css")
SKIP = shutil.ignore_patterns(".venv", ".git", "build", "dist", "*.egg-info", "__pycache__", "*.pyc", ".*_cache")
CONFIG = """
communities:
  - key: sdk
    slack: {channel: C0SDK0001}
    experts: ["slack:U0ADA"]
"""

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, zipfile.ZipFile]]:
    """The wheel built from a clean copy of the source (a stale build/ cannot leak into it),
    installed into a new virtualenv: (its bin folder, the wheel)."""
    scratch = tmp_path_factory.mktemp("wheel")
    source = scratch / "src"
    shutil.copytree(ROOT, source, ignore=SKIP)
    for probe in PROBES:
        (source / probe).parent.mkdir(parents=True, exist_ok=True)
        (source / probe).write_text("probe\n")
    quiet = ["--quiet", "--disable-pip-version-check"]
    pip = [sys.executable, "-m", "pip", "wheel", *quiet, "--no-deps", "-w", str(scratch / "dist"), str(source)]
    subprocess.run(pip, check=True, cwd=scratch, timeout=300)
    [wheel] = (scratch / "dist").glob("escalation_bot-*.whl")
    venv.EnvBuilder(with_pip=True).create(scratch / "venv")
    python = scratch / "venv" / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", *quiet, str(wheel)], check=True, cwd=scratch, timeout=600)
    with zipfile.ZipFile(wheel) as archive:
        yield python.parent, archive


def _outside() -> dict[str, str]:
    """The environment without our settings and without a path back into the repository."""
    return {k: v for k, v in os.environ.items() if k not in OURS and k not in ("PYTHONPATH", "VIRTUAL_ENV")}


def in_folder(
    folder: Path, bin_dir: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(bin_dir / "escalation-bot"), *args],
        capture_output=True,
        text=True,
        cwd=folder,
        env={**_outside(), **(env or {})},
        timeout=180,
        check=False,
    )


def test_every_package_file_is_in_the_wheel(installed: tuple[Path, zipfile.ZipFile]) -> None:
    _, wheel = installed
    names = set(wheel.namelist())
    missing = [
        str(path.relative_to(ROOT))
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts and str(path.relative_to(ROOT)) not in names
    ]
    missing += [probe for probe in PROBES if probe not in names]
    assert not missing, f"not in the wheel: {missing}"


def test_the_installed_command_migrates_runs_the_demo_and_serves(
    installed: tuple[Path, zipfile.ZipFile],
    tmp_path: Path,
    fresh_database_url: str,  # noqa: F811 - the fixture imported above
) -> None:
    bin_dir, _ = installed
    folder = tmp_path / "elsewhere"  # outside the repository: nothing can be imported from it
    folder.mkdir()
    (folder / "escalation.yaml").write_text(CONFIG)
    where = subprocess.run(
        [str(bin_dir / "python"), "-c", "import bot, migrations; print(bot.__file__, migrations.__file__)"],
        capture_output=True,
        text=True,
        cwd=folder,
        check=True,
    )
    assert str(ROOT) not in where.stdout and str(bin_dir.parent) in where.stdout

    version = in_folder(folder, bin_dir, "--version")
    assert version.returncode == 0 and version.stdout.startswith("escalation-bot 0."), version
    env = {"DATABASE_URL": fresh_database_url}
    migrated = in_folder(folder, bin_dir, "migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    assert "created the schema at revision" in migrated.stdout
    demo = in_folder(folder, bin_dir, "demo")
    assert demo.returncode == 0, demo.stderr
    assert "Status: resolved" in demo.stdout

    port = free_port()
    serve = subprocess.Popen(
        [str(bin_dir / "escalation-bot"), "serve"],
        cwd=folder,
        env={**_outside(), **env, "HOST": "127.0.0.1", "PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert _ready(port, serve), serve.communicate(timeout=10)[1]
    finally:
        serve.send_signal(signal.SIGTERM)
        _, stderr = serve.communicate(timeout=60)
    assert serve.returncode == 0, stderr
    assert "Traceback" not in stderr


def _ready(port: int, serve: subprocess.Popen[str]) -> bool:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and serve.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as response:
                return response.status == 200
        except OSError:
            time.sleep(0.3)
    return False
