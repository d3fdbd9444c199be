"""Plugin loading with real (fake) installed distributions.

Each folder of ``tests/fixtures/plugins`` is a ``site-packages``-like
directory holding ``*.dist-info`` metadata with ``alignkit`` entry points and
the plugin modules; a test puts the folders it needs on ``sys.path`` so that
:mod:`importlib.metadata` finds them. Plugins installed in the environment
(``alignkit-shapedtw``...) are blocked, so every test sees only its fakes.
"""

import importlib.metadata
import json
import os
import subprocess
import sys
import threading
import warnings
from pathlib import Path

import numpy as np
import pluggy
import pytest

import alignkit
from alignkit.core import hookspecs
from alignkit.core.registry import get_registry, reset_registry
from alignkit.exceptions import PluginLoadError, PluginWarning, UnknownAlignerError

FIXTURES = Path(__file__).parents[1] / "fixtures" / "plugins"
BUILTINS = ["ctw", "deep_ctw", "dtw", "glimpse", "soft_attention", "stn", "uniform"]


class PluginEnvironment:
    """Puts fixture distributions on sys.path and blocks every other plugin."""

    def __init__(self, monkeypatch):
        self.monkeypatch = monkeypatch
        self.installed = sorted(
            {ep.name for ep in importlib.metadata.entry_points(group="alignkit")}
        )
        self.block()

    def install(self, *folders):
        for folder in folders:
            self.monkeypatch.syspath_prepend(str(FIXTURES / folder))

    def block(self, *names):
        self.monkeypatch.setenv("ALIGNKIT_BLOCK_PLUGINS", ",".join([*self.installed, *names]))


@pytest.fixture
def plugins(monkeypatch):
    """A fresh registry over the fixture plugins only; fake modules are forgotten after."""
    for variable in ("ALIGNKIT_STRICT_PLUGINS", "ALIGNKIT_DISABLE_PLUGIN_AUTOLOAD"):
        monkeypatch.delenv(variable, raising=False)
    reset_registry()
    yield PluginEnvironment(monkeypatch)
    reset_registry()
    for module in [name for name in sys.modules if name.startswith("fake_alignkit_")]:
        del sys.modules[module]


def plugin_warnings(record):
    return [str(w.message) for w in record if issubclass(w.category, PluginWarning)]


def test_good_plugin_is_found_with_its_distribution(plugins):
    plugins.install("good")
    with warnings.catch_warnings():
        warnings.simplefilter("error", PluginWarning)
        names = alignkit.list_aligners()
    assert names == sorted([*BUILTINS, "fake_failing", "fake_good"])
    spec = get_registry().get("fake_good")
    assert (spec.distribution, spec.version) == ("alignkit-fake-good", "1.0")
    assert spec.estimator is sys.modules["fake_alignkit_good"].FakeGoodAligner
    assert alignkit.list_aligners(tags="fake") == ["fake_failing", "fake_good"]
    assert get_registry().failures == []
    aligner = alignkit.get_aligner("fake_good", n_timepoints=5)
    assert aligner.fit([np.arange(3.0)]).transform([np.arange(9.0)]).shape == (1, 5, 1)


def test_builtins_are_loaded_before_plugins(plugins):
    plugins.install("good")
    get_registry()
    # The good plugin's hook saw the built-ins through its staging registry.
    (staging,) = sys.modules["fake_alignkit_good"].HOOK_CALLS
    assert set(BUILTINS) <= set(staging.names())


def test_plugin_that_fails_to_import_is_skipped_and_named(plugins):
    plugins.install("broken", "good")
    with pytest.warns(PluginWarning) as record:
        names = alignkit.list_aligners()
    (message,) = plugin_warnings(record)
    assert "'fakebroken'" in message
    assert "alignkit-fake-broken 0.3" in message
    assert "alignkit_fake_missing_dependency" in message
    assert "fake_good" in names  # the other plugin still loads
    (failure,) = get_registry().failures
    assert failure.name == "fakebroken"
    assert (failure.distribution, failure.version) == ("alignkit-fake-broken", "0.3")
    assert failure.error.startswith("ModuleNotFoundError")
    with pytest.raises(UnknownAlignerError, match="failed to load: 'fakebroken'"):
        alignkit.get_aligner("fakebroken")


