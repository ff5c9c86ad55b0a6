"""The llama.cpp build for this machine: which instruction sets to compile, and a cache of wheels.

llama-cpp-python compiles llama.cpp with ``GGML_NATIVE`` on by default, which on a CPU with
AMX selects llama.cpp's AMX matrix path; that path crashes on any prompt longer than one token
(llama.cpp upstream issue 20824). So the set-up turns ``GGML_NATIVE`` off and names each
instruction set the CPU has, AMX left out. A user's own ``CMAKE_ARGS`` (CUDA, Metal, ...) wins.

pip caches a wheel it built by the package's version, not by the flags it was built with, so
a crashing build would be reused whatever ``CMAKE_ARGS`` says. Wheels are therefore built
without pip's cache and kept here by (version, flags); a build the canary decode proves broken
is forgotten, and the next install builds the fallback instead.

Standard library only: ``install.sh`` runs this file before smolab's dependencies exist (``-I``
keeps this folder off ``sys.path``, where ``types.py`` would hide the standard library's)::

    python -I build.py cmake-args [--level best|avx2|native]
    python -I build.py install --python .venv/bin/python --cache DIR [--level ...]
    python -I build.py forget --python .venv/bin/python --cache DIR
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "llama-cpp-python"

# /proc/cpuinfo flag -> the ggml CMake option that compiles code for it.
FEATURES = {
    "sse4_2": "GGML_SSE42",
    "avx": "GGML_AVX",
    "avx2": "GGML_AVX2",
    "bmi2": "GGML_BMI2",
    "fma": "GGML_FMA",
    "f16c": "GGML_F16C",
    "avx_vnni": "GGML_AVX_VNNI",
    "avx512f": "GGML_AVX512",
    "avx512vbmi": "GGML_AVX512_VBMI",
    "avx512_vnni": "GGML_AVX512_VNNI",
    "avx512_bf16": "GGML_AVX512_BF16",
}
AVX2_LEVEL = ("sse4_2", "avx", "avx2", "bmi2", "fma", "f16c")
"""The fallback: what every x86-64 CPU of the last decade runs."""
NEVER = ("GGML_AMX_TILE", "GGML_AMX_INT8", "GGML_AMX_BF16")
"""Off whatever the CPU has: llama.cpp's AMX path crashes on multi-token prompts."""
LEVELS = ("best", "avx2", "native")
MARKER = "llama-cpp-build.txt"
"""In the virtual environment: the key of the build installed there."""
BROKEN = "broken"
"""In a cached build's folder: the canary proved it crashes here; never install it again."""


def cpu_flags(cpuinfo: str | None = None) -> set[str]:
    """The CPU's feature flags (Linux ``/proc/cpuinfo``; empty elsewhere)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return set()
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            return set(line.partition(":")[2].split())
    return set()


def cpu_name(cpuinfo: str | None = None) -> str:
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            return ""
    m = re.search(r"^model name\s*:\s*(.+)$", cpuinfo, re.M)
    return m.group(1).strip() if m else ""


def cmake_args(flags: set[str], level: str = "best") -> list[str]:
    """CMake options for llama.cpp on a CPU with ``flags``.

    ``best``: every instruction set the CPU has but AMX; ``avx2``: the AVX2 baseline it has;
    ``native``: llama-cpp-python's own default (for benchmarks: AMX included where present).
    A CPU that is not x86 (no ``avx`` flag) keeps the native build, which is right there."""
    if level == "native" or "avx" not in flags:
        return ["-DGGML_NATIVE=ON"] if level == "native" else []
    wanted = FEATURES if level == "best" else {k: FEATURES[k] for k in AVX2_LEVEL}
    args = ["-DGGML_NATIVE=OFF"]
    args += [f"-D{option}={'ON' if flag in flags else 'OFF'}" for flag, option in wanted.items()]
    args += [f"-D{option}=OFF" for option in NEVER]
    return args


def pinned_version(pyproject: Path) -> str:
    """The llama-cpp-python version smolab pins."""
    m = re.search(rf"{PACKAGE}==([\w.]+)", pyproject.read_text())
    if m is None:
        raise SystemExit(f"error: {pyproject} does not pin {PACKAGE}")
    return m.group(1)


def build_key(version: str, args: str) -> str:
    return hashlib.sha256(f"{version}\n{args}".encode()).hexdigest()[:16]


def chosen_args(level: str, env: dict[str, str] | None = None) -> tuple[str, bool]:
    """(CMAKE_ARGS, whether the user chose them): the user's own ``CMAKE_ARGS`` are kept."""
    own = (os.environ if env is None else env).get("CMAKE_ARGS", "").strip()
    if own:
        return own, True
    return " ".join(cmake_args(cpu_flags(), level)), False


def venv_marker(python: Path) -> Path:
    prefix = subprocess.run(
        [str(python), "-c", "import sys; print(sys.prefix)"], capture_output=True, text=True, check=True
    ).stdout.strip()
    return Path(prefix) / MARKER


