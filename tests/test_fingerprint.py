"""The paper's statements about its method, read without a model, and the generated test that
holds a method to them: it accepts the paper's block and rejects the baselines the paper
improves on (a block without its gate, without its residual, with another activation), written
here by hand. The paper is an invented one: a gated residual block."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from smolab.reproduce.fingerprint import fingerprint
from smolab.skills import SkillLibrary

STEPS = ["t_1 = LayerNorm(x)", "t_2 = W_1 t_1 + b_1", "t_3 = GELU(t_2)", "h = W_2 t_3 + b_2", "y = x + α h"]
SAID = "applies dropout to h, and returns … where α is a learned scalar initialised to 0."

GATED = """import torch
from torch import nn


class Block(nn.Module):
    def __init__(self, dim, hidden=32, dropout=0.1):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.w1, self.w2 = nn.Linear(dim, hidden), nn.Linear(hidden, dim)
        self.drop = nn.Dropout(dropout)
        self.alpha = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        h = self.w2(torch.nn.functional.gelu(self.w1(self.norm(x))))
        return x + self.alpha * self.drop(h)
"""
PLAIN = """import torch
from torch import nn


class Block(nn.Module):
    def __init__(self, dim, hidden=32):
        super().__init__()
        self.net = nn.Sequential(nn.LayerNorm(dim), nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))

    def forward(self, x):
        return self.net(x)
