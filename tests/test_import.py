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
