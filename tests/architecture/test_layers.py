"""Imports point one way: content, then the core, the domains, jobs, and the web and CLI on top.

docs/ARCHITECTURE.md draws these layers. A module may import its own layer and the layers below
it, never one above; packages in one layer must not import each other in a circle.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Lowest first. Each entry is a package (or module) prefix.
LAYERS: list[tuple[str, ...]] = [
    ("content",),
    ("sms_service.core",),
    ("sms_service.caregivers", "sms_service.tips"),
    (
        "sms_service.delivery",
        "sms_service.texting",
        "sms_service.campaigns",
        "sms_service.staff",
        "sms_service.inbox",
        "sms_service.reports",
        "sms_service.partners",
        "sms_service.surveys",
        "sms_service.experiments",
    ),
    ("jobs",),
    ("sms_service.web",),
    ("sms_service.cli", "sms_service.migrations", "sms_service.__main__", "sms_service"),
]
OURS = ("content", "sms_service", "jobs")


def unit_of(module: str) -> str:
    """The layered package a dotted module name belongs to (the longest matching prefix)."""
    matches = [
        unit
        for layer in LAYERS
        for unit in layer
        if module == unit or module.startswith(unit + ".")
    ]
    assert matches, f"{module} is in no layer: add it to LAYERS and docs/ARCHITECTURE.md"
    return max(matches, key=len)


def rank(unit: str) -> int:
    return next(index for index, layer in enumerate(LAYERS) if unit in layer)


def modules(root: Path) -> dict[str, Path]:
    """Every module of ours under `root` by dotted name."""
    found = {}
    for top in OURS:
        for path in (root / top).rglob("*.py"):
            if "versions" in path.parts:
                continue  # migration scripts are frozen history
            parts = path.relative_to(root).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def imports_of(name: str, path: Path, known: dict[str, Path]) -> set[str]:
    """Every module of ours that `name` imports, anywhere in the file (function bodies too)."""
    imported: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # `from package import module` imports the module; `from module import name`, the module
            imported |= {
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base
                for alias in node.names
            }
    return {module for module in imported if module in known}


def edges(root: Path) -> dict[str, set[str]]:
    """Imports between different layered packages: module -> modules it imports."""
    known = modules(root)
    graph: dict[str, set[str]] = defaultdict(set)
    for name, path in known.items():
        for target in imports_of(name, path, known):
            if unit_of(target) != unit_of(name):
                graph[name].add(target)
    return graph


def upward_imports(root: Path) -> list[str]:
    return [
        f"{source} imports {target}"
        for source, targets in sorted(edges(root).items())
        for target in sorted(targets)
        if rank(unit_of(target)) > rank(unit_of(source))
    ]


def circles(root: Path) -> list[str]:
    between: dict[str, set[str]] = defaultdict(set)
    for source, targets in edges(root).items():
        for target in targets:
            if rank(unit_of(target)) == rank(unit_of(source)):
                between[unit_of(source)].add(unit_of(target))
    return sorted(f"{a} <-> {b}" for a in between for b in between[a] if a in between.get(b, set()))


def test_every_module_is_in_a_layer() -> None:
    for name in modules(ROOT):
        unit_of(name)


def test_no_module_imports_a_layer_above_its_own() -> None:
    assert upward_imports(ROOT) == []


def test_packages_in_one_layer_do_not_import_each_other_in_a_circle() -> None:
    assert circles(ROOT) == []


def write(root: Path, module: str, source: str) -> None:
    path = root.joinpath(*module.split(".")).with_suffix(".py")
    path.parent.mkdir(parents=True, exist_ok=True)
    for folder in [path.parent, *path.parent.parents]:
        if folder == root:
            break
        (folder / "__init__.py").touch()
    path.write_text(source, encoding="utf-8")


def test_the_checks_catch_an_upward_import_and_a_circle(tmp_path: Path) -> None:
    write(tmp_path, "content.render", "from sms_service.core.models import Tip\n")
    write(tmp_path, "sms_service.core.models", "class Tip: ...\n")
    write(tmp_path, "jobs.planner", "def plan() -> None:\n    from sms_service.web import app\n")
    write(tmp_path, "sms_service.web.app", "from . import routes\n")
    write(tmp_path, "sms_service.web.routes", "\n")
    write(tmp_path, "sms_service.texting.inbound", "from sms_service.staff import reports\n")
    write(tmp_path, "sms_service.staff.reports", "import sms_service.texting.inbound\n")
    assert upward_imports(tmp_path) == [
        "content.render imports sms_service.core.models",
        "jobs.planner imports sms_service.web.app",
    ]
    assert circles(tmp_path) == [
        "sms_service.staff <-> sms_service.texting",
        "sms_service.texting <-> sms_service.staff",
    ]