"""
UNGATED = GATED.replace("return x + self.alpha * self.drop(h)", "return x + self.drop(h)").replace(
    "self.alpha = nn.Parameter(torch.zeros(1))", "self.alpha = 0.0"
)
RELU = GATED.replace("torch.nn.functional.gelu", "torch.relu")
GATE_UNUSED = GATED.replace("return x + self.alpha * self.drop(h)", "return x + self.drop(h)")
EXTRA_RELU = GATED.replace("self.w1(self.norm(x))", "self.w1(torch.relu(self.norm(x)))")
SHARED = GATED.replace(
    "self.w1, self.w2 = nn.Linear(dim, hidden), nn.Linear(hidden, dim)",
    "self.w1 = self.w2 = nn.Linear(dim, dim)",
)
EXTRA_LINEAR = GATED.replace(
    "self.w1(self.norm(x))", "self.w1(self.norm(x)) + self.w3(self.norm(x))"
).replace(
    "self.drop = nn.Dropout(dropout)",
    "self.drop = nn.Dropout(dropout)\n        self.w3 = nn.Linear(dim, hidden)",
)
DROPOUT_ALWAYS = GATED.replace(
    "return x + self.alpha * self.drop(h)",
    "return torch.nn.functional.dropout(x + self.alpha * h, p=0.1)",
)
SPLIT = GATED.replace(
    "self.w1, self.w2 = nn.Linear(dim, hidden), nn.Linear(hidden, dim)",
    "self.w1, self.w2 = nn.Linear(dim, dim), nn.Linear(dim, dim)",
).replace(
    "h = self.w2(torch.nn.functional.gelu(self.w1(self.norm(x))))",
    "n = self.norm(x)\n        h = torch.nn.functional.gelu(self.w1(n) + self.w2(n))",
)
NO_BIAS = GATED.replace(
    "nn.Linear(dim, hidden), nn.Linear(hidden, dim)",
    "nn.Linear(dim, hidden, bias=False), nn.Linear(hidden, dim, bias=False)",
)
OWN_BIAS = NO_BIAS.replace("self.w1(self.norm(x))", "(self.w1(self.norm(x)) + self.b1)").replace(
    "self.drop = nn.Dropout(dropout)",
    "self.drop = nn.Dropout(dropout)\n        self.b1 = nn.Parameter(torch.zeros(hidden))",
)
NORM_LAST = GATED.replace(
    "h = self.w2(torch.nn.functional.gelu(self.w1(self.norm(x))))",
    "h = self.norm(self.w2(torch.nn.functional.gelu(self.w1(x))))",
)


def test_the_fingerprint_of_a_gated_residual_block():
    fp = fingerprint(STEPS, SAID)
    assert [o.name for o in fp.operations] == ["LayerNorm", "GELU"]
    assert [(x.symbol, x.start, x.scalar) for x in fp.learned] == [("α", 0.0, True)]
    assert fp.input_symbol == "x" and fp.residual == "y = x + α h"
    assert fp.identity == "α starts at 0 in `y = x + α h`"
    assert "in the order LayerNorm → GELU" in fp.criteria()
    assert [(m.weight, m.bias) for m in fp.linear] == [("W_1", "b_1"), ("W_2", "b_2")]
    assert fp.chain == ["LayerNorm", "W_1", "GELU", "W_2"]


SIZED = SAID + " Let x ∈ ℝ^{d} with W_1 ∈ ℝ^{d_h × d} and W_2 ∈ ℝ^{d × d_h}."
WIDTHS = "We use d = 512 and a hidden width d_h = 32 (α = 0.5 in the ablation, lr = 3e-4)."


def test_the_sizes_the_paper_states_in_numbers_are_held_but_never_the_input_width():
    fp = fingerprint(STEPS, SIZED, WIDTHS)
    assert [(m.weight, m.rows, m.cols) for m in fp.linear] == [("W_1", 32, None), ("W_2", None, 32)]
    assert fp.linear[0].shape == "W_1 ∈ ℝ^{d_h × d}, d_h = 32"
    assert "W_2 has the size the paper states (W_2 ∈ ℝ^{d × d_h}, d_h = 32)" in fp.criteria()
    # A size given two values (one per experiment) holds nothing; so does one never given.
    two = fingerprint(STEPS, SIZED, WIDTHS + " For the large model d_h = 64.")
    assert all(m.rows is None and m.cols is None and not m.shape for m in two.linear)
    assert all(not m.shape for m in fingerprint(STEPS, SIZED).linear)
    # Without "x ∈ ℝ^d" the first map's input still names the input width: U's k is held, m not.
    other = fingerprint(["z = V_1 u + c"], "with V_1 ∈ ℝ^{k × m}", "k = 48 and m = 300")
    assert [(m.rows, m.cols) for m in other.linear] == [(48, None)]


def test_a_block_of_other_widths_than_the_paper_states_is_rejected(tmp_path: Path):
    said = f"{SIZED} {WIDTHS}"
    wide = GATED.replace("hidden=32", "hidden=64")
    results = {
        name: paper_tests(repository(tmp_path, "layer", code, STEPS, said, name))
        for name, code in (("gated", GATED), ("wide", wide))
    }
    test = "test_weight_matrices_have_the_sizes_the_paper_states"
    assert results["gated"][test] == "passed"
    assert set(results["gated"].values()) == {"passed"}, results["gated"]
    message = results["wide"][test]
    assert "W_1 has 32 output features (W_1 ∈ ℝ^{d_h × d}, d_h = 32), method.py's has 64" in message
    assert "W_2 has 32 input features" in message and "512" not in message


def test_nested_functions_are_in_evaluation_order_and_named_greek_letters_are_read():
    fp = fingerprint(["s = σ(W_2 δ(W_1 z))"], "where δ refers to the ReLU function and W_1 is a matrix.")
    assert [o.name for o in fp.operations] == ["δ", "σ"]
    assert fp.operations[0].ops[0] == ["relu"] and fp.operations[1].ops == [["sigmoid"]]
    assert fp.input_symbol == "z" and not fp.residual and not fp.learned
    # A symbol the paper does not name is no criterion; a learned value with no start is none.
    fp = fingerprint(["y = ψ(x) + x"], "where γ is a learned vector.")
    assert fp.operations == [] and fp.learned == [] and fp.residual == "y = ψ(x) + x" and not fp.identity


def repository(tmp_path: Path, kind: str, method: str, steps: list[str], said: str, name: str) -> Path:
    lib = SkillLibrary()
    skill = lib.blueprints()[kind]
    root = tmp_path / name
    for rel, src in lib.tree(skill).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(src, root / rel)
    (root / "method.py").write_text(method)
    common = lib.get("blueprint-common")
    assert common is not None
    shutil.copy(common.path / "scripts" / "test_paper.py", root / "tests" / "test_paper.py")
    paper = {**fingerprint(steps, said, said).to_dict(), "level": skill.metadata["probe"]}
    (root / "tests" / "paper.json").write_text(json.dumps(paper))
    config = yaml.safe_load((root / "config.yaml").read_text())
    config["data"]["input"] = "vector"
    config["method"] = {}
    (root / "config.yaml").write_text(yaml.safe_dump(config))
    return root


def paper_tests(root: Path) -> dict[str, str]:
    """test name -> "passed", "skipped" or its assertion's message."""
    import xml.etree.ElementTree as ET

    report = root / "report.xml"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/test_paper.py",
            f"--junitxml={report}",
        ],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    out: dict[str, str] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        bad = case.find("failure")
        if bad is None:
            bad = case.find("error")
        said = "skipped" if case.find("skipped") is not None else "passed"
        out[case.get("name", "")] = said if bad is None else bad.get("message", "failed")
    return out


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str]]:
    tmp = tmp_path_factory.mktemp("paper")
    methods = {
        "gated": GATED,
        "plain": PLAIN,
        "ungated": UNGATED,
        "relu": RELU,
        "gate-unused": GATE_UNUSED,
        "norm-last": NORM_LAST,
        "extra-relu": EXTRA_RELU,
        "shared": SHARED,
        "extra-linear": EXTRA_LINEAR,
        "no-bias": NO_BIAS,
        "own-bias": OWN_BIAS,
        "split": SPLIT,
        "dropout-always": DROPOUT_ALWAYS,
    }
    return {n: paper_tests(repository(tmp, "layer", m, STEPS, SAID, n)) for n, m in methods.items()}


