"""Repair: the fixes that need no model, repair of the failing function spliced in place, and a
repair loop that stops when a round fixes nothing and says why a reply was not applied."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import torch

from smolab.reproduce import Options, reproduce
from smolab.reproduce.fixes import (
    bool_subtractions,
    default_required_args,
    deterministic_fixes,
    doubled_biases,
    drop_uninstalled_imports,
    dropout_rates_called,
    group_values_by_name,
    import_undefined_names,
    learned_scalars_as_parameters,
    nll_of_logits,
    repoint_local_imports,
    repoint_missing_attributes,
    store_init_arguments,
    unused_sublayers,
)
from smolab.reproduce.repair import condense, failing_tests, failing_unit, splice, unit_ask
from smolab.reproduce.report import error_line

from .scripted_author import PAPER_TEX, Author, author_model
from .test_skills import STAND_IN


def test_an_unused_import_of_a_missing_package_is_dropped_and_a_used_one_located():
    code = "import torch\nimport torchmetrics\nfrom wandb import init\n\nx = torch.ones(1)\ninit()\n"
    new, fixes = drop_uninstalled_imports("train.py", code, set())
    assert "torchmetrics" not in new and "import torch\n" in new and "from wandb import init" in new
    applied = [f for f in fixes if f.applied]
    assert len(applied) == 1 and "torchmetrics" in applied[0].what
    located = [f for f in fixes if not f.applied]
    assert located and "`wandb` is not installed; used on lines 6" in located[0].what


def test_a_class_imported_from_the_wrong_local_module_is_repointed():
    files = {
        "class_gated_residual_mlp.py": "class GatedResidualMLP:\n    pass\n",
        "model.py": "def build():\n    return 1\n",
        "main.py": "from model import GatedResidualMLP, build\n\nprint(GatedResidualMLP, build)\n",
    }
    fixes = repoint_local_imports(files)
    assert files["main.py"].startswith(
        "from model import build\nfrom class_gated_residual_mlp import GatedResidualMLP\n"
    )
    assert len(fixes) == 1 and fixes[0].file == "main.py"
    compile(files["main.py"], "main.py", "exec")


def test_undefined_names_are_imported_from_where_they_are_defined_or_located():
    files = {
        "layers.py": "class Gate:\n    pass\n",
        "model.py": "def f(x):\n    g = Gate()\n    return np.zeros(3), g, mystery(x)\n",
    }
    fixes = import_undefined_names(files)
    assert "from layers import Gate" in files["model.py"] and "import numpy as np" in files["model.py"]
    located = [f.what for f in fixes if not f.applied]
    assert located == ["model.py: `mystery` is used on lines 3 but never defined"]


def test_required_constructor_arguments_get_the_papers_value_or_a_usual_default():
    code = (
        "from torch import nn\n\n\nclass Block(nn.Module):\n"
        "    def __init__(self, dim, d_h, dropout, *, act='relu'):\n"
        "        super().__init__()\n"
    )
    new, fixes = default_required_args("method.py", code, "Block", 1, {"dh": 128})
    assert "def __init__(self, dim, d_h = 128, dropout = 0.1, *, act='relu'):" in new
    assert all(f.applied for f in fixes) and len(fixes) == 2
    # A name it cannot guess is left for the model, located.
    odd = code.replace("dropout", "zeta_knob")
    same, fixes = default_required_args("method.py", odd, "Block", 1, {})
    assert same == odd and any("`zeta_knob` needs a default" in f.what and not f.applied for f in fixes)


def test_a_function_called_on_the_wrong_torch_module_is_repointed_to_the_one_that_has_it():
    files = {
        "method.py": "import torch\nfrom torch.nn import functional as F\n\n\n"
        "def loss(d):\n    return -F.log(d).mean() + F.softplus(d).mean()\n",
        "other.py": "import torch.nn.functional as F\n\nx = F.log(2.0)\n",
    }
    error = "AttributeError: module 'torch.nn.functional' has no attribute 'log'"
    fixes = repoint_missing_attributes(files, error)
    assert "-torch.log(d).mean() + F.softplus(d).mean()" in files["method.py"]  # F.softplus exists
    assert files["other.py"].startswith("import torch\n") and "x = torch.log(2.0)" in files["other.py"]
    assert [f.file for f in fixes] == ["method.py", "other.py"] and "`torch.log` used instead" in fixes[
        0
    ].what
    # Without the error, or for a name no torch module has, nothing changes.
    same = {"a.py": "from torch.nn import functional as F\ny = F.log(1)\n"}
    assert repoint_missing_attributes(same, "") == [] and "F.log" in same["a.py"]
    assert repoint_missing_attributes(same, "module 'torch.nn.functional' has no attribute 'nothing'") == []


def test_an_init_argument_read_as_an_attribute_but_never_stored_is_stored():
    code = (
        "from torch import nn\n\n\nclass Norm(nn.Module):\n"
        "    def __init__(self, c, eps=1e-5, *, groups=2):\n"
        "        super().__init__()\n        self.w = nn.Parameter(c)\n\n"
        "    def forward(self, x):\n        return x / (self.eps + self.groups) * self.w + self.helper()\n\n"
        "    def helper(self):\n        return 0\n"
    )
    new, fixes = store_init_arguments("method.py", code)
    assert "        super().__init__()\n        self.eps = eps\n        self.groups = groups\n" in new
    assert "self.c =" not in new and "self.helper =" not in new  # not read, or a method
    assert len(fixes) == 1 and "stores eps, groups" in fixes[0].what
    assert store_init_arguments("method.py", new) == (new, [])  # nothing left to store


def test_a_bool_mask_subtracted_from_one_is_made_float_where_the_traceback_points(tmp_path):
    import subprocess
    import sys

    # An invented masking method (each unit zeroed where a uniform draw falls under a cut-off),
    # written the way small models write it; torch refuses `1 - mask` on a bool mask.
    code = (
        "import torch\nfrom torch import nn\n\n\nclass Mask(nn.Module):\n"
        "    def __init__(self, cut=0.3):\n        super().__init__()\n        self.cut = cut\n\n"
        "    def forward(self, x):\n        keep = torch.rand_like(x) < self.cut  # η\n"
        "        return x * (1 - keep) + 0.0 * (1 - self.cut)\n"
    )
    (tmp_path / "method.py").write_text(code)
    run = "import torch; from method import Mask; Mask()(torch.ones(4, 3))"
    failed = subprocess.run([sys.executable, "-c", run], cwd=tmp_path, capture_output=True, text=True)
    assert "with a bool tensor is not supported" in failed.stderr
    files = {"method.py": code}
    fixes = bool_subtractions(files, failed.stderr)
    assert "return x * (1 - keep.float()) + 0.0 * (1 - self.cut)\n" in files["method.py"]  # a float stays
    assert [f.what for f in fixes] == [
        "method.py:12: `keep` is a bool tensor, made float before it is subtracted"
    ]
    (tmp_path / "method.py").write_text(files["method.py"])
    assert subprocess.run([sys.executable, "-c", run], cwd=tmp_path, capture_output=True).returncode == 0
    assert bool_subtractions(dict(files), "AssertionError: shapes differ") == []  # other errors: untouched


def test_a_dropout_rate_that_is_called_becomes_a_dropout_layer():
    code = (
        "import torch\nfrom torch import nn\n\n\nclass Block(nn.Module):\n"
        "    def __init__(self, dim, dropout=0.1):\n        super().__init__()\n"
        "        self.dropout = dropout\n        self.drop_path = 0.2\n        self.p_drop = dropout\n\n"
        "    def forward(self, x):\n        h = self.dropout(x)\n"
        "        return torch.nn.functional.dropout(h, self.drop_path) * self.p_drop\n"
    )
    new, fixes = dropout_rates_called("method.py", code)
    assert "        self.dropout = nn.Dropout(dropout)\n" in new
    # A rate used as a number stays a number.
    assert "self.drop_path = 0.2\n" in new and "self.p_drop = dropout\n" in new
    what = "method.py: `self.dropout` held a dropout rate and was called; now nn.Dropout"
    assert [f.what for f in fixes] == [what]
    assert dropout_rates_called("method.py", new) == (new, [])
    module = {}
    exec(compile(new, "method.py", "exec"), module)
    x = torch.ones(2, 4)
    assert module["Block"](4).eval()(x).shape == (2, 4)


GATED = """import torch
from torch import nn


