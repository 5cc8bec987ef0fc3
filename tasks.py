#!/usr/bin/env python3
"""Set-up and everyday commands, needing nothing but Python 3.11+.

    python3 tasks.py demo    # create .venv if needed, install, run the demo story
    python3 tasks.py playground  # the same, clickable: Slack and Teams side by side in a browser
    python3 tasks.py test    # create .venv if needed, install with test extras, run the tests
    python3 tasks.py lint    # ruff check, ruff format --check, mypy
    python3 tasks.py setup   # only create/refresh .venv

Extra arguments after ``test`` go to pytest (``python3 tasks.py test -k slack``).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".installed"


def _run(*args: str | Path, env: dict[str, str] | None = None) -> int:
    return subprocess.call([str(a) for a in args], cwd=ROOT, env={**os.environ, **(env or {})})  # noqa: S603


def setup() -> None:
    """Create the virtualenv and install the project, unless pyproject.toml is unchanged."""
    if sys.version_info < (3, 11):  # noqa: UP036 - this script may be started by an older python3
        sys.exit(f"escalation-bot needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if PYTHON.exists() and STAMP.exists() and STAMP.read_text() == wanted:
        return
    if not PYTHON.exists():
        print("creating .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("installing escalation-bot and its dev tools into .venv ...", flush=True)
    quiet = ["--quiet", "--disable-pip-version-check"]
    if _run(PYTHON, "-m", "pip", "install", *quiet, "--upgrade", "pip") != 0:
        sys.exit("could not upgrade pip in .venv")
    if _run(PYTHON, "-m", "pip", "install", *quiet, "-e", ".[dev]") != 0:
        sys.exit("could not install the project into .venv")
    STAMP.write_text(wanted)


def main(argv: list[str]) -> int:
    command, rest = (argv[0], argv[1:]) if argv else ("help", [])
    if command not in {"setup", "demo", "playground", "test", "lint"}:
        print(__doc__)
        return 0 if command in {"help", "-h", "--help"} else 2
    setup()
    if command == "setup":
        return 0
    if command in ("demo", "playground"):
        return _run(BIN / "escalation-bot", command, *rest)
    if command == "test":
        return _run(PYTHON, "-m", "pytest", *rest)
    for check in (["ruff", "check", "."], ["ruff", "format", "--check", "."], ["mypy"]):
        code = _run(BIN / check[0], *check[1:])
        if code != 0:
            return code
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