def test_the_papers_block_passes_every_check(outcomes):
    said = dict(outcomes["gated"])
    assert said.pop("test_weight_matrices_have_the_sizes_the_paper_states") == "skipped"  # none stated
    assert set(said.values()) == {"passed"} and len(said) == 7, said


def test_a_plain_mlp_block_is_rejected_for_its_missing_gate_and_residual(outcomes):
    said = outcomes["plain"]
    assert said["test_applies_the_papers_operations_in_order"] == "passed"
    assert (
        "no one-element nn.Parameter that starts at 0"
        in said["test_learned_values_start_where_the_paper_says"]
    )
    assert "never adds its input to anything" in said["test_adds_its_input_back"]
    assert "starts as the identity" in said["test_is_the_identity_at_initialisation"]


def test_a_block_without_its_gate_or_with_another_activation_or_order_is_rejected(outcomes):
    assert (
        "α is missing, or not learned"
        in outcomes["ungated"]["test_learned_values_start_where_the_paper_says"]
    )
    assert outcomes["ungated"]["test_adds_its_input_back"] == "passed"
    relu = outcomes["relu"]["test_applies_the_papers_operations_in_order"]
    assert "applies GELU, but method.py never computes it" in relu
    assert "never takes part" in outcomes["gate-unused"]["test_learned_values_start_where_the_paper_says"]
    extra = outcomes["extra-relu"]
    assert extra["test_applies_the_papers_operations_in_order"] == "passed"  # LayerNorm, then GELU
    assert (
        "method.py applies relu, which none of the paper's steps apply (its nonlinearities: GELU)"
        in extra["test_applies_no_nonlinearity_the_paper_does_not"]
    )
    order = outcomes["norm-last"]["test_applies_the_papers_operations_in_order"]
    assert "the paper applies LayerNorm then GELU; method.py applies GELU then LayerNorm" in order


def test_a_block_that_shares_adds_or_strips_the_papers_linear_maps_is_rejected(outcomes):
    test = "test_applies_the_papers_linear_maps_each_with_its_own_weights"
    shared = outcomes["shared"][test]
    assert "apply 2 linear maps between LayerNorm and `y = x + α h`" in shared
    assert "method.py applies 2 there with 1 weight matrices, used 2 times" in shared
    assert "applies 3 there with 3 weight matrices" in outcomes["extra-linear"][test]
    no_bias = outcomes["no-bias"][test]
    assert "adds a bias to W_1 (b_1 in `t_2 = W_1 t_1 + b_1`)" in no_bias and "2 of method.py's" in no_bias
    assert "1 of method.py's linear maps there add none" in outcomes["own-bias"][test]  # b_2 still missing
    split = outcomes["split"][test]
    assert (
        "the paper's steps apply LayerNorm → W_1 → GELU → W_2; method.py applies LayerNorm → a linear "
        "map → a linear map → GELU there" in split
    )
    for other in ("shared", "extra-linear", "no-bias", "split"):
        assert outcomes[other]["test_applies_the_papers_operations_in_order"] == "passed"
        assert outcomes[other]["test_adds_its_input_back"] == "passed"


