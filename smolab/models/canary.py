"""A canary decode: proof that this llama.cpp build runs on this CPU, taken in a child process.

A broken build does not raise, it kills the process: llama.cpp's AMX matrix path dies with
SIGSEGV on any prompt longer than one token, a build for instructions the CPU lacks dies with
SIGILL. So before the first real call on a machine, a child process loads a small GGUF and
decodes a multi-token prompt greedily, and the parent reads its exit status and its reply. A
pass is cached per (llama-cpp-python build, CPU), so it costs once; a failure becomes one line
that names the cause and the fix.

    python -m smolab.models.canary MODEL.gguf     # the child: prints JSON lines
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from .build import cpu_flags, cpu_name
from .errors import ModelError

COUNT_TO = 60
PROMPT = ", ".join(str(i) for i in range(1, COUNT_TO + 1)) + ","
"""More than one token in one batch (what the AMX path crashes on), and a continuation any
language model gets right greedily: the next number."""
EXPECTED = str(COUNT_TO + 1)
NEW_TOKENS = 16
TIMEOUT = 180.0
FIX = (
    "run ./install.sh to rebuild llama-cpp-python for this CPU (`smolab doctor` shows what it was built for)"
)


class BrokenBuildError(ModelError):
    """The llama.cpp build in this environment crashes or computes wrong results on this CPU."""


@dataclass(frozen=True)
class CanaryResult:
    ok: bool
    reason: str = ""
    """One line when not ok: what failed and what to do."""
    crashed: bool = False
    """Not ok because the build killed the process, hung or computed garbage (not a Python error
    such as a file llama.cpp cannot load)."""
    text: str = ""
    system_info: str = ""
    prompt_tokens: int = 0
    prompt_per_second: float | None = None
    generated_per_second: float | None = None
    seconds: float = 0.0


# -- the child --------------------------------------------------------------------------------


def _emit(**fields: object) -> None:
    print(json.dumps(fields), flush=True)


def child(model: Path) -> None:
    """Load ``model``, say what the build supports (before anything can crash), then decode."""
    import llama_cpp

    info = llama_cpp.llama_print_system_info()
    _emit(system_info=info.decode(errors="replace") if isinstance(info, bytes) else str(info))
    threads = len(os.sched_getaffinity(0))
    llm = llama_cpp.Llama(
        model_path=str(model),
        n_ctx=512,
        n_batch=512,
        n_threads=threads,
        n_threads_batch=threads,
        verbose=False,
    )
    tokens = llm.tokenize(PROMPT.encode(), add_bos=True)
    start = time.perf_counter()
    first: float | None = None
    pieces = []
    for part in llm.create_completion(prompt=tokens, max_tokens=NEW_TOKENS, temperature=0.0, stream=True):
        if first is None:
            first = time.perf_counter() - start
        pieces.append(str(part["choices"][0]["text"]))  # type: ignore[index]
    total = time.perf_counter() - start
    generated = llm.n_tokens - len(tokens)
    first = first or total
    _emit(
        text="".join(pieces),
        prompt_tokens=len(tokens),
        prompt_per_second=len(tokens) / first,
        generated_per_second=(generated / (total - first)) if generated > 0 and total > first else None,
    )


# -- the parent -------------------------------------------------------------------------------


def build_identity() -> str:
    """What the canary's verdict depends on: the llama_cpp package that would be imported (its
    version and compiled libraries, by size and time) and the CPU. Nothing is imported."""
    parts = [cpu_name(), " ".join(sorted(cpu_flags()))]
    spec = importlib.util.find_spec("llama_cpp")
    if spec is None or not spec.submodule_search_locations:
        return "no llama_cpp"
    folder = Path(next(iter(spec.submodule_search_locations)))
    with contextlib.suppress(importlib.metadata.PackageNotFoundError):
        parts.append(importlib.metadata.version("llama_cpp_python"))
    for lib in sorted(folder.rglob("*.so*")) + sorted(folder.rglob("*.dylib")) + [folder / "__init__.py"]:
        with contextlib.suppress(OSError):
            st = lib.stat()
            parts.append(f"{lib.relative_to(folder)} {st.st_size} {st.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:24]


def _signal_name(code: int) -> str:
    try:
        return signal.Signals(-code).name
    except ValueError:
        return f"signal {-code}"


def _explain(code: int, info: str, stderr: str, model: Path) -> str:
    if code < 0:
        name = _signal_name(code)
        cause = ""
        if "AMX" in info and re.search(r"AMX\w* = 1", info):
            cause = "; it was built with AMX, whose matrix path crashes on this CPU (llama.cpp issue 20824)"
        elif name == "SIGILL":
            cause = "; it was built for instructions this CPU does not have"
        return f"llama.cpp crashed ({name}) on a test decode with {model.name}{cause}: {FIX}"
    last = next((ln for ln in reversed(stderr.strip().splitlines()) if ln.strip()), "no output")
    return f"llama.cpp failed a test decode with {model.name} (exit {code}: {last[:200]}): {FIX}"


def run_canary(model: Path, command: Sequence[str] | None = None, timeout: float = TIMEOUT) -> CanaryResult:
    """Decode the canary prompt with ``model`` in a child process and judge what came back.

    ``command`` replaces the child's command line (tests put a stand-in there)."""
    argv = list(command) if command else [sys.executable, "-m", "smolab.models.canary", str(model)]
    start = time.perf_counter()
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        reason = f"llama.cpp did not finish a {NEW_TOKENS}-token test decode in {timeout:.0f} s: {FIX}"
        return CanaryResult(False, reason, crashed=True)
    seconds = time.perf_counter() - start
    fields: dict[str, object] = {}
    for line in proc.stdout.splitlines():
        with contextlib.suppress(ValueError):
            if isinstance(obj := json.loads(line), dict):
                fields.update(obj)
    info = str(fields.get("system_info", ""))
    if proc.returncode != 0:
        reason = _explain(proc.returncode, info, proc.stderr, model)
        return CanaryResult(False, reason, crashed=proc.returncode < 0, system_info=info)
    text = str(fields.get("text", ""))
    if not text.lstrip(" ,").startswith(EXPECTED):
        shown = text.strip().replace("\n", " ")[:40]
        return CanaryResult(
            False,
            f"llama.cpp decoded {shown!r} where any model continues with {EXPECTED}: the build computes "
            f"wrong results on this CPU; {FIX}",
            crashed=True,
            text=text,
            system_info=info,
        )

    def number(key: str) -> float | None:
        value = fields.get(key)
        return float(value) if isinstance(value, int | float) else None

    return CanaryResult(
        True,
        text=text,
        system_info=info,
        prompt_tokens=int(number("prompt_tokens") or 0),
        prompt_per_second=number("prompt_per_second"),
        generated_per_second=number("generated_per_second"),
        seconds=seconds,
    )