class Block(nn.Module):
    def __init__(self, dim: int, d_h: int = 8, alpha: float = 0.0):
        super().__init__()
        self.w1 = nn.Linear(dim, d_h)
        self.b1 = nn.Parameter(torch.zeros(1))
        self.w2 = nn.Linear(d_h, dim)
        self.b2 = nn.Parameter(torch.zeros(dim))
        self.scale = nn.Parameter(torch.zeros(1))
        self.alpha = alpha
        self.beta = 2

    def forward(self, x):
        t = self.w1(x) + self.b1
        h = self.w2(t) + self.b2 + self.scale
        return x + self.alpha * h * self.beta
"""


def test_a_learned_scalar_held_as_a_number_becomes_a_parameter_that_starts_there():
    new, fixes = learned_scalars_as_parameters("method.py", GATED, {"alpha"})
    assert "        self.alpha = nn.Parameter(torch.tensor(float(alpha)))\n" in new
    assert "self.beta = 2\n" in new  # not said to be learned: a constant stays one
    assert [f.what for f in fixes] == [
        "method.py: `self.alpha` is learned in the paper; now an nn.Parameter from alpha"
    ]
    assert learned_scalars_as_parameters("method.py", new, {"alpha"}) == (new, [])
    module: dict = {}
    exec(compile(new, "method.py", "exec"), module)
    block = module["Block"](4)
    names = {n for n, _ in block.named_parameters()}
    assert "alpha" in names and float(block.alpha.detach()) == 0.0
    block(torch.randn(3, 4)).sum().backward()
    assert block.alpha.grad is not None  # it trains
    assert learned_scalars_as_parameters("method.py", GATED, set()) == (GATED, [])


def test_a_second_bias_beside_a_linears_own_is_removed():
    new, fixes = doubled_biases("method.py", GATED)
    assert "t = self.w1(x)\n" in new and "self.b1" not in new
    assert "h = self.w2(t) + self.scale" in new  # the zero bias goes; the parameter after it stays
    assert [f.what for f in fixes] == [
        "method.py: `self.b1` doubled the bias of `self.w1`; removed",
        "method.py: `self.b2` doubled the bias of `self.w2`; removed",
    ]
    before: dict = {}
    after: dict = {}
    exec(compile(GATED, "method.py", "exec"), before)
    exec(compile(new, "method.py", "exec"), after)
    torch.manual_seed(0)
    old = before["Block"](4)
    torch.manual_seed(0)
    fixed = after["Block"](4)
    fixed.load_state_dict({k: v for k, v in old.state_dict().items() if k not in ("b1", "b2")})
    x = torch.randn(5, 4)
    assert torch.equal(old(x), fixed(x))  # the zero bias added nothing but a parameter
    assert sum(p.numel() for p in fixed.parameters()) == sum(p.numel() for p in old.parameters()) - 1 - 4
    no_bias = GATED.replace("nn.Linear(dim, d_h)", "nn.Linear(dim, d_h, bias=False)")
    kept, _ = doubled_biases("method.py", no_bias)
    assert "t = self.w1(x) + self.b1\n" in kept  # then b1 is the only bias


def test_a_sublayer_built_and_never_used_is_removed():
    alpha = "        self.alpha = alpha\n"
    code = GATED.replace(alpha, alpha + "        self.w3 = nn.Linear(dim, dim)\n")
    new, fixes = unused_sublayers("method.py", code)
    assert "self.w3" not in new and "self.w1 = nn.Linear(dim, d_h)" in new
    assert "self.b1 = nn.Parameter" in new  # a parameter, not a sub-layer: not this fix's to judge
    assert [f.what for f in fixes] == ["method.py: `self.w3` was built and never used; removed"]
    assert unused_sublayers("method.py", new) == (new, [])
    module: dict = {}
    exec(compile(new, "method.py", "exec"), module)
    block = module["Block"](4)
    block(torch.randn(2, 4)).sum().backward()
    assert all(p.grad is not None for p in block.parameters() if p is not block.scale)


OPTIMIZER = """import torch


