"""tracker/ imports as a graph: no cycle, and no import of our own modules inside a function to dodge one."""

from __future__ import annotations

import ast
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "tracker"

# Modules whose imports inside functions do not dodge a cycle. Keep it tiny, each with its reason.
LATE_IMPORTS = {
    "tracker.cli": "each command loads only what it runs, so `tracker migrate` or `tracker serve` starts quickly",
}


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _targets(module: str, node: ast.Import | ast.ImportFrom) -> set[str]:
    """The tracker modules an import statement loads: `from tracker.x import y` is tracker.x.y when that is a
    module, else tracker.x (a package's __init__ included)."""
    if isinstance(node, ast.Import):
        return {a.name for a in node.names if a.name.split(".")[0] == "tracker"}
    base = node.module or ""
    if node.level:  # relative: from the importing module's package
        package = module.split(".") if MODULES[module].name == "__init__.py" else module.split(".")[:-1]
        base = ".".join(package[: len(package) - node.level + 1] + ([base] if base else []))
    if base.split(".")[0] != "tracker":
        return set()
    return {f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names}


def imports_of(module: str) -> tuple[set[str], list[tuple[int, str]]]:
    """Every tracker module `module` imports, and those imported inside a function (line, module)."""
    tree = ast.parse(MODULES[module].read_text(), str(MODULES[module]))
    found: set[str] = set()
    late: list[tuple[int, str]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        if isinstance(node, ast.If) and _type_checking(node):
            for child in node.orelse:
                visit(child, in_function)
            return
        if isinstance(node, ast.Import | ast.ImportFrom):
            targets = _targets(module, node)
            found.update(targets)
            if in_function:
                late.extend((node.lineno, t) for t in sorted(targets))
        inside = in_function or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        for child in ast.iter_child_nodes(node):
            visit(child, inside)

    visit(tree, False)
    # Importing tracker.a.b runs tracker/a/__init__.py first; it is an edge like any other.
    for target in list(found):
        parts = target.split(".")
        found.update(".".join(parts[:i]) for i in range(2, len(parts)) if ".".join(parts[:i]) in MODULES)
    found.discard(module)
    return {t for t in found if t in MODULES}, late


def graph() -> dict[str, set[str]]:
    return {m: imports_of(m)[0] for m in MODULES}


def test_the_graph_sees_our_imports() -> None:
    g = graph()
    assert "tracker.core.web" in g["tracker.deliverables.records"]
    assert "tracker.deliverables.service" in g["tracker.deliverables.views"]  # from tracker.deliverables import service


def test_tracker_has_no_import_cycle() -> None:
    try:
        TopologicalSorter(graph()).prepare()
    except CycleError as e:
        cycle = e.args[1]
        raise AssertionError("import cycle: " + " -> ".join(reversed(cycle))) from None


def test_no_tracker_module_is_imported_inside_a_function() -> None:
    late = [
        f"{MODULES[m].relative_to(ROOT)}:{line} imports {target}"
        for m in MODULES
        if m not in LATE_IMPORTS
        for line, target in imports_of(m)[1]
    ]
    assert not late, "import at the top of the module (a cycle is solved by moving the rule home):\n" + "\n".join(late)


def test_core_imports_no_domain() -> None:
    g = graph()
    wrong = {
        m: sorted(t for t in targets if not t.startswith("tracker.core") and t not in {"tracker", "tracker.settings"})
        for m, targets in g.items()
        if m.startswith("tracker.core")
    }
    assert not {m: t for m, t in wrong.items() if t}
