"""Imports inside ``blendsearch/`` point down the layers and never round (issue 10).

The graph is read from the source with ``ast``: module-level imports and the lazy ones inside functions
both count, since a lazy import that closes a cycle still couples the two modules (only imports under
``if TYPE_CHECKING:`` are left out: they never run). Known violations that other work is removing are
listed below with the issue that tracks them; an entry that no longer occurs fails the test, so the
lists only shrink.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "blendsearch"

#: Layers, lowest first: a module may import its own layer and those below, never one above. The
#: first prefix that matches a module's dotted name (without ``blendsearch.``) decides its layer.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("types and config", ("_types", "exceptions", "paths", "jsonfile", "config")),
    (
        "text, images, documents",
        (
            "text",
            "porter",
            "documents",
            "search_fields",
            "synonym_file",
            "filters",
            "scoring",
            "index_state",
            "imageio",
            "ingest.images",
            "ingest.readers",
            "ingest.fetch",
            "ingest.confine",
        ),
    ),
    (
        "encoders, enrichment, expansion, mappings, backends",
        ("encoders", "enrichment", "expansion", "mappings", "backends"),
    ),
    (
        "query",
        (
            "query",
            "results",
            "ingest",
            "calibration.model",
            "calibration.fused",
            "calibration.vector",
            "calibration.logistic",
            "calibration.metrics",
        ),
    ),
    ("engine", ("engine", "index_dir")),
    ("calibration fitting, eval, train, debug", ("calibration", "eval", "train", "debug")),
    ("cli and serve", ("cli", "serve", "__main__", "")),
]

#: Import edges (importer, imported) that close a module cycle today, with the issue that removes them.
KNOWN_CYCLE_EDGES: set[tuple[str, str]] = set()

#: Edges between top-level packages (``blendsearch.x`` -> ``blendsearch.y``) that close a package cycle.
KNOWN_PACKAGE_CYCLE_EDGES: set[tuple[str, str]] = set()

#: Import edges that point up a layer today, with the issue that removes them.
KNOWN_UPWARD_EDGES: set[tuple[str, str]] = set()


def _module_name(path: Path) -> str:
    parts = ["blendsearch", *path.relative_to(ROOT).with_suffix("").parts]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child.test):
            yield from (n for stmt in child.orelse for n in _import_nodes_of(stmt))
            continue
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child
        yield from _import_nodes(child)


def _import_nodes_of(stmt: ast.stmt) -> Iterator[ast.Import | ast.ImportFrom]:
    if isinstance(stmt, ast.Import | ast.ImportFrom):
        yield stmt
    yield from _import_nodes(stmt)


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The blendsearch modules ``name`` imports (``from pkg import mod`` counts as importing ``pkg.mod``)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in _import_nodes(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = [
                f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names
            ]
        for target in targets:
            while target and target not in modules:  # `import a.b.c` of a non-module attribute
                target = target.rpartition(".")[0]
            if target.startswith("blendsearch") and target != name:
                found.add(target)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle path per strongly connected component of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                components.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return [_cycle_path(graph, set(component)) for component in components]


def _cycle_path(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    """A shortest cycle through the component's first module, as a path that ends where it starts."""
    start = min(component)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for nxt in sorted(graph[node] & component):
                if nxt == start:
                    return [*paths[node], start]
                if nxt not in paths:
                    paths[nxt] = [*paths[node], nxt]
                    following.append(nxt)
        frontier = following
    raise AssertionError(f"no cycle through {start}")  # pragma: no cover - a component always has one


def layer_of(module: str) -> int:
    short = module.removeprefix("blendsearch").removeprefix(".")
    for rank, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if short == prefix or (prefix and short.startswith(prefix + ".")):
                return rank
    raise AssertionError(f"{module} is in no layer: add it to LAYERS")


def test_the_graph_sees_module_level_and_lazy_imports() -> None:
    graph = import_graph()
    assert "blendsearch.encoders.own.folder" in graph["blendsearch.encoders.own.encoder"]  # module level
    assert "blendsearch.encoders.own.encoder" in graph["blendsearch.encoders.registry"]  # inside a function
    assert "blendsearch.train.loop" not in graph["blendsearch.encoders.own.encoder"]


def test_cycle_finder_reports_the_path() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": set(), "e": {"e"}}
    assert _cycles(graph) == [["a", "b", "c", "a"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles() -> None:
    graph = import_graph()
    for importer, imported in KNOWN_CYCLE_EDGES:
        assert imported in graph.get(importer, set()), (
            f"{importer} -> {imported} no longer occurs: remove it from KNOWN_CYCLE_EDGES"
        )
        graph[importer] = graph[importer] - {imported}
    cycles = _cycles(graph)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(cycle) for cycle in cycles)


def test_no_import_cycles_between_packages() -> None:
    graph: dict[str, set[str]] = {}
    for importer, targets in import_graph().items():
        package = ".".join(importer.split(".")[:2])
        graph.setdefault(package, set()).update(
            ".".join(target.split(".")[:2]) for target in targets if not target.startswith(package + ".")
        )
        graph[package].discard(package)
    for importer, imported in KNOWN_PACKAGE_CYCLE_EDGES:
        assert imported in graph[importer], (
            f"{importer} -> {imported} no longer occurs: remove it from KNOWN_PACKAGE_CYCLE_EDGES"
        )
        graph[importer].discard(imported)
    cycles = _cycles(graph)
    assert not cycles, "package cycles:\n" + "\n".join(" -> ".join(cycle) for cycle in cycles)


def test_imports_point_down_the_layers() -> None:
    graph = import_graph()
    upward = sorted(
        (importer, imported)
        for importer, targets in graph.items()
        for imported in targets
        if layer_of(imported) > layer_of(importer)
    )
    stale = KNOWN_UPWARD_EDGES - set(upward)
    assert not stale, f"no longer upward, remove from KNOWN_UPWARD_EDGES: {sorted(stale)}"
    new = [edge for edge in upward if edge not in KNOWN_UPWARD_EDGES]
    assert not new, "imports pointing up a layer:\n" + "\n".join(
        f"{a} ({LAYERS[layer_of(a)][0]}) -> {b} ({LAYERS[layer_of(b)][0]})" for a, b in new
    )
