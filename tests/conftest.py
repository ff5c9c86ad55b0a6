from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from smolab.config import load_settings
from smolab.models import ChatDefaults, ChatModel, RetryPolicy, ScriptedBackend

# Where the embedded models were set up by install.sh. Captured before any test
# points SMOLAB_HOME at a temporary folder.
REAL_SETTINGS = load_settings()


@pytest.fixture(autouse=True)
def _isolated_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test reads the developer's own smolab.toml or SMOLAB_* variables."""
    for key in list(os.environ):
        if key.startswith("SMOLAB_") or key in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"):
            monkeypatch.delenv(key, raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh, empty SMOLAB_HOME."""
    path = tmp_path / "home"
    monkeypatch.setenv("SMOLAB_HOME", str(path))
    return path


@pytest.fixture
def scripted() -> tuple[ChatModel, ScriptedBackend]:
    backend = ScriptedBackend()
    fast_retry = RetryPolicy(attempts=3, base_delay=0.001, max_delay=0.01)
    return ChatModel(backend, ChatDefaults(max_tokens=200, retry=fast_retry)), backend


@pytest.fixture(scope="session")
def real_settings():
    return REAL_SETTINGS


def home_with_models(tmp_path: Path) -> Path:
    """A fresh SMOLAB_HOME that sees the installed models, so a test's runs stay out of the real one."""
    home = tmp_path / "smolab-home"
    home.mkdir()
    if REAL_SETTINGS.models_dir.is_dir():
        (home / "models").symlink_to(REAL_SETTINGS.models_dir)
    return home


def run_cli(*args: str, env: dict[str, str] | None = None, stdin: str | None = None, timeout: float = 300):
    """Run the installed ``smolab`` command as a user would, in a separate process."""
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("SMOLAB_")}
    full_env["SMOLAB_HOME"] = str(REAL_SETTINGS.home)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "smolab.cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        input=stdin,
        timeout=timeout,
    )
