"""The documents a clone ships: every relative link resolves inside the repository, and
the architecture document names what the tree holds."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _documents() -> list[Path]:
    skip = {".venv", ".git", "node_modules"}
    return [p for p in ROOT.rglob("*.md") if not skip & set(p.relative_to(ROOT).parts)]


def test_every_relative_link_resolves_inside_the_repository() -> None:
    broken = []
    for doc in _documents():
        for target in LINK.findall(doc.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            path = (doc.parent / target.split("#", 1)[0]).resolve()
            if not path.is_relative_to(ROOT) or not path.exists():
                broken.append(f"{doc.relative_to(ROOT)} -> {target}")
    assert not broken, broken


def test_the_readme_links_the_architecture_document() -> None:
    assert "(docs/architecture.md)" in (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_architecture_document_names_every_top_level_package() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    packages = sorted(p.name for p in ROOT.iterdir() if p.is_dir() and (p / "__init__.py").exists())
    packages += sorted(f"adapters/{p.name}" for p in (ROOT / "adapters").iterdir() if (p / "__init__.py").exists())
    missing = [name for name in packages if f"{name}/" not in text]
    assert not missing, f"docs/architecture.md does not mention {missing}"


def test_the_settings_table_speaks_to_admins_not_benchmarks() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme[readme.index("### Settings") :]
    table = table[: table.index("\n\n", table.index("| variable |"))]
    for figure in ("\u00d7", "HISTORY.md", "median", "pass)"):
        assert figure not in table, f"the settings table quotes a benchmark ({figure!r}); that belongs in bench/"


def test_the_teams_channel_fields_are_the_same_in_the_example_the_readme_and_docs_teams() -> None:
    """A community's Teams channel takes channel, team and tenant: each place that shows it
    shows all three (``whoami`` gives all three)."""
    shown = {
        name: (ROOT / name).read_text(encoding="utf-8")
        for name in ("escalation.example.yaml", "README.md", "docs/teams.md")
    }
    for name, text in shown.items():
        for field in ("channel:", "team:", "tenant:"):
            assert field in text, f"{name} does not show {field}"
