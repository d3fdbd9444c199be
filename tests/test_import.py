"""``import alignkit`` stays light: heavy and optional modules load on first use."""

import subprocess
import sys

import pytest

HEAVY = ["torch", "matplotlib", "numba", "sklearn", "scipy", "pluggy", "alignkit_shapedtw"]


def _loaded_after(code):
    script = f"import sys\n{code}\nprint(' '.join(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return set(result.stdout.split())


def test_import_alignkit_loads_no_heavy_module():
    loaded = _loaded_after("import alignkit")
    assert not [name for name in HEAVY if name in loaded]


def test_dtw_loads_kernels_but_no_plugin_torch_or_matplotlib():
    loaded = _loaded_after("import alignkit; alignkit.dtw([0.0, 1.0], [0.0, 1.0, 1.0])")
    assert "numba" in loaded
    assert not {"torch", "matplotlib", "alignkit_shapedtw", "pluggy"} & loaded


def test_registry_loads_plugins_only_when_asked():
    loaded = _loaded_after("import alignkit; alignkit.list_aligners()")
    assert "pluggy" in loaded
    assert not {"torch", "matplotlib"} & loaded


@pytest.mark.parametrize("name", sorted(__import__("alignkit").__all__))
def test_every_public_name_resolves(name):
    import alignkit

    assert getattr(alignkit, name) is not None
    assert name in dir(alignkit)


def test_unknown_attribute_raises_attribute_error():
    import alignkit

    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        alignkit.nope  # noqa: B018


def test_core_loads_no_estimator_and_no_plugin():
    # Core is the ground: using all of it loads no estimator, kernel, torch or plugin.
    loaded = _loaded_after(
        "import alignkit.core.hookspecs, alignkit.core.params, alignkit.core.parallel, "
        "alignkit.core.plugins, alignkit.core.registry, alignkit.core.results"
    )
    higher = ("alignkit.estimators", "alignkit.kernels")
    assert not [name for name in loaded if name.startswith(higher)]
    assert not {"torch", "matplotlib", "numba", "alignkit_shapedtw"} & loaded
    # Control: building the registry does import the built-in plugin module, by its name.
    assert "alignkit.estimators._builtin" in _loaded_after(
        "import alignkit.core.registry as r; r.get_registry()"
    )


def test_star_import_and_torch_names_without_torch():
    from _no_torch import run_without_torch

    result = run_without_torch(
        """
from alignkit import *
print("star", "dtw" in dir(), "SoftDTWLoss" in dir())
import alignkit
try:
    alignkit.SoftDTWLoss
except ImportError as error:
    print("loss", type(error).__name__, "alignkit[torch]" in str(error))
try:
    from alignkit.losses import SoftDTWLoss
except ImportError as error:
    print("module", "alignkit[torch]" in str(error))
"""
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[:3] == [
        "star True False",
        "loss ImportError True",
        "module True",
    ]


def test_star_import_with_torch_includes_the_loss():
    namespace = {}
    exec("from alignkit import *", namespace)
    assert "SoftDTWLoss" in namespace and "dtw" in namespace


def test_first_dtw_call_loads_only_the_dtw_modules():
    # The first call is part of the start-up users wait for (benchmarks/bench_dtw.py case 7):
    # it must not pull in joblib (pairwise), scikit-learn (parameter checks) or torch.
    code = (
        "import sys, alignkit; alignkit.dtw_distance([0.0, 1.0, 2.0], [0.0, 2.0]);"
        "alignkit.dtw([0.0, 1.0], [1.0]);"
        "print(sorted(m for m in ('joblib', 'sklearn', 'torch', 'matplotlib') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
