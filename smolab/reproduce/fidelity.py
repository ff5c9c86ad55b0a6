"""What the fidelity test's outcome says: the method against a reference written separately from
the paper's equations (``tests/test_fidelity.py``), read off a verification."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..paper.digest import Digest
from .verdict import FIDELITY_TEST
from .verify import Verification

REFERENCE = "reference.py"


def reference_crash(last: Verification) -> str:
    """The first failure raised inside reference.py (not the comparison's assertion), else "".
    A fidelity test that raised something other than its assertion while no contract test failed
    counts too: the method builds and runs, so the reference crashed (inside torch, often, as in
    ``block.b1`` on a block that has no such attribute)."""
    for f in last.failures:
        if f.file == REFERENCE:
            head = f.error.strip().splitlines()
            return head[-1][:200] if head else "it crashed"
    tests = [f for f in last.failures if f.check == "tests"]
    fidelity = [f for f in tests if "test_fidelity" in f.error.split("\n", 1)[0]]
    if fidelity and len(fidelity) == len(tests) and not any(f.check == "main" for f in last.failures):
        lines = fidelity[0].error.strip().splitlines()
        said = [ln[1:].strip() for ln in lines if ln.startswith("E ")] or lines[-1:]
        raised = re.search(r"\b(\w+(?:Error|Exception))\b", said[0]) if said else None
        if raised and raised.group(1) != "AssertionError":
            return said[0][:200]
    return ""


def fidelity_failed(v: Verification) -> bool:
    """Whether the method disagreed with the reference (or the comparison could not run)."""
    return any(f.check == "tests" and "test_fidelity" in f.error.split("\n", 1)[0] for f in v.failures)


def disagreed(v: Verification) -> bool:
    """Whether the method ran and disagreed with the reference (the comparison's assertion, not
    a crash on either side)."""
    return any(
        f.check == "tests" and "test_fidelity" in f.error.split("\n", 1)[0] and "AssertionError" in f.error
        for f in v.failures
    )


def fidelity_result(
    root: Path, last: Verification, digest: Digest, dropped: str = "", agreed: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Whether the method matched the reference written from the equations, for the report."""
    equations = list(digest.equations)
    if not (root / FIDELITY_TEST).is_file():
        why = (
            f"the reference written from the equations still crashed after repair ({dropped}), so it "
            "was removed"
            if dropped
            else "this kind of contribution has no numerical reference test, or the reference "
            "written from the equations did not parse"
        )
        line = f"Fidelity: not checked ({why})."
        return {"status": "not checked", "equations": [], "line": line, "dropped": dropped}
    failed = fidelity_failed(last)
    ran = last.tests_total > 0 and not any(
        f.check == "tests" and "tests did not run" in f.error for f in last.failures
    )
    status = "fail" if failed else "pass" if ran else "not run"
    listed = "; ".join(f"`{e}`" for e in equations[:6]) or "the method text (no equations were extracted)"
    line = (
        f"Fidelity: {status}. `tests/test_fidelity.py` compares `method.py` numerically with "
        f"`reference.py`, written by the model in a separate call that never saw the method's forward "
        f"pass, from these equations: {listed}."
    )
    if agreed and agreed.get("of", 0) > 1:
        line += (
            f" The first reference disagreed, so {agreed['of'] - 1} more were sampled: the method agreed "
            f"with {agreed['agreed']} of the {agreed['of']}"
            + (", and the first it agreed with is `reference.py`." if agreed["agreed"] else ".")
        )
    return {"status": status, "equations": equations, "line": line, "agreement": agreed or {}}
