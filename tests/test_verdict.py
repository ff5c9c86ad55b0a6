"""The verdict keeps "runs" and "is the paper's method" apart: success only when the code runs
and the method was checked against the paper and agreed; every other case names what is missing."""

from __future__ import annotations

from pathlib import Path

from smolab.reproduce.verdict import FIDELITY_TEST, PAPER_TEST, judge
from smolab.reproduce.verify import Check, Failure, Verification

RUNS = [Check(n, True, "fine") for n in ("parse", "ruff", "imports", "main")]


PASSED = ["tests.test_contract::test_shape", "tests.test_paper::test_applies", "tests.test_fidelity::test_eq"]


def verification(
    failures: list[Failure], passed: int = 6, total: int = 6, ids: list[str] = PASSED
) -> Verification:
    tests = Check("tests", not failures, f"{passed} of {total} tests pass")
    return Verification([*RUNS, tests], failures, passed, total, ids)


def paper_failure(message: str, test: str = "tests.test_paper::test_adds_its_input_back") -> Failure:
    return Failure("tests", "tests/test_paper.py", f"{test}\nE   AssertionError: {message}\nE   assert False")


def with_files(tmp_path: Path, *names: str) -> Path:
    for name in names:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    return tmp_path


def test_runs_and_agrees_is_the_only_success(tmp_path: Path):
    v = judge(with_files(tmp_path, PAPER_TEST, FIDELITY_TEST), verification([]), "unused")
    assert v.ok and v.runs and v.method == "agrees"
    assert v.headline() == (
        "Runs, and the method agrees with the paper (checked against a reference written from its "
        "equations and the paper's statements)."
    )


def test_a_method_never_checked_is_no_success(tmp_path: Path):
    v = judge(tmp_path, verification([]), "the architecture blueprint has no numerical reference")
    assert not v.ok and v.runs and v.method == "not checked"
    assert v.headline() == (
        "Runs; the method was not checked against the paper: the architecture blueprint has no "
        "numerical reference."
    )


def test_a_disagreement_says_what_the_paper_states_and_the_code_lacks(tmp_path: Path):
    said = "the paper's step `y = x + α h` adds the input x back, but method.py's forward never adds it"
    v = judge(with_files(tmp_path, PAPER_TEST), verification([paper_failure(said)], 5, 6), "unused")
    # A paper check failing does not make the code fail to run: the two are apart.
    assert v.runs and v.method == "disagrees" and not v.ok
    assert v.headline() == f"Runs; the method disagrees with the paper: {said}."


def test_code_that_does_not_run_says_so_first(tmp_path: Path):
    broken = Verification(
        [
            *RUNS[:3],
            Check("tests", False, "3 of 6 tests pass"),
            Check("main", False, "main.py --smoke failed"),
        ],
        [Failure("tests", "method.py", "tests.test_contract::test_shape\nE   RuntimeError: shapes differ")],
        3,
        6,
        PASSED,
    )
    v = judge(with_files(tmp_path, PAPER_TEST), broken, "unused")
    assert not v.runs and v.headline().startswith("Does not run (main: main.py --smoke failed)")
    assert v.method == "agrees"  # the paper's statements held where the method ran


def test_a_paper_check_that_crashes_is_not_an_agreement(tmp_path: Path):
    crash = Failure("tests", "tests/test_paper.py", "tests/test_paper.py\nE   FileNotFoundError: paper.json")
    v = judge(with_files(tmp_path, PAPER_TEST), verification([crash], 0, 1), "unused")
    assert v.method == "not checked" and "the check crashed: FileNotFoundError: paper.json" in v.why
    reference = Failure(
        "tests",
        "reference.py",
        "tests.test_fidelity::test_the_equations\nE   NameError: name 'eps' is not defined",
    )
    v = judge(with_files(tmp_path, FIDELITY_TEST), verification([reference], 5, 6), "unused")
    assert v.runs and v.method == "not checked" and "NameError" in v.why


def test_a_paper_check_that_never_ran_is_no_agreement(tmp_path: Path):
    """Skipped, or never collected: a paper test that passed nothing agrees with nothing."""
    only_contract = ["tests.test_contract::test_shape"]
    v = judge(with_files(tmp_path, PAPER_TEST), verification([], 1, 1, only_contract), "unused")
    assert v.runs and v.method == "not checked" and "did not run" in v.why


def test_the_report_lists_the_statements_the_method_breaks_and_never_says_it_holds_to_them(tmp_path: Path):
    from smolab.reproduce.report import against_the_paper
    from smolab.reproduce.rundir import RunDir

    run = RunDir.open(tmp_path / "repo", "paper.pdf", "model", resume=False, force=False)
    with_files(run.root, PAPER_TEST)
    said = "the paper's step `t_3 = GELU(t_2)` applies GELU, but method.py never computes it"
    criteria = ["applies GELU (`t_3 = GELU(t_2)`)"]
    lines = against_the_paper(run, verification([paper_failure(said)], 5, 6), criteria)
    assert "Broken:" in lines and f"- {said}" in lines
    assert "The method holds to each of them." not in lines
    # A failing reference comparison is not one of the paper's statements.
    fidelity = Failure("tests", FIDELITY_TEST, "tests.test_fidelity::test_eq\nE   AssertionError: gap 0.3")
    lines = against_the_paper(run, verification([fidelity], 5, 6), criteria)
    assert "The method holds to each of them." in lines
