"""The shape of the code (issue 20): no import cycle, short functions, no import-time reads.

Every import counts, wherever it is written: at the top of a module, inside a function (a
late import still runs, and a cycle through one is still a cycle for a reader) or under
`if TYPE_CHECKING:`. Importing `streetsafe.a.b` also runs `streetsafe/a/__init__.py`; that
implicit step is not an edge, or every package with a submodule would be a cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "streetsafe"
MAX_FUNCTION_LINES = 45


def _modules() -> dict[str, tuple[Path, bool]]:
    """Every module of the package: dotted name -> (file, is a package)."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        found[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return found


def _imported(
    name: str, is_package: bool, node: ast.Import | ast.ImportFrom, modules: set[str]
) -> set[str]:
    """The streetsafe modules an import statement in module `name` loads."""
    if isinstance(node, ast.Import):
        return {alias.name for alias in node.names} & modules
    if node.level:
        base = name.split(".") if is_package else name.split(".")[:-1]
        base = base[: len(base) - node.level + 1]
        target = ".".join([*base, node.module] if node.module else base)
    else:
        target = node.module or ""
    # `from . import localdb` loads the module streetsafe.localdb; `from .db import Base`
    # loads streetsafe.db.
    loaded = {f"{target}.{a.name}" if f"{target}.{a.name}" in modules else target
              for a in node.names}  # fmt: skip
    return loaded & modules


def import_graph() -> dict[str, set[str]]:
    """module -> the streetsafe modules it imports (at any level of the file)."""
    modules = _modules()
    graph: dict[str, set[str]] = {}
    for name, (path, is_package) in modules.items():
        edges: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import | ast.ImportFrom):
                edges |= _imported(name, is_package, node, set(modules))
        graph[name] = edges - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for after in sorted(graph[node]):
            if after not in index:
                visit(after)
                low[node] = min(low[node], low[after])
            elif after in stack:
                low[node] = min(low[node], index[after])
        if low[node] == index[node]:
            component = []
            while not component or component[-1] != node:
                component.append(stack.pop())
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_checker_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_sees_late_and_relative_imports() -> None:
    graph = import_graph()
    assert "streetsafe.localdb" in graph["streetsafe.current"]  # inside a function
    assert "streetsafe.demo.seeding" in graph["streetsafe.demo.commands"]
    assert "streetsafe.config" in graph["streetsafe.team.cli"]  # `from ..config import`


def test_no_import_cycle_inside_streetsafe() -> None:
    assert cycles(import_graph()) == []


def test_no_streetsafe_module_imports_the_cli() -> None:
    importers = [name for name, edges in import_graph().items() if "streetsafe.cli" in edges]
    assert importers == []


def _reads_environment(node: ast.AST) -> bool:
    return any(
        isinstance(n, ast.Attribute) and n.attr in ("environ", "getenv") for n in ast.walk(node)
    )


def test_nothing_reads_the_environment_at_import_time() -> None:
    """Module and class bodies run at import; only functions may read os.environ."""
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in _import_time_statements(ast.parse(path.read_text()).body):
            if _reads_environment(node):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def _import_time_statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    for node in body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            # Decorators and defaults run at import; the body does not.
            yield from (ast.Expr(d, lineno=node.lineno) for d in node.decorator_list)
            yield from (ast.Expr(d, lineno=node.lineno) for d in node.args.defaults)
        elif isinstance(node, ast.ClassDef):
            yield from _import_time_statements(node.body)
        else:
            yield node


def long_functions() -> list[str]:
    """Functions in streetsafe/ longer than MAX_FUNCTION_LINES (def line to last line)."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({lines})")
    return found


def test_no_function_is_longer_than_45_lines() -> None:
    assert long_functions() == []


def _calls(name: str) -> list[str]:
    """Where in streetsafe/ `name(...)` is called."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call):
                called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(
                    node.func, "id", None)  # fmt: skip
                if called == name:
                    found.append(f"{path.relative_to(PACKAGE)}")
    return found


