"""The import graph of `app/` (issue 15 item 3), read from the source with `ast` (nothing is
imported): no import cycle between packages, and no function-level import between domains.

- A *package* is a sub-package of `app/` (a domain: `app.bank`, `app.daily`, ...), a top-level
  module of `app/` on its own (`app.db`), or `jobs`. A cycle between packages is a set of
  modules that import each other in a ring (module-level, function-level or type-only
  imports alike: a function-level import hides a cycle, it does not remove it) spanning more
  than one package. Cycles inside one package are the package's own business.
- A *function-level import between domains* is an import inside a function (or method) of a
  module of a domain, of a module outside that domain (another domain, a top-level module of
  `app/`, `jobs`). The composition roots (`app/cli.py`, `app/main.py`, `app/demo.py`,
  `app/wiring.py`, `jobs/`) may import anything, anywhere (cli.py imports lazily for its
  start-up time).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

COMPOSITION_ROOTS = {
    "app.cli",
    "app.main",
    "app.demo",
    "app.wiring",
    "app.__main__",
    # the command groups of app/cli.py: lazy imports keep `fundledger --help` fast
    "app.commands.common",
    "app.commands.calendar",
    "app.commands.users",
    "app.commands.ledger",
    "app.commands.scenario",
    "app.commands.jobs",
    "app.commands.assistance",
}


def _modules() -> dict[str, Path]:
    found = {}
    for top in ("app", "jobs"):
        for path in sorted((ROOT / top).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def package(module: str) -> str:
    """`app.bank.service` -> `app.bank`; `app.db` -> `app.db`; `jobs.runner` -> `jobs`."""
    parts = module.split(".")
    if parts[0] == "jobs":
        return "jobs"
    return ".".join(parts[:2])


def is_domain(module: str) -> bool:
    return module.startswith("app.") and (ROOT / "app" / module.split(".")[1]).is_dir()


@dataclass(frozen=True)
class Import:
    source: str  # the importing module
    target: str  # the imported module (of app/ or jobs/)
    where: str  # file:line
    in_function: bool


def _targets(node: ast.Import | ast.ImportFrom, module: str) -> Iterator[str]:
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
        return
    base = node.module or ""
    if node.level:  # relative: from the importing module's package
        is_package = MODULES[module].name == "__init__.py"
        parts = module.split(".")[: None if is_package else -1]
        parts = parts[: len(parts) - node.level + 1]
        base = ".".join([*parts, *([base] if base else [])])
    for alias in node.names:
        candidate = f"{base}.{alias.name}"
        yield candidate if candidate in MODULES else base


def imports() -> list[Import]:
    found = []
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        where = path.relative_to(ROOT).as_posix()

        def visit(node: ast.AST, in_function: bool) -> None:
            for child in ast.iter_child_nodes(node):
                inner = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
                if isinstance(child, ast.Import | ast.ImportFrom):
                    for target in _targets(child, module):  # noqa: B023 - used right here
                        if target in MODULES:
                            found.append(
                                Import(module, target, f"{where}:{child.lineno}", inner)  # noqa: B023
                            )
                visit(child, inner)

        visit(tree, False)
    return found


def function_level_offences(found: list[Import]) -> list[tuple[str, str]]:
    """(file, message) for each function-level import of a domain module from outside it."""
    return [
        (i.where.split(":")[0], f"{i.where}: imports {i.target} inside a function")
        for i in found
        if i.in_function
        and is_domain(i.source)
        and i.source not in COMPOSITION_ROOTS
        and package(i.target) != package(i.source)
    ]


def _strongly_connected(edges: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm, iterative."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components = []
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for successor in successors:
                if successor not in index:
                    index[successor] = low[successor] = len(index)
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(edges.get(successor, ())))))
                    break
                if successor in on_stack:
                    low[node] = min(low[node], index[successor])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    components.append(component)
    return components


def cycle_offences(found: list[Import]) -> list[tuple[str, str]]:
    """(file, message) for each import between packages that closes a cycle."""
    edges: dict[str, set[str]] = {}
    for i in found:
        edges.setdefault(i.source, set()).add(i.target)
    offences = []
    for component in _strongly_connected(edges):
        if len({package(m) for m in component}) < 2:
            continue
        ring = " ↔ ".join(sorted(component))
        for i in found:
            if (
                i.source in component
                and i.target in component
                and package(i.source) != package(i.target)
            ):
                offences.append(
                    (i.where.split(":")[0], f"{i.where}: imports {i.target}, a cycle: {ring}")
                )
    return offences


def test_no_cycle_between_packages_and_no_function_level_import_between_domains() -> None:
    found = imports()
    offences = cycle_offences(found) + function_level_offences(found)
    assert not offences, "\n".join(sorted(message for _, message in offences))


def test_the_walk_sees_what_it_must(tmp_path: Path) -> None:
    """The checks find a function-level import and a cycle when there is one (on a made-up
    graph), and the walk reads the real imports (a known module-level one)."""
    found = imports()
    assert any(
        i.source == "app.bank.sending" and i.target == "app.bank.service" and not i.in_function
        for i in found
    )
    made_up = [
        Import("app.a.x", "app.b.y", "app/a/x.py:3", False),
        Import("app.b.y", "app.a.x", "app/b/y.py:9", True),
        Import("app.a.x", "app.a.z", "app/a/x.py:4", True),  # own domain: fine
        Import("app.b.y", "app.db", "app/b/y.py:5", False),
    ]
    assert is_domain("app.bank.service") and not is_domain("app.db")
    assert [m for _, m in cycle_offences(made_up)] == [
        "app/a/x.py:3: imports app.b.y, a cycle: app.a.x ↔ app.b.y",
        "app/b/y.py:9: imports app.a.x, a cycle: app.a.x ↔ app.b.y",
    ]
