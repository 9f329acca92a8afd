"""The house's floors and the imports between its apps (STYLE.md, docs/architecture.md).

Run ``python -m tests.imports`` to print every import from one app into another, floor by
floor; lines marked ``UP`` run back up a floor (``tests/test_architecture.py`` fails on them).
Reads the source with ``ast`` only: nothing is imported, no Django set-up is needed.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The ground floor first. An app imports only from its own floor or the floors below.
FLOORS = {"assessments": 0, "councils": 1, "reporting": 2, "home": 3, "demo": 4}
# Project wiring (settings, URLs) reads every app and is read by none.
WIRING = "cchc_portal"


@dataclass(frozen=True)
class Import:
    path: Path  # the importing file, relative to ROOT
    line: int
    module: str  # the imported module, absolute ("councils.services")

    @property
    def source_app(self) -> str:
        return self.path.parts[0]

    @property
    def target_app(self) -> str:
        return self.module.split(".")[0]

    @property
    def runs_up(self) -> bool:
        source, target = FLOORS.get(self.source_app), FLOORS.get(self.target_app)
        return source is not None and target is not None and target > source


def app_files(apps: tuple[str, ...] = (*FLOORS, WIRING)) -> Iterator[Path]:
    """Every Python file of the apps (migrations aside: they name apps, they do not use them)."""
    for app in apps:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def module_name(path: Path) -> str:
    relative = path.relative_to(ROOT).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path) -> Iterator[Import]:
    """Every import in a file (top-level and inside functions), made absolute."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module_name(path)
    if path.name != "__init__.py":
        package = package.rpartition(".")[0]
    relative = path.relative_to(ROOT)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(relative, node.lineno, alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join(base)
                module = f"{prefix}.{node.module}" if node.module else prefix
            else:
                module = node.module or ""
            # "from . import services" imports the module package.services.
            if node.module is None or node.level:
                for alias in node.names:
                    candidate = f"{module}.{alias.name}"
                    known = (ROOT / Path(*candidate.split("."))).with_suffix(".py").exists()
                    yield Import(relative, node.lineno, candidate if known else module)
            else:
                for alias in node.names:
                    candidate = f"{module}.{alias.name}"
                    known = (ROOT / Path(*candidate.split("."))).with_suffix(".py").exists()
                    yield Import(relative, node.lineno, candidate if known else module)


def cross_app_imports() -> list[Import]:
    """Imports from one of the apps into another (wiring included)."""
    apps = {*FLOORS, WIRING}
    found = []
    for path in app_files():
        for entry in imports_of(path):
            if entry.target_app in apps and entry.target_app != entry.source_app:
                found.append(entry)
    return found


def main() -> int:
    entries = cross_app_imports()
    order = sorted(FLOORS, key=FLOORS.get)  # type: ignore[arg-type]
    print("Floors, ground first: " + " ← ".join(order) + f" (and {WIRING}, the wiring)")
    pairs: dict[tuple[str, str], list[Import]] = {}
    for entry in entries:
        pairs.setdefault((entry.source_app, entry.target_app), []).append(entry)
    for (source, target), found in sorted(pairs.items()):
        modules = sorted({e.module for e in found})
        mark = "UP  " if found[0].runs_up else "    "
        print(f"{mark}{source} → {target}: {len(found)} import(s): {', '.join(modules)}")
    up = [e for e in entries if e.runs_up]
    for entry in up:
        print(f"UP  {entry.path}:{entry.line} imports {entry.module}")
    print(f"{len(entries)} cross-app import(s), {len(up)} running back up a floor.")
    return 1 if up else 0


if __name__ == "__main__":
    sys.exit(main())
