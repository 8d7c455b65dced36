"""The import graph, read from every module's `ast`: no cycle, no edge against the layering.

Packages: layers <- store <- etl, tiles <- gisapp (an arrow points from what is imported to
the importer). Inside gisapp the parts (api, permits, analysis, errors, …) form no cycle
either, so permits may use analysis but analysis never permits. Every import counts,
including those inside functions; only `if TYPE_CHECKING:` blocks, which never run, do not.
"""
from __future__ import annotations

import ast
import re
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("layers", "store", "etl", "tiles", "gisapp")
# What each package may import besides itself.
ALLOWED = {
    "layers": set(),
    "store": {"layers"},
    "etl": {"layers", "store"},
    "tiles": {"layers", "store"},
    "gisapp": {"layers", "store", "etl", "tiles"},
}
RUN_LIFECYCLE = ROOT / "store" / "run_lifecycle.py"
RUN_WRITE = re.compile(r"(INSERT\s+INTO|UPDATE)\s+etl_runs\b|etl_runs\.(insert|update)\(",
                       re.IGNORECASE)


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue  # Alembic loads revisions by path; they import nothing of ours
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


MODULES = _modules()


def _runtime_imports(tree: ast.AST):
    """Import nodes, skipping the bodies of `if TYPE_CHECKING:`."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            stack.extend(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def _imported(module: str, node: ast.Import | ast.ImportFrom) -> set[str]:
    """Our modules an import statement names (`from a import b` names a.b when b is a module)."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names}
    if node.level:
        base = module.split(".")
        if MODULES[module].name != "__init__.py":
            base = base[:-1]
        base = base[:len(base) - node.level + 1]
        source = ".".join(base + ([node.module] if node.module else []))
    else:
        source = node.module or ""
    named = set()
    for alias in node.names:
        sub = f"{source}.{alias.name}"
        named.add(sub if sub in MODULES else source)
    return named


def _graph() -> dict[str, set[str]]:
    edges: dict[str, set[str]] = defaultdict(set)
    for module, path in MODULES.items():
        for node in _runtime_imports(ast.parse(path.read_text(), str(path))):
            for target in _imported(module, node):
                while target and target not in MODULES and target.split(".")[0] in PACKAGES:
                    target = target.rpartition(".")[0]  # `import a.b.name` -> module a.b
                if target in MODULES and target != module:
                    edges[module].add(target)
    return edges


GRAPH = _graph()


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(set(edges) | {t for ts in edges.values() for t in ts}):
        if node not in index:
            visit(node)
    return found


def _part(module: str) -> str:
    """The unit of layering: a top-level package, or gisapp's sub-package or module."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "gisapp" and len(parts) > 1 else parts[0]


def test_the_graph_sees_the_known_edges():
    assert "layers" in GRAPH["store.tables"]
    assert "store.run_lifecycle" in GRAPH["etl.runs"]
    assert "gisapp.analysis.raster_stats" in GRAPH["gisapp.permits.sitemodel"]


def test_no_module_imports_itself_through_others():
    assert _cycles(GRAPH) == []


def test_packages_import_only_downwards():
    wrong = sorted(f"{module} -> {target}" for module, targets in GRAPH.items()
                   for target in targets
                   if (a := module.split(".")[0]) != (b := target.split(".")[0])
                   and b not in ALLOWED[a])
    assert wrong == []


def test_the_parts_of_gisapp_import_each_other_one_way():
    parts: dict[str, set[str]] = defaultdict(set)
    for module, targets in GRAPH.items():
        for target in targets:
            if module.startswith("gisapp.") and target.startswith("gisapp.") \
                    and _part(module) != _part(target):
                parts[_part(module)].add(_part(target))
    assert _cycles(parts) == []


def test_only_the_run_lifecycle_writes_etl_runs():
    writers = sorted(str(path.relative_to(ROOT)) for path in MODULES.values()
                     if path != RUN_LIFECYCLE and RUN_WRITE.search(path.read_text()))
    assert writers == []
    assert RUN_WRITE.search(RUN_LIFECYCLE.read_text())
