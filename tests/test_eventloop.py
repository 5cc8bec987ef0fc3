"""serve's event loop: uvloop by default where it is installed, asyncio's own on request,
and a clear refusal when the loop asked for cannot be had."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.eventloop import LoopUnavailable, loop_factory, loop_name
from tests.conftest import TEST_EVENT_LOOP
from tests.test_cli import ROOT, run_cli


def made_by(choice: str) -> str:
    loop = loop_factory(choice)()
    try:
        return loop_name(loop)
    finally:
        loop.close()


def test_auto_and_uvloop_give_uvloop_where_it_is_installed() -> None:
    pytest.importorskip("uvloop", reason="uvloop is not installed on this platform (Windows)")
    assert made_by("auto") == "uvloop"
    assert made_by("uvloop") == "uvloop"


def test_asyncio_opts_out() -> None:
    assert made_by("asyncio") == "asyncio"


def test_without_uvloop_auto_falls_back_and_uvloop_is_refused_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # `import uvloop` raises ImportError
    assert made_by("auto") == "asyncio"
    with pytest.raises(LoopUnavailable, match=r"EVENT_LOOP=uvloop, but uvloop is not installed"):
        loop_factory("uvloop")


def test_an_unknown_choice_is_refused() -> None:
    with pytest.raises(LoopUnavailable, match="auto, uvloop or asyncio"):
        loop_factory("tokio")


async def test_the_suite_runs_on_the_loop_test_event_loop_names() -> None:
    assert loop_name(asyncio.get_running_loop()) == TEST_EVENT_LOOP


def run_serve(env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    # Each case is refused before anything listens: port 3000 is never bound.
    # tmp_path/lib first on the path: a test may put a uvloop there that cannot be imported.
    path = os.pathsep.join([str(tmp_path / "lib"), str(ROOT)])
    return run_cli("serve", "--port", "3000", env={"PYTHONPATH": path, **env}, cwd=tmp_path)


def test_serve_refuses_event_loop_uvloop_without_uvloop_before_touching_anything(tmp_path: Path) -> None:
    # A uvloop that cannot be imported, as on a platform it has no build for.
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "uvloop.py").write_text("raise ImportError('no uvloop on this platform')\n")
    database = tmp_path / "bot.db"
    result = run_serve({"EVENT_LOOP": "uvloop", "DATABASE_URL": f"sqlite:///{database}"}, tmp_path)
    assert result.returncode == 2, result.stderr
    assert "EVENT_LOOP=uvloop, but uvloop is not installed here" in result.stderr
    assert "Traceback" not in result.stderr
    assert not database.exists()  # refused before the database was opened


def test_bad_settings_are_named_with_what_was_given_and_no_traceback(tmp_path: Path) -> None:
    result = run_cli("serve", env={"EVENT_LOOP": "tokio", "PORT": "three thousand"}, cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    [line] = result.stderr.splitlines()  # every bad setting, on one line
    assert "EVENT_LOOP: Input should be 'auto', 'uvloop' or 'asyncio' (got 'tokio')" in line
    assert "PORT must be a port number from 1 to 65535, not 'three thousand'" in line


def test_a_bad_secret_setting_is_named_but_not_echoed() -> None:
    from pydantic import BaseModel, Field, ValidationError

    from bot.settings import describe_problems

    class Secretive(BaseModel):
        password: int = Field(validation_alias="MICROSOFT_APP_PASSWORD")
        url: int = Field(validation_alias="DATABASE_URL")

    with pytest.raises(ValidationError) as error:
        Secretive.model_validate({"MICROSOFT_APP_PASSWORD": "hunter2-secret", "DATABASE_URL": "postgres://u:pw@h/d"})
    problem = describe_problems(error.value)
    assert "MICROSOFT_APP_PASSWORD: Input should be a valid integer" in problem
    assert "DATABASE_URL: Input should be a valid integer" in problem
    assert "hunter2" not in problem and "pw@" not in problem
