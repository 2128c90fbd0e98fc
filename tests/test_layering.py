"""Who may import whom: the demo data sits outside the domains, which never import it; the audit trail knows no
domain, and each domain tells it its wording from a module tracker/domains.py imports."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tracker import domains

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


def test_the_audit_trail_imports_no_domain():
    found = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in sorted((TRACKER / "audit").rglob("*.py"))
        for name in sorted(imports_of(path))
        if not name.startswith(("tracker.audit.", "tracker.core."))
    ]
    assert found == []


def test_every_module_that_words_the_trail_is_imported_with_the_domains():
    registering = {
        ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for path in TRACKER.rglob("*.py")
        if re.search(r"\b(history\.register|audit\.name_\w+)\(", path.read_text())
    }
    assert registering == {m.__name__ for m in domains.REGISTERING}
