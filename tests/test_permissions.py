"""Who may do what is one table: code asks roles_with(permission) and names no role outside it."""

from __future__ import annotations

import re
from pathlib import Path

from tracker.projects.models import Role
from tracker.projects.permissions import ROLE_PERMS, Perm, roles_with

ROOT = Path(__file__).resolve().parent.parent

# The table and the enum itself, and the demo and benchmark data, whose people are personas in roles (as in tests).
ROLES_NAMED_IN = {"tracker/projects/permissions.py", "tracker/projects/models.py", "tracker/demo.py"}
PERSONAS = ("tracker/demo/", "tracker/benchdata/")
ROLE_LITERAL = re.compile(
    r"\bRole\.[A-Z]"  # Role.MANAGER
    r"|(?:==|!=|\bin\b|\bin_\()\s*[(\[{]?\s*[\"'](?:manager|staff|contractor|viewer)[\"']"  # == "manager", in ("staff", …)
)


def test_roles_with_reads_the_table() -> None:
    assert roles_with(Perm.DECIDE) == {Role.MANAGER}
    assert roles_with(Perm.REVIEW) == {Role.MANAGER, Role.STAFF}
    assert roles_with(Perm.DELIVER) == {Role.CONTRACTOR}
    assert roles_with(Perm.VIEW_REGISTER) == {Role.MANAGER, Role.STAFF, Role.VIEWER}
    assert roles_with(Perm.MANAGE) == {Role.MANAGER}  # a project's own settings and members (admins too)
    assert roles_with(Perm.ARCHIVE) == set()  # administrators only
    for perm in Perm:
        assert roles_with(perm) == {role for role, granted in ROLE_PERMS.items() if perm in granted}


def test_no_role_is_named_outside_the_permission_table() -> None:
    found = []
    for path in sorted([*(ROOT / "tracker").rglob("*.py"), *(ROOT / "templates").rglob("*.html")]):
        name = path.relative_to(ROOT).as_posix()
        if name in ROLES_NAMED_IN or name.endswith("/demo.py") or name.startswith(PERSONAS):
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if ROLE_LITERAL.search(line):
                found.append(f"{name}:{number}: {line.strip()}")
    assert not found, "ask roles_with(Perm.X) or access.can(Perm.X) instead of naming a role:\n" + "\n".join(found)
