"""Which llama.cpp the set-up compiles: every instruction set the CPU has but AMX, the user's own
flags kept, wheels kept by flags (not by version alone, as pip's cache does)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from smolab.models import build

SAPPHIRE_RAPIDS = (
    "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Processor\n"
    "flags\t\t: fpu sse sse2 ssse3 fma sse4_1 sse4_2 avx f16c bmi1 avx2 bmi2 avx512f avx512dq "
    "avx512vl avx_vnni avx512_bf16 avx512vbmi avx512_vnni amx_bf16 avx512_fp16 amx_tile amx_int8\n"
)
HASWELL = "model name\t: Intel(R) Core(TM) i7-4770\nflags\t\t: fpu sse sse2 sse4_2 avx f16c fma avx2 bmi2\n"


def test_a_cpu_with_amx_gets_every_instruction_set_it_has_but_amx():
    args = build.cmake_args(build.cpu_flags(SAPPHIRE_RAPIDS))
    assert args[0] == "-DGGML_NATIVE=OFF"
    for on in ("AVX2", "AVX512", "AVX512_VNNI", "AVX512_VBMI", "AVX512_BF16", "AVX_VNNI", "FMA", "F16C"):
        assert f"-DGGML_{on}=ON" in args
    for off in ("AMX_TILE", "AMX_INT8", "AMX_BF16"):
        assert f"-DGGML_{off}=OFF" in args
    assert build.cpu_name(SAPPHIRE_RAPIDS) == "Intel(R) Xeon(R) Processor"


def test_an_older_cpu_gets_only_what_it_has_and_the_fallback_is_avx2():
    args = build.cmake_args(build.cpu_flags(HASWELL))
    assert "-DGGML_AVX2=ON" in args and "-DGGML_AVX512=OFF" in args and "-DGGML_AVX_VNNI=OFF" in args
    fallback = build.cmake_args(build.cpu_flags(SAPPHIRE_RAPIDS), "avx2")
    assert "-DGGML_AVX2=ON" in fallback and not any("AVX512" in a for a in fallback)
    assert "-DGGML_AMX_INT8=OFF" in fallback


def test_a_cpu_that_is_not_x86_keeps_the_native_build():
    arm = "processor\t: 0\nFeatures\t: fp asimd evtstrm aes pmull sha1 sha2 crc32\n"
    assert build.cmake_args(build.cpu_flags(arm)) == []
    assert build.cmake_args(set(), "native") == ["-DGGML_NATIVE=ON"]


def test_the_users_own_cmake_args_win_and_flags_change_the_cache_key():
    own, chosen = build.chosen_args("best", {"CMAKE_ARGS": "-DGGML_CUDA=on"})
    assert (own, chosen) == ("-DGGML_CUDA=on", True)
    ours, chosen = build.chosen_args("best", {})
    assert not chosen
    assert build.build_key("0.3.36", ours) != build.build_key("0.3.36", own)
    assert build.build_key("0.3.36", ours) != build.build_key("0.3.37", ours)


def test_the_pinned_version_is_read_from_pyproject():
    root = Path(__file__).resolve().parents[1]
    assert build.pinned_version(root / "pyproject.toml") == "0.3.36"


def test_a_build_proved_broken_is_never_installed_again(tmp_path: Path):
    """``forget`` drops the installed build's wheel and marks it; the next install takes the AVX2
    build instead of compiling the broken one again."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    cache = tmp_path / "wheels"
    best, _ = build.chosen_args("best", {})
    key = build.build_key("0.3.36", best)
    folder = build.wheel_dir(cache, "0.3.36", key)
    folder.mkdir(parents=True)
    (folder / "llama_cpp_python-0.3.36-cp311-cp311-linux_x86_64.whl").write_bytes(b"not really")
    (venv / build.MARKER).write_text(f"{key} best {best}\n")

    assert build.forget(python, cache, "0.3.36").startswith(f"dropped the build {key}")
    assert not list(folder.glob("*.whl")) and (folder / build.BROKEN).exists()
    assert not (venv / build.MARKER).exists()
    # What install now turns to: the AVX2 build, not the broken one compiled again.
    again = build.choose(cache, "0.3.36", "best", {})
    avx2, _ = build.chosen_args("avx2", {})
    assert (again.label, again.args) == ("avx2", avx2)
    # The user's own flags are never swapped for the fallback.
    assert build.choose(cache, "0.3.36", "best", {"CMAKE_ARGS": best}).label == "CMAKE_ARGS"
