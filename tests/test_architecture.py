"""The shape of the package (DESIGN.md): every import points down, no private name crosses a
module, optional dependencies are imported in one place, the core never knows the dask layer.

Imports are read from the source with ``ast``, lazy ones (inside functions) included and those
under ``if TYPE_CHECKING:`` left out; importing a package counts as importing its ``__init__``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "labelaudit"
CORE = ("filter", "noise", "rank", "_kernels", "_cells", "_validate", "health", "streaming", "_passes")


def module_name(path: Path) -> str:
    parts = ["labelaudit", *path.relative_to(PACKAGE).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk(tree: ast.AST):
    """Every node, leaving out the bodies of ``if TYPE_CHECKING:``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                stack.extend(child.orelse)
                continue
            stack.append(child)


def _resolve(module: str, level: int, name: str | None, is_package: bool) -> str:
    if not level:
        return name or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def imports(module: str) -> list[tuple[str, list[str], int]]:
    """``(imported module, names taken from it, line)`` for every import in ``module``."""
    path = MODULES[module]
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for node in _walk(tree):
        if isinstance(node, ast.Import):
            found.extend((alias.name, [], node.lineno) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, node.level, node.module, path.name == "__init__.py")
            names = [alias.name for alias in node.names]
            found.append((target, names, node.lineno))
    return found


def internal_edges() -> dict[str, set[str]]:
    """Module -> the package's modules it imports (a name that is a submodule counts as it)."""
    edges: dict[str, set[str]] = {m: set() for m in MODULES}
    for module in MODULES:
        for target, names, _ in imports(module):
            if not (target == "labelaudit" or target.startswith("labelaudit.")):
                continue
            submodules = [f"{target}.{n}" for n in names if f"{target}.{n}" in MODULES]
            if submodules:
                edges[module].update(submodules)
                if len(submodules) == len(names):
                    continue
            while target not in MODULES:
                target = target.rsplit(".", 1)[0]
            if target != module:
                edges[module].add(target)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges[node]):
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

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_import_circle():
    assert cycles(internal_edges()) == []


@pytest.mark.parametrize("name", CORE)
def test_the_core_never_imports_the_dask_layer(name):
    module = f"labelaudit.{name}"
    if module not in MODULES:
        pytest.skip(f"{module} does not exist")
    reached = {t for t, _, _ in imports(module)}
    allowed = {"labelaudit._dask_passes"} if name == "_passes" else set()
    bad = {t for t in reached - allowed if t.split(".")[0] == "dask" or t in ("labelaudit.dask", "labelaudit._dask_passes")}
    assert not bad


def test_no_private_name_is_imported_from_another_module():
    crossing = []
    for module in MODULES:
        for target, names, line in imports(module):
            if not target.startswith("labelaudit"):
                continue
            private = [n for n in names if n.startswith("_") and not n.startswith("__")]
            if private and target != module:
                crossing.append(f"{module}:{line} imports {private} from {target}")
    assert crossing == []


def test_optional_dependencies_are_imported_in_at_most_two_places():
    """Counts every ``try`` around an import that catches ImportError (labelaudit._optional has one)."""
    sites = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if not isinstance(node, ast.Try) or not any(
                isinstance(inner, (ast.Import, ast.ImportFrom)) for stmt in node.body for inner in ast.walk(stmt)
            ):
                continue  # only a try around an import counts
            caught = set()
            for handler in node.handlers:
                kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
                caught.update(k.id for k in kinds if isinstance(k, ast.Name))
            if caught & {"ImportError", "ModuleNotFoundError"}:
                sites.append(f"{module}:{node.lineno}")
    assert len(sites) <= 2, sites
