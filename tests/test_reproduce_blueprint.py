"""Reproducing inside a blueprint, with a scripted model: the kind picks the skeleton, the model
writes only method.py, the config comes from the method's signature and the paper, the contract
tests run in the sandbox, and a stand-in method fails them until repair replaces it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from smolab.paper.digest import HEADLINE, CheckedHyperParameter, Digest
from smolab.reproduce import Options, reproduce
from smolab.reproduce.blueprint import (
    LEARNED_VALUE,
    PROPOSED_NOTE,
    Proposal,
    config_text,
    equation_steps,
    init_attributes,
    kind_ask,
    method_ask,
    method_config,
    method_defaults,
    name_reference,
    parse_kind,
    pitch,
    proposal_ask,
    proposed_equations,
    reference_ask,
    with_definitions,
    with_steps,
    without_dropout,
)
from smolab.reproduce.fidelity import reference_crash
from smolab.reproduce.verify import Failure, Verification
from smolab.runs import RunIndex, link, locate
from smolab.skills import SkillLibrary

from .scripted_author import PAPER_TEX, Author, author_model
from .test_skills import METHODS, STAND_IN
from .trajectories import model_calls


def events_of(repo: Path) -> list[dict]:
    lines = (repo / ".smolab" / "trajectory.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


GATED_BLOCK = (METHODS / "layer.py").read_text()


@pytest.fixture
def paper(tmp_path: Path) -> Path:
    path = tmp_path / "paper.tex"
    path.write_text(PAPER_TEX)
    return path


def run(paper: Path, out: Path, author: Author, rounds: int = 1) -> dict:
    return reproduce(str(paper), out, author_model(author), options=Options(repair_rounds=rounds))


def test_the_kind_picks_the_blueprint_and_the_model_writes_only_the_method(paper, tmp_path):
    out = tmp_path / "repo"
    author = Author(contribution="layer", data="sequence", method=GATED_BLOCK)
    model = author_model(author)
    summary = reproduce(str(paper), out, model, options=Options(repair_rounds=1))
    assert summary["ok"], summary["checks"]
    # The block is asked for without the training settings the skeleton owns; the plan saw them.
    method = [
        m[0].content for m, _ in model.backend.history if "Implement the paper's method" in m[-1].content
    ]
    assert method and all("train steps = 3" not in system for system in method)
    assert any("train steps = 3" in m[0].content for m, _ in model.backend.history)  # the plan saw them
    assert summary["contribution"]["blueprint"] == "blueprint-layer"
    # one classification, one overall plan, the module and its reference (a reply that is not code
    # here, so none is kept): no per-file architecture or analyses
    written = [k for k in author.asked if k.startswith(("generate:", "analyze:"))]
    assert written[:2] == ["generate:method.py", "generate:reference.py"] and set(written) <= {
        "generate:method.py",
        "generate:reference.py",
    }
    assert not (out / "reference.py").exists() and summary["fidelity"]["status"] == "not checked"
    assert "Architecture" not in author.asked and "Logic" not in author.asked
    files = set(summary["files"])
    assert {"method.py", "experiment.py", "common.py", "main.py", "tests/test_contract.py"} <= files
    config = yaml.safe_load((out / "config.yaml").read_text())
    assert config["method"] == {"hidden": 128} and config["data"]["input"] == "sequence"
    assert "smoke" in config
    assert summary["checks"]["tests"]["ok"] and summary["checks"]["main"]["ok"]
    version = SkillLibrary().get("blueprint-layer").version
    assert f"the `blueprint-layer` blueprint (version {version})" in (out / "REPORT.md").read_text()
    contribution = json.loads((out / ".smolab" / "contribution.json").read_text())
    assert contribution["kind"] == "layer" and contribution["version"] == version
    # The skills it used are the run's evidence: in its trajectory and in the runs index.
    used = [e for e in events_of(out) if e["type"] == "skill_used"]
    assert [(e["name"], e["version"], e["revision"]) for e in used] == [
        ("blueprint-layer", version, None),
        ("blueprint-common", SkillLibrary().get("blueprint-common").version, None),
    ]
    ref = locate(tmp_path / "runs", str(out))
    link(tmp_path / "runs", ref.id, ref.folder)  # as the CLI does, so that the index finds it
    index = RunIndex(tmp_path / "runs.db", tmp_path / "runs")
    (run_used,) = [(s.id, u.version) for s, u in index.uses_of("blueprint-layer")]
    assert run_used[1] == version and {u.name for u in index.get(run_used[0]).skills} == {
        "blueprint-layer",
        "blueprint-common",
    }


def test_the_classification_prompt_offers_every_blueprint(paper, tmp_path):
    author = Author(contribution="activation", method="x = 1\n")
    model = author_model(author)
    reproduce(str(paper), tmp_path / "r", model, options=Options(repair_rounds=0))
    # First what the paper proposes (bounded JSON), then the kind over that alone, in free text.
    i = author.asked.index("Proposal")
    assert author.asked[i + 1] == "classify:kind"
    ask = next(m[-1].content for m, _ in model.backend.history if "kind's name only" in m[-1].content)
    assert ask.startswith("A machine-learning paper proposes gated sums: a gated sum.")
    for kind in ("activation", "normalization", "layer", "other"):
        assert f"- {kind}:" in ask
    # The kinds that contain others come last, before "other".
    listed = re.findall(r"^- (\w+):", ask, re.M)
    assert listed[-3:] == ["layer", "architecture", "other"]
    contribution = json.loads((tmp_path / "r" / ".smolab" / "contribution.json").read_text())
    assert contribution["kind"] == "activation" and contribution["proposes"] == "a gated sum"


def test_the_kind_is_the_first_one_the_reply_names():
    kinds = ["optimizer", "schedule", "layer", "other"]
    assert parse_kind("Schedule.", kinds) == "schedule"
    assert parse_kind("It is an optimizer, not a schedule", kinds) == "optimizer"
    assert parse_kind("a learning-rate thing", kinds) == "other"
    assert parse_kind("multilayer", kinds) == "other"  # whole words only
    # A proposal named as a block is the layer blueprint's, however architectural it sounds.
    se = Proposal(proposes="a novel architectural unit, the SE block", data="image", name="SE")
    net = Proposal(proposes="a deep network of stacked convolutions", data="image", name="VGG")
    assert parse_kind("architecture", [*kinds, "architecture"], se) == "layer"
    assert parse_kind("architecture", [*kinds, "architecture"], net) == "architecture"
    # A kind whose line shares no word with the proposal gives way to the one that shares two.
    lines = {
        "optimizer": "an update rule for the weights (Adam, LARS)",
        "schedule": "a learning-rate schedule (step decay, warm restarts)",
        "layer": "a block inside a network",
    }
    restarts = Proposal(proposes="a warm restart technique for gradient descent", data="image", name="R")
    assert parse_kind("optimizer", kinds, restarts, lines) == "schedule"
    assert parse_kind("optimizer", kinds, restarts) == "optimizer"  # no lines, no overrule
    adam = Proposal(proposes="adaptive moment estimates for the weights", data="image", name="Adam")
    assert parse_kind("optimizer", kinds, adam, lines) == "optimizer"  # its own line shares a word
    one = Proposal(proposes="a step-size rule", data="image", name="S")
    assert parse_kind("layer", kinds, one, lines) == "layer"  # one shared word is not enough


def test_a_stand_in_method_fails_the_contract_and_repair_replaces_it(paper, tmp_path):
    out = tmp_path / "repo"
    author = Author(contribution="layer", method=STAND_IN, repaired_method=GATED_BLOCK)
    summary = run(paper, out, author, rounds=1)
    assert summary["tests_before_repair"]["passed"] < summary["tests_before_repair"]["total"]
    assert "repair:method.py" in author.asked  # the failing contract test is method.py's to fix
    assert summary["ok"] and (out / "method.py").read_text() == GATED_BLOCK
    report = (out / "REPORT.md").read_text()
    assert "FAIL" in report and report.startswith("# Runs, and the method agrees with the paper")


def test_method_config_comes_from_the_signature_and_the_papers_verified_values():
    code = (
        "class Norm:\n"
        "    def __init__(self, num_channels, num_groups: int = 16, eps: float = 1e-5, mode: str = 'a'):\n"
        "        pass\n"
    )
    assert method_defaults(code, "Norm") == {"num_groups": 16, "eps": 1e-5, "mode": "a"}
    digest = Digest(
        hyperparameters=[
            CheckedHyperParameter(name="number of groups", value="32", quote="G = 32", verified=True),
            CheckedHyperParameter(name="num_groups", value="32", quote="we use G = 32", verified=True),
            CheckedHyperParameter(name="eps", value="LayerNorm(x) + b_1", quote="", verified=False),
            CheckedHyperParameter(name="mode", value="0.5", quote="", verified=False),
        ]
    )
    assert method_config(code, "Norm", digest) == {"num_groups": 32, "eps": 1e-5, "mode": "a"}
    text = config_text(
        "data: {input: vector}\nmethod: {}\nsmoke: {train: {steps: 2}}\n", {"a": 1}, "image", digest
    )
    config = yaml.safe_load(text)
    assert config["method"] == {"a": 1} and config["data"]["input"] == "image"
    assert config["smoke"] == {"train": {"steps": 2}}
    # a formula fragment is never a value; an unverified one is marked
    assert "LayerNorm" not in text and "mode: 0.5  # unverified" in text


def test_the_method_is_checked_against_a_reference_written_from_the_equations(paper, tmp_path):
    swish = (METHODS / "activation.py").read_text()
    reference = "import torch\n\n\ndef reference(x):\n    return x * torch.sigmoid(x)\n"
    author = Author(contribution="activation", method=swish, reference=reference)
    out = tmp_path / "faithful"
    summary = run(paper, out, author, rounds=0)
    assert summary["ok"] and summary["fidelity"]["status"] == "pass"
    assert (out / "tests" / "test_fidelity.py").is_file() and (out / "reference.py").read_text() == reference
    # The reference's call saw the equations, never the method module.
    calls = model_calls(out / ".smolab")
    ref_call = next(c for c in calls if c["key"] == "generate/reference.py")
    sent = json.dumps(ref_call["messages"], ensure_ascii=False)
    assert "def forward" not in sent and "y = x + α h" in sent
    assert "Fidelity: pass" in (out / "REPORT.md").read_text()

    # A method that is not the paper's equation (here: a tanh) runs and passes its contract,
    # but not the fidelity test; the report says so.
    tanh = swish.replace("x * torch.sigmoid(self.beta * x)", "torch.tanh(self.beta * x) + 0.1 * x")
    out = tmp_path / "unfaithful"
    summary = run(paper, out, Author(contribution="activation", method=tanh, reference=reference), rounds=0)
    assert summary["fidelity"]["status"] == "fail" and not summary["checks"]["tests"]["ok"]
    assert summary["checks"]["main"]["ok"]
    assert "Fidelity: fail" in (out / "REPORT.md").read_text()
    # It runs, and disagrees: the verdict keeps the two apart, and is no success.
    assert summary["runs"] and summary["method"] == "disagrees" and not summary["ok"]
    assert (out / "REPORT.md").read_text().startswith("# Runs; the method disagrees with the paper: ")

    # No reference that parses: no fidelity test, and the report says it was not checked.
    out = tmp_path / "unchecked"
    summary = run(paper, out, Author(contribution="activation", method=swish), rounds=0)
    assert summary["runs"] and summary["fidelity"]["status"] == "not checked"
    assert not summary["ok"] and summary["method"] == "not checked"
    assert not (out / "reference.py").exists() and not (out / "tests" / "test_fidelity.py").exists()

    # A class where the reference function was asked for is asked for once more, told so.
    as_class = (
        "import torch\n\n\nclass Reference(torch.nn.Module):\n    def forward(self, x):\n        return x\n"
    )
    out = tmp_path / "class-first"
    author = Author(contribution="activation", method=swish, reference=reference, class_reference=as_class)
    summary = run(paper, out, author, rounds=0)
    assert summary["fidelity"]["status"] == "pass" and (out / "reference.py").read_text() == reference
    calls = model_calls(out / ".smolab")
    assert any("defined a class and no function" in json.dumps(c["messages"]) for c in calls)

    # A reference that parses but crashes checks nothing: once repair is done with it, it goes
    # with its test, the method is judged by its contract, and the report says why.
    crashing = "import torch\n\n\ndef reference(x):\n    return x @ torch.ones(3, 5)\n"
    out = tmp_path / "crashing"
    summary = run(paper, out, Author(contribution="activation", method=swish, reference=crashing), rounds=0)
    assert summary["runs"] and summary["fidelity"]["status"] == "not checked" and not summary["ok"]
    assert "the reference written from its equations crashed and was removed" in summary["verdict"]["why"]
    assert "RuntimeError" in summary["fidelity"]["dropped"]
    assert not (out / "reference.py").exists() and not (out / "tests" / "test_fidelity.py").exists()
    assert "still crashed after repair" in (out / "REPORT.md").read_text()


def test_a_method_that_disagrees_with_the_reference_is_held_against_more_references(paper, tmp_path):
    swish = (METHODS / "activation.py").read_text()
    right = "import torch\n\n\ndef reference(x):\n    return x * torch.sigmoid(x)\n"
    wrong = "import torch\n\n\ndef reference(x):\n    return torch.relu(x)\n"
    # The first reference is wrong; of the two sampled after it, the second is the equation.
    author = Author(
        contribution="activation", method=swish, reference=wrong, sampled_references=[wrong, right]
    )
    out = tmp_path / "second-opinion"
    once = Options(repair_rounds=0, fresh_attempts=0)
    summary = reproduce(str(paper), out, author_model(author), options=once)
    assert summary["ok"] and summary["fidelity"]["status"] == "pass"
    assert (out / "reference.py").read_text() == right
    assert summary["fidelity"]["agreement"] == {"agreed": 1, "of": 2, "chosen": 1}  # the two wrong are one
    report = (out / "REPORT.md").read_text()
    assert "the method agreed with 1 of the 2, and the first it agreed with is `reference.py`" in report
    # A method that agrees with none keeps the first reference, and its fidelity test fails.
    tanh = swish.replace("x * torch.sigmoid(self.beta * x)", "torch.tanh(self.beta * x) + 0.1 * x")
    author = Author(contribution="activation", method=tanh, reference=wrong, sampled_references=[right])
    out = tmp_path / "none-agrees"
    summary = reproduce(str(paper), out, author_model(author), options=once)
    assert summary["fidelity"]["status"] == "fail" and (out / "reference.py").read_text() == wrong
    assert summary["fidelity"]["agreement"]["agreed"] == 0
    # A method that agrees with the first reference samples no more.
    author = Author(contribution="activation", method=swish, reference=right, sampled_references=[wrong])
    summary = reproduce(str(paper), tmp_path / "first-agrees", author_model(author), options=once)
    assert summary["fidelity"]["status"] == "pass" and author.asked.count("generate:reference.py") == 1


def test_a_fidelity_test_that_crashes_inside_torch_while_the_contract_holds_is_the_references():
    inside_torch = (
        "tests.test_fidelity::test_the_block_computes_the_papers_equations\n    name = 'b1'\n"
        "E       AttributeError: 'Block' object has no attribute 'b1'\n\n"
        ".venv/lib/python3.11/site-packages/torch/nn/modules/module.py:1967: AttributeError"
    )
    fidelity = Failure(check="tests", file=None, error=inside_torch)
    assert (
        reference_crash(Verification([], [fidelity]))
        == "AttributeError: 'Block' object has no attribute 'b1'"
    )
    # A disagreement is the method's; so is a crash while a contract test fails too.
    disagree = Failure("tests", "tests/test_fidelity.py", "tests.test_fidelity::t\nE  AssertionError: gap")
    contract = Failure("tests", "method.py", "tests.test_contract::t\nE  TypeError: bad")
    assert reference_crash(Verification([], [disagree])) == ""
    assert reference_crash(Verification([], [fidelity, contract])) == ""
    assert reference_crash(Verification([], [Failure("tests", "reference.py", "x\nNameError: y")])) == (
        "NameError: y"
    )


def test_a_value_stated_for_a_learned_symbol_is_told_as_where_its_parameter_starts():
    digest = Digest(
        equations=["y = x + \\alpha h"],
        where={"y = x + \\alpha h": "where $\\alpha$ is a learned scalar initialised to $0$."},
        hyperparameters=[
            CheckedHyperParameter(name="alpha", value="0", quote="initialised to 0", verified=True),
            CheckedHyperParameter(name="d_h", value="128", quote="width d_h = 128", verified=True),
        ],
    )
    assert digest.learned() == {"alpha"}
    ask = method_ask(SkillLibrary().blueprints()["layer"], digest, "vector")
    assert f"- alpha = 0{LEARNED_VALUE}\n" in ask and "- d_h = 128\n" in ask


def test_the_forward_stub_carries_the_equations_one_operation_per_line():
    branch, gate = "h = W_2 GELU(W_1 LayerNorm(x) + b_1) + b_2", "y = x + α h"
    digest = Digest(
        equations=[branch, gate, "L = -∑_{c=1}^C q_c log p_c"],
        where={branch: "with W_1 ∈ R^{d_h × d} and W_2 ∈ R^{d × d_h}"},
    )
    blueprints = SkillLibrary().blueprints()
    ask = method_ask(blueprints["layer"], digest, "vector")
    # Each weight matrix is told as one layer of its own, with its bias and its stated sizes.
    scaffold = (
        "    def forward(self, x: torch.Tensor) -> torch.Tensor:\n"
        "        # replace each ... with the statement that computes the equation beside it; returns a "
        "tensor of x's shape\n"
        "        t_1 = ...  # LayerNorm(x)\n"
        "        t_2 = ...  # W_1 t_1 + b_1   (W_1: one linear layer of its own, d -> d_h features, "
        "holding W_1 and its bias b_1)\n"
        "        t_3 = ...  # GELU(t_2)\n"
        "        h = ...  # W_2 t_3 + b_2   (W_2: one linear layer of its own, d_h -> d features, "
        "holding W_2 and its bias b_2)\n"
        "        y = ...  # x + α h\n"
        "        return y\n"
    )
    assert scaffold in ask
    assert ask.count("# LayerNorm(x)") == 1  # in forward only; __init__ is left to the model
    # Only the proposal's equations where some are marked (with the branch that defines its h);
    # the loss it is trained with is not the block.
    marked = method_ask(blueprints["layer"], digest, "vector", proposed={gate})
    assert scaffold in marked and "# L =" not in marked
    # A kind whose interface names no function for steps gets none; an equation the notation
    # cannot hold adds none.
    assert "t_1 = ..." not in method_ask(blueprints["regularizer"], digest, "vector")
    plain = Digest(equations=["S_i = {k | k_N = i_N}"])
    assert method_ask(blueprints["layer"], plain, "vector").count("# replace each ...") == 0
    # A schedule's formula is scaffolded in __call__.
    cosine = Digest(equations=["η_t = η_min + 1/2(η_max − η_min)(1 + cos(T_cur/T_i π))"])
    assert "-> float:\n        # t_1 = η_max - η_min\n" in method_ask(blueprints["schedule"], cosine, None)


def test_the_marked_proposal_brings_the_equations_that_define_what_it_reads():
    conv = "u_c = v_c ∗ X = ∑_{s=1}^{C′} v_c^s ∗ x^s. (1)"
    squeeze = "z_c = F_{sq}(u_c) = 1/(H × W) ∑_{i=1}^H ∑_{j=1}^W u_c(i, j). (2)"
    excite = "s = F_{ex}(z, W) = σ(g(z, W)) = σ(W_2 δ(W_1 z)), (3)"
    scale = "x̃_c = F_{scale}(u_c, s_c) = s_c u_c, (4)"
    loss = "L = -∑_{c=1}^C q_c log p_c"
    digest = Digest(equations=[conv, squeeze, excite, scale, loss])
    # z (read by the excitation) is the squeeze's, which reads u, which is the convolution's;
    # the loss defines nothing the block reads, and the paper's order is kept.
    assert with_definitions([excite, scale], digest.equations) == [conv, squeeze, excite, scale]
    assert equation_steps(digest, {excite, scale}) == [
        "u_c = ∑_{s=1}^{C′} v_c^s ∗ x^s",
        "z_c = 1/(H × W) ∑_{i=1}^H ∑_{j=1}^W u_c(i, j)",
        "t_1 = W_1 z",
        "t_2 = δ(t_1)",
        "t_3 = W_2 t_2",
        "s = σ(t_3)",
        "x̃_c = s_c u_c",
    ]
    # Unmarked, the sums (and the loss among them) stay out of the scaffold.
    unmarked = ["t_1 = W_1 z", "t_2 = δ(t_1)", "t_3 = W_2 t_2", "s = σ(t_3)", "x̃_c = s_c u_c"]
    assert equation_steps(digest) == unmarked


def test_the_reference_is_scaffolded_like_the_method():
    skill = SkillLibrary().blueprints()["normalization"]
    fidelity = skill.fidelity()
    assert fidelity is not None
    lines = ["t_1 = x_i - µ_i", "x̂_i = 1/σ_i t_1"]
    ask = reference_ask(fidelity[0], Digest(equations=["x̂_i = 1/σ_i (x_i − µ_i)"]), steps=lines)
    # The stub's "): ...  # x is (N, C, H, W)" (as formatters write it) is opened into a body.
    assert "):\n    # t_1 = x_i - µ_i\n    # x̂_i = 1/σ_i t_1\n    ...  # under each equation" in ask
    assert "x is (N, C, H, W)" in ask and "): ..." not in ask
    assert with_steps("no code here", "forward", ["y = x"]) == "no code here"


def test_a_blocks_reference_sees_what_its_constructor_builds_and_not_its_forward_pass():
    attributes = init_attributes(GATED_BLOCK, "Block")
    assert "self.norm = nn.LayerNorm(dim)" in attributes
    assert "self.up, self.down, self.gate = (nn.Linear(dim, hidden)" in attributes
    assert "sigmoid" not in attributes and "forward" not in attributes
    skill = SkillLibrary().blueprints()["layer"]
    fidelity = skill.fidelity()
    assert fidelity is not None
    ask = reference_ask(fidelity[0], Digest(equations=["y = x + g(x) * f(x)"]), attributes)
    assert (
        "self.norm = nn.LayerNorm(dim)" in ask and "y = x + g(x) * f(x)" in ask and "{attributes}" not in ask
    )


def test_the_method_and_its_reference_are_told_what_the_paper_proposes():
    contribution = {"name": "WGAN-GP", "proposes": "a gradient penalty on the critic"}
    assert pitch(contribution) == "WGAN-GP: a gradient penalty on the critic"
    assert pitch({"proposes": "a penalty"}) == "a penalty" and pitch({}) == ""
    skill = SkillLibrary().blueprints()["loss"]
    digest = Digest(equations=["L = D(x~) - D(x) + lambda (||grad D(x^)|| - 1)^2"])
    method = method_ask(skill, digest, None, pitch(contribution))
    assert method.startswith("The paper proposes: WGAN-GP: a gradient penalty on the critic\n\n")
    fidelity = skill.fidelity()
    assert fidelity is not None
    assert "The paper proposes: WGAN-GP" in reference_ask(fidelity[0], digest, "", pitch(contribution))
    # The method's configured constants reach the reference; words and flags do not.
    ask = reference_ask(
        fidelity[0], digest, "", "", {"beta": 1.0, "eps": 1e-05, "mode": "fast", "affine": True}
    )
    assert "runs with beta = 1.0, eps = 1e-05: use these values" in ask
    assert "mode" not in ask.split("runs with")[1].split("\n")[0] and "affine" not in ask
    assert "The paper proposes" not in method_ask(skill, digest, None)


def test_the_equations_of_the_proposal_are_marked_apart_from_the_baselines_it_changes():
    gan = "min_G max_D E[log D(x)] + E[log(1 - D(G(z)))] (1)"
    wgan = "min_G max_D E[D(x)] - E[D(G(z))] (2)"
    penalty = "L = E[D(x~)] - E[D(x)] + lambda E[(||grad D(x^)||_2 - 1)^2] (3)"
    grad = "f′(x) = sigma(x) + x sigma(x)(1 - sigma(x))"
    digest = Digest(
        equations=[gan, wgan, penalty, grad],
        sections={gan: "Background", wgan: "Wasserstein GANs", penalty: "Gradient penalty", grad: "Penalty"},
        where={gan: "The game is the minimax objective:", penalty: "Our new objective is"},
    )
    contribution = {"name": "Gradient penalty", "proposes": "an alternative to clipping weights"}
    assert proposed_equations(digest, contribution) == {penalty}  # a derivative is never the proposal
    ask = method_ask(SkillLibrary().blueprints()["generative"], digest, None, "", {penalty})
    assert f"- {gan}\n" in ask and f"- [proposed] {penalty}\n" in ask and PROPOSED_NOTE in ask
    # The name a proposal is "called" by counts; a lead-in that names it marks its display.
    norm = {"name": "GN", "proposes": "a layer called Group Normalization, which divides channels"}
    bn, gn = "S_i = {k | k_C = i_C}", "S_i = {k | k_N = i_N, k_C/(C/G) = i_C/(C/G)}"
    where = {bn: "In Batch Norm, the set is defined as:", gn: "Formally, a Group layer computes:"}
    assert proposed_equations(Digest(equations=[bn, gn], where=where), norm) == {gn}
    # The abstract's formula is the proposal; nothing is marked where everything would be.
    swish = Digest(equations=["f(x) = x sigmoid(bx)", grad], sections={"f(x) = x sigmoid(bx)": HEADLINE})
    assert proposed_equations(swish, {"name": "Swish"}) == {"f(x) = x sigmoid(bx)"}
    assert (
        proposed_equations(Digest(equations=[penalty], sections={penalty: "Penalty"}), contribution) == set()
    )
    assert proposed_equations(digest, {}) == set()


def test_a_reference_function_named_otherwise_is_aliased_and_one_without_a_function_dropped():
    code = "import torch\n\n\ndef swish(x):\n    return x * torch.sigmoid(x)\n"
    named = name_reference(code)
    assert named is not None and named.endswith("reference = swish\n")
    namespace: dict = {}
    exec(named, namespace)
    assert namespace["reference"] is namespace["swish"]
    assert name_reference("import torch\n\n\ndef reference(x):\n    return x\n").count("reference") == 1
    assert name_reference("x = 1\n") is None and name_reference("def (:\n") is None


def test_the_proposal_is_asked_from_the_papers_own_words():
    ask = proposal_ask("We propose a warm restart technique for SGD. " * 50, "SGDR", ["3 SGDR"])
    assert ask.startswith("Title: SGDR\nThe paper's abstract: We propose a warm restart")
    assert ask.count("warm restart") <= 36 and "Its sections: 3 SGDR" in ask
    # Each kind in a line of what it is for, without the words every blueprint shares.
    kinds = kind_ask(
        SkillLibrary().blueprints(), Proposal(proposes="warm restarts", data="image", name="SGDR")
    )
    assert "- schedule: a learning-rate schedule (the learning rate as a function of the step" in kinds
    assert "Repository skeleton" not in kinds and "The model writes" not in kinds


def test_the_proposal_schema_carries_no_text_a_model_could_copy():
    assert "description" not in Proposal.model_json_schema()


def test_a_reference_that_uses_the_constants_it_was_told_gets_them_defined():
    from smolab.reproduce.blueprint import define_constants, numbers

    code = (
        "import torch\n\n\ndef reference(param, grads, lr):\n"
        "    m = param * 0\n    for g in grads:\n        m = m * beta1 + g * (1 - beta1)\n"
        "        param = param - lr * m / (m.abs() + eps)\n    return param\n"
    )
    told = numbers({"lr": 0.001, "beta1": 0.9, "eps": 1e-06, "amsgrad": False, "mode": "x"})
    assert told == {"lr": 0.001, "beta1": 0.9, "eps": 1e-06}
    fixed = define_constants(code, told)
    assert "beta1 = 0.9\neps = 1e-06\n" in fixed and "lr = " not in fixed  # lr is an argument
    namespace: dict = {}
    exec(compile(fixed, "reference.py", "exec"), namespace)
    import torch

    out = namespace["reference"](torch.ones(2), [torch.ones(2)], 0.1)
    assert torch.isfinite(out).all()
    assert define_constants(code, {}) == code  # nothing told, nothing added


def test_a_set_the_statistics_sum_over_comes_first_and_one_display_of_two_definitions_is_two_steps():
    norm = "x̂_i = 1/σ_i (x_i − µ_i). (1)"
    stats = "µ_i = 1/m ∑_{k∈Si} x_k, σ_i = √1/m ∑_{k∈Si} (x_k − µ_i)^2 + ϵ, (2)"
    layer_norm, group = "S_i = {k | k_N = i_N}, (4)", "S_i = {k | k_N = i_N, ⌊k_C/(C/G)⌋ = ⌊i_C/(C/G)⌋}. (7)"
    digest = Digest(equations=[norm, stats, layer_norm, "y_i = γx̂_i + β, (6)", group])
    assert equation_steps(digest, {norm, group}) == [
        "S_i = {k | k_N = i_N, ⌊k_C/(C/G)⌋ = ⌊i_C/(C/G)⌋}",
        "µ_i = 1/m ∑_{k∈Si} x_k",
        "σ_i = √1/m ∑_{k∈Si} (x_k − µ_i)^2 + ϵ",
        "t_1 = x_i - µ_i",
        "x̂_i = 1/σ_i t_1",
    ]
    # Where the proposal does not define the set, the paper's last definition of it is the one.
    assert with_definitions([norm], [stats, layer_norm, group, norm])[:1] == [group]


def test_a_references_functional_dropout_is_its_input():
    code = (
        "import torch\nfrom torch.nn import functional as F\n\n\ndef reference(h, adapter):\n"
        "    b = F.dropout(adapter.down(h), p=adapter.dropout.p)\n"
        "    c = torch.nn.functional.dropout(F.relu(b), 0.1)\n"
        "    return adapter.up(c) + adapter.dropout(b)  # a module follows eval()\n"
    )
    fixed = without_dropout(code)
    assert "b = adapter.down(h)\n" in fixed and "c = F.relu(b)\n" in fixed
    assert "adapter.dropout(b)" in fixed and "F.dropout" not in fixed
    assert without_dropout("not python (") == "not python ("


def test_an_optimizers_update_is_scaffolded_from_its_algorithm_lines():
    """An invented algorithm box's update lines go under the update stub of ``step``, after the
    state is set up, not into the state's own stub."""
    skill = SkillLibrary().blueprints()["optimizer"]
    lines = ["u_t = ρ u_{t−1} + g_t", "x_{t+1} = x_t − η sign(u_t)"]
    ask = method_ask(skill, Digest(equations=lines), None)
    state = ask.index('state["step"] += 1')
    assert state < ask.index("# u_t = ρ u_{t−1} + g_t") < ask.index("# t_1 = sign(u_t)")
    # One operation a line, in order: the sign, then the step that reads it.
    assert state < ask.index("# t_1 = sign(u_t)") < ask.index("# x_{t+1} = x_t - η t_1")
    assert "...  # the paper's running statistics" in ask  # the state's stub is left as it was
