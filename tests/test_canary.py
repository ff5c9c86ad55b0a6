"""A llama.cpp build that crashes on this CPU is one line and a non-zero exit, never a segfault
in the middle of a run. The stand-ins are ``llama_cpp`` packages put first on PYTHONPATH: one
kills itself with SIGSEGV when asked to decode (as llama.cpp's AMX path does), one decodes
garbage; the real canary runs with the smallest embedded model."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from smolab.models.canary import (
    EXPECTED,
    BrokenBuildError,
    BuildCheck,
    CanaryCache,
    build_identity,
    run_canary,
)
from smolab.models.llamacpp import LlamaCppBackend
from smolab.models.loader import canary_model, store_for

from .conftest import REAL_SETTINGS, home_with_models, run_cli

STAND_IN = """import os, signal

def llama_print_system_info():
    return b"CPU : SSE3 = 1 | AVX2 = 1 | AVX512 = 1 | AMX_INT8 = 1 | REPACK = 1 | "

class Llama:
    def __init__(self, *args, **kwargs):
        self.n_tokens = 0

    def tokenize(self, text, add_bos=True):
        return list(text)

    def create_completion(self, **kwargs):
        {decode}
"""
SEGFAULT = "os.kill(os.getpid(), signal.SIGSEGV)"
GARBAGE = 'yield {"choices": [{"text": " banana banana"}]}'


def stand_in(tmp_path: Path, decode: str) -> Path:
    """A folder to put first on PYTHONPATH, holding a ``llama_cpp`` that decodes as told."""
    pkg = tmp_path / "stand-in" / "llama_cpp"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(STAND_IN.format(decode=decode))
    return pkg.parent


def with_path(folder: Path) -> dict[str, str]:
    return {"PYTHONPATH": os.pathsep.join([str(folder), os.environ.get("PYTHONPATH", "")])}


def small_model() -> Path:
    path = canary_model(store_for(REAL_SETTINGS))
    assert path is not None, "install.sh installs the smallest embedded model"
    return path


def child(folder: Path) -> list[str]:
    """The canary's own command line, run with the stand-in first on the path."""
    code = f"import sys; sys.path.insert(0, {str(folder)!r}); from smolab.models.canary import main; main()"
    return [sys.executable, "-c", code, str(small_model())]


def test_a_crashing_build_is_one_line_that_names_the_cause_and_the_fix(tmp_path: Path):
    result = run_canary(small_model(), child(stand_in(tmp_path, SEGFAULT)))
    assert not result.ok and result.crashed
    assert "llama.cpp crashed (SIGSEGV) on a test decode" in result.reason
    assert "built with AMX" in result.reason and "./install.sh" in result.reason
    assert "\n" not in result.reason


def test_a_build_that_decodes_garbage_is_refused(tmp_path: Path):
    result = run_canary(small_model(), child(stand_in(tmp_path, GARBAGE)))
    assert not result.ok and result.crashed
    assert f"'banana banana' where any model continues with {EXPECTED}" in result.reason


def test_the_check_raises_and_remembers_only_a_pass(tmp_path: Path):
    cache = CanaryCache(tmp_path / "canary.json")
    crashing = BuildCheck(cache, small_model(), command=child(stand_in(tmp_path, SEGFAULT)))
    with pytest.raises(BrokenBuildError, match="SIGSEGV"):
        crashing(small_model())
    assert not cache.path.exists()
    # The backend runs the check before loading, so the crash never reaches this process.
    backend = LlamaCppBackend(small_model(), preflight=crashing)
    with pytest.raises(BrokenBuildError):
        backend.context_window  # noqa: B018 - the load that the check guards
    assert backend._llm is None


@pytest.mark.slow
def test_the_real_canary_decodes_with_the_smallest_model_and_is_cached(tmp_path: Path):
    result = run_canary(small_model())
    assert result.ok, result.reason
    assert result.text.lstrip(" ,").startswith(EXPECTED)
    assert result.prompt_tokens > 60 and (result.prompt_per_second or 0) > 0
    assert (result.generated_per_second or 0) > 0
    assert "AVX" in result.system_info or "NEON" in result.system_info

    cache = CanaryCache(tmp_path / "canary.json")
    check = BuildCheck(cache, small_model())
    check(small_model())
    stored = json.loads(cache.path.read_text())
    assert list(stored) == [build_identity()] and stored[build_identity()]["ok"]
    # Cached: a check whose child would crash is not run again for the same build and CPU.
    BuildCheck(cache, small_model(), command=[sys.executable, "-c", "import os; os.abort()"])(small_model())


@pytest.mark.slow
def test_the_cli_ends_with_one_line_and_a_run_keeps_what_it_finished(tmp_path: Path):
    folder = stand_in(tmp_path, SEGFAULT)
    home = home_with_models(tmp_path)
    env = with_path(folder) | {"SMOLAB_CACHE": str(tmp_path / "cache"), "SMOLAB_HOME": str(home)}
    chat = run_cli("-m", "smollm2-135m", "chat", "say hi", env=env)
    lines = [ln for ln in chat.stderr.splitlines() if ln.strip()]
    assert chat.returncode == 1 and len(lines) == 1, chat.stderr
    assert lines[0].startswith("error: llama.cpp crashed (SIGSEGV)") and "Traceback" not in chat.stderr

    example = Path(__file__).resolve().parents[1] / "examples" / "gated-residual-mlp.tex"
    out = tmp_path / "run"
    run = run_cli("-m", "smollm2-135m", "reproduce", str(example), "--out", str(out), env=env)
    lines = [ln for ln in run.stderr.splitlines() if ln.strip() and ln.startswith("error")]
    assert run.returncode == 1 and lines and "SIGSEGV" in lines[0], run.stderr
    assert "Traceback" not in run.stderr
    # The paper was read before the first model call; that step is kept for --resume.
    steps = {p.name for p in (out / ".smolab").rglob("*") if p.is_file()}
    assert any("read" in name for name in steps), steps