def wheel_dir(cache: Path, version: str, key: str) -> Path:
    return cache / f"{PACKAGE}-{version}-{key}"


@dataclass(frozen=True)
class Choice:
    args: str
    key: str
    label: str
    """``best``, ``avx2`` or ``CMAKE_ARGS`` (the user's own)."""


def choose(cache: Path, version: str, level: str, env: dict[str, str] | None = None) -> Choice:
    """The build to install: the user's ``CMAKE_ARGS``, else ``level``, except that a ``best``
    build the canary proved broken here gives way to the AVX2 one."""
    args, own = chosen_args(level, env)
    if own:
        return Choice(args, build_key(version, args), "CMAKE_ARGS")
    if level == "best" and (wheel_dir(cache, version, build_key(version, args)) / BROKEN).exists():
        level = "avx2"
        args, _ = chosen_args(level, env)
    return Choice(args, build_key(version, args), level)


def install(python: Path, cache: Path, version: str, level: str) -> str:
    """Build (or take from the cache) the wheel for this CPU and install it into ``python``'s
    environment, unless that build is installed there already. Returns what was done."""
    choice = choose(cache, version, level)
    if choice.label != level and choice.label != "CMAKE_ARGS":
        print("note: the build with every instruction set failed its test decode here; building for AVX2")
    marker = venv_marker(python)
    if marker.is_file() and marker.read_text().split()[:1] == [choice.key]:
        return f"{PACKAGE} {version} for this CPU is installed ({choice.label})"
    folder = wheel_dir(cache, version, choice.key)
    wheels = sorted(folder.glob("*.whl"))
    pip = [str(python), "-m", "pip", "--disable-pip-version-check"]
    if not wheels:
        what = "your CMAKE_ARGS" if choice.label == "CMAKE_ARGS" else choice.label
        print(f"==> compiling {PACKAGE} {version} for this CPU ({what}: {choice.args or 'default flags'})")
        print("    about 10 minutes on 2 cores, once per CPU and set of flags")
        folder.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ, CMAKE_ARGS=choice.args)
        env.setdefault("CMAKE_BUILD_PARALLEL_LEVEL", str(len(os.sched_getaffinity(0))))
        # --no-cache-dir: pip's cache is keyed by version alone and may hold a crashing build.
        wheel = [*pip, "wheel", "-q", "--no-deps", "--no-cache-dir", "--no-binary", PACKAGE]
        done = subprocess.run([*wheel, f"{PACKAGE}=={version}", "-w", str(folder)], env=env)
        wheels = sorted(folder.glob("*.whl"))
        if done.returncode != 0 or not wheels:
            raise SystemExit(
                f"error: compiling {PACKAGE} {version} failed (pip's output is above); install a C/C++ "
                "compiler and cmake, or set CMAKE_ARGS for your platform, and run ./install.sh again"
            )
    done = subprocess.run([*pip, "install", "-q", "--no-deps", "--force-reinstall", str(wheels[-1])])
    if done.returncode != 0:
        raise SystemExit(
            f"error: pip could not install {wheels[-1]}; delete {folder} and run ./install.sh again"
        )
    marker.write_text(f"{choice.key} {choice.label} {choice.args}\n")
    return f"{PACKAGE} {version} installed, built for this CPU ({choice.label})"


def forget(python: Path, cache: Path, version: str) -> str:
    """Drop the installed build's cached wheel and marker: the canary proved it broken here."""
    marker = venv_marker(python)
    if not marker.is_file():
        return "no smolab-built llama-cpp-python is recorded here"
    key = marker.read_text().split()[0]
    folder = wheel_dir(cache, version, key)
    for wheel in folder.glob("*.whl"):
        wheel.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / BROKEN).write_text("the canary decode failed with this build on this machine\n")
    marker.unlink()
    return f"dropped the build {key}: it fails here"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="The llama.cpp build for this CPU.")
    ap.add_argument("action", choices=("cmake-args", "install", "forget", "user-args"))
    ap.add_argument("--level", choices=LEVELS, default="best")
    ap.add_argument("--python", type=Path, default=Path(sys.executable))
    ap.add_argument("--cache", type=Path)
    ap.add_argument("--pyproject", type=Path, default=Path(__file__).resolve().parents[2] / "pyproject.toml")
    a = ap.parse_args(argv)
    if a.action == "cmake-args":
        print(shlex.join(cmake_args(cpu_flags(), a.level)))
        return
    if a.action == "user-args":
        # Exit 0 when the user chose CMAKE_ARGS (the set-up then never swaps them for its own).
        raise SystemExit(0 if chosen_args(a.level)[1] else 1)
    if a.cache is None:
        ap.error("--cache is required")
    version = pinned_version(a.pyproject)
    if a.action == "install":
        print(install(a.python, a.cache, version, a.level))
    else:
        print(forget(a.python, a.cache, version))


if __name__ == "__main__":
    main()