class Optimizer(torch.optim.Optimizer):
    def __init__(self, params, lr=0.1, beta1=0.9):
        super().__init__(params, dict(lr=lr, beta1=beta1))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                m = state.get("m", torch.zeros_like(p))
                state["m"] = beta1 * m + (1 - beta1) * p.grad
                p.add_(state["m"], alpha=-group["lr"])
"""


def test_an_optimizers_hyper_parameter_used_bare_is_read_from_its_param_group():
    new, fixes = group_values_by_name("method.py", OPTIMIZER)
    assert 'for group in self.param_groups:\n            beta1 = group["beta1"]\n' in new
    assert [f.what for f in fixes] == ["method.py: beta1 read from each param group in `step`"]
    assert group_values_by_name("method.py", new) == (new, [])
    module: dict = {}
    exec(compile(new, "method.py", "exec"), module)
    w = torch.nn.Parameter(torch.tensor([3.0]))
    opt = module["Optimizer"]([w], beta1=0.5)
    for _ in range(50):
        opt.zero_grad()
        (w**2).sum().backward()
        opt.step()
    assert abs(float(w.detach())) < 0.5  # it runs, and minimises


def test_the_nll_of_raw_logits_becomes_cross_entropy():
    code = (
        "import torch\nfrom torch.nn import functional as F\n\n\n"
        "def loss(features, logits, labels, lam=0.5):\n"
        "    softmax = F.nll_loss(logits, labels)\n"
        "    return softmax + lam * features.pow(2).sum(1).mean()\n\n\n"
        "def already(logits, labels):\n"
        "    logits = F.log_softmax(logits, dim=1)\n"
        "    return F.nll_loss(logits, labels)\n"
    )
    new, fixes = nll_of_logits("method.py", code)
    assert [f.what for f in fixes] == [
        "method.py:6: `nll_loss` of raw `logits` (it reads log-probabilities) is `cross_entropy`"
    ]
    assert "softmax = F.cross_entropy(logits, labels)" in new and "return F.nll_loss(logits, labels)" in new
    scope: dict = {}
    exec(compile(new, "method.py", "exec"), scope)
    torch.manual_seed(0)
    logits, labels, features = torch.randn(8, 4) * 5, torch.randint(0, 4, (8,)), torch.zeros(8, 3)
    want = torch.nn.functional.cross_entropy(logits, labels)
    assert torch.allclose(scope["loss"](features, logits, labels), want)
    assert torch.allclose(scope["already"](logits, labels), want)  # a log-softmax first is kept
    assert nll_of_logits("method.py", new)[1] == []


def test_every_deterministic_fix_in_one_pass():
    files = {
        "method.py": "import torchvision\nfrom torch import nn\n\n\nclass Norm(nn.Module):\n"
        "    def __init__(self, num_channels, eps):\n        super().__init__()\n        self.eps = eps\n",
    }
    fixes = deterministic_fixes(files, ("method.py", "Norm", 1), {})
    assert "torchvision" not in files["method.py"] and "eps = 1e-05" in files["method.py"]
    assert len(fixes) == 2


FAILING = """import torch


