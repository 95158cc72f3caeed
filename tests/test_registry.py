"""The one registry: names, module:Class paths, and a third-party package's entry points.

The plugin test builds a real package (pyproject with a ``nasforge.plugins`` entry point), installs
it with pip into a folder, and runs the CLI in a subprocess with that folder on the path, so
``importlib.metadata`` discovers the entry point exactly as for a user's installed package.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from nasforge import registry
from nasforge.errors import ConfigError
from nasforge.store import SQLiteStore

ROOT = Path(__file__).resolve().parents[1]

STRATEGY_MODULE = '''
"""A hill climber on the best architecture so far: a third party's strategy."""
from nasforge.objectives import Objective
from nasforge.options import Int, validated
from nasforge.strategies.base import Strategy


class BestMutation(Strategy):
    name = "best_mutation"
    options = {"warmup": Int(low=1)}

    @validated
    def __init__(self, space, seed=0, objectives=(Objective("valid_accuracy", "max"),), warmup=4):
        super().__init__(space, seed, objectives)
        self.warmup = warmup
        self.best = None  # (score, arch string)
        self.told = 0

    def _ask_one(self):
        if self.best is None or self.told < self.warmup:
            return self.space.sample(self.rng)
        return self.space.mutate(self.space.from_string(self.best[1]), self.rng)

    def _tell(self, arch, values):
        self.told += 1
        score = self.score(values)
        if self.best is None or score > self.best[0]:
            self.best = (score, arch.string)

    def state_dict(self):
        return {**super().state_dict(), "best": self.best, "told": self.told}

    def load_state_dict(self, state):
        super().load_state_dict(state)
        self.best = None if state["best"] is None else tuple(state["best"])
        self.told = state["told"]


class Unregistered(BestMutation):
    """Not in any entry point: usable only as 'nfplug.strategy:Unregistered'."""

    name = "unregistered"
'''

PLUGIN_HOOKS = '''
def setup(register):
    """A function entry point: registers a second name for the nb201 space."""
    register("space", "nfplug_nb201", "nasforge.spaces.nb201:NB201Space")
'''

PYPROJECT = '''
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[project]
name = "nfplug"
version = "0.0.1"

[project.entry-points."nasforge.plugins"]
best_mutation = "nfplug.strategy:BestMutation"
hooks = "nfplug.hooks:setup"

