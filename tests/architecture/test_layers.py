"""The import graph keeps the layers of ARCHITECTURE.md: core imports no front, core's folders
import only downwards, and nothing in the graph is a cycle."""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# core/ folders from the bottom up; a folder may import only itself and those before it.
CORE_LAYERS = ("kernel", "platform", "ledger", "people", "rules", "cases", "evidence",
               "notices", "deadlines", "complaints", "dossier", "archive", "metrics")
# Top-level packages and what each may import (besides itself and third-party code).
ALLOWED = {
    "core": {"capture"},
    "capture": set(),
    "notifications": {"core"},
    "worker": {"core", "notifications", "capture"},
    # The web process hosts the bot's webhook and, on embedded defaults, the worker.
    "api": {"core", "notifications", "worker", "capture", "bot"},
    "bot": {"core", "notifications", "capture"},
}


@cache
def _modules() -> dict[str, Path]:
    out = {}
    for top in ALLOWED:
        for path in (ROOT / top).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            out[name] = path
    return out


def _imports(name: str, path: Path, *, top_level: bool = False) -> set[str]:
    """The project modules a file imports (function-level imports too, unless top_level):
    ``from pkg import module`` depends on the module, not on the package's __init__."""
    tree = ast.parse(path.read_text(), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    nodes = tree.body if top_level else list(ast.walk(tree))
    known = _modules()
    found = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                keep = len(package.split(".")) - node.level + 1
                base = ".".join(package.split(".")[:keep] + ([node.module] if node.module else []))
            subs = {f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in known}
            found |= subs if len(subs) == len(node.names) else subs | {base}
    return {m for m in found if m.split(".")[0] in ALLOWED}


def _layer(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "core" or len(parts) < 2:
        return None
    if parts[1] in CORE_LAYERS:
        return CORE_LAYERS.index(parts[1])
    return len(CORE_LAYERS)  # core/bootstrap.py, core/schema.py: the wiring on top


def test_top_level_packages_import_only_what_they_may():
    """core imports no api, bot, worker or notifications; worker imports no api."""
    bad = []
    for name, path in _modules().items():
        top = name.split(".")[0]
        for target in _imports(name, path):
            other = target.split(".")[0]
            if other != top and other not in ALLOWED[top]:
                bad.append(f"{name} imports {target}")
    assert bad == []


def test_core_folders_import_only_downwards():
    """A core/ folder imports only itself and the folders below it (kernel … complaints)."""
    bad = []
    for name, path in _modules().items():
        mine = _layer(name)
        if mine is None:
            continue
        for target in _imports(name, path):
            theirs = _layer(target)
            if theirs is not None and theirs > mine:
                bad.append(f"{name} imports {target}")
    assert bad == []


def test_no_import_cycles_between_modules():
    """No module reaches itself through its module-level imports."""
    mods = _modules()
    graph = {name: {d for d in _imports(name, path, top_level=True) if d in mods and d != name}
             for name, path in mods.items()}
    cycles: list[str] = []
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append(" -> ".join(stack[stack.index(nxt):] + [nxt]))
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert cycles == []
