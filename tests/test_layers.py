"""The import direction of pyisp's layers: core < explain < render < authoring < register < server, _cli.

Every module of pyisp/ is parsed with `ast` (nothing is imported). A module may import, at
module level, only modules of its own layer or of a lower one. pyisp/errors.py is below every
layer (it imports nothing of pyisp); the package's __init__ (the public API) imports from every
layer and ranks with the front ends, _cli and server/ (only they may import it). An import inside a function that points
upward is allowed only from ALLOWED below, each with the reason.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Iterator, Mapping, NamedTuple

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "pyisp"

# (layer name, rank): a module's layer is the first prefix of its dotted name that matches.
LAYERS = (("pyisp.errors", 0), ("pyisp.core", 1), ("pyisp.explain", 2), ("pyisp.render", 3),
          ("pyisp.authoring", 4), ("pyisp.register", 5), ("pyisp.server", 6), ("pyisp._cli", 6))
TOP = 6  # the package itself (pyisp/__init__.py, the public API): at the level of the front ends (_cli and
# server/, which call the public API), so only they import it

# Function-level imports that point upward, as (importing module, function, imported module).
ALLOWED = {
    # Result.explain() is core's one door to the explain layer (late binding, documented in
    # core/result.py): an explanation is computed only when asked, and core stays importable
    # without explain. _explainer is the cached instrumented run that explain() reuses.
    ("pyisp.core.result", "Result.explain", "pyisp.explain"),
    ("pyisp.core.result", "Result._explainer", "pyisp.explain"),
    # Explanation.to_text()/to_markdown()/to_html() are public API (README); their bodies live
    # in render/explanation.py, which imports explain at module level, so these three calls
    # bind the renderer at call time and explain/ never imports render/ at module level.
    ("pyisp.explain", "Explanation.to_text", "pyisp.render.explanation"),
    ("pyisp.explain", "Explanation.to_markdown", "pyisp.render.explanation"),
    ("pyisp.explain", "Explanation.to_html", "pyisp.render.explanation"),
}


class Import(NamedTuple):
    importer: str
    function: str | None  # qualified name of the enclosing function; None at module level
    target: str
    line: int


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def rank(module: str) -> int:
    if module == "pyisp":
        return TOP
    for prefix, value in LAYERS:
        if module == prefix or module.startswith(prefix + "."):
            return value
    raise AssertionError(f"{module} is in no layer: add it to LAYERS in tests/test_layers.py")


def imports(name: str, source: str, is_package: bool, modules: set[str]) -> Iterator[Import]:
    """The pyisp modules `name` imports, each with the function it is imported in (if any)."""
    package = name if is_package else name.rpartition(".")[0]

    def resolve(node: ast.ImportFrom) -> str:
        if not node.level:
            return node.module or ""
        base = package.split(".")
        base = base[:len(base) - node.level + 1]
        return ".".join(base + ([node.module] if node.module else []))

    def visit(node: ast.AST, scope: list[str], in_function: bool) -> Iterator[Import]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield from visit(child, scope + [child.name], True)
            elif isinstance(child, ast.ClassDef):
                yield from visit(child, scope + [child.name], in_function)
            elif isinstance(child, (ast.Import, ast.ImportFrom)):
                function = ".".join(scope) if in_function else None
                if isinstance(child, ast.Import):
                    targets = [alias.name for alias in child.names]
                else:
                    source_module = resolve(child)
                    # `from ..core import atoms` imports the module pyisp.core.atoms
                    targets = [f"{source_module}.{alias.name}" if f"{source_module}.{alias.name}" in modules
                               else source_module for alias in child.names]
                for target in dict.fromkeys(targets):
                    if target == "pyisp" or target.startswith("pyisp."):
                        yield Import(name, function, target, child.lineno)
            else:
                yield from visit(child, scope, in_function)

    yield from visit(ast.parse(source), [], False)


def violations(sources: Mapping[str, tuple[str, bool]]) -> tuple[list[str], set[tuple[str, str, str]]]:
    """Upward imports not allowed, and the allowed ones that were seen. `sources` maps a module's
    dotted name to (its source, whether it is a package's __init__)."""
    modules = set(sources)
    wrong: list[str] = []
    seen: set[tuple[str, str, str]] = set()
    for name, (source, is_package) in sorted(sources.items()):
        if name == "pyisp":
            continue  # the public API may import from every layer
        for item in imports(name, source, is_package, modules):
            if rank(item.target) <= rank(name) and not (name == "pyisp.errors"):
                continue
            key = (name, item.function or "", item.target)
            if item.function is not None and key in ALLOWED:
                seen.add(key)
                continue
            where = "module level" if item.function is None else f"in {item.function}()"
            wrong.append(f"{name}:{item.line} imports {item.target} ({where})")
    return wrong, seen


def package_sources(root: Path = PACKAGE) -> dict[str, tuple[str, bool]]:
    return {module_name(path, root): (path.read_text(encoding="utf-8"), path.name == "__init__.py")
            for path in sorted(root.rglob("*.py"))}


def test_every_module_imports_only_its_own_layer_or_lower_ones() -> None:
    sources = package_sources()
    assert "pyisp.core.engine" in sources and "pyisp._cli" in sources
    wrong, _ = violations(sources)
    assert not wrong, "upward imports:\n" + "\n".join(wrong)


def test_every_allowed_upward_import_is_still_there() -> None:
    """An entry of ALLOWED that no longer matches an import is stale: remove it."""
    _, seen = violations(package_sources())
    assert seen == ALLOWED, f"stale entries of ALLOWED: {sorted(ALLOWED - seen)}"


def test_the_explain_layer_never_imports_render_at_module_level() -> None:
    sources = package_sources()
    modules = set(sources)
    found = [item for name, (source, is_package) in sources.items() if rank(name) == rank("pyisp.explain")
             for item in imports(name, source, is_package, modules)
             if item.function is None and rank(item.target) == rank("pyisp.render")]
    assert not found


@pytest.mark.parametrize("name, source, function", [
    ("pyisp.core.engine", "from ..render.result_text import result_text\n", None),
    ("pyisp.core.engine", "def f():\n    from ..authoring import scenarios\n", "f"),
    ("pyisp.core.result", "class Result:\n    def explain(self):\n        from ..render import explanation\n",
     "Result.explain"),
    ("pyisp.explain.wording", "import pyisp.render.explanation\n", None),
    ("pyisp.render.result_text", "from .. import query\n", None),
    ("pyisp.errors", "from .core import case\n", None),
])
def test_an_upward_import_is_reported(name: str, source: str, function: str | None) -> None:
    sources = package_sources()
    sources[name] = (source, False)
    wrong, _ = violations(sources)
    assert [line for line in wrong if line.startswith(name + ":")], wrong


def test_an_allowed_import_is_allowed_only_inside_its_function() -> None:
    sources = package_sources()
    sources["pyisp.core.result"] = ("from ..explain import explain_result\n", False)
    wrong, _ = violations(sources)
    assert [line for line in wrong if line.startswith("pyisp.core.result:")] == [
        "pyisp.core.result:1 imports pyisp.explain (module level)"]
