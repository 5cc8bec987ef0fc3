"""The Teams app package validates against the manifest schema the project pins."""

from __future__ import annotations

import json
import struct
import zipfile
import zlib
from pathlib import Path

import jsonschema
import pytest

from adapters.teams.package import PackageError, build_manifest
from bot.cli import main
from tests.conftest import SCHEMAS

SCHEMA = SCHEMAS / "teams-app-manifest.v1.29.schema.json"
APP_ID = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"


def _png(data: bytes) -> tuple[int, int, list[tuple[int, int, int, int]]]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height, depth, color_type = struct.unpack(">IIBB", data[16:26])
    assert (depth, color_type) == (8, 6)  # 8-bit RGBA
    idat = b""
    offset = 8
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        if kind == b"IDAT":
            idat += data[offset + 8 : offset + 8 + length]
        offset += 12 + length
    raw = zlib.decompress(idat)
    stride = width * 4 + 1
    pixels = []
    for y in range(height):
        row = raw[y * stride : (y + 1) * stride]
        assert row[0] == 0  # our writer never filters
        pixels += [tuple(row[1 + x * 4 : 5 + x * 4]) for x in range(width)]
    return width, height, pixels  # type: ignore[return-value]


def test_teams_package_writes_a_zip_that_validates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "app.zip"
    code = main(["teams-package", "--app-id", APP_ID, "--host", "https://bot.example.com/", "-o", str(target)])
    assert code == 0, capsys.readouterr().err
    with zipfile.ZipFile(target) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest = json.loads(archive.read("manifest.json"))
        color = _png(archive.read("color.png"))
        outline = _png(archive.read("outline.png"))

    schema = json.loads(SCHEMA.read_text())
    errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(manifest), key=str)
    assert not errors, [e.message for e in errors]

    assert manifest["manifestVersion"] == "1.29"
    [bot] = manifest["bots"]
    assert bot["botId"] == APP_ID and sorted(bot["scopes"]) == ["groupChat", "personal", "team"]
    [command] = manifest["composeExtensions"][0]["commands"]
    assert command["type"] == "action" and command["title"] == "Escalate to experts"
    assert command["context"] == ["message"] and command["fetchTask"] is True
    rsc = manifest["authorization"]["permissions"]["resourceSpecific"]
    assert {"name": "ChannelMessage.Read.Group", "type": "Application"} in rsc
    assert manifest["validDomains"] == ["bot.example.com"]

    assert color[:2] == (192, 192) and all(p[3] == 255 for p in color[2])
    assert outline[:2] == (32, 32)
    alphas = {p[3] for p in outline[2]}
    assert 0 in alphas, "the outline icon has a transparent background"
    assert all(p[:3] == (255, 255, 255) for p in outline[2] if p[3]), "and is white where drawn"


def test_teams_package_refuses_an_app_id_that_is_not_a_guid(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["teams-package", "--app-id", "my-bot", "--host", "bot.example.com", "-o", str(tmp_path / "x.zip")])
    assert code == 2 and "GUID" in capsys.readouterr().err
    with pytest.raises(PackageError):
        build_manifest(app_id=APP_ID, host="not a host")
