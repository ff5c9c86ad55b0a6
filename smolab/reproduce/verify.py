"""Verification: does the generated repository parse, lint clean of errors that break running,
import, pass its tests and run ``main.py --smoke``? Code runs only in the sandbox, on a
copy of the repository, with the network off."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..sandbox import Limits, ProcessSandbox, SandboxError
from ..sandbox.process import INSIDE_WORKSPACE
from .code import parse_error

# Ruff rules whose findings stop code from running: syntax errors, undefined names, misplaced
# return/yield/break and the like. Style is the author's business.
BREAKING_RULES = "E9,F63,F7,F82"
TAIL_LINES = 30


@dataclass
class Failure:
    check: str
    file: str | None
    """The repository file the error points at (the deepest frame in the repository)."""
    error: str


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class Verification:
    checks: list[Check] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    tests_passed: int = 0
    tests_total: int = 0
    passed_tests: list[str] = field(default_factory=list)
    """The ids of the tests that passed (``tests.test_paper::test_...``)."""

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Verification:
        return cls(
            checks=[Check(**c) for c in data.get("checks", [])],
            failures=[Failure(**f) for f in data.get("failures", [])],
            tests_passed=data.get("tests_passed", 0),
            tests_total=data.get("tests_total", 0),
            passed_tests=list(data.get("passed_tests", [])),
        )


def failure_key(f: Failure) -> str:
    """A failure's identity across rounds: its check, file and first line (a test's id)."""
    first = next((ln.strip() for ln in f.error.splitlines() if ln.strip()), "")
    return f"{f.check}: {f.file or '-'}: {first[:120]}"


def tail(text: str, lines: int = TAIL_LINES) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


FRAME = re.compile(r'File "([^"]+)", line (\d+)')


def blame(text: str, files: list[str]) -> str | None:
    """The repository file of the deepest traceback frame (or error location) in ``text``."""
    found = None
    for m in FRAME.finditer(text):
        path = m.group(1).removeprefix(INSIDE_WORKSPACE + "/").removeprefix("./")
        if path in files:
            found = path
    if found is None:  # pytest's short form: "tests/test_x.py:12: in test_y"
        for m in re.finditer(r"^([\w/]+\.py):\d+:", text, re.M):
            if m.group(1) in files:
                found = m.group(1)
    return found


def ruff_errors(root: Path, files: list[str]) -> list[Failure]:
    cmd = [sys.executable, "-m", "ruff", "check", "--isolated", "--no-cache", "--select", BREAKING_RULES]
    cmd += ["--output-format", "json", *files]
    try:
        run = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=120)
        found = json.loads(run.stdout or "[]")
    except (OSError, ValueError, subprocess.TimeoutExpired) as err:
        return [Failure("ruff", None, f"ruff could not run: {err}")]
    out = []
    for item in found:
        name = str(Path(item["filename"]).resolve().relative_to(root.resolve()))
        row = item.get("location", {}).get("row")
        out.append(Failure("ruff", name, f"{name}:{row}: {item['code']} {item['message']}"))
    return out


def junit_counts(xml_text: str) -> tuple[list[str], int, list[tuple[str, str]]]:
    """([passed test ids], total, [(test id, failure text)]) from a pytest JUnit XML report;
    skipped tests are in neither."""
    root = ET.fromstring(xml_text)
    passed: list[str] = []
    total = 0
    failed = []
    for case in root.iter("testcase"):
        if case.find("skipped") is not None:
            continue
        total += 1
        ident = f"{case.get('classname', '')}::{case.get('name', '')}"
        bad = case.find("failure") if case.find("failure") is not None else case.find("error")
        if bad is None:
            passed.append(ident)
        else:
            failed.append((ident, (bad.get("message") or "") + "\n" + (bad.text or "")))
    return passed, total, failed


def verify(repo: Path, files: list[str], limits: Limits | None = None) -> Verification:
    """Run every check on a copy of ``repo``; nothing in ``repo`` is touched."""
    v = Verification()
    py = [f for f in files if f.endswith(".py")]
    parse_fail = [Failure("parse", f, f"{f}: {e}") for f in py if (e := parse_error((repo / f).read_text()))]
    v.checks.append(Check("parse", not parse_fail, f"{len(py) - len(parse_fail)} of {len(py)} files parse"))
    v.failures += parse_fail
    lint = ruff_errors(repo, py)
    v.checks.append(Check("ruff", not lint, f"{len(lint)} errors that break running" if lint else "clean"))
    v.failures += lint
    lim = limits or Limits(timeout=600, cpu_seconds=1200, session_cpu_seconds=None, network=False)
    with tempfile.TemporaryDirectory(prefix="smolab-verify-") as tmp:
        work = Path(tmp)
        for f in files:
            (work / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(repo / f, work / f)
        with ProcessSandbox(work, lim) as box:
            _imports(box, py, v)
            _tests(box, py, v)
            _main(box, py, v)
    return v


def _imports(box: ProcessSandbox, py: list[str], v: Verification) -> None:
    modules = [f for f in py if "/" not in f]
    bad = 0
    for f in modules:
        r = box.run_shell(f"python -c 'import {f.removesuffix('.py')}'", timeout=120)
        if not r.ok:
            bad += 1
            text = tail(r.stderr or r.message)
            v.failures.append(Failure("imports", blame(text, py) or f, text))
    v.checks.append(Check("imports", bad == 0, f"{len(modules) - bad} of {len(modules)} modules import"))


def _tests(box: ProcessSandbox, py: list[str], v: Verification) -> None:
    if not any(f.startswith("tests/") for f in py):
        v.checks.append(Check("tests", False, "no tests"))
        return
    r = box.run_shell("python -m pytest -q -p no:cacheprovider --junitxml=.junit.xml tests", timeout=600)
    try:
        xml_text = box.get_file(".junit.xml").decode()
        ids, total, failed = junit_counts(xml_text)
    except (OSError, ET.ParseError, ValueError, SandboxError):
        ids, total, failed = [], 0, [("pytest", tail(r.stdout + "\n" + r.stderr))]
    v.tests_passed, v.tests_total, v.passed_tests = len(ids), total, ids
    passed = len(ids)
    for ident, text in failed:
        text = tail(text)
        v.failures.append(Failure("tests", blame(text, py), f"{ident}\n{text}"))
    ok = r.ok and total > 0 and passed == total
    v.checks.append(Check("tests", ok, f"{passed} of {total} tests pass" if total else "tests did not run"))


def _main(box: ProcessSandbox, py: list[str], v: Verification) -> None:
    if "main.py" not in py:
        v.checks.append(Check("main", False, "no main.py"))
        return
    r = box.run_shell("python main.py --smoke", timeout=300)
    if r.ok:
        v.checks.append(Check("main", True, f"main.py --smoke ran in {r.seconds:.1f} s"))
        return
    text = tail(r.stderr or r.stdout or r.message)
    v.failures.append(Failure("main", blame(text, py) or "main.py", text))
    v.checks.append(
        Check("main", False, f"main.py --smoke failed ({r.status}): {text.splitlines()[-1][:160]}")
    )
