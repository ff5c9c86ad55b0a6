"""The openai_compat backend against a real llama.cpp server (llama-cpp-python's) on loopback,
serving the tiny embedded GGUF."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import httpx
import pytest
from pydantic import BaseModel, Field

from smolab.models import ContextLengthError, PermanentAPIError, load_model
from smolab.models.llamacpp import LlamaCppBackend
from smolab.models.loader import gguf_path, store_for
from smolab.models.registry import SMOLLM2_135M
from smolab.models.types import Message

pytestmark = pytest.mark.slow

API_KEY = "local-test-key"


class Colour(BaseModel):
    colour: str = Field(max_length=20)
    reason: str = Field(max_length=80)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(real_settings, tmp_path_factory):
    log = (tmp_path_factory.mktemp("server") / "server.log").open("wb")
    path = gguf_path(SMOLLM2_135M, store_for(real_settings))
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(path),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "2048",
            "--n_threads",
            "2",
            "--api_key",
            API_KEY,
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"llama_cpp.server exited early; see {log.name}")
        try:
            if httpx.get(f"{url}/models", headers={"Authorization": f"Bearer {API_KEY}"}).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    else:
        proc.kill()
        raise RuntimeError(f"llama_cpp.server did not answer within 60 s; see {log.name}")
    yield url, path
    proc.terminate()
    proc.wait(10)


@pytest.fixture
def keyed(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)


def _settings(real_settings, **kw):
    return real_settings.model_copy(update={"temperature": 0.0, "context_window": 2048, **kw})


def test_chat_and_stream_through_the_server(server, keyed, real_settings):
    url, _ = server
    model = load_model(f"openai:{url}", _settings(real_settings))
    s = model.stream("Name a primary colour.", max_tokens=16)
    pieces = list(s)
    assert len(pieces) > 1
    assert s.completion is not None and s.completion.text.strip()
    assert s.completion.usage.completion_tokens > 0


def test_server_tokenizer_is_used_for_counting(server, keyed, real_settings):
    url, path = server
    model = load_model(f"openai:{url}", _settings(real_settings))
    # With a system message given, the template adds no default one, so only role markers differ.
    msgs = [
        Message("system", "Be brief."),
        Message("user", "The quick brown fox jumps over the lazy dog. " * 10),
    ]
    remote = model.count_tokens(msgs)
    local = LlamaCppBackend(path).count_tokens(msgs)
    assert model.backend.flavour == "llama-cpp-python"  # type: ignore[attr-defined]
    assert abs(remote - local) <= 16  # contents exact; only the template's few tokens are estimated


def test_structured_output_through_the_server(server, keyed, real_settings):
    url, _ = server
    model = load_model(f"openai:{url}", _settings(real_settings))
    reply = model.chat("Pick a colour and say why.", schema=Colour, max_tokens=120)
    assert isinstance(reply, Colour) and reply.colour


def test_prompt_over_the_window_is_refused_before_sending(server, keyed, real_settings):
    url, _ = server
    model = load_model(f"openai:{url}", _settings(real_settings))
    with pytest.raises(ContextLengthError, match="2048-token context window"):
        model.chat("lorem ipsum " * 2000, max_tokens=64)


def test_wrong_key_fails_at_once(server, monkeypatch, real_settings):
    url, _ = server
    monkeypatch.setenv("OPENAI_API_KEY", "wrong")
    start = time.perf_counter()
    with pytest.raises(PermanentAPIError, match="401"):
        load_model(f"openai:{url}", _settings(real_settings)).chat("hi", max_tokens=4)
    assert time.perf_counter() - start < 5
