"""The one dependency rule of DESIGN.md, checked on every module's imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OURS = {"workflows", "storage", "adapters", "bot", "migrations"}

# package -> the packages of ours it may import (besides itself)
ALLOWED = {
    "workflows": set(),
    "storage": {"workflows"},
    "adapters/slack": {"workflows"},
    "adapters/teams": {"workflows"},
    "adapters/web": {"workflows"},
    "bot": {"workflows", "storage", "adapters", "migrations"},
    "migrations": {"storage"},
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "adapters" and len(parts) > 1:
                found.add(f"adapters/{parts[1]}")
            elif parts[0] in OURS:
                found.add(parts[0])
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_dependencies_point_one_way(package: str) -> None:
    allowed = ALLOWED[package] | {package}
    wrong = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for imported in imported_packages(path):
            top = imported.split("/")[0]
            if imported not in allowed and top not in allowed:
                wrong.append(f"{path.relative_to(ROOT)} imports {imported}")
    assert wrong == []


def test_the_core_does_no_io() -> None:
    forbidden = {
        "aiohttp",
        "sqlalchemy",
        "asyncpg",
        "aiosqlite",
        "sqlite3",
        "slack_sdk",
        "slack_bolt",
        "botbuilder",
        "requests",
    }
    offenders = []
    for path in sorted((ROOT / "workflows").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                mods = [a.name.split(".")[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                mods = [node.module.split(".")[0]]
            else:
                continue
            offenders += [f"{path.name}: {m}" for m in mods if m in forbidden]
    assert offenders == []
