"""The import layers of `staticip/` and `stacks/`: no module imports, even inside a function, a
module that imports it back, and each layer imports only the layers under it.

From the bottom: shared names and result types -> the configuration schema and the mode
declarations (keys, validation, prices) -> the constructs (`stacks/`) and the operations
(doctor, verify, ips, review, cost, ...), side by side and never importing each other -> the
entry points (CLI, synth). An import inside a function is a dependency all the same (moving one
there only hides a cycle); one under `if TYPE_CHECKING:` is not, as it never runs.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("staticip", "stacks")

SHARED, SCHEMA, CONSTRUCTS, OPERATIONS, ENTRY = (
    "shared",
    "schema",
    "constructs",
    "operations",
    "entry points",
)
#: Each layer's height: a module imports modules of its own layer or lower ones only.
HEIGHT = {SHARED: 0, SCHEMA: 1, CONSTRUCTS: 2, OPERATIONS: 2, ENTRY: 3}

#: The layer of each module, by full-name pattern, first match wins; a module matching none
#: fails `test_every_module_has_a_layer`, so a new module is placed on purpose.
LAYER_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"staticip\.(cli|synth|__main__)", ENTRY),
    (r"stacks(\..+)?", CONSTRUCTS),
    # A mode's package is its declaration; its `checks` and `rules` belong to the operations.
    (r"staticip\.modes\.[a-z_]+\.[a-z_]+", OPERATIONS),
    (r"staticip\.(config|function_config|modes(\.[a-z_]+)?)", SCHEMA),
    (
        r"staticip(\.(names|findings|result|table|aws|eips|enis|ipam|guard|guard_lock|canary"
        r"|schedule|prices|stackfile|outdir|synth_cache|config_reader|cost_items))?",
        SHARED,
    ),
    (
        r"staticip\.(cost|cost_chart|config_reference|doctor|doctor_[a-z]+|functions|ga_cleanup|ips"
        r"|summary"
        r"|verify|wake|scan_input|review(\..+)?)",
        OPERATIONS,
    ),
)

#: The mode declarations: pure (keys, validation, prices), so they import only shared modules
#: and each other, never `staticip.config` (which imports the registry).
DECLARATION = re.compile(r"staticip\.modes(\.[a-z_]+)?")


def module_names(root: Path) -> dict[str, Path]:
    """Every module of `PACKAGES` under `root`, by dotted name (a package by its own name)."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            modules[".".join(parts)] = path
    return modules


def _type_checking_only(tree: ast.AST) -> set[int]:
    """The ids of the nodes under `if TYPE_CHECKING:` (or `typing.TYPE_CHECKING`)."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
            if name == "TYPE_CHECKING":
                for child in node.body:
                    skipped.update(id(n) for n in ast.walk(child))
    return skipped


def _imported(node: ast.Import | ast.ImportFrom, module: str, is_package: bool) -> list[str]:
    """The dotted names an import statement loads (a `from x import y` names `x.y`, which is
    a module or a name of `x`)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:
        anchor = module.split(".")
        if not is_package:
            anchor = anchor[:-1]
        anchor = anchor[: len(anchor) - (node.level - 1)]
        base = ".".join([*anchor, *([base] if base else [])])
    return [f"{base}.{alias.name}" for alias in node.names] + [base]


def import_graph(root: Path) -> dict[str, set[str]]:
    """Module -> the modules it imports, at module level or in a function. Importing `a.b.c`
    also runs the `__init__` of `a` and `a.b`, so those count too, except the importer's own
    packages (already being imported when it runs)."""
    modules = module_names(root)
    graph: dict[str, set[str]] = {}
    for module, path in modules.items():
        tree = ast.parse(path.read_text(), str(path))
        skipped = _type_checking_only(tree)
        is_package = path.name == "__init__.py"
        own = {".".join(module.split(".")[:i]) for i in range(1, module.count(".") + 1)}
        targets: set[str] = set()
        for node in ast.walk(tree):
            if id(node) in skipped or not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            names = _imported(node, module, is_package)
            if isinstance(node, ast.ImportFrom):
                # `from x import y`: the module `x.y` when there is one, else `x` itself.
                names = [n for n in names[:-1] if n in modules] or names[-1:]
            for name in names:
                parts = name.split(".")
                for i in range(1, len(parts) + 1):
                    target = ".".join(parts[:i])
                    if target in modules and target not in own and target != module:
                        targets.add(target)
        graph[module] = targets
    return graph


def components(graph: dict[str, set[str]]) -> list[set[str]]:
    """The strongly connected components of more than one module (Tarjan): each is one or
    more import cycles."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(component)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (`a -> ... -> a`) for each component of `components`, sorted."""
    return sorted(_cycle_in(graph, component) for component in components(graph))


def _cycle_in(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    """The shortest cycle through the component's first module, by breadth-first search."""
    start = min(component)
    paths = {start: [start]}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(graph[v] & component):
            if w == start:
                return [*paths[v], start]
            if w not in paths:
                paths[w] = [*paths[v], w]
                queue.append(w)
    raise AssertionError(component)  # a strongly connected component always has one


def layer(module: str) -> str | None:
    for pattern, name in LAYER_PATTERNS:
        if re.fullmatch(pattern, module):
            return name
    return None


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph(REPO)


def test_no_import_cycle(graph):
    found = [
        f"{' -> '.join(_cycle_in(graph, c))}\n"
        f"  (one of the cycles among {len(c)} modules: {', '.join(sorted(c))})"
        for c in components(graph)
    ]
    assert not found, "import cycles:\n" + "\n".join(found)


def test_every_module_has_a_layer(graph):
    assert [m for m in sorted(graph) if layer(m) is None] == []


def test_each_layer_imports_only_the_layers_under_it(graph):
    wrong = []
    for module, targets in sorted(graph.items()):
        here = layer(module)
        for target in sorted(targets):
            there = layer(target)
            if here is None or there is None:
                continue  # test_every_module_has_a_layer names them
            # Constructs read the config; operations read the synthesized JSON: neither
            # imports the other.
            beside = {here, there} == {CONSTRUCTS, OPERATIONS}
            if HEIGHT[there] > HEIGHT[here] or beside:
                wrong.append(f"{module} ({here}) imports {target} ({there})")
    assert wrong == []


def test_mode_declarations_import_only_shared_modules_and_declarations(graph):
    wrong = [
        f"{module} imports {target}"
        for module, targets in sorted(graph.items())
        if DECLARATION.fullmatch(module)
        for target in sorted(targets)
        if layer(target) != SHARED and not DECLARATION.fullmatch(target)
    ]
    assert wrong == []


def test_the_graph_counts_function_level_and_package_imports_but_not_type_checking(tmp_path):
    """The checker itself, on a made-up tree: a cycle hidden in a function is found, one that
    exists only under TYPE_CHECKING is not, and importing a package's module depends on the
    package's `__init__`."""
    files = {
        "staticip/__init__.py": "",
        "staticip/a.py": "def f():\n    from staticip import b\n",
        "staticip/b.py": "import staticip.a\n",
        "staticip/c.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
        "    from staticip import d\n",
        "staticip/d.py": "from staticip.c import x\n",
        "staticip/p/__init__.py": "from staticip.e import y\n",
        "staticip/p/q.py": "z = 1\n",
        "staticip/e.py": "from staticip.p.q import z\n",
        "stacks/__init__.py": "",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    found = cycles(import_graph(tmp_path))
    assert found == [
        ["staticip.a", "staticip.b", "staticip.a"],
        ["staticip.e", "staticip.p", "staticip.e"],
    ]
