"""No arrow up, no cycle: the import graph of ``alignkit/`` against its layers.

Every module of the package is parsed with :mod:`ast`; every ``import`` and
``from ... import`` statement counts, at module level or inside a function,
a class or an ``if TYPE_CHECKING:`` block, with relative imports resolved.
A module may import modules of its own layer and of the layers below it
(kernels: only part of the ground, see ``KERNEL_GROUND``, and of third-party
code only numpy, numba and torch), and the module graph has no cycle.
``docs/dev/architecture.rst`` states the same layers;
``test_architecture_page_states_these_layers`` keeps the two together.

Modules named by a string and loaded with :func:`importlib.import_module`
(the built-in plugin modules of ``alignkit.core.plugins``, the lazy names of
``alignkit/__init__.py``, ``alignkit.kernels._torch.load``) are run-time
look-ups, deliberately not edges: that is how core names the estimators'
hookimpl without importing them, as pytest names its default plugins.
"""

import ast
import re
import sys
from pathlib import Path

import pytest

import alignkit

PACKAGE_ROOT = Path(alignkit.__file__).parent
ARCHITECTURE_PAGE = Path(__file__).parents[1] / "docs" / "dev" / "architecture.rst"

# Bottom to top. A module belongs to the first layer with a matching pattern:
# "x" matches alignkit.x itself, "x.*" matches alignkit.x and everything under it.
LAYERS = (
    ("ground", ("exceptions", "_config", "_version", "core.*")),
    ("kernels", ("kernels.*",)),
    ("validation", ("validation",)),
    ("algorithms", ("distances.*", "multiview.*", "datasets.*")),
    ("estimators", ("base", "estimators.*", "metrics", "losses", "callbacks", "preprocessing")),
    ("applications", ("plotting.*", "testing.*", "cli")),
    ("package", ("",)),
)

# What kernels may take from the ground: error types, the configuration they
# read (backend, device) and the parsed Window value; never the machinery of
# core (parameter checking, result types, registry, plugins).
KERNEL_GROUND = ("exceptions", "_config", "core.window")


def module_name(path, root, package):
    """Dotted name of the module in ``path`` (a file under ``root``, the package folder)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([package, *parts])


def _resolve(module, is_package, node):
    """The absolute name ``from ... import`` refers to, or None if above the package."""
    if node.level == 0:
        return node.module
    base = module.split(".")
    if not is_package:
        base.pop()
    if node.level > 1:
        if node.level - 1 >= len(base):
            return None
        base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _closest_module(name, modules):
    """``name`` if it is a module of the package, else its closest enclosing module."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _module_files(root, package):
    return {module_name(path, root, package): path for path in sorted(root.rglob("*.py"))}