[tool.setuptools.packages.find]
where = ["src"]
'''


@pytest.fixture(scope="module")
def plugin_site(tmp_path_factory) -> Path:
    """pip-install the tiny plugin package into a folder (no index, no network: ~5 s)."""
    base = tmp_path_factory.mktemp("plugin")
    package = base / "src" / "nfplug"
    package.mkdir(parents=True)
    (base / "pyproject.toml").write_text(PYPROJECT)
    (package / "__init__.py").write_text("")
    (package / "strategy.py").write_text(STRATEGY_MODULE)
    (package / "hooks.py").write_text(PLUGIN_HOOKS)
    site = base / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-build-isolation", "--no-deps",
         "--no-index", "--target", str(site), str(base)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    assert (site / "nfplug-0.0.1.dist-info" / "entry_points.txt").is_file()
    return site


def _run(site: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(site)])}
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)  # fmt: skip


def test_an_installed_plugin_strategy_runs_from_yaml_and_resumes(plugin_site, tmp_path, data_dir):
    config = tmp_path / "plugin.yaml"
    config.write_text(textwrap.dedent(f"""
        name: plug
        space: nfplug_nb201
        strategy: best_mutation
        strategy_options: {{warmup: 3}}
        evaluator: nb201
        dataset: cifar10
        data: {data_dir}
        trials: 12
        seed: 2
    """))
    db = tmp_path / "plug.db"
    run = _run(plugin_site, "-m", "nasforge", "search", "-c", str(config), "--storage", str(db),
               cwd=tmp_path)  # fmt: skip
    assert run.returncode == 0, run.stderr
    store = SQLiteStore(db)
    record = store.get_study("plug")
    assert record.config["strategy"] == "best_mutation" and record.config["space"] == "nfplug_nb201"
    assert store.counts(record.study_id)["COMPLETE"] == 12
    store.close()
    run = _run(plugin_site, "-m", "nasforge", "resume", "plug", "--storage", str(db), "--trials",
               "16", cwd=tmp_path)  # fmt: skip
    assert run.returncode == 0, run.stderr
    store = SQLiteStore(db)
    assert store.counts(store.get_study("plug").study_id)["COMPLETE"] == 16
    # --help lists the plugin's strategy (from the registry) with its option and default
    run = _run(plugin_site, "-m", "nasforge", "search", "--help", cwd=tmp_path)
    assert "best_mutation" in run.stdout and "warmup=4" in run.stdout


def test_a_python_study_with_an_unregistered_class_resumes_from_the_cli(plugin_site, tmp_path, data_dir):
    script = textwrap.dedent(f"""
        from nasforge.evaluators.tabular import NB201Tabular
        from nasforge.objectives import Objective
        from nasforge.spaces.nb201 import NB201Space
        from nasforge.study import create_study
        from nfplug.strategy import Unregistered

        space = NB201Space()
        objectives = [Objective("valid_accuracy", "max")]
        study = create_study(
            name="py", space=space, objectives=objectives, storage="py.db", seed=1,
            strategy=Unregistered(space, seed=1, objectives=objectives, warmup=2),
            evaluator=NB201Tabular(space, dataset="cifar10", data_dir={str(data_dir)!r}),
        )
        study.optimize(n_trials=5)
    """)
    run = _run(plugin_site, "-c", script, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    store = SQLiteStore(tmp_path / "py.db")
    config = store.get_study("py").config
    assert config["strategy"] == "nfplug.strategy:Unregistered"
    assert config["strategy_options"] == {"warmup": 2}
    assert config["evaluator"] == "nb201" and config["evaluator_options"]["dataset"] == "cifar10"
    store.close()
    run = _run(plugin_site, "-m", "nasforge", "resume", "py", "--storage", "py.db", "--trials", "9",
               cwd=tmp_path)  # fmt: skip
    assert run.returncode == 0, run.stderr
    run = _run(plugin_site, "-m", "nasforge", "report", "py", "--storage", "py.db", "--json",
               cwd=tmp_path)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["counts"]["COMPLETE"] == 9


def test_names_paths_and_one_line_errors():
    assert "evolution" in registry.names("strategy") and "asha" in registry.names("scheduler")
    assert {"digits", "mnist1d"} <= set(registry.names("dataset")) and "chain" in registry.names("model")
    random_search = registry.resolve("strategy", "nasforge.strategies.random:RandomSearch")
    assert random_search is registry.resolve("strategy", "random")
    assert registry.spelling("strategy", random_search) == "random"
    with pytest.raises(ConfigError, match="unknown strategy 'evolutoin'; choose one of: .*did you mean 'evolution'"):
        registry.resolve("strategy", "evolutoin")
    with pytest.raises(ConfigError, match="cannot import module 'no_such_pkg.mod' for 'no_such_pkg.mod:Thing'"):
        registry.resolve("strategy", "no_such_pkg.mod:Thing")
    with pytest.raises(ConfigError, match="already registered as nasforge.strategies.random:RandomSearch"):
        registry.register("strategy", "random", "my.module:Other")
    with pytest.raises(ConfigError, match="unknown component kind 'optimizer'"):
        registry.names("optimizer")


def test_register_class_uses_kind_and_name():
    from nasforge.strategies.random import RandomSearch

    class Named(RandomSearch):
        name = "named_random_for_test"

    try:
        registry.register_class(Named)
        assert registry.resolve("strategy", "named_random_for_test") is Named
        # a class defined in a function is not importable: stored by its registered name
        assert registry.spelling("strategy", Named) == "named_random_for_test"
    finally:
        registry.STRATEGIES.pop("named_random_for_test", None)
    with pytest.raises(ConfigError, match="needs class attributes kind"):
        registry.register_class(int)


def test_import_nasforge_and_its_registry_stays_torch_free():
    code = ("import sys, nasforge, nasforge.registry, nasforge.config; "
            "nasforge.registry.names('strategy'); print('torch' in sys.modules)")  # fmt: skip
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(ROOT)}, check=True)  # fmt: skip
    assert out.stdout.strip() == "False"
