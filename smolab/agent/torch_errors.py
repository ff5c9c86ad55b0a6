"""What torch's commonest errors mean in the code's terms: data read with numpy or csv meets a
model that wants float32 tensors of given shapes, and the raw message ("linear(): argument
'input' must be Tensor", "expected scalar type Float but found Double") leads a small model to
rewrite everything but the one conversion it needs."""

from __future__ import annotations

import re

_NOTES: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"must be Tensor, not (?:numpy\.ndarray|list|float|int)"),
        "torch layers and losses take tensors: convert first, e.g. torch.tensor(a, dtype=torch.float32) "
        "for inputs and torch.tensor(labels, dtype=torch.long) for class labels",
    ),
    (
        re.compile(
            r"expected (?:scalar type|m1 and m2 to have the same dtype).*(?:Double|Float)|"
            r"found dtype Double but expected Float|must have the same dtype|"
            r"expected scalar type Float but found Double"
        ),
        "numpy arrays and Python floats become float64 tensors, and torch layers are float32: "
        "make the input float32 (torch.tensor(a, dtype=torch.float32) or x.float())",
    ),
    (
        re.compile(r"0D or 1D target tensor expected, multi-target not supported"),
        "cross_entropy takes class indices of shape (N,), dtype long: pass y.view(-1).long() "
        "(a target of shape (N, 1) is read as one target per class)",
    ),
    (
        re.compile(
            r"expected scalar type Long but found|expected target dtype to be Long|"
            r"Expected floating point type for target"
        ),
        "class-index targets for cross_entropy or nll_loss must be dtype long: y.long()",
    ),
    (
        re.compile(r"Using a target size \(torch\.Size\(\[(\d+)\]\)\) that is different to the input size"),
        "the prediction and the target differ in shape (often (N, 1) against (N,)): "
        "make them the same, e.g. pred.view(-1) or y.view(-1, 1)",
    ),
    (
        re.compile(r"element 0 of tensors does not require grad"),
        "the loss is not connected to any parameter: compute it from the model's output inside the "
        "training loop, without torch.no_grad(), .detach(), .item() or numpy in between",
    ),
]


_MATMUL = re.compile(r"mat1 and mat2 shapes cannot be multiplied \((\d+)x(\d+) and (\d+)x(\d+)\)")


def torch_error_note(error: str) -> str:
    """A line on the first known torch error in ``error``, or ""."""
    m = _MATMUL.search(error)
    if m:
        rows, last, wanted, _ = (int(g) for g in m.groups())
        return (
            f"(the layer reads {wanted} features on the input's last axis, but the input is {rows} rows "
            f"of {last}: reshape the input (N values of one feature are x.view(-1, 1)) or build the "
            f"layer with in_features={last}.)"
        )
    for pattern, note in _NOTES:
        if pattern.search(error):
            return f"({note}.)"
    return ""
