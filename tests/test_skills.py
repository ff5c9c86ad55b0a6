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

METHODS = Path(__file__).parent / "methods"
"""A faithful method module for each blueprint kind, written by hand from its paper."""
REFERENCES = Path(__file__).parent / "references"
"""For the kinds with a fidelity test: a reference written from the same paper's equation."""

STAND_IN = """import torch
from torch import nn


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


class Optimizer(torch.optim.Optimizer):
    def __init__(self, params, lr=0.01):
        super().__init__(params, {"lr": lr})

    def step(self, closure=None):
        return None


class Loss(nn.Module):
    def __init__(self, num_classes, feat_dim):
        super().__init__()

    def forward(self, features, logits, labels):
        return torch.zeros(())


class Schedule:
    def __init__(self, base_lr, total_steps):
        self.base_lr = base_lr

    def __call__(self, step):
        return self.base_lr


class Regularizer(nn.Module):
    def forward(self, x):
        return x


class Augment(nn.Module):
    def forward(self, x, y):
        return x, y


class Objective(nn.Module):
    def critic_loss(self, critic, real, fake):
        return torch.zeros(())

    def generator_loss(self, critic, fake):
        return torch.zeros(())


class Adapter(nn.Module):
    def __init__(self, dim):
        super().__init__()

    def forward(self, h):
        return h


class DistillationLoss(nn.Module):
    def forward(self, student_logits, teacher_logits, labels):
        return nn.functional.cross_entropy(student_logits, labels)


class ContrastiveLoss(nn.Module):
    def forward(self, z1, z2):
        return torch.zeros(())


class Model(nn.Module):
    def __init__(self, in_channels, num_classes):
        super().__init__()
        self.bias = nn.Parameter(torch.zeros(num_classes))

    def forward(self, x):
        return self.bias.expand(len(x), -1)
"""
KINDS = sorted(p.stem for p in METHODS.glob("*.py"))
CASES = [(kind, None) for kind in KINDS if kind != "layer"]
CASES += [("layer", data) for data in ("vector", "image", "sequence")]


def materialize(
    lib: SkillLibrary,
    kind: str,
    root: Path,
    method: str,
    data_input: str | None,
    reference: str | None = None,
) -> Path:
    skill = lib.blueprints()[kind]
    for rel, src in lib.tree(skill).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, root / rel)
    (root / "method.py").write_text(method)
    fidelity = skill.fidelity()
    if reference is not None and fidelity:
        (root / "reference.py").write_text(reference)
        shutil.copy(fidelity[1], root / "tests" / "test_fidelity.py")
    if data_input:
        config = yaml.safe_load((root / "config.yaml").read_text())
        config["data"]["input"] = data_input
        (root / "config.yaml").write_text(yaml.safe_dump(config))
    return root


def pytest_in(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """pytest in ``root`` (stopping at the first failure), or on ``args`` (paths, options) there."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *(args or ["-x"])],
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
    assert set(KINDS) <= set(kinds)
    for kind, skill in kinds.items():
        files = lib.tree(skill)
        expected = {"main.py", "common.py", "experiment.py", "config.yaml", "tests/test_contract.py"}
        assert expected <= set(files)
        # The skeleton never holds the method: the model writes it, or the contract fails.
        assert "method.py" not in files, kind
        assert "method.py" in skill.body and skill.metadata["extends"] == "blueprint-common"


@pytest.mark.parametrize(("kind", "data_input"), CASES)
def test_blueprint_runs_with_the_method_and_its_contract_rejects_a_stand_in(tmp_path, kind, data_input):
    lib = SkillLibrary()
    reference = REFERENCES / f"{kind}.py"
    assert reference.is_file() == (lib.blueprints()[kind].fidelity() is not None)
    good = materialize(
        lib,
        kind,
        tmp_path / "good",
        (METHODS / f"{kind}.py").read_text(),
        data_input,
        reference.read_text() if reference.is_file() else None,
    )
    run = pytest_in(good)  # the contract tests, main.py --smoke (tests/test_smoke.py) and fidelity
    assert run.returncode == 0, run.stdout[-3000:]
    assert (good / "tests" / "test_fidelity.py").is_file() == reference.is_file()

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


LAYER_NORM_AS_NORM = """import torch
from torch import nn


class Norm(nn.Module):
    def __init__(self, num_channels: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(1, num_channels, 1, 1))
        self.bias = nn.Parameter(torch.zeros(1, num_channels, 1, 1))

    def forward(self, x):
        mean = x.mean(dim=(1, 2, 3), keepdim=True)
        var = x.var(dim=(1, 2, 3), unbiased=False, keepdim=True)
        return (x - mean) / torch.sqrt(var + self.eps) * self.weight + self.bias
"""


def test_a_generic_stand_in_passes_the_contract_but_not_the_fidelity_test(tmp_path):
    """Layer normalization written where the paper's is group normalization: every shape and
    statistics test passes; only the comparison with the equation's reference catches it."""
    lib = SkillLibrary()
    repo = materialize(lib, "normalization", tmp_path / "r", LAYER_NORM_AS_NORM, None)
    run = pytest_in(repo)
    assert run.returncode == 0, run.stdout[-2000:]
    materialize(
        lib, "normalization", repo, LAYER_NORM_AS_NORM, None, (REFERENCES / "normalization.py").read_text()
    )
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/test_fidelity.py"],
        cwd=repo,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode != 0 and "largest difference" in run.stdout


PAIR_MIXING = """import torch
from torch import nn


class Augment(nn.Module):
    \"\"\"An invented augmentation: each image blended with another of the batch, the targets alike.\"\"\"

    def __init__(self, strength: float = 0.4):
        super().__init__()
        self.strength = strength

    def forward(self, x, y):
        if not self.training:
            return x, y
        lam = torch.distributions.Beta(self.strength, self.strength).sample((len(x),))
        other = torch.randperm(len(x))
        mixed = lam.view(-1, 1, 1, 1) * x + (1 - lam.view(-1, 1, 1, 1)) * x[other]
        return mixed, lam.view(-1, 1) * y + (1 - lam.view(-1, 1)) * y[other]
"""


def test_an_augmentation_that_mixes_examples_and_their_labels_fits_the_interface(tmp_path):
    repo = materialize(SkillLibrary(), "augmentation", tmp_path / "mix", PAIR_MIXING, None)
    run = pytest_in(repo)
    assert run.returncode == 0, run.stdout[-3000:]
    # A method that returns targets that are not probabilities is refused, with the reason.
    broken = PAIR_MIXING.replace("(1 - lam.view(-1, 1)) * y[other]", "y[other]")
    repo = materialize(SkillLibrary(), "augmentation", tmp_path / "broken", broken, None)
    run = pytest_in(repo)
    assert run.returncode != 0 and "probabilities that sum to 1" in run.stdout
