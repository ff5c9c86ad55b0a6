"""The method compared with several independently written references, in the real sandbox."""

from __future__ import annotations

from pathlib import Path

from smolab.reproduce.agree import agreement
from smolab.sandbox import Limits
from smolab.skills import SkillLibrary

SWISH = """import torch
from torch import nn


class Activation(nn.Module):
    def __init__(self, beta: float = 1.0):
        super().__init__()
        self.beta = beta

    def forward(self, x):
        return x * torch.sigmoid(self.beta * x)
"""
RIGHT = "import torch\n\n\ndef reference(x):\n    return x * torch.sigmoid(x)\n"
WRONG = "import torch\n\n\ndef reference(x):\n    return torch.relu(x)\n"
CRASHES = "def reference(x):\n    return x.undefined_method()\n"


def test_the_method_is_compared_with_each_reference_in_one_sandboxed_run(tmp_path: Path):
    skill = SkillLibrary().blueprints()["activation"]
    fidelity = skill.fidelity()
    assert fidelity is not None
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_fidelity.py").write_text(fidelity[1].read_text())
    (tmp_path / "method.py").write_text(SWISH)
    (tmp_path / "config.yaml").write_text("method:\n  beta: 1.0\n")
    files = ["method.py", "config.yaml", "tests/test_fidelity.py"]
    limits = Limits(timeout=300, cpu_seconds=300, session_cpu_seconds=None, network=False)
    found = agreement(
        tmp_path, files, "tests/test_fidelity.py", [WRONG, RIGHT, CRASHES, "not python ("], limits
    )
    assert found == [False, True, False, False]
    assert agreement(tmp_path, files, "tests/test_fidelity.py", [], limits) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.yaml", "method.py", "tests"]  # untouched