def test_a_block_that_stays_random_in_evaluation_mode_is_rejected(outcomes):
    said = outcomes["dropout-always"]["test_is_deterministic_in_evaluation_mode"]
    assert "output changes between two calls in evaluation mode" in said and "training=self.training" in said
    assert outcomes["gated"]["test_is_deterministic_in_evaluation_mode"] == "passed"  # nn.Dropout is


def test_a_network_of_such_blocks_is_checked_inside_and_a_plain_network_is_not_passed(tmp_path: Path):
    blocks = GATED.replace("class Block", "class GatedBlock") + (
        "\n\nclass Model(nn.Module):\n"
        "    def __init__(self, in_channels, num_classes, dim=16, depth=2):\n"
        "        super().__init__()\n"
        "        self.embed = nn.Linear(in_channels, dim)\n"
        "        self.blocks = nn.Sequential(*[GatedBlock(dim) for _ in range(depth)])\n"
        "        self.head = nn.Linear(dim, num_classes)\n\n"
        "    def forward(self, x):\n"
        "        return self.head(self.blocks(self.embed(x)))\n"
    )
    plain = blocks.replace("return x + self.alpha * self.drop(h)", "return self.drop(h)")
    plain = plain.replace("self.alpha = nn.Parameter(torch.zeros(1))", "")
    good = paper_tests(repository(tmp_path, "architecture", blocks, STEPS, SAID, "good"))
    assert good["test_applies_the_papers_operations_in_order"] == "passed"
    assert good["test_learned_values_start_where_the_paper_says"] == "passed"
    assert good["test_adds_its_input_back"] == "passed"
    assert good["test_is_the_identity_at_initialisation"] == "skipped"  # a network is no identity
    bad = paper_tests(repository(tmp_path, "architecture", plain, STEPS, SAID, "bad"))
    assert "nn.Parameter that starts at 0" in bad["test_learned_values_start_where_the_paper_says"]
    assert "never adds its input" in bad["test_adds_its_input_back"]


GATE_STEPS = ["t_1 = W_1 x + b_1", "t_2 = tanh(t_1)", "t_3 = W_2 t_2 + b_2", "g = σ(t_3)", "y = g ⊙ x"]
GATE = """import torch
from torch import nn


class Block(nn.Module):
    def __init__(self, dim, hidden=8):
        super().__init__()
        self.w1, self.w2 = nn.Linear(dim, hidden), nn.Linear(hidden, dim)

    def forward(self, x):
        return torch.sigmoid(self.w2(torch.tanh(self.w1(x)))) * x
"""


def test_without_a_residual_the_whole_forward_pass_is_held_to_the_steps_order(tmp_path: Path):
    fp = fingerprint(GATE_STEPS, "")
    assert fp.whole and not fp.residual and fp.chain == ["W_1", "tanh", "W_2", "σ"]
    good = paper_tests(repository(tmp_path, "layer", GATE, GATE_STEPS, "", "gate"))
    test = "test_applies_the_papers_linear_maps_each_with_its_own_weights"
    assert good[test] == "passed" and good["test_applies_the_papers_operations_in_order"] == "passed"
    # tanh twice, each a nonlinearity the paper names, and in the paper's order: only the
    # chain of maps and operations tells it from the paper's gate.
    extra = GATE.replace("torch.sigmoid(self.w2(", "torch.sigmoid(torch.tanh(self.w2(").replace(
        "(x)))) * x", "(x))))) * x"
    )
    bad = paper_tests(repository(tmp_path, "layer", extra, GATE_STEPS, "", "extra"))
    assert bad["test_applies_the_papers_operations_in_order"] == "passed"
    assert bad["test_applies_no_nonlinearity_the_paper_does_not"] == "passed"
    assert (
        "the paper's steps apply W_1 → tanh → W_2 → σ; method.py applies a linear map → tanh → a linear "
        "map → tanh → σ there" in bad[test]
    )
