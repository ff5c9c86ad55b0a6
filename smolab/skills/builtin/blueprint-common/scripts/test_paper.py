"""The method against the paper's own statements about it, in ``tests/paper.json`` (written by
smolab from the paper's equations and the sentences around them, not by a model): the operations
it applies and their order, the values the paper calls learned and where they start, the input
added back, and the identity at initialisation. The method's forward is traced with a torch
function mode; only calls made while method.py is running count."""

import json
from pathlib import Path

import pytest
import torch
from test_contract import probe
from torch.overrides import TorchFunctionMode

PAPER = json.loads(Path(__file__).with_name("paper.json").read_text())
METHOD = (Path(__file__).resolve().parents[1] / "method.py").resolve()
ADD = {"add", "__add__", "__radd__", "add_", "__iadd__"}
# Elementwise nonlinearities, as torch names the calls that compute them.
NONLINEAR = {"relu", "relu_", "gelu", "sigmoid", "tanh", "silu", "elu", "selu", "leaky_relu", "softplus"}
NONLINEAR |= {"mish", "hardswish", "hardsigmoid", "hardtanh", "relu6", "prelu", "celu", "logsigmoid"}


def _in_method() -> bool:
    import sys

    frame = sys._getframe(2)
    while frame is not None:
        if Path(frame.f_code.co_filename).resolve() == METHOD:
            return True
        frame = frame.f_back
    return False


def _tensors(values):
    for v in values:
        if isinstance(v, torch.Tensor):
            yield v
        elif isinstance(v, (list, tuple)):
            yield from _tensors(v)


class Trace(TorchFunctionMode):
    """(name, input tensors) of every torch call made from method.py, in order."""

    def __init__(self):
        super().__init__()
        self.calls = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if _in_method():
            name = getattr(func, "__name__", str(func))
            self.calls.append((name, list(_tensors([*args, *kwargs.values()]))))
        return func(*args, **kwargs)


def traced():
    torch.manual_seed(0)
    module, inputs = probe()
    module.eval()
    with torch.no_grad(), Trace() as trace:
        module(*inputs)
    return inputs, trace.calls


def first(names, alternative):
    """Where the last of ``alternative``'s operations first occurs, or None if one never does."""
    at = [names.index(n) for n in alternative if n in names]
    return max(at) if len(at) == len(alternative) else None


def called(names):
    return ", ".join(dict.fromkeys(n for n in names if not n.startswith("_"))) or "nothing"


@pytest.mark.skipif(not PAPER["operations"], reason="the paper's steps name no operation")
def test_applies_the_papers_operations_in_order():
    _, calls = traced()
    names = [name for name, _ in calls]
    placed = []
    for op in PAPER["operations"]:
        found = [i for alt in op["ops"] if (i := first(names, alt)) is not None]
        assert found, (
            f"the paper's step `{op['step']}` applies {op['name']}, but method.py never computes it "
            f"(its forward calls: {called(names)})"
        )
        placed.append((min(found), op["name"]))
    want = [op["name"] for op in PAPER["operations"]]
    got = [name for _, name in sorted(placed)]
    assert got == want, f"the paper applies {' then '.join(want)}; method.py applies {' then '.join(got)}"


PAPERS_NONLINEAR = {n for op in PAPER["operations"] for alt in op["ops"] for n in alt} & NONLINEAR


@pytest.mark.skipif(not PAPERS_NONLINEAR, reason="the paper's steps apply no nonlinearity")
def test_applies_no_nonlinearity_the_paper_does_not():
    _, calls = traced()
    extra = sorted({name for name, _ in calls if name in NONLINEAR} - PAPERS_NONLINEAR)
    named = ", ".join(op["name"] for op in PAPER["operations"] if set(op["ops"][0]) & NONLINEAR)
    assert not extra, (
        f"method.py applies {', '.join(extra)}, which none of the paper's steps apply (its "
        f"nonlinearities: {named})"
    )


@pytest.mark.skipif(not PAPER["learned"], reason="the paper states no learned value's start")
def test_learned_values_start_where_the_paper_says():
    torch.manual_seed(0)
    module, inputs = probe()
    for x in PAPER["learned"]:
        start = x["start"]
        same = [
            p
            for p in module.parameters()
            if (p.numel() == 1 or not x["scalar"]) and torch.equal(p.detach(), torch.full_like(p, start))
        ]
        kind = "one-element nn.Parameter" if x["scalar"] else "nn.Parameter"
        assert same, (
            f'the paper says "{x["sentence"]}", but method.py has no {kind} that starts at {start:g}: '
            f"{x['symbol']} is missing, or not learned"
        )
        module.zero_grad()
        out = module(*inputs)
        (out if isinstance(out, torch.Tensor) else out[0]).float().sum().backward()
        assert any(p.grad is not None and bool(p.grad.ne(0).any()) for p in same), (
            f"{x['symbol']} (a parameter that starts at {start:g}) never takes part in method.py's output"
        )


@pytest.mark.skipif(not PAPER["residual"], reason="no step of the paper adds its input back")
def test_adds_its_input_back():
    inputs, calls = traced()
    anchor = inputs[0]
    if PAPER["operations"]:
        # The chain's input is what its first operation reads (a block's input inside a network).
        names = set(PAPER["operations"][0]["ops"][0])
        anchor = next((ts[0] for name, ts in calls if name in names and ts), anchor)
    assert any(name in ADD and any(t is anchor for t in ts) for name, ts in calls), (
        f"the paper's step `{PAPER['residual']}` adds the input {PAPER['input_symbol']} back, but "
        "method.py's forward never adds its input to anything"
    )


@pytest.mark.skipif(not (PAPER["identity"] and PAPER.get("level") == "block"), reason="no identity stated")
def test_is_the_identity_at_initialisation():
    torch.manual_seed(0)
    module, inputs = probe()
    module.eval()
    with torch.no_grad():
        out = module(*inputs)
    gap = float((out - inputs[0]).abs().max()) if out.shape == inputs[0].shape else float("inf")
    assert gap < 1e-5, (
        f"{PAPER['identity']}, so the method starts as the identity, but method.py's output differs "
        f"from its input by {gap:.3g} at initialisation"
    )
