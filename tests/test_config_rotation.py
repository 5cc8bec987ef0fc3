"""``rotation:`` in a community: ``expertise`` is read and shown by ``config check``; anything
else is one line naming the field and the choices."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.config import ConfigError, load_config
from workflows.model import Rotation

BASE = "communities: [{key: sdk, slack: {channel: C0123ABCD}, experts: ['slack:U1'], rotation: %s}]"


def test_expertise_is_a_rotation_config_check_shows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "good.yaml"
    path.write_text(BASE % "expertise")
    community = load_config(path).get("sdk")
    assert community is not None and community.policy.rotation == Rotation.expertise
    assert main(["config", "check", str(path)]) == 0
    assert "rotation: expertise" in capsys.readouterr().out


def test_an_unknown_rotation_is_one_line_naming_the_choices(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(BASE % "by_magic")
    with pytest.raises(ConfigError) as error:
        load_config(path)
    lines = str(error.value).splitlines()
    assert len(lines) == 1 and "field 'rotation'" in lines[0] and "'expertise'" in lines[0], lines
    assert main(["config", "check", str(path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "'expertise'" in err