def test_plugin_whose_hook_raises_halfway_registers_nothing(plugins):
    plugins.install("halfway", "good")
    with pytest.warns(PluginWarning, match="fake_alignkit_halfway broke after its first add"):
        names = alignkit.list_aligners()
    assert "fake_halfway_first" not in names
    assert "fake_good" in names
    (failure,) = get_registry().failures
    assert failure.name == "fakehalfway"
    assert failure.error.startswith("RuntimeError")


def test_duplicate_of_a_builtin_is_skipped_naming_both_distributions(plugins):
    plugins.install("duplicate")
    with pytest.warns(PluginWarning) as record:
        registry = get_registry()
    (message,) = plugin_warnings(record)
    assert "DuplicateAlignerError" in message
    assert "alignkit 0.1.0" in message.replace(alignkit.__version__, "0.1.0")
    assert "alignkit-fake-dup 1.2" in message
    assert registry.get("dtw").distribution == "alignkit"
    assert "fake_dup_own" not in registry  # added before the duplicate, then rolled back


def test_duplicate_between_plugins_keeps_the_first_and_names_both(plugins):
    plugins.install("clash")
    with pytest.warns(PluginWarning) as record:
        registry = get_registry()
    (message,) = plugin_warnings(record)
    assert "alignkit-fake-clash-a 1.0" in message
    assert "alignkit-fake-clash-b 1.0" in message
    # Entry points load in name order: fakeclasha before fakeclashb, whatever sys.path says.
    assert registry.get("fake_clash").distribution == "alignkit-fake-clash-a"
    assert [failure.name for failure in registry.failures] == ["fakeclashb"]


def test_hooks_that_do_not_match_the_hookspec_are_skipped(plugins):
    plugins.install("badhooks", "good")
    with pytest.warns(PluginWarning) as record:
        names = alignkit.list_aligners()
    messages = plugin_warnings(record)
    assert len(messages) == 2
    assert any("'fakemisspelt'" in m and "alignkit_register_aligner" in m for m in messages)
    assert any("'fakebadargs'" in m and "aligner_registry" in m for m in messages)
    assert all("alignkit-fake-badhooks 0.1" in m for m in messages)
    assert not {"fake_misspelt", "fake_badargs"} & set(names)
    assert "fake_good" in names


def test_strict_mode_from_environment_raises_chained_error(plugins, monkeypatch):
    plugins.install("broken", "good")
    monkeypatch.setenv("ALIGNKIT_STRICT_PLUGINS", "1")
    with pytest.raises(PluginLoadError, match="'fakebroken'.*alignkit-fake-broken") as info:
        alignkit.list_aligners()
    assert isinstance(info.value.__cause__, ModuleNotFoundError)
    # A failed strict build is not kept: without strict mode the next call loads the rest.
    monkeypatch.delenv("ALIGNKIT_STRICT_PLUGINS")
    with pytest.warns(PluginWarning):
        assert "fake_good" in alignkit.list_aligners()


def test_strict_mode_from_config(plugins):
    plugins.install("halfway")
    with alignkit.config_context(strict_plugins=True):
        with pytest.raises(PluginLoadError, match="fakehalfway") as info:
            get_registry()
    assert isinstance(info.value.__cause__, RuntimeError)


@pytest.mark.parametrize("switch", ["environment", "config"])
def test_autoload_disabled_loads_only_builtins(plugins, monkeypatch, switch):
    plugins.install("good", "broken")
    if switch == "environment":
        monkeypatch.setenv("ALIGNKIT_DISABLE_PLUGIN_AUTOLOAD", "1")
        context = alignkit.config_context()
    else:
        context = alignkit.config_context(plugin_autoload=False)
    with context, warnings.catch_warnings():
        warnings.simplefilter("error", PluginWarning)
        assert alignkit.list_aligners() == BUILTINS
    assert not [name for name in sys.modules if name.startswith("fake_alignkit_")]


def test_blocked_plugins_are_never_imported(plugins):
    plugins.install("good", "broken", "halfway")
    plugins.block(" fakebroken", "fakehalfway ")
    with warnings.catch_warnings():
        warnings.simplefilter("error", PluginWarning)
        names = alignkit.list_aligners()
    assert "fake_good" in names
    assert "fake_alignkit_broken" not in sys.modules
    assert "fake_alignkit_halfway" not in sys.modules
    assert get_registry().failures == []


