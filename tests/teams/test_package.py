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


def _built(tmp_path: Path, *extra: str) -> dict[str, object]:
    target = tmp_path / "app.zip"
    assert main(["teams-package", "--app-id", APP_ID, "--host", "bot.example.com", "-o", str(target), *extra]) == 0
    with zipfile.ZipFile(target) as archive:
        manifest: dict[str, object] = json.loads(archive.read("manifest.json"))
    return manifest


@pytest.mark.parametrize("version", ["1.0", "1", "v1.0.0", "1.0.0-beta", "01.0.0", "1.0.0.0", ""])
def test_a_version_that_is_not_major_minor_patch_is_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], version: str
) -> None:
    target = tmp_path / "x.zip"
    code = main(
        ["teams-package", "--app-id", APP_ID, "--host", "bot.example.com", "--version", version, "-o", str(target)]
    )
    err = capsys.readouterr().err
    assert code == 2 and "MAJOR.MINOR.PATCH" in err and len(err.strip().splitlines()) == 1
    assert not target.exists()


def test_a_name_longer_than_teams_allows_is_refused_not_cut(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    schema = json.loads(SCHEMA.read_text())
    allowed = schema["properties"]["name"]["properties"]["short"]["maxLength"]
    assert _built(tmp_path, "--name", "E" * allowed)["name"] == {  # the longest allowed is kept whole
        "short": "E" * allowed,
        "full": "Escalations: customer questions to the experts",
    }
    target = tmp_path / "long.zip"
    name = "Escalations for the whole support team"
    code = main(["teams-package", "--app-id", APP_ID, "--host", "bot.example.com", "--name", name, "-o", str(target)])
    err = capsys.readouterr().err
    assert code == 2 and f"Teams allows at most {allowed}" in err and len(err.strip().splitlines()) == 1
    assert not target.exists()


def test_privacy_and_terms_point_at_the_pages_the_bot_serves_unless_given(tmp_path: Path) -> None:
    developer = _built(tmp_path)["developer"]
    assert isinstance(developer, dict)
    assert developer["privacyUrl"] == "https://bot.example.com/privacy"
    assert developer["termsOfUseUrl"] == "https://bot.example.com/terms"
    given = _built(tmp_path, "--privacy-url", "https://example.com/p", "--terms-url", "https://example.com/t")
    assert given["developer"] == {
        **developer,
        "privacyUrl": "https://example.com/p",
        "termsOfUseUrl": "https://example.com/t",
    }
    with pytest.raises(PackageError, match="--terms-url"):
        build_manifest(app_id=APP_ID, host="bot.example.com", terms_url="example.com/terms")


def test_the_command_list_has_every_word_of_the_grammar(tmp_path: Path) -> None:
    from adapters.teams.text import usage
    from workflows.requests import FORMS

    bots = _built(tmp_path)["bots"]
    assert isinstance(bots, list)
    [commands] = [c["commands"] for c in bots[0]["commandLists"]]
    titles = [c["title"] for c in commands]
    assert titles == list(dict.fromkeys(usage(f.words).split()[0] for f in FORMS))
    assert {"escalate", "search", "status", "whoami", "away", "back", "join", "leave", "help"} == set(titles)
