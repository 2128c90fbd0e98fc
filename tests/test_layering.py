"""Who may import whom: the demo data sits outside the domains, which never import it."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TRACKER = ROOT / "tracker"


def imports_of(path: Path) -> set[str]:
    """Every tracker module a file imports, at the top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name.startswith("tracker.")}


def offenders(folder: Path, forbidden: str) -> list[str]:
    return [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted(folder.rglob("*.py"))
        for name in sorted(imports_of(path))
        if name == forbidden or name.startswith(f"{forbidden}.")
    ]


def test_no_domain_imports_the_demo_data():
    found = [
        line
        for path in sorted(TRACKER.iterdir())
        if path.is_dir() and path.name not in ("demo", "__pycache__")
        for line in offenders(path, "tracker.demo")
    ]
    assert found == []