def _mentions(name: str) -> set[str]:
    """The streetsafe modules that use the name `name` (an import or a reference)."""
    found = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Name) and node.id == name) or (
                isinstance(node, ast.alias) and node.name == name
            ) or (isinstance(node, ast.Attribute) and node.attr == name):
                found.add(str(path.relative_to(PACKAGE)))
    return found


def test_only_the_disclosure_gate_makes_public_layers() -> None:
    """PublicLayer and PublicCounts are constructed in disclosure.py and nowhere else, and a
    constructor call without the gate's private token fails. (Their features are plain
    formats.Feature values: what makes numbers public is the layer that holds them.)"""
    import pytest

    from streetsafe.config import Settings
    from streetsafe.hotspots.disclosure import PublicCounts, PublicLayer, publish

    for made in ("PublicLayer", "PublicCounts"):
        assert set(_calls(made)) == {"hotspots/disclosure.py"}, made
    with pytest.raises(TypeError, match="disclosure gate"):
        PublicLayer(object(), [], 1, 1, 0)
    with pytest.raises(TypeError, match="disclosure gate"):
        PublicCounts(None, [], [], (1, 1, 0))  # type: ignore[arg-type]
    published = publish([], Settings())
    with pytest.raises(AttributeError):
        published.features = ()  # type: ignore[misc]
    with pytest.raises(ValueError, match="after the gate"):
        published.with_properties({"a": {"exact_count": 3}})


def test_exact_layers_are_for_teams_only() -> None:
    """The ExactLayer lives with the teams; no public module names it or imports team code."""
    assert _mentions("ExactLayer") <= {"team/layers.py"}
    assert _mentions("exact_layer") <= {"team/layers.py"}
    public = ["streetsafe.api.hotspots", "streetsafe.api.ogc", "streetsafe.api.tiles",
              "streetsafe.api.public", "streetsafe.api.downloads"]  # fmt: skip
    graph = import_graph()
    hotspots = [name for name in graph if name.startswith("streetsafe.hotspots")]
    for name in [*public, *hotspots]:
        team = {edge for edge in graph[name] if edge.startswith("streetsafe.team")}
        assert team == set(), name
        # Public views reach exact counts only through the gate's callers (service, tiles).
        if name in public:
            assert "streetsafe.hotspots.aggregate" not in graph[name], name


def test_one_translator_of_validation_errors() -> None:
    """pydantic's errors become our error shape in errors.invalid_from only."""
    readers = set(_calls("errors")) - {"errors.py"}
    assert readers == set()


def test_hotspot_filters_become_sql_in_one_module() -> None:
    """Each filter's SQL is written in hotspots/conditions.py only (rollups and reports)."""
    spelled = ["ANY(:contexts)", "ANY(:modes)", "ANY(:hours)", "ANY(:dows)", "isodow FROM",
               "category_mask &", ":from_date", ":to_date"]  # fmt: skip
    for text in spelled:
        holders = {str(p.relative_to(PACKAGE)) for p in PACKAGE.rglob("*.py")
                   if text in p.read_text()}  # fmt: skip
        assert holders == {"hotspots/conditions.py"}, (text, holders)


def test_one_hotspot_query_model() -> None:
    """Hotspot filters are validated and documented by one model: no other pydantic model in
    streetsafe/ declares the filters' fields."""
    from pydantic import BaseModel

    import streetsafe.app  # noqa: F401  (imports every blueprint and its models)
    from streetsafe.hotspots.filters import HotspotQuery

    def models(cls: type) -> list[type]:
        return [cls, *(m for sub in cls.__subclasses__() for m in models(sub))]

    filters = {"categories", "context", "hours", "days", "bbox"}
    declaring = [m for m in models(BaseModel) if m.__module__.startswith("streetsafe")
                 and filters <= set(m.model_fields)]  # fmt: skip
    assert declaring == [HotspotQuery]