class CanaryCache:
    """Passed canaries by build identity, in one JSON file (only passes are kept: a failure is
    retried, since the user may have fixed the build since)."""

    def __init__(self, path: Path):
        self.path = path

    def _read(self) -> dict[str, dict[str, object]]:
        try:
            data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def get(self, identity: str) -> CanaryResult | None:
        entry = self._read().get(identity)
        if not isinstance(entry, dict):
            return None
        with contextlib.suppress(TypeError):
            return CanaryResult(**entry)  # type: ignore[arg-type]
        return None

    def put(self, identity: str, result: CanaryResult) -> None:
        if not result.ok:
            return
        data = self._read()
        data[identity] = asdict(result)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, indent=1))
        os.replace(tmp, self.path)


class BuildCheck:
    """The model layer's preflight: before the first load of a GGUF in a process, prove the build
    runs here (once per build and CPU, remembered in ``cache``), or raise :class:`BrokenBuildError`.

    ``canary_model`` is the small GGUF to decode with (the model being loaded when None)."""

    def __init__(
        self, cache: CanaryCache, canary_model: Path | None = None, command: Sequence[str] | None = None
    ):
        self.cache = cache
        self.canary_model = canary_model
        self.command = command

    def __call__(self, model: Path) -> None:
        identity = build_identity()
        if self.cache.get(identity) is not None:
            return
        result = run_canary(self.canary_model or model, self.command)
        if result.ok:
            self.cache.put(identity, result)
        elif result.crashed or self.canary_model is not None:
            raise BrokenBuildError(result.reason)
        # Else the model under test is the one being loaded and llama.cpp refused it in Python:
        # the load that follows says why, in its own words.


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        raise SystemExit("usage: python -m smolab.models.canary MODEL.gguf")
    child(Path(args[0]))


if __name__ == "__main__":
    main()
