"""Per-file analysis and code generation, and the repository's fixed parts (README, tests).

A coding prompt holds the shared preamble (digest and plan), that file's analysis,
and the *interfaces* of the files already written, never their whole text and
never the whole paper, so it stays small however long the paper and the repository.
"""

from __future__ import annotations

from ..paper.digest import UNKNOWN, Digest
from ..stack import stack_line
from .schemas import Architecture, OverallPlan


def rules() -> str:
    return (
        "Rules: complete, working code with no placeholders or TODOs; import only the standard "
        f"library and these installed packages: {stack_line()}; import this repository's modules by "
        "file name (for example `from model import Transformer`); keep it short and readable."
    )


MAIN_RULES = (
    "main.py loads config.yaml with yaml.safe_load; with --smoke it overrides the top-level values "
    "with the ones under `smoke:`, builds random synthetic data of those tiny sizes, runs "
    "train_steps training steps on the CPU and prints the loss; it also accepts --config PATH. "
    'Guard the entry point with `if __name__ == "__main__":`.'
)

TEST_FILE = "tests/test_method.py"

TEST_RULES = (
    "Write pytest tests for this repository: build its main classes with tiny sizes (as under "
    "`smoke:` in config.yaml), check output shapes on random tensors, and check that one "
    "training step runs and gives a finite loss. Import modules by name; the repository root is "
    "on sys.path. Each test takes well under a second on a CPU."
)


def analysis_ask(name: str, purpose: str, logic: str) -> str:
    return (
        f"File {name}: {purpose}\nLogic from the plan: {logic}\n\n"
        f"Write the detailed design of {name}: each class and function with its signature, what it "
        "computes (with the paper's equations and tensor shapes), the config values it reads, and "
        "what it returns. Plain text, at most 150 words."
    )


def code_ask(name: str, analysis: str, interfaces: str, config_keys: list[str]) -> str:
    parts = []
    if interfaces:
        parts.append(f"Files already written (their interfaces):\n{interfaces}")
    parts.append(f"config.yaml keys: {', '.join(config_keys)}")
    parts.append(f"Design of {name}:\n{analysis}")
    extra = " " + MAIN_RULES if name == "main.py" else ""
    parts.append(
        f"Write the complete file {name}. {rules()}{extra} Reply with the code in one ```python block."
    )
    return "\n\n".join(parts)


def test_ask(interfaces: str, config_keys: list[str]) -> str:
    return (
        f"Files of the repository (their interfaces):\n{interfaces}\n\n"
        f"config.yaml keys: {', '.join(config_keys)}\n\n"
        f"Write {TEST_FILE}. {TEST_RULES} Reply with the code in one ```python block."
    )


CONFTEST = '''"""Puts the repository root on sys.path, so tests import its modules by name."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
'''


def smoke_tests(modules: list[str]) -> str:
    """Tests every generated repository gets: each module imports, and main.py runs on tiny data."""
    names = ", ".join(repr(m.removesuffix(".py")) for m in modules if m != "main.py")
    return f'''"""Smoke tests: every module imports, and main.py runs end to end on tiny synthetic data."""

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", [{names}])
def test_module_imports(name):
    importlib.import_module(name)


def test_main_runs_a_few_steps_on_tiny_data():
    run = subprocess.run(
        [sys.executable, "main.py", "--smoke"], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert run.returncode == 0, run.stderr[-3000:]
'''


def readme(
    title: str,
    plan: OverallPlan,
    arch: Architecture,
    digest: Digest,
    model: str,
) -> str:
    files = "\n".join(f"- `{f.name}`: {f.purpose}" for f in arch.files)
    unknown = [h.name for h in digest.hyperparameters if h.value == UNKNOWN]
    unverified = [
        f"{h.name} = {h.value}" for h in digest.hyperparameters if h.value != UNKNOWN and not h.verified
    ]
    unclear = [*digest.unclear]
    if unknown:
        unclear.append("not stated by the paper, left as null in config.yaml: " + ", ".join(unknown))
    if unverified:
        unclear.append("values not found in the paper's text (check them): " + "; ".join(unverified))
    components = "\n".join(f"- {c}" for c in plan.components)
    notes = "\n".join(f"- {u}" for u in unclear) or "- nothing noted"
    return f"""# {title or "Paper implementation"}

{plan.summary}

Written by smolab with `{model}` from the paper; see REPORT.md for what was checked
and whether it passed.

## What is implemented

{components}

Training: {plan.training}

## Files

{files}
- `config.yaml`: the paper's hyper-parameters, and tiny sizes under `smoke:`
- `tests/`: smoke tests and tests of the method

## How to run

```bash
pip install -r requirements.txt
python main.py --smoke      # a few steps on tiny synthetic data, on a CPU
python main.py              # the paper's settings from config.yaml
python -m pytest tests      # the tests
```

## What the paper leaves unclear, and what was assumed

{notes}
"""
