"""The verdict of a run: does the code run, and is it the paper's method? Two questions, kept
apart, because a generic stand-in (a plain MLP for a gated residual block) runs and passes
every contract test. A run succeeds only when both answers are yes: the repository runs (it
parses, imports, its contract tests and ``main.py --smoke`` pass) **and** the method was checked
against the paper (a numerical reference written from the equations, the paper's own statements
about its method) and agreed. Anything else is exit 3 with a headline that says which is missing.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from .verify import Failure, Verification

FIDELITY_TEST = "tests/test_fidelity.py"
PAPER_TEST = "tests/test_paper.py"
PAPER_TESTS = {FIDELITY_TEST: "a reference written from its equations", PAPER_TEST: "the paper's statements"}
Method = Literal["agrees", "disagrees", "not checked"]


def _module(name: str) -> str:
    return name.removesuffix(".py").replace("/", ".")


def is_paper_failure(f: Failure, tests: Collection[str] = tuple(PAPER_TESTS)) -> bool:
    """A failure of a check against the paper (of one of ``tests``), not of the code's own
    contract: its test id (``tests.test_paper::test_...``, the module as JUnit names it) or, for
    an error collecting the module, the file it points at."""
    if f.check != "tests":
        return False
    ident = f.error.strip().split("\n", 1)[0].split("::", 1)[0].strip()
    if "::" in f.error.split("\n", 1)[0]:
        return _module(ident) in {_module(t) for t in tests}
    return f.file in tests


def error_line(error: str) -> str:
    """The line that says what went wrong: pytest's first ``E`` line (the exception and its
    message; the lines after it unpick the assertion) rather than the path of the library
    frame it was raised in."""
    rows = [ln for ln in error.splitlines() if ln.strip()]
    raised = [ln[1:].strip() for ln in rows if ln.startswith("E ")]
    return raised[0] if raised else (rows[-1] if rows else "")


def said(error: str) -> str:
    """What a failed check says, without the assertion's type."""
    return error_line(error).removeprefix("AssertionError: ").strip()


@dataclass(frozen=True)
class Verdict:
    runs: bool
    method: Method
    why: str
    """Why the method is not "agrees" (or, when it does, what it was checked with)."""
    why_not_run: str = ""

    @property
    def ok(self) -> bool:
        return self.runs and self.method == "agrees"

    def headline(self) -> str:
        method = {
            "agrees": f"the method agrees with the paper ({self.why})",
            "disagrees": f"the method disagrees with the paper: {self.why}",
            "not checked": f"the method was not checked against the paper: {self.why}",
        }[self.method]
        if self.runs:
            return f"Runs, and {method}." if self.ok else f"Runs; {method}."
        return f"Does not run ({self.why_not_run}); {method}."

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok, "headline": self.headline()}


def judge(root: Path, last: Verification, unchecked_because: str) -> Verdict:
    """The verdict on the repository in ``root`` after its last verification.

    ``unchecked_because`` says why no check against the paper exists, for when none does."""
    contract = [f for f in last.failures if not is_paper_failure(f)]
    broken = [c for c in last.checks if not c.ok and c.name != "tests"]
    ran = last.tests_total > 0
    runs = not broken and not contract and ran
    why_not_run = ""
    if not runs:
        if broken:
            why_not_run = f"{broken[0].name}: {broken[0].detail}"[:200]
        elif contract:
            why_not_run = f"{contract[0].check}: {said(contract[0].error)}"[:200]
        else:
            why_not_run = "its tests did not run"
    present = [name for name in PAPER_TESTS if (root / name).is_file()]
    if not present:
        return Verdict(runs, "not checked", unchecked_because, why_not_run)
    failed = [f for f in last.failures if is_paper_failure(f)]
    disagreed = [f for f in failed if "AssertionError" in f.error]
    if disagreed:
        return Verdict(runs, "disagrees", said(disagreed[0].error)[:240], why_not_run)
    if failed:
        return Verdict(runs, "not checked", f"the check crashed: {said(failed[0].error)[:200]}", why_not_run)
    # Agreement needs a check that ran and passed: a paper test that was skipped or never
    # collected agrees with nothing.
    passed = {_module(t.split("::", 1)[0]) for t in last.passed_tests}
    present = [name for name in present if _module(name) in passed]
    if not ran or not present:
        return Verdict(runs, "not checked", "the checks against the paper did not run", why_not_run)
    with_what = " and ".join(PAPER_TESTS[name] for name in present)
    return Verdict(runs, "agrees", f"checked against {with_what}", why_not_run)
