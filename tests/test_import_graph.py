"""The import structure of the three packages: no cycle, every module importable on its own and
in any order, and no import inside a function unless it says why (docs/ARCHITECTURE.md,
"Imports").

The graph is read from the source (ast), so a cycle hidden by an import inside a function is
found too. Imports under `if TYPE_CHECKING:` never run and are left out.
"""
from __future__ import annotations

import ast
import random
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("cds_service", "fhir_mappings", "myeloma_model")
# A function-level import must carry this reason on its line or the line above.
LAZY_IMPORT_REASON = "start-up"


def module_files() -> dict[str, Path]:
    """Dotted module name -> source file, for every module of the three packages."""
    out: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


MODULES = module_files()


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST):
    """(node, inside_function) for every import statement that can run."""
    def walk(node, in_function):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for sub in child.orelse:
                    yield from walk(ast.Module(body=[sub], type_ignores=[]), in_function)
                continue
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                yield child, in_function
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            yield from walk(child, inner)
    yield from walk(tree, False)


def _targets(module: str, node: ast.Import | ast.ImportFrom) -> set[str]:
    """The package modules an import statement loads (the most specific name known)."""
    if isinstance(node, ast.Import):
        names = [alias.name for alias in node.names]
    else:
        if node.level:
            is_package = MODULES[module].name == "__init__.py"
            base_parts = module.split(".") if is_package else module.split(".")[:-1]
            base_parts = base_parts[: len(base_parts) - (node.level - 1)]
            base = ".".join(base_parts + ([node.module] if node.module else []))
        else:
            base = node.module or ""
        names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names]
    out = set()
    for name in names:
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        if name and name != module:
            out.add(name)
    return out


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        graph[module] = set()
        for node, _ in _imports(tree):
            graph[module] |= _targets(module, node)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle as a list of modules (first repeated at the end), or None."""
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_the_cycle_finder_finds_a_cycle_and_accepts_a_tree():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_the_graph_sees_the_layers():
    graph = import_graph()
    assert "cds_service.hooks.pipeline" in graph
    assert "fhir_mappings" in graph["cds_service.hooks.pipeline"]
    assert "myeloma_model" in graph["cds_service.hooks.pipeline"]
    assert graph["myeloma_model.thresholds"] == set()


def test_no_import_cycle_between_modules():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_layers_import_only_downwards():
    """cds_service -> fhir_mappings -> myeloma_model, never back up."""
    rank = {"cds_service": 0, "fhir_mappings": 1, "myeloma_model": 2}
    for module, targets in import_graph().items():
        for target in targets:
            here, there = rank[module.split(".")[0]], rank[target.split(".")[0]]
            assert there >= here, f"{module} imports {target} from a layer above it"


def unexplained_function_imports(source: str) -> list[int]:
    """Line numbers of imports inside functions without the start-up reason nearby."""
    lines = source.splitlines()
    out = []
    for node, in_function in _imports(ast.parse(source)):
        nearby = " ".join(lines[max(0, node.lineno - 2): node.end_lineno])
        if in_function and LAZY_IMPORT_REASON not in nearby:
            out.append(node.lineno)
    return out


def test_the_function_import_check_tells_explained_from_unexplained():
    source = ("import os\n"
              "def f():\n"
              "    import json\n"
              "def g():\n"
              "    # numpy costs 0.3 s at start-up and only this command needs it\n"
              "    import numpy\n")
    assert unexplained_function_imports(source) == [3]


def test_imports_inside_functions_say_why():
    """No import inside a function unless it avoids a real start-up cost, said in a comment."""
    unexplained = [f"{path.relative_to(ROOT)}:{line}" for path in MODULES.values()
                   for line in unexplained_function_imports(path.read_text(encoding="utf-8"))]
    assert not unexplained, "imports inside functions without a start-up reason: " + ", ".join(unexplained)


def _import_in_fresh_interpreter_code(code: str, modules: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *modules], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)


def _import_in_fresh_interpreter(modules: list[str]) -> subprocess.CompletedProcess:
    code = "import importlib, sys\nfor name in sys.argv[1:]:\n    importlib.import_module(name)\n"
    return _import_in_fresh_interpreter_code(code, modules)


@pytest.mark.parametrize("order", ["sorted", "reversed", "shuffled-1", "shuffled-2", "shuffled-3"])
def test_every_module_imports_in_any_order(order):
    names = sorted(MODULES)
    if order == "reversed":
        names.reverse()
    elif order.startswith("shuffled"):
        random.Random(int(order.rsplit("-", 1)[1])).shuffle(names)
    result = _import_in_fresh_interpreter(names)
    assert result.returncode == 0, result.stderr[-2000:]


def test_each_module_imports_first_on_its_own():
    """Each module as the first of the project's modules to be imported (catches a module that
    only works when another was imported before it). One fresh interpreter; before each module
    the project's modules are dropped from sys.modules (third-party ones stay loaded: they are
    not under test, and re-importing them would take minutes)."""
    code = ("import importlib, sys\n"
            "packages = ('cds_service', 'fhir_mappings', 'myeloma_model')\n"
            "bad = []\n"
            "for name in sys.argv[1:]:\n"
            "    for loaded in [m for m in sys.modules if m.split('.')[0] in packages]:\n"
            "        del sys.modules[loaded]\n"
            "    try:\n"
            "        importlib.import_module(name)\n"
            "    except Exception as exc:\n"
            "        bad.append(f'{name}: {type(exc).__name__}: {exc}')\n"
            "print('\\n'.join(bad))\n"
            "sys.exit(1 if bad else 0)\n")
    result = _import_in_fresh_interpreter_code(code, sorted(MODULES))
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