class Block:
    def __init__(self, dim: int = 4):
        self.dim = dim

    def forward(self, x):
        h = x.reshape(self.dim, -1, 3)
        return h.sum()


def helper():
    return 1
"""
TRACEBACK = """Traceback (most recent call last):
  File "/work/tests/test_contract.py", line 12, in test_shape
    y = make()(x)
  File "/work/method.py", line 9, in forward
    h = x.reshape(self.dim, -1, 3)
RuntimeError: shape '[4, -1, 3]' is invalid for input of size 10
"""


def test_the_failing_method_is_found_from_the_traceback_and_the_fix_spliced_in_place():
    unit = failing_unit(FAILING, "method.py", TRACEBACK)
    assert unit is not None and unit.qualname == "Block.forward" and (unit.start, unit.end) == (8, 10)
    reply = "Here:\n```python\ndef forward(self, x):\n    return x.sum()\n```"
    new, why = splice(FAILING, unit, reply)
    assert why == "" and new is not None
    assert "    def forward(self, x):\n        return x.sum()\n\n\ndef helper():" in new
    assert "def __init__(self, dim: int = 4):" in new  # the rest is untouched
    # A reply without the function, or one that does not parse, is rejected with its reason.
    assert splice(FAILING, unit, "```python\ndef other():\n    pass\n```") == (
        None,
        "the reply has no `def forward`",
    )
    assert splice(FAILING, unit, "```python\ndef forward(self:\n```")[1].startswith(
        "the reply does not parse"
    )
    # An error at module level points at no function: the whole file is repaired.
    assert failing_unit(FAILING, "method.py", 'File "/work/method.py", line 1, in <module>') is None


def test_a_block_that_creates_itself_is_named_as_a_recursion_in_the_repair_ask():
    code = (
        "from torch import nn\n\n\nclass Block(nn.Module):\n    def __init__(self, dim):\n"
        "        super().__init__()\n        self.blocks = nn.Sequential(*[Block(dim) for _ in range(3)])\n"
    )
    error = (
        'File "/workspace/method.py", line 7, in __init__\n'
        "    self.blocks = nn.Sequential(*[Block(dim) for _ in range(3)])\n"
        "RecursionError: maximum recursion depth exceeded"
    )
    unit = failing_unit(code, "method.py", error)
    assert unit is not None and unit.qualname == "Block.__init__"
    ask = unit_ask("method.py", unit, error, "", "", code)
    assert "Line 7 of method.py" in ask and "`Block` creates a `Block` inside itself" in ask
    # A method that builds other classes gets no such line.
    other = code.replace("[Block(dim)", "[nn.Linear(dim, dim)")
    assert "inside itself" not in unit_ask("method.py", unit, error, "", "", other)


def test_a_matrix_shape_error_is_explained_as_the_axis_a_linear_reads():
    from smolab.reproduce.repair import explain_shapes, failed_before
    from smolab.reproduce.verify import Failure, Verification

    error = "RuntimeError: mat1 and mat2 shapes cannot be multiplied (49152x12 and 64x4)"
    line = explain_shapes(error)
    assert "maps 64 features to 4, but its input's last axis has 12" in line
    assert "x.mean(dim=(2, 3))" in line
    assert explain_shapes("RuntimeError: mat1 and mat2 shapes cannot be multiplied (8x64 and 64x4)") == ""
    assert explain_shapes("ValueError: bad") == ""
    # A fresh attempt is told the same.
    v = Verification(checks=[], failures=[Failure(check="main", file="method.py", error=error)])
    assert "maps 64 features to 4" in failed_before(v, "method.py")


@pytest.fixture
def paper(tmp_path: Path) -> Path:
    path = tmp_path / "paper.tex"
    path.write_text(PAPER_TEX)
    return path


def test_a_round_that_fixes_nothing_ends_the_repair_and_rejections_are_recorded(paper, tmp_path):
    out = tmp_path / "repo"
    author = Author(contribution="activation", method=STAND_IN, repaired_method=STAND_IN)
    summary = reproduce(str(paper), out, author_model(author), options=Options(repair_rounds=3))
    assert not summary["ok"]
    assert summary["repair_rounds"] == 1, "a second round was tried after one that fixed nothing"
    record = json.loads((out / ".smolab" / "steps" / "repair__1.json").read_text())["result"]
    assert record["repaired"] == []
    assert record["rejected"] and record["rejected"][0]["reason"] == "the reply is the same code"
    assert author.asked.count("repair:method.py") == 2  # asked once more, told it changed nothing
    verify = json.loads((out / ".smolab" / "steps" / "verify__1.json").read_text())["result"]
    assert verify["fixed"] == []


def test_a_round_that_leaves_the_repository_worse_is_undone(paper, tmp_path):
    out = tmp_path / "repo"
    worse = STAND_IN + "\nraise RuntimeError('broken at import')\n"
    author = Author(contribution="activation", method=STAND_IN, repaired_method=worse)
    summary = reproduce(str(paper), out, author_model(author), options=Options(repair_rounds=3))
    verifies = [
        json.loads((out / ".smolab" / "steps" / f"verify__{r}.json").read_text())["result"] for r in (0, 1)
    ]
    assert verifies[1]["undone"] and verifies[1]["fixed"] == []  # the worse round is recorded as undone
    assert verifies[1]["checks"] == verifies[0]["checks"] and summary["repair_rounds"] == 1
    assert (out / "method.py").read_text() == STAND_IN  # the files went back


def test_when_repair_leaves_the_method_failing_a_fresh_one_told_what_failed_replaces_it(paper, tmp_path):
    out = tmp_path / "repo"
    good = (Path(__file__).parent / "methods" / "activation.py").read_text()
    # Repair changes nothing; the first fresh draw is no better (not kept), the second passes.
    author = Author(contribution="activation", method=STAND_IN, fresh_methods=[STAND_IN, good])
    model = author_model(author)
    summary = reproduce(str(paper), out, model, options=Options(repair_rounds=1, fresh_attempts=2))
    assert summary["runs"], summary["checks"]
    assert summary["fresh"] == {"sampled": 2, "kept": 1}
    assert (out / "method.py").read_text().strip() == good.strip()
    fresh = [
        (msgs[-1].content, params)
        for msgs, params in model.backend.history
        if "Implement the paper's method" in msgs[-1].content
    ][1:]
    assert len(fresh) == 2 and all(params.temperature > 0 for _, params in fresh)
    assert "A first version of method.py failed these checks" in fresh[0][0]
    assert "test_fidelity" in fresh[0][0] or "test_contract" in fresh[0][0]
    record = json.loads((out / ".smolab" / "steps" / "fresh__1.json").read_text())["result"]
    assert record["kept"] is False and "tried" in record
    assert "2 fresh version(s) were sampled" in (out / "REPORT.md").read_text()


def test_a_test_failure_reaches_the_model_as_the_test_and_what_was_raised():
    error = (
        "tests.test_contract::test_it_trains\ntests/test_contract.py:27: \n_ _ _ _ _ _ _ _\n\n"
        "/venv/lib/python3.11/site-packages/torch/autograd/graph.py:979: in backward\n"
        "    return Variable._execution_engine.run_backward(\n"
        "E       RuntimeError: element 0 of tensors does not require grad\n_ _ _ _ _ _ _ _\n"
        "tests/test_contract.py:27: RuntimeError"
    )
    short = condense(error)
    assert "run_backward" not in short and "E       RuntimeError: element 0" in short
    assert short.startswith("tests.test_contract::test_it_trains") and condense("plain") == "plain"
    source = {
        "tests/test_contract.py": "import torch\n\n\n"
        "def test_it_trains():\n    loss = f()\n    loss.backward()\n"
    }
    assert failing_tests(error, source.get) == "def test_it_trains():\n    loss = f()\n    loss.backward()"
    assert failing_tests("tests.test_other::test_x failed", source.get) == ""


def test_unit_repair_fixes_a_failing_method_in_a_blueprint(paper, tmp_path):
    broken = (Path(__file__).parent / "methods" / "activation.py").read_text()
    broken = broken.replace(
        "return x * torch.sigmoid(self.beta * x)", "return x * torch.sigmoid(self.beta * x.view(-1, 3))"
    )
    fixed = "def forward(self, x):\n    return x * torch.sigmoid(self.beta * x)\n"
    unchanged = "def forward(self, x):\n    return x * torch.sigmoid(self.beta * x.view(-1, 3))\n"
    # The first reply changes nothing: the unit is asked once more, told so, before giving up.
    author = Author(
        contribution="activation", method=broken, unit_fixes={"Activation.forward": [unchanged, fixed]}
    )
    out = tmp_path / "repo"
    model = author_model(author)
    summary = reproduce(str(paper), out, model, options=Options(repair_rounds=2))
    assert author.asked.count("repair-unit:Activation.forward") == 2
    first, second = [
        (msgs[-1].content, params)
        for msgs, params in model.backend.history
        if "so the error goes away" in msgs[-1].content
    ]
    # The failing line and what it raised, on one line, before the code.
    assert re.search(r"Line \d+ of method.py, `return x \* torch.sigmoid\(self.beta \* x.view\(-1, 3\)\)`, "
                     r"raises RuntimeError: shape", first[0])  # fmt: skip
    assert "returned this code unchanged" in second[0] and second[1].temperature > 0
    assert summary["runs"], summary["checks"]
    record = json.loads((out / ".smolab" / "steps" / "repair__1.json").read_text())["result"]
    assert [r["target"] for r in record["repaired"]] == ["method.py: Activation.forward"]
    verify = json.loads((out / ".smolab" / "steps" / "verify__1.json").read_text())["result"]
    assert verify["fixed"]


def test_the_report_names_the_error_not_the_library_frame_it_was_raised_in():
    raised = (
        "method.py:22: in forward\n    s = self.excitation(z)\n"
        "    def forward(self, input):\n>       return F.linear(input, self.weight, self.bias)\n"
        "E       RuntimeError: mat1 and mat2 shapes cannot be multiplied (96x6 and 4x64)\n\n"
        "/venv/lib/python3.11/site-packages/torch/nn/modules/linear.py:134: RuntimeError"
    )
    assert error_line(raised) == "RuntimeError: mat1 and mat2 shapes cannot be multiplied (96x6 and 4x64)"
    unpicked = "E   AssertionError: largest difference 0.5\nE   assert False\ntest_fidelity.py:19: Assert"
    assert error_line(unpicked) == "AssertionError: largest difference 0.5"
    assert error_line("NameError: name 'eps' is not defined\n") == "NameError: name 'eps' is not defined"


CALLER_BUG = """import torch
from torch import nn