def test_errors_at_call_time_are_not_swallowed(plugins):
    plugins.install("good")
    aligner = alignkit.get_aligner("fake_failing")
    with pytest.raises(RuntimeError, match="fails on purpose"):
        aligner.fit([np.arange(4.0)])


def test_plugin_hook_runs_once_across_threads(plugins):
    plugins.install("good")
    barrier = threading.Barrier(6)
    results = []

    def worker():
        barrier.wait()
        results.append(alignkit.get_aligner("fake_good"))

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 6
    assert len(sys.modules["fake_alignkit_good"].HOOK_CALLS) == 1


_IMPORT_PROBE = """
import json, sys
import alignkit
alignkit.DTWAligner, alignkit.AlignerSpec, alignkit.hookimpl, alignkit.get_config()

def loaded():
    return sorted(name for name in sys.modules
                  if name.startswith(("fake_alignkit_", "alignkit_shapedtw"))
                  or name == "alignkit.core.plugins")

before = loaded()
alignkit.list_aligners()
print(json.dumps({"before": before, "after": loaded()}))
"""


def test_import_alignkit_loads_no_plugin():
    env = dict(os.environ, PYTHONPATH=str(FIXTURES / "good"))
    for variable in ("ALIGNKIT_BLOCK_PLUGINS", "ALIGNKIT_DISABLE_PLUGIN_AUTOLOAD"):
        env.pop(variable, None)
    result = subprocess.run(
        [sys.executable, "-c", _IMPORT_PROBE],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    modules = json.loads(result.stdout.strip().splitlines()[-1])
    assert modules["before"] == []
    # Control: the same process does load the plugin once the registry is needed.
    assert {"fake_alignkit_good", "alignkit.core.plugins"} <= set(modules["after"])


def test_every_hook_is_prefixed_and_documented_with_its_exact_arguments():
    from numpydoc.docscrape import FunctionDoc

    manager = pluggy.PluginManager("alignkit")
    manager.add_hookspecs(hookspecs)
    callers = {name: caller for name, caller in vars(manager.hook).items() if caller.spec}
    declared = [
        name
        for name, value in vars(hookspecs).items()
        if callable(value) and getattr(value, "__module__", None) == hookspecs.__name__
    ]
    assert sorted(callers) == sorted(declared)  # declarations only: every function is a hook
    assert "alignkit_register_aligners" in callers
    for name, caller in callers.items():
        assert name.startswith("alignkit_")
        doc = FunctionDoc(caller.spec.function)
        assert doc["Summary"] and doc["Examples"], name
        documented = [parameter.name for parameter in doc["Parameters"]]
        assert documented == list(caller.spec.argnames), name


# --- isolation: SystemExit, KeyboardInterrupt, odd names (hardening issue, item 12) ------


def _fake_distribution(root, distribution, entry_point, module, source):
    """A one-module distribution in ``root`` with one ``alignkit`` entry point."""
    info = root / f"{distribution.replace('-', '_')}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {distribution}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[alignkit]\n{entry_point} = {module}\n")
    (root / f"{module}.py").write_text(source)
    return root


_EXIT_ON_IMPORT = "import sys\nsys.exit(3)\n"
_EXIT_IN_HOOK = """
import sys
import alignkit


@alignkit.hookimpl
def alignkit_register_aligners(registry):
    sys.exit("the hook calls sys.exit")
"""
_INTERRUPT_IN_HOOK = """
import alignkit


@alignkit.hookimpl
def alignkit_register_aligners(registry):
    raise KeyboardInterrupt
"""

_EXIT_PROBE = """
import json, warnings
import alignkit
from alignkit.core.registry import get_registry

with warnings.catch_warnings(record=True) as record:
    warnings.simplefilter("always")
    names = alignkit.list_aligners()
failures = [[f.name, f.error] for f in get_registry().failures]
print(json.dumps({"names": names, "failures": failures,
                  "warnings": [str(w.message) for w in record]}))
"""


