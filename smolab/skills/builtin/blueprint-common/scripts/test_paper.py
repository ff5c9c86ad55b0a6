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


# Calls that apply a weight matrix: the weight is the call's nn.Parameter operand.
LINEAR = {"linear", "matmul", "mm", "bmm", "__matmul__", "__rmatmul__", "einsum"}
LINEAR |= {"conv1d", "conv2d", "conv3d"}


def _chain(calls):
    """The calls from the paper's first operation to the add that puts the chain's input back
    (the first block's, inside a network), or None where the method never adds it back; where
    the paper's steps add nothing back, the block's whole forward pass."""
    if PAPER.get("whole"):
        return calls
    names = [name for name, _ in calls]
    op = PAPER["operations"][0]
    starts = [i for alt in op["ops"] if (i := first(names, alt)) is not None]
    if not starts:
        return None
    start = min(starts)
    anchor = calls[start][1][0] if calls[start][1] else None
    for end in range(start, len(calls)):
        name, ts = calls[end]
        if name in ADD and any(t is anchor for t in ts):
            return calls[start : end + 1]
    return None


def traced_chain():
    """The traced calls of the paper's chain; the test is skipped where the method has none."""
    _, calls = traced()
    chain = _chain(calls)
    if chain is None:
        pytest.skip("the chain's input is never added back (test_adds_its_input_back says so)")
    return chain


def _weights(chain):
    """(weight, whether a bias is added, the call) per call that applies a learned matrix."""
    applied = []
    for i, (name, ts) in enumerate(chain):
        weights = [t for t in ts if isinstance(t, torch.nn.Parameter) and t.dim() >= 2]
        if name not in LINEAR or not weights:
            continue
        bias = any(isinstance(t, torch.nn.Parameter) and t.dim() == 1 for t in ts)
        after = chain[i + 1] if i + 1 < len(chain) else ("", [])
        bias = bias or (after[0] in ADD and any(isinstance(t, torch.nn.Parameter) for t in after[1]))
        applied.append((weights[0], bias, name))
    return applied


WHOLE_NETWORK = pytest.mark.skipif(
    bool(PAPER.get("whole")) and PAPER.get("level") != "block",
    reason="without a residual to bound it, a network's stem and head are not told apart from the block",
)


@pytest.mark.skipif(not PAPER.get("linear"), reason="the paper's steps apply no weight matrix in the block")
@WHOLE_NETWORK
def test_applies_the_papers_linear_maps_each_with_its_own_weights():
    chain = traced_chain()
    maps = PAPER["linear"]
    applied = [(w, bias) for w, bias, _ in _weights(chain)]
    want = sorted(sum(m["weight"] == w for m in maps) for w in dict.fromkeys(m["weight"] for m in maps))
    uses = {}
    for w, _ in applied:
        uses[id(w)] = uses.get(id(w), 0) + 1
    got = sorted(uses.values())
    if PAPER.get("whole"):
        stretch = "in the block's forward pass"
    else:
        stretch = f"between {PAPER['operations'][0]['name']} and `{PAPER['residual']}`"
    said = ", ".join(f"{m['weight']} in `{m['step']}`" for m in maps)
    assert got == want, (
        f"the paper's steps apply {len(maps)} linear maps {stretch} ({said}), each of its own weights; "
        f"method.py applies {len(applied)} there with {len(uses)} weight matrices, used "
        f"{' and '.join(str(n) for n in sorted(uses.values()))} times"
    )
    if PAPER.get("chain"):
        # The order of the maps among the named operations (W_1 before GELU, W_2 after it).
        ops = {n: op["name"] for op in PAPER["operations"] for alt in op["ops"] for n in alt}
        weights = {m["weight"] for m in maps}
        order = []
        for name, ts in chain:
            is_map = name in LINEAR and any(isinstance(t, torch.nn.Parameter) and t.dim() >= 2 for t in ts)
            token = "a linear map" if is_map else ops.get(name)
            if token and not (order and token == order[-1] and token != "a linear map"):
                order.append(token)
        want_order = ["a linear map" if t in weights else t for t in PAPER["chain"]]
        said_order = " → ".join(PAPER["chain"])
        assert order == want_order, (
            f"the paper's steps apply {said_order}; method.py applies {' → '.join(order)} there"
        )
    biased = [m for m in maps if m["bias"]]
    missing = len(biased) - sum(b for _, b in applied)
    assert missing <= 0, (
        "the paper adds a bias to "
        + ", ".join(f"{m['weight']} ({m['bias']} in `{m['step']}`)" for m in biased)
        + f", but {missing} of method.py's linear maps there add none"
    )


# A Linear's weight is (output, input); a matmul's orientation is not known, so the size need
# only be one of its two; a convolution's kernel is sized in space as often as in channels
# (``W ∈ ℝ^{k × k}``), so it is not held to a 2-D size at all.
CONVOLUTION = {"conv1d", "conv2d", "conv3d"}


@pytest.mark.skipif(
    not any(m.get("shape") for m in PAPER.get("linear", [])), reason="the paper states no size in numbers"
)
@WHOLE_NETWORK
def test_weight_matrices_have_the_sizes_the_paper_states():
    chain = traced_chain()
    used = {}  # each weight matrix once, in the order the method first applies it
    for w, _, call in _weights(chain):
        used.setdefault(id(w), (w, call))
    names = list(dict.fromkeys(m["weight"] for m in PAPER["linear"]))
    if len(used) != len(names):
        pytest.skip("method.py's maps are not the paper's one to one (the test of the maps says how)")
    paper = {m["weight"]: m for m in PAPER["linear"]}
    wrong = []
    for (w, call), name in zip(used.values(), names, strict=True):
        m = paper[name]
        if call in CONVOLUTION:
            continue
        out_in = (w.shape[0], w.shape[1]) if call == "linear" else (None, None)
        for want, got, side in ((m.get("rows"), out_in[0], "output"), (m.get("cols"), out_in[1], "input")):
            if want is None or (got == want if got is not None else want in tuple(w.shape)):
                continue
            has = got if got is not None else " × ".join(str(n) for n in w.shape)
            wrong.append(f"{name} has {want} {side} features ({m['shape']}), method.py's has {has}")
    assert not wrong, "the paper states the sizes of its weight matrices: " + "; ".join(wrong)


def test_is_deterministic_in_evaluation_mode():
    """A block or network gives the same output for the same input once trained: dropout and
    noise belong to training (``F.dropout(h, p)`` without ``training=self.training`` is on in
    evaluation too)."""
    torch.manual_seed(0)
    module, inputs = probe()
    module.eval()
    with torch.no_grad():
        first, second = module(*inputs), module(*inputs)
    gap = float((first - second).abs().max())
    assert gap == 0, (
        f"method.py's output changes between two calls in evaluation mode (by up to {gap:.3g}): "
        "dropout or noise is applied outside training; use nn.Dropout, or pass training=self.training"
    )