class Block(nn.Module):
    def __init__(self, dim: int):
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        return x + self.proj(self.norm(x))


class Model(nn.Module):
    def __init__(self, in_channels: int, num_classes: int, width: int = 24):
        super().__init__()
        self.embed = nn.Linear(in_channels, width)
        self.block = Block(width)
        self.head = nn.Linear(width, num_classes)

    def forward(self, x):
        h = self.embed(x)
        return self.head(self.block(x))
"""


def test_an_error_raised_in_a_callee_that_comes_back_unchanged_is_taken_to_its_caller(paper, tmp_path):
    """An invented network hands its block the raw input instead of the embedded one: the error
    is raised in ``Block.forward``, which is right; asked twice, the model returns it unchanged,
    so the caller is asked, told where the call is."""
    block = "def forward(self, x):\n    return x + self.proj(self.norm(x))\n"
    fixed = "def forward(self, x):\n    h = self.embed(x)\n    return self.head(self.block(h))\n"
    author = Author(
        contribution="architecture",
        method=CALLER_BUG,
        unit_fixes={"Block.forward": block, "Model.forward": fixed},
    )
    out = tmp_path / "repo"
    model = author_model(author)
    summary = reproduce(str(paper), out, model, options=Options(repair_rounds=1, fresh_attempts=0))
    assert author.asked.count("repair-unit:Block.forward") == 2
    assert author.asked.count("repair-unit:Model.forward") == 1
    caller_ask = next(
        msgs[-1].content for msgs, _ in model.backend.history if "Fix `Model.forward`" in msgs[-1].content
    )
    assert "It is raised inside `Block.forward`, which `Model.forward` calls, at line" in caller_ask
    assert "`return self.head(self.block(x))`" in caller_ask
    record = json.loads((out / ".smolab" / "steps" / "repair__1.json").read_text())["result"]
    assert record["repaired"][0]["target"] == "method.py: Model.forward (the caller of Block.forward)"
    assert summary["runs"], summary["checks"]


def test_a_linear_map_without_the_bias_the_paper_adds_gets_it():
    from smolab.reproduce.fixes import stated_biases

    code = (
        "import torch\nfrom torch import nn\n\n\nclass Block(nn.Module):\n"
        "    def __init__(self, dim):\n"
        "        super().__init__()\n"
        "        self.w1 = nn.Linear(dim, 2 * dim, bias=False)\n"
        "        self.w2 = nn.Linear(2 * dim, dim, bias=False)\n\n"
        "    def forward(self, x):\n"
        "        return self.w2(torch.tanh(self.w1(x)))\n"
    )
    fixed, fixes = stated_biases("method.py", code)
    assert "nn.Linear(dim, 2 * dim, bias=True)" in fixed and "nn.Linear(2 * dim, dim, bias=True)" in fixed
    assert len(fixes) == 2 and "gets one" in fixes[0].what
    # A class that adds its own bias after the map already has the paper's: left alone.
    own = code.replace(
        "return self.w2(torch.tanh(self.w1(x)))", "return self.w2(torch.tanh(self.w1(x) + self.b1))"
    )
    assert stated_biases("method.py", own) == (own, [])
