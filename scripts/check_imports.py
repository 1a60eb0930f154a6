"""Print every import cycle between the modules of a package; exit 1 if there is one.

    python scripts/check_imports.py [PACKAGE_DIR] [--where]

PACKAGE_DIR defaults to ``app``; its folder name is the package name. Every module is parsed
with ``ast`` (nothing is imported), and an import counts wherever it stands, at module level or
inside a function, because a function-level import only defers a cycle, it does not remove it.
Imports under ``if TYPE_CHECKING:`` do not count: they never run. ``from pkg.x import y`` is an
import of module ``pkg.x.y`` when ``y`` is a submodule, else of ``pkg.x``; a package's
``__init__.py`` is the package itself. Importing ``pkg.x.y`` also runs ``pkg/__init__`` and
``pkg/x/__init__``, but those implied edges are left out: the package that builds the app imports
its features, so every module would sit in one cycle with it and the report would name nothing.

Each cycle is printed once, as ``a -> b -> a``, starting from its alphabetically first module;
``--where`` adds the file and line of each import in it. Exit status: 0 no cycle, 1 cycles found,
2 a module could not be parsed.
"""

from __future__ import annotations

import argparse
import ast
import itertools
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Module:
    name: str
    path: Path
    is_package: bool


@dataclass(frozen=True)
class Import:
    target: str
    line: int


def find_modules(root: Path) -> dict[str, Module]:
    """Every ``.py`` file under ``root`` by dotted name, ``__init__.py`` named as its package."""
    modules: dict[str, Module] = {}
    for path in sorted(root.rglob("*.py")):
        parts = (root.name, *path.relative_to(root).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts = parts[:-1]
        modules[".".join(parts)] = Module(".".join(parts), path, is_package)
    return modules


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _runtime_imports(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """The import statements that can run: all but those in an ``if TYPE_CHECKING:`` body."""
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node
        return
    if isinstance(node, ast.If) and _is_type_checking(node.test):
        children: list[ast.AST] = list(node.orelse)  # the else branch does run
    else:
        children = list(ast.iter_child_nodes(node))
    for child in children:
        yield from _runtime_imports(child)


def _absolute(module: Module, node: ast.ImportFrom) -> str:
    """The module a ``from ... import`` names, with a relative one resolved against ``module``."""
    if node.level == 0:
        return node.module or ""
    package = module.name.split(".") if module.is_package else module.name.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _known(name: str, modules: dict[str, Module]) -> str | None:
    """``name`` or its longest prefix that is a module of the package (``pkg.x.Class`` is ``pkg.x``)."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def imports_of(module: Module, modules: dict[str, Module]) -> list[Import]:
    """The modules of the package that ``module`` imports at run time, with the line of each."""
    tree = ast.parse(module.path.read_text(encoding="utf-8"), filename=str(module.path))
    found: list[Import] = []
    for node in _runtime_imports(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            source = _absolute(module, node)
            targets = [
                f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules else source for alias in node.names
            ]
        for target in targets:
            known = _known(target, modules)
            if known is not None and known != module.name:
                found.append(Import(known, node.lineno))
    return found


def import_graph(modules: dict[str, Module]) -> dict[str, dict[str, int]]:
    """For each module, the modules it imports, each with the line of its first import there."""
    graph: dict[str, dict[str, int]] = {}
    for name, module in modules.items():
        edges: dict[str, int] = {}
        for imp in imports_of(module, modules):
            edges.setdefault(imp.target, imp.line)
        graph[name] = edges
    return graph


def _strongly_connected(graph: dict[str, dict[str, int]]) -> list[set[str]]:
    """Tarjan's components, iteratively (a deep package must not hit the recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[set[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            advanced = False
            for succ in successors:
                if succ not in index:
                    index[succ] = low[succ] = len(index)
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(sorted(graph[succ]))))
                    advanced = True
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component: set[str] = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                components.append(component)
    return components


def find_cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Every elementary cycle, each as ``[a, b, ..., a]`` from its alphabetically first module.

    Within each strongly connected component, a depth-first search from each member finds the
    cycles through it that visit only later members, so each cycle is found exactly once.
    """
    cycles: list[list[str]] = []
    for component in _strongly_connected(graph):
        if len(component) < 2:
            continue
        members = sorted(component)
        for i, start in enumerate(members):
            allowed = set(members[i:])
            path = [start]
            on_path = {start}
            work = [iter(sorted(n for n in graph[start] if n in allowed))]
            while work:
                succ = next(work[-1], None)
                if succ is None:
                    work.pop()
                    on_path.discard(path.pop())
                elif succ == start:
                    cycles.append([*path, start])
                elif succ not in on_path:
                    path.append(succ)
                    on_path.add(succ)
                    work.append(iter(sorted(n for n in graph[succ] if n in allowed)))
    return sorted(cycles, key=lambda c: (len(c), c))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("package", nargs="?", default="app", type=Path, help="the package folder (default: app)")
    parser.add_argument("--where", action="store_true", help="show the file and line of each import in a cycle")
    args = parser.parse_args(argv)

    root: Path = args.package
    if not (root / "__init__.py").is_file():
        print(f"{root} is not a package folder (no __init__.py)", file=sys.stderr)
        return 2
    modules = find_modules(root)
    try:
        graph = import_graph(modules)
    except SyntaxError as exc:
        print(f"cannot parse {exc.filename}:{exc.lineno}: {exc.msg}", file=sys.stderr)
        return 2
    cycles = find_cycles(graph)
    for cycle in cycles:
        print(" -> ".join(cycle))
        if args.where:
            for a, b in itertools.pairwise(cycle):
                print(f"    {modules[a].path}:{graph[a][b]}: {a} imports {b}")
    imports = sum(len(edges) for edges in graph.values())
    if cycles:
        tangled = len({name for cycle in cycles for name in cycle})
        print(
            f"{len(cycles)} import cycle(s) through {tangled} of {len(modules)} modules in {root} ({imports} imports)"
        )
        return 1
    print(f"no import cycles among {len(modules)} modules in {root} ({imports} imports)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
