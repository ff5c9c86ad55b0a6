"""Any OpenAI-compatible chat server: llama.cpp server, llama-cpp-python, Ollama, vLLM, LM Studio.

On first use the backend asks the server which model it serves and whether it
can tokenize (llama.cpp, llama-cpp-python and vLLM can), so prompt sizes are
exact where the server allows and estimated where it does not. Structured
output uses ``response_format``: the llama.cpp family takes a JSON schema as a
grammar through ``json_object``; others get the OpenAI ``json_schema`` form.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator, Sequence
from typing import Any

import httpx

from .errors import APIError, ModelError, PermanentAPIError, ServerUnreachableError, TransientAPIError
from .openai_stream import read_openai_stream
from .retry import parse_retry_after
from .types import Chunk, GenerateParams, Message

DEFAULT_WINDOW = 8192
PER_MESSAGE_OVERHEAD = 8  # role markers and separators a chat template adds


def translate_openai_error(err: Exception, url: str) -> ModelError:
    """Map an ``openai`` SDK exception to smolab's transient / permanent errors."""
    import openai

    if isinstance(err, openai.APITimeoutError):
        return TransientAPIError(f"request to {url} timed out")
    if isinstance(err, openai.APIConnectionError):
        return ServerUnreachableError(f"cannot connect to {url}; is the server running?")
    if isinstance(err, openai.APIStatusError):
        status = err.status_code
        detail = _short(err.message)
        if status == 429 or status >= 500 or status == 408:
            after = parse_retry_after(err.response.headers.get("retry-after"))
            return TransientAPIError(f"{url} answered HTTP {status}: {detail}", status, after)
        if status in (401, 403):
            return PermanentAPIError(
                f"{url} refused the API key (HTTP {status}); set OPENAI_API_KEY to a valid key", status
            )
        if status == 404:
            return PermanentAPIError(f"{url} answered HTTP 404 (wrong URL or model name?): {detail}", status)
        return PermanentAPIError(f"{url} rejected the request (HTTP {status}): {detail}", status)
    return APIError(f"{url}: {_short(str(err))}")


def _short(text: str, limit: int = 200) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


class OpenAICompatBackend:
    supports_grammar = False

    def __init__(
        self,
        base_url: str,
        model: str | None = None,
        api_key: str | None = None,
        context_window: int | None = None,
        timeout: float = 600.0,
        name: str | None = None,
    ):
        import openai

        self.base_url = base_url.rstrip("/")
        self.name = name or f"openai:{self.base_url}"
        self._model = model
        self._window = context_window
        key = api_key or os.environ.get("OPENAI_API_KEY") or "sk-no-key-needed"
        self._headers = {"Authorization": f"Bearer {key}"}
        self._timeout = timeout
        # Retries are smolab's (one policy for every backend), so the SDK's are off.
        self.client = openai.OpenAI(base_url=self.base_url, api_key=key, max_retries=0, timeout=timeout)
        self._probed = False
        self._tokenize_url: str | None = None
        self.flavour = "openai"
        self.exact_token_count = False

    @property
    def root(self) -> str:
        return self.base_url.removesuffix("/v1")

    def _probe(self) -> None:
        """Learn the served model, the window and a tokenize endpoint, once."""
        if self._probed:
            return
        try:
            models = self.client.models.list()
        except Exception as err:
            raise translate_openai_error(err, self.base_url) from err
        ids = [m.id for m in models.data]
        if self._model is None:
            if not ids:
                raise PermanentAPIError(f"{self.base_url} serves no models; load one into the server")
            self._model = ids[0]
        with httpx.Client(timeout=10.0, headers=self._headers) as http:
            for url, flavour in (
                (f"{self.root}/extras/tokenize", "llama-cpp-python"),
                (f"{self.root}/tokenize", "llama.cpp"),
            ):
                try:
                    r = http.post(
                        url,
                        json={"input": "probe", "content": "probe", "prompt": "probe", "model": self._model},
                    )
                except httpx.HTTPError:
                    continue
                if r.status_code == 200 and isinstance(r.json().get("tokens"), list):
                    self._tokenize_url, self.flavour = url, flavour
                    self.exact_token_count = False  # contents are exact; template overhead is estimated
                    break
            if self._window is None:
                try:
                    props = http.get(f"{self.root}/props")
                    if props.status_code == 200:
                        n_ctx = props.json().get("default_generation_settings", {}).get("n_ctx")
                        self._window = int(n_ctx) if n_ctx else None
                except (httpx.HTTPError, ValueError):
                    pass
        self._probed = True

    @property
    def model(self) -> str:
        self._probe()
        assert self._model is not None
        return self._model

    @property
    def context_window(self) -> int:
        self._probe()
        return self._window or DEFAULT_WINDOW

    def _count_text(self, text: str) -> int:
        if self._tokenize_url is None:
            # No tokenizer on the server: about 3.5 characters per token for English and code.
            return math.ceil(len(text) / 3.5)
        try:
            r = httpx.post(
                self._tokenize_url,
                json={"input": text, "content": text, "prompt": text, "model": self._model},
                headers=self._headers,
                timeout=self._timeout,
            )
            r.raise_for_status()
            return len(r.json()["tokens"])
        except httpx.HTTPError as err:
            raise ServerUnreachableError(f"cannot tokenize at {self._tokenize_url}: {err}") from err

    def count_tokens(self, messages: Sequence[Message]) -> int:
        self._probe()
        return sum(self._count_text(m.content) + PER_MESSAGE_OVERHEAD for m in messages)

    def _response_format(self, schema: dict[str, Any]) -> dict[str, Any]:
        if self.flavour in ("llama.cpp", "llama-cpp-python"):
            return {"type": "json_object", "schema": schema}
        return {"type": "json_schema", "json_schema": {"name": "reply", "schema": schema, "strict": True}}

    def generate(self, messages: Sequence[Message], params: GenerateParams) -> Iterator[Chunk]:
        import openai

        self._probe()
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": [m.to_dict() for m in messages],
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        if params.seed is not None:
            kwargs["seed"] = params.seed
        if params.stop:
            kwargs["stop"] = list(params.stop)
        if params.json_schema is not None:
            kwargs["response_format"] = self._response_format(params.json_schema)
        start = time.perf_counter()
        try:
            stream = self.client.chat.completions.create(**kwargs)
            yield from read_openai_stream(stream, start, lambda: self.count_tokens(messages))
        except openai.OpenAIError as err:
            raise translate_openai_error(err, self.base_url) from err