def test_plugin_calling_sys_exit_does_not_end_the_process(tmp_path):
    # In a subprocess: were SystemExit not isolated, it would end the test run.
    _fake_distribution(
        tmp_path, "alignkit-fake-exit", "fakeexit", "fake_alignkit_exit", _EXIT_ON_IMPORT
    )
    _fake_distribution(
        tmp_path, "alignkit-fake-exithook", "fakeexithook", "fake_alignkit_exithook", _EXIT_IN_HOOK
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), str(FIXTURES / "good")]))
    env.pop("ALIGNKIT_STRICT_PLUGINS", None)
    env.pop("ALIGNKIT_DISABLE_PLUGIN_AUTOLOAD", None)
    installed = {ep.name for ep in importlib.metadata.entry_points(group="alignkit")}
    env["ALIGNKIT_BLOCK_PLUGINS"] = ",".join(sorted(installed))
    result = subprocess.run(
        [sys.executable, "-c", _EXIT_PROBE], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert "fake_good" in report["names"]
    assert report["failures"] == [
        ["fakeexit", "SystemExit: 3"],
        ["fakeexithook", "SystemExit: the hook calls sys.exit"],
    ]
    assert any("'fakeexit'" in m and "was skipped: SystemExit: 3" in m for m in report["warnings"])


def test_strict_mode_reports_sys_exit_without_saying_skipped(plugins, tmp_path, monkeypatch):
    _fake_distribution(
        tmp_path, "alignkit-fake-exithook", "fakeexithook", "fake_alignkit_exithook", _EXIT_IN_HOOK
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with alignkit.config_context(strict_plugins=True):
        with pytest.raises(PluginLoadError) as info:
            get_registry()
    message = str(info.value)
    assert "'fakeexithook'" in message and "alignkit-fake-exithook 1.0" in message
    assert "failed to load: SystemExit: the hook calls sys.exit" in message
    assert "skipped" not in message and "Strict plugin loading is on" in message
    assert isinstance(info.value.__cause__, SystemExit)


def test_keyboard_interrupt_in_a_plugin_is_never_caught(plugins, tmp_path, monkeypatch):
    _fake_distribution(
        tmp_path,
        "alignkit-fake-interrupt",
        "fakeinterrupt",
        "fake_alignkit_interrupt",
        _INTERRUPT_IN_HOOK,
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(KeyboardInterrupt):
        alignkit.list_aligners()
    # Nothing half-built is kept: once the plugin is blocked, the registry builds.
    plugins.block("fakeinterrupt")
    assert alignkit.list_aligners() == BUILTINS


def test_an_entry_point_name_with_a_comma_can_be_blocked(plugins, tmp_path, monkeypatch):
    _fake_distribution(
        tmp_path, "alignkit-fake-comma", "fake,comma", "fake_alignkit_comma", _EXIT_IN_HOOK
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.warns(PluginWarning) as record:
        alignkit.list_aligners()
    (message,) = plugin_warnings(record)
    assert "'fake,comma'" in message and "ALIGNKIT_BLOCK_PLUGINS=fake\\,comma" in message
    reset_registry()
    del sys.modules["fake_alignkit_comma"]
    plugins.block("fake\\,comma")
    with warnings.catch_warnings():
        warnings.simplefilter("error", PluginWarning)
        assert alignkit.list_aligners() == BUILTINS
    assert "fake_alignkit_comma" not in sys.modules


# --- built-ins are named by module and fill the registry they are given -----------------


def test_builtins_are_named_by_module_and_register_through_the_hook(plugins, monkeypatch):
    from alignkit.core import plugins as loader
    from alignkit.core.registry import Registry

    assert loader.BUILTIN_PLUGINS == ("alignkit.estimators._builtin",)
    plugins.install("good")
    # A second built-in module, named by string like the first, registers as alignkit's.
    monkeypatch.setattr(loader, "BUILTIN_PLUGINS", (*loader.BUILTIN_PLUGINS, "fake_alignkit_good"))
    with alignkit.config_context(plugin_autoload=False):
        given = Registry()
        registry = loader.build_registry(given)
    assert registry is given
    assert registry.names() == sorted([*BUILTINS, "fake_failing", "fake_good"])
    assert registry.get("fake_good").distribution == "alignkit"
    assert registry.get("dtw").version == alignkit.__version__


def test_a_plugin_cannot_register_a_non_spec(plugins):
    from alignkit.core.plugins import _StagingRegistry
    from alignkit.core.registry import Registry

    staging = _StagingRegistry(Registry(), "alignkit-fake", "1.0")
    with pytest.raises(TypeError, match="Registry.add takes an AlignerSpec, got dict"):
        staging.add({"name": "nope"})
