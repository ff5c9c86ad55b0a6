"""The skill library and the blueprints: valid Agent Skills; each skeleton runs with a correct
method module and its contract tests fail with a stand-in one."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import skills_ref
import yaml

from smolab.skills import BUILTIN, SkillError, SkillLibrary

from .conftest import run_cli

SWISH = """import torch
from torch import nn


class Activation(nn.Module):
    def __init__(self, beta: float = 1.0):
        super().__init__()
        self.beta = nn.Parameter(torch.tensor(beta))

    def forward(self, x):
        return x * torch.sigmoid(self.beta * x)
"""
GROUP_NORM = """import torch
from torch import nn


class Norm(nn.Module):
    def __init__(self, num_channels: int, num_groups: int = 32, eps: float = 1e-5):
        super().__init__()
        self.groups, self.eps = num_groups, eps
        self.weight = nn.Parameter(torch.ones(1, num_channels, 1, 1))
        self.bias = nn.Parameter(torch.zeros(1, num_channels, 1, 1))

    def forward(self, x):
        n, c, h, w = x.shape
        g = x.view(n, self.groups, -1)
        g = (g - g.mean(-1, keepdim=True)) / torch.sqrt(g.var(-1, unbiased=False, keepdim=True) + self.eps)
        return g.view(n, c, h, w) * self.weight + self.bias
"""
GATED_BLOCK = """import torch
from torch import nn


class Block(nn.Module):
    def __init__(self, dim: int, hidden: int = 128):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.up, self.down, self.gate = nn.Linear(dim, hidden), nn.Linear(hidden, dim), nn.Linear(dim, dim)

    def forward(self, x):
        channels_first = x.dim() == 4
        h = x.movedim(1, -1) if channels_first else x
        h = self.norm(h)
        out = self.down(torch.relu(self.up(h))) * torch.sigmoid(self.gate(h))
        return x + (out.movedim(-1, 1) if channels_first else out)
"""
STAND_IN = """from torch import nn


class Activation(nn.Module):
    def forward(self, x):
        return x


class Norm(nn.Module):
    def __init__(self, num_channels, **kwargs):
        super().__init__()

    def forward(self, x):
        return x


class Block(nn.Module):
    def __init__(self, dim, **kwargs):
        super().__init__()

    def forward(self, x):
        return x
"""
CASES = {
    ("activation", None): SWISH,
    ("normalization", None): GROUP_NORM,
    ("layer", "vector"): GATED_BLOCK,
    ("layer", "image"): GATED_BLOCK,
    ("layer", "sequence"): GATED_BLOCK,
}


def materialize(lib: SkillLibrary, kind: str, root: Path, method: str, data_input: str | None) -> Path:
    for rel, src in lib.tree(lib.blueprints()[kind]).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, root / rel)
    (root / "method.py").write_text(method)
    if data_input:
        config = yaml.safe_load((root / "config.yaml").read_text())
        config["data"]["input"] = data_input
        (root / "config.yaml").write_text(yaml.safe_dump(config))
    return root


def pytest_in(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_builtin_skills_are_valid_agent_skills():
    lib = SkillLibrary()
    assert len(lib) >= 4
    for skill in lib:
        assert skills_ref.validate(skill.path) == [], skill.name
        assert skill.path.parent == BUILTIN and skill.builtin
    kinds = lib.blueprints()
    assert {"activation", "normalization", "layer"} <= set(kinds)
    for kind, skill in kinds.items():
        files = lib.tree(skill)
        expected = {"main.py", "common.py", "experiment.py", "config.yaml", "tests/test_contract.py"}
        assert expected <= set(files)
        # The skeleton never holds the method: the model writes it, or the contract fails.
        assert "method.py" not in files, kind
        assert "method.py" in skill.body and skill.metadata["extends"] == "blueprint-common"


@pytest.mark.parametrize(("kind", "data_input"), sorted(CASES, key=str))
def test_blueprint_runs_with_the_method_and_its_contract_rejects_a_stand_in(tmp_path, kind, data_input):
    lib = SkillLibrary()
    good = materialize(lib, kind, tmp_path / "good", CASES[(kind, data_input)], data_input)
    run = pytest_in(good)  # the contract tests and main.py --smoke (tests/test_smoke.py)
    assert run.returncode == 0, run.stdout[-3000:]

    stand_in = materialize(lib, kind, tmp_path / "stand-in", STAND_IN, data_input)
    run = pytest_in(stand_in)
    assert run.returncode != 0 and "test_contract.py" in run.stdout

    (stand_in / "method.py").unlink()  # no method module at all
    run = pytest_in(stand_in)
    assert run.returncode != 0 and "No module named 'method'" in run.stdout


def write_skill(folder: Path, name: str, description: str = "Test skill.", extra: str = "") -> Path:
    folder.mkdir(parents=True)
    (folder / "SKILL.md").write_text(f"---\nname: {name}\ndescription: {description}\n{extra}---\n\nDo it.\n")
    return folder


def test_user_skills_join_and_replace_builtin_ones(tmp_path):
    write_skill(tmp_path / "mine" / "lab-notes", "lab-notes", "How our lab names runs.")
    meta = "metadata:\n  role: blueprint\n  kind: activation\n  version: '2'\n  extends: blueprint-common\n"
    own = write_skill(tmp_path / "mine" / "blueprint-activation", "blueprint-activation", "Ours.", meta)
    (own / "assets").mkdir()
    (own / "assets" / "experiment.py").write_text("# ours\n")
    lib = SkillLibrary([tmp_path / "mine"])
    assert lib.get("lab-notes").role == "instructions" and not lib.get("lab-notes").builtin
    bp = lib.blueprints()["activation"]
    assert bp.version == "2" and bp.description == "Ours."
    files = lib.tree(bp)
    assert files["experiment.py"] == own / "assets" / "experiment.py"  # its own file wins
    assert files["main.py"].is_relative_to(BUILTIN)  # the rest from what it extends


def test_invalid_skills_are_refused_in_one_line(tmp_path):
    bad = write_skill(tmp_path / "Bad_Name", "Bad_Name")
    with pytest.raises(SkillError, match="not a valid skill"):
        SkillLibrary([bad])
    with pytest.raises(SkillError, match="no skill named"):
        SkillLibrary().get("nope")
    r = run_cli("skills", "validate", str(bad))
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "Bad_Name" in r.stderr
    r = run_cli("skills", "list", "--skills", str(tmp_path / "missing"))
    assert r.returncode == 2 and "does not exist" in r.stderr


def test_cli_lists_and_shows_skills(tmp_path):
    write_skill(tmp_path / "lab-notes", "lab-notes", "How our lab names runs.")
    r = run_cli("skills", "list", "--json", "--skills", str(tmp_path / "lab-notes"))
    rows = {row["name"]: row for row in json.loads(r.stdout)}
    assert r.returncode == 0 and rows["blueprint-layer"]["kind"] == "layer"
    assert rows["lab-notes"]["builtin"] is False and rows["lab-notes"]["path"].endswith("lab-notes")
    assert all(set(row) >= {"name", "description", "version", "path"} for row in rows.values())
    r = run_cli("skills", "show", "blueprint-normalization", env={"COLUMNS": "200"})
    assert r.returncode == 0 and "class Norm(nn.Module)" in r.stdout
    assert "main.py  (from blueprint-common)" in r.stdout and "tests/test_contract.py" in r.stdout
    assert run_cli("skills", "validate", str(BUILTIN / "blueprint-layer")).returncode == 0
