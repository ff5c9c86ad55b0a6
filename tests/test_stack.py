"""The ML stack is read from the installed metadata, told to the model, and pinned in
generated requirements."""

from __future__ import annotations

import importlib.metadata as md
import subprocess
import sys

from smolab.reproduce.code import requirements
from smolab.reproduce.generate import rules
from smolab.stack import distribution, extra_distributions, ml_stack


def test_the_stack_is_smolabs_ml_extra_as_import_names():
    assert {"torch", "numpy", "scipy", "pandas", "scikit-learn", "matplotlib", "tqdm", "einops"} <= set(
        extra_distributions()
    )
    stack = ml_stack()
    expected = {"torch", "numpy", "scipy", "pandas", "sklearn", "matplotlib", "tqdm", "einops", "yaml"}
    assert expected <= set(stack)
    assert "functorch" not in stack and "torchgen" not in stack  # torch's helpers are not offered
    assert distribution("sklearn") == "scikit-learn"


def test_every_package_offered_imports_in_a_fresh_interpreter():
    code = "import " + ", ".join(ml_stack())
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-500:]


def test_the_model_is_told_the_stack_and_requirements_pin_it():
    assert "sklearn" in rules() and "einops" in rules()
    code = "import sklearn.linear_model\nimport einops\nimport yaml\nimport model\n"
    reqs = requirements({"train.py": code, "model.py": ""})
    assert f"scikit-learn=={md.version('scikit-learn')}" in reqs
    assert f"einops=={md.version('einops')}" in reqs
    assert any(r.lower().startswith("pyyaml==") for r in reqs)
    assert not any(r.startswith("model") for r in reqs)