def _imported_names(module, path, files):
    """``(absolute name, line)`` of everything ``module`` imports, in any scope."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            source = _resolve(module, is_package, node)
            if source is None:
                continue
            for alias in node.names:
                # "from pkg import sub" imports the module pkg.sub when there is one.
                target = f"{source}.{alias.name}"
                yield (target if target in files else source), node.lineno


def module_graph(root, package="alignkit"):
    """The import graph of the package in ``root``.

    Returns
    -------
    graph : dict
        ``{module: {imported_module: first line number}}`` over modules of the
        package only (third-party imports are left out).
    """
    files = _module_files(root, package)
    graph = {}
    for module, path in files.items():
        edges = {}
        for target, line in _imported_names(module, path, files):
            found = _closest_module(target, files)
            if found is not None and found != module:
                edges.setdefault(found, line)
        graph[module] = edges
    return graph


def external_imports(root, package="alignkit"):
    """``{module: {top-level distribution module: first line}}`` outside the package."""
    files = _module_files(root, package)
    found = {}
    for module, path in files.items():
        names = {}
        for target, line in _imported_names(module, path, files):
            top = target.split(".")[0]
            if top != package:
                names.setdefault(top, line)
        found[module] = names
    return found


def _matches(module, pattern, package):
    if pattern == "":
        return module == package
    name = f"{package}.{pattern.removesuffix('.*')}"
    return module == name or (pattern.endswith(".*") and module.startswith(name + "."))


def layer_of(module, layers=LAYERS, package="alignkit"):
    """Index of the layer of ``module`` in ``layers`` (KeyError if none matches)."""
    for index, (_, patterns) in enumerate(layers):
        if any(_matches(module, pattern, package) for pattern in patterns):
            return index
    raise KeyError(f"module {module} belongs to no layer; add it to LAYERS and the page")


def arrows_up(graph, layers=LAYERS, package="alignkit", kernel_ground=KERNEL_GROUND):
    """Imports that are not allowed by the layers, as readable lines."""
    names = [name for name, _ in layers]
    problems = []
    for module, edges in sorted(graph.items()):
        source = layer_of(module, layers, package)
        for target, line in sorted(edges.items()):
            destination = layer_of(target, layers, package)
            why = None
            if destination > source:
                why = "a lower layer imports a higher one"
            elif names[source] == "kernels" and names[destination] == "ground":
                if not any(_matches(target, pattern, package) for pattern in kernel_ground):
                    why = f"kernels may take from the ground only {', '.join(kernel_ground)}"
            if why:
                problems.append(
                    f"{module} ({names[source]}) line {line} imports {target} "
                    f"({names[destination]}): {why}"
                )
    return problems


def import_cycles(graph):
    """Strongly connected components of more than one module, each sorted (Tarjan)."""
    index, lowlink, on_stack, stack, components = {}, {}, set(), [], []
    counter = [0]

    def visit(start):
        # Iterative, so a deep graph cannot hit the recursion limit.
        work = [(start, iter(sorted(graph.get(start, ()))))]
        index[start] = lowlink[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            advanced = False
            for successor in successors:
                if successor not in index:
                    index[successor] = lowlink[successor] = counter[0]
                    counter[0] += 1
                    stack.append(successor)
                    on_stack.add(successor)
                    work.append((successor, iter(sorted(graph.get(successor, ())))))
                    advanced = True
                    break
                if successor in on_stack:
                    lowlink[node] = min(lowlink[node], index[successor])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                lowlink[parent] = min(lowlink[parent], lowlink[node])
            if lowlink[node] == index[node]:
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
    return sorted(components)


def _describe_cycle(graph, component):
    members = set(component)
    return "; ".join(
        f"{module} -> {target} (line {line})"
        for module in component
        for target, line in sorted(graph[module].items())
        if target in members
    )


@pytest.fixture(scope="module")
def graph():
    return module_graph(PACKAGE_ROOT)


def test_every_module_has_a_layer(graph):
    assert len(graph) > 60  # the walker saw the whole package (77 modules today)
    for module in graph:
        layer_of(module)


def test_the_walker_sees_known_edges(graph):
    # Control: edges that exist today, at module level, inside a function, and relative.
    assert "alignkit.kernels._numba._asymmetric" in graph["alignkit.multiview._gctw"]
    assert "alignkit.core.plugins" in graph["alignkit.core.registry"]  # inside get_registry
    assert "alignkit.core.hookspecs" in graph["alignkit.core.plugins"]  # from . import hookspecs
    assert "alignkit._config" in graph["alignkit.core.parallel"]  # from .._config import ...
    assert "alignkit.core.registry" not in graph["alignkit.core.plugins"]


def test_no_import_from_a_lower_layer_to_a_higher_one(graph):
    problems = arrows_up(graph)
    assert not problems, "\n".join(problems)


def test_no_import_cycle(graph):
    cycles = [_describe_cycle(graph, component) for component in import_cycles(graph)]
    assert not cycles, "\n".join(cycles)


def test_kernels_import_only_numpy_numba_torch_and_the_standard_library():
    allowed = {"numpy", "numba", "torch", *sys.stdlib_module_names}
    problems = [
        f"{module} line {line} imports {name}"
        for module, names in sorted(external_imports(PACKAGE_ROOT).items())
        if module.startswith("alignkit.kernels")
        for name, line in sorted(names.items())
        if name not in allowed
    ]
    assert not problems, "\n".join(problems)


def test_external_imports_are_seen(tmp_path):
    root = tmp_path / "alignkit"
    _write(root, {"__init__.py": "", "_k.py": "def f():\n    import sklearn.utils\nimport os\n"})
    assert external_imports(root) == {"alignkit": {}, "alignkit._k": {"sklearn": 2, "os": 3}}


def test_core_names_the_builtin_plugins_without_importing_estimators(graph):
    from alignkit.core.plugins import BUILTIN_PLUGINS

    core = [module for module in graph if module.startswith("alignkit.core")]
    assert not [
        (module, target)
        for module in core
        for target in graph[module]
        if target.startswith("alignkit.estimators")
    ]
    assert "alignkit.estimators._builtin" in BUILTIN_PLUGINS
    assert "alignkit.estimators._builtin" in graph  # the named module exists


def _write(root, files):
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_checker_reports_an_arrow_up_and_a_cycle(tmp_path):
    # A fake package: the ground imports an estimator inside a function (an arrow up),
    # two estimator modules import each other (one of them lazily), and a kernel
    # imports validation with a two-level relative import.
    root = tmp_path / "alignkit"
    _write(
        root,
        {
            "__init__.py": "",
            "exceptions.py": "",
            "validation.py": "",
            "_config.py": "def f():\n    from .estimators import _a\n",
            "estimators/__init__.py": "",
            "estimators/_a.py": "from . import _b\n",
            "estimators/_b.py": "def g():\n    import alignkit.estimators._a\n",
            "kernels/__init__.py": "",
            "kernels/_numba/__init__.py": "",
            "kernels/_numba/_k.py": "import numpy\nfrom ...validation import x\n",
            "kernels/_numba/_ok.py": "from ... import exceptions\nfrom . import _k\n",
        },
    )
    graph = module_graph(root)
    assert graph["alignkit._config"] == {"alignkit.estimators._a": 2}
    assert graph["alignkit.kernels._numba._ok"] == {
        "alignkit.exceptions": 1,
        "alignkit.kernels._numba._k": 2,
    }
    problems = arrows_up(graph)
    assert problems == [
        "alignkit._config (ground) line 2 imports alignkit.estimators._a (estimators): "
        "a lower layer imports a higher one",
        "alignkit.kernels._numba._k (kernels) line 2 imports alignkit.validation (validation): "
        "a lower layer imports a higher one",
    ]
    assert import_cycles(graph) == [["alignkit.estimators._a", "alignkit.estimators._b"]]
    assert _describe_cycle(graph, ["alignkit.estimators._a", "alignkit.estimators._b"]) == (
        "alignkit.estimators._a -> alignkit.estimators._b (line 1); "
        "alignkit.estimators._b -> alignkit.estimators._a (line 2)"
    )


def test_checker_holds_kernels_to_part_of_the_ground(tmp_path):
    root = tmp_path / "alignkit"
    _write(
        root,
        {
            "__init__.py": "",
            "core/__init__.py": "",
            "core/params.py": "",
            "core/window.py": "",
            "kernels/__init__.py": "from ..core import params, window\n",
        },
    )
    assert arrows_up(module_graph(root)) == [
        "alignkit.kernels (kernels) line 1 imports alignkit.core.params (ground): "
        "kernels may take from the ground only exceptions, _config, core.window"
    ]


def test_checker_finds_a_longer_cycle_and_ignores_acyclic_diamonds():
    graph = {
        "a": {"b": 1, "c": 1},
        "b": {"d": 1},
        "c": {"d": 1},
        "d": {},
        "x": {"y": 1},
        "y": {"z": 1},
        "z": {"x": 1},
    }
    assert import_cycles(graph) == [["x", "y", "z"]]


def test_a_module_outside_every_layer_is_reported():
    with pytest.raises(KeyError, match="alignkit.newthing belongs to no layer"):
        layer_of("alignkit.newthing")


def test_architecture_page_states_these_layers():
    # The page lists the layers, bottom first, as "``name``: ``pattern``, ``pattern``".
    text = ARCHITECTURE_PAGE.read_text()
    stated = re.findall(r"^\s*\d+\. ``(\w+)``: (.+)$", text, flags=re.MULTILINE)
    expected = [
        (name, ", ".join(f"``alignkit.{p}``" if p else "``alignkit``" for p in patterns))
        for name, patterns in LAYERS
    ]
    assert [(name, rest.rstrip()) for name, rest in stated] == expected
    assert ", ".join(f"``alignkit.{p}``" for p in KERNEL_GROUND) in text
