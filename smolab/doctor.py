"""``smolab doctor``: every part smolab needs, each checked by using it, not by finding a file.

A part is ``ok``, ``warn`` (smolab works without it, with less) or ``fail`` (something the
set-up installs does not work here). Each part that is not ok carries one line saying what to
do. The llama.cpp check is the canary decode in a child process, run afresh; models are hashed
afresh; the sandbox runs a real jailed call.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

from . import __version__
from .config import Settings

State = Literal["ok", "warn", "fail"]
GiB = 1024**3
HOSTED_KEYS = ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "GEMINI_API_KEY", "MISTRAL_API_KEY")


@dataclass(frozen=True)
class Part:
    name: str
    state: State
    detail: str
    fix: str = ""
    """What to do, when the state is not ok."""


def python_part(settings: Settings) -> Part:
    v = sys.version_info
    detail = f"Python {v.major}.{v.minor}.{v.micro}, smolab {__version__} ({platform.machine()})"
    if (v.major, v.minor) != (3, 11):
        return Part("python", "fail", detail, "smolab needs Python 3.11: PYTHON=python3.11 ./install.sh")
    return Part("python", "ok", detail)


def _built_for(system_info: str) -> str:
    cpu = system_info.split("|")
    on = [m.group(1) for s in cpu if (m := re.match(r"\s*(?:CPU : )?([A-Z0-9_]+) = 1", s))]
    shown = [f for f in on if f not in ("LLAMAFILE", "OPENMP", "REPACK")]
    return " ".join(shown) or "?"


def llama_part(settings: Settings) -> Part:
    from importlib.metadata import PackageNotFoundError, version

    from .models.canary import build_identity, run_canary
    from .models.loader import canary_model, gguf_path, store_for
    from .models.registry import CANARY_MODEL, resolve

    try:
        ver = version("llama_cpp_python")
    except PackageNotFoundError:
        return Part("llama.cpp", "fail", "llama-cpp-python is not installed", "run ./install.sh")
    store = store_for(settings)
    model = canary_model(store)
    label = CANARY_MODEL
    if model is None:
        label = settings.model
        try:
            model = gguf_path(resolve(settings.model), store)
        except Exception:  # noqa: BLE001 - any reason no GGUF is here ends the same way
            return Part(
                "llama.cpp", "fail", f"llama-cpp-python {ver}; no GGUF to test it with", "run ./install.sh"
            )
    result = run_canary(model)
    if not result.ok:
        return Part(
            "llama.cpp",
            "fail",
            f"llama-cpp-python {ver}, built for {_built_for(result.system_info)}",
            result.reason,
        )
    from .models.canary import CanaryCache

    CanaryCache(settings.cache / "llama-canary.json").put(build_identity(), result)
    speed = f"{result.prompt_per_second or 0:.0f} prompt / {result.generated_per_second or 0:.0f} gen tok/s"
    detail = (
        f"llama-cpp-python {ver}, built for {_built_for(result.system_info)}; test decode with "
        f"{label} right; {speed}"
    )
    return Part("llama.cpp", "ok", detail)


def model_parts(settings: Settings) -> list[Part]:
    from .models.errors import CorruptModelError
    from .models.loader import store_for
    from .models.registry import REGISTRY
    from .models.sources import Store

    store = store_for(settings)
    parts = []
    for spec in REGISTRY.values():
        if not spec.embedded:
            continue
        name = f"model {spec.name}"
        needed = spec.name == settings.model
        path = next((p for s in spec.sources if (p := s.local_path(store, spec.name)) is not None), None)
        source = next((s for s in spec.sources if s.local_path(store, spec.name) is not None), None)
        if path is None or source is None:
            state: State = "fail" if needed else "warn"
            role = "the default model" if needed else "optional"
            parts.append(Part(name, state, f"not installed ({role})", f"run: smolab models pull {spec.name}"))
            continue
        # A fresh stamp folder: the file is hashed now, not trusted from an earlier check.
        with tempfile.TemporaryDirectory() as fresh:
            try:
                source.verify(path, Store(Path(fresh)), spec.name)
            except CorruptModelError as err:
                parts.append(Part(name, "fail", "checksum wrong", str(err)))
                continue
        size = path.stat().st_size / 1024**2
        parts.append(Part(name, "ok", f"{size:,.0f} MB, sha256 verified" + (" (default)" if needed else "")))
    return parts


def sandbox_part(settings: Settings) -> Part:
    from .sandbox import ProcessSandbox, SandboxError

    probe = "import os, socket\nprint(os.getpid(), len(socket.if_nameindex()))"
    with tempfile.TemporaryDirectory() as ws:
        try:
            with ProcessSandbox(ws) as box:
                r = box.run_python(probe, timeout=30)
        except SandboxError as err:
            return Part("bubblewrap", "fail", "the sandbox does not start", str(err))
    if not r.ok:
        return Part(
            "bubblewrap", "fail", f"a jailed call failed: {r.message}", "see `smolab sandbox python -c 1`"
        )
    pid, interfaces = r.stdout.split()
    if pid != "1" or interfaces != "1":
        return Part(
            "bubblewrap",
            "fail",
            f"the call ran but was not jailed (pid {pid}, {interfaces} interfaces)",
            "reinstall bubblewrap from your distribution",
        )
    return Part("bubblewrap", "ok", "a jailed call ran: own PID namespace, loopback only")


def cgroup_part(settings: Settings) -> Part:
    from .sandbox.cgroup import Cgroup

    group = Cgroup.create(max_processes=8, memory_bytes=256 * 1024**2)
    if group is None:
        return Part(
            "cgroup limits",
            "warn",
            "no writable cgroup: memory capped per process (RLIMIT_AS)",
            "run as root or with a delegated cgroup for whole-session memory and process limits",
        )
    group.remove()
    return Part("cgroup limits", "ok", "memory and process limits per sandbox session")


def wasm_part(settings: Settings) -> Part:
    from .sandbox import SandboxError, WasmSandbox

    with tempfile.TemporaryDirectory() as ws:
        try:
            with WasmSandbox(ws) as box:
                r = box.run_python("import sys\nprint(sys.platform, 6 * 7)", timeout=60)
        except SandboxError as err:
            return Part("pyodide (wasm)", "fail", "the wasm sandbox does not start", str(err))
    if not r.ok or r.stdout.split() != ["emscripten", "42"]:
        return Part(
            "pyodide (wasm)", "fail", f"a call failed: {r.message or r.stdout[:80]}", "run ./install.sh"
        )
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    return Part("pyodide (wasm)", "ok", f"Python on WebAssembly ran under Node {node}")


def stack_part(settings: Settings) -> Part:
    from .stack import ml_stack

    probe = "import torch; print(torch.__version__, float(torch.ones(3) @ torch.ones(3)))"
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    if r.returncode != 0 or not r.stdout.strip().endswith("3.0"):
        last = (r.stderr.strip().splitlines() or ["no output"])[-1]
        return Part("ML stack", "fail", f"PyTorch does not run: {last[:120]}", "run ./install.sh")
    return Part("ML stack", "ok", f"torch {r.stdout.split()[0]}; imports: {', '.join(ml_stack())}")


def latex_part(settings: Settings) -> Part:
    if shutil.which("pdflatex") is None:
        return Part(
            "pdfLaTeX",
            "warn",
            "not found (only the tests of the PDF reader need it)",
            "install texlive (Debian: apt-get install texlive-latex-base texlive-publishers)",
        )
    return Part("pdfLaTeX", "ok", "found (the PDF reader's tests compile papers with it)")


def disk_part(settings: Settings) -> Part:
    where = settings.home
    while not where.exists() and where != where.parent:
        where = where.parent
    free = shutil.disk_usage(where).free / GiB
    detail = f"{free:,.1f} GiB free for {settings.home}"
    if free < 1:
        return Part("disk", "fail", detail, "free disk space: runs and models need at least 1 GiB")
    if free < 5:
        return Part(
            "disk", "warn", detail, "free some disk space: a few runs and a model download need 5 GiB"
        )
    return Part("disk", "ok", detail)


def keys_part(settings: Settings, env: dict[str, str] | None = None) -> Part:
    env = dict(os.environ) if env is None else env
    present = [k for k in HOSTED_KEYS if env.get(k)]
    detail = ", ".join(f"{k} {'set' if k in present else 'not set'}" for k in HOSTED_KEYS)
    return Part("hosted keys", "ok", detail + " (only for hosted models)")


Check = Callable[[Settings], Part | list[Part]]
CHECKS: dict[str, Check] = {
    "python": python_part,
    "llama.cpp": llama_part,
    "models": model_parts,
    "bubblewrap": sandbox_part,
    "cgroup": cgroup_part,
    "wasm": wasm_part,
    "stack": stack_part,
    "latex": latex_part,
    "disk": disk_part,
    "keys": keys_part,
}


NEEDS = {"wasm": ("bubblewrap", "pyodide (wasm)")}
"""A check that cannot pass without another part: (that part, this check's part name). Its
failure is the other part's, so it gets no line of its own."""


def diagnose(settings: Settings, only: Iterable[str] = ()) -> list[Part]:
    """Run the checks (all, or those named in ``only``) in order."""
    wanted = list(only) or list(CHECKS)
    out: list[Part] = []
    for name in wanted:
        need, label = NEEDS.get(name, ("", ""))
        if any(p.name == need and p.state == "fail" for p in out):
            out.append(Part(label, "fail", f"not checked: it runs inside {need}"))
            continue
        got = CHECKS[name](settings)
        out.extend(got if isinstance(got, list) else [got])
    return out


def healthy(parts: Iterable[Part]) -> bool:
    return all(p.state != "fail" for p in parts)


def as_json(parts: list[Part]) -> dict[str, object]:
    return {"ok": healthy(parts), "parts": [asdict(p) for p in parts]}
