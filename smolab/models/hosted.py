"""Hosted providers (Anthropic Claude, OpenAI, Mistral, ...) through litellm.

Keys come from the provider's usual environment variable. Structured output
uses the provider's native mode through litellm's ``response_format``; the
reply is still validated by :class:`ChatModel`, like every other backend's.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from typing import Any

from .errors import (
    APIError,
    MissingAPIKeyError,
    ModelError,
    PermanentAPIError,
    ServerUnreachableError,
    TransientAPIError,
)
from .openai_stream import read_openai_stream
from .retry import parse_retry_after
from .types import Chunk, GenerateParams, Message

# litellm fetches a price list from GitHub at import unless told to use its bundled copy.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

PROVIDER_KEYS = {
    "anthropic": "ANTHROPIC_API_KEY",
    "openai": "OPENAI_API_KEY",
    "mistral": "MISTRAL_API_KEY",
    "gemini": "GEMINI_API_KEY",
    "groq": "GROQ_API_KEY",
    "together_ai": "TOGETHERAI_API_KEY",
    "openrouter": "OPENROUTER_API_KEY",
    "deepseek": "DEEPSEEK_API_KEY",
}


def _litellm() -> Any:
    try:
        import litellm
    except ImportError as err:
        raise ModelError("hosted models need litellm; install it with: pip install 'smolab[hosted]'") from err
    litellm.suppress_debug_info = True
    return litellm


def translate_litellm_error(err: Exception, where: str) -> ModelError:
    litellm = _litellm()
    status = getattr(err, "status_code", None)
    message = " ".join(str(getattr(err, "message", err)).split())[:200]
    if isinstance(err, litellm.AuthenticationError | litellm.PermissionDeniedError):
        return PermanentAPIError(
            f"{where} refused the API key (HTTP {status}); check the key variable", status
        )
    if isinstance(err, litellm.ContextWindowExceededError):
        return PermanentAPIError(f"{where}: prompt too long for the model's window: {message}", status)
    if isinstance(
        err,
        litellm.RateLimitError
        | litellm.InternalServerError
        | litellm.ServiceUnavailableError
        | litellm.BadGatewayError
        | litellm.Timeout,
    ):
        headers = getattr(getattr(err, "response", None), "headers", None) or {}
        after = parse_retry_after(headers.get("retry-after")) if hasattr(headers, "get") else None
        return TransientAPIError(f"{where} answered HTTP {status}: {message}", status, after)
    if isinstance(err, litellm.APIConnectionError):
        if status is not None and (status >= 500 or status == 429):
            return TransientAPIError(f"{where} answered HTTP {status}: {message}", status)
        return ServerUnreachableError(f"cannot connect to {where}: {message}")
    if isinstance(err, litellm.NotFoundError | litellm.BadRequestError | litellm.UnprocessableEntityError):
        return PermanentAPIError(f"{where} rejected the request (HTTP {status}): {message}", status)
    return APIError(f"{where}: {message}", status)


class LiteLLMBackend:
    exact_token_count = False
    supports_grammar = False

    def __init__(
        self,
        model: str,
        name: str | None = None,
        api_key_env: str | None = None,
        api_base: str | None = None,
        context_window: int | None = None,
        timeout: float = 600.0,
    ):
        self.model = model
        self.name = name or model
        provider = model.split("/", 1)[0]
        self.api_key_env = api_key_env or PROVIDER_KEYS.get(provider)
        if self.api_key_env and not os.environ.get(self.api_key_env):
            raise MissingAPIKeyError(f"{self.name} needs an API key: set {self.api_key_env}")
        self.api_key = os.environ.get(self.api_key_env) if self.api_key_env else None
        self.api_base = api_base
        self.timeout = timeout
        self._window = context_window

    @property
    def where(self) -> str:
        return self.api_base or self.model.split("/", 1)[0]

    @property
    def context_window(self) -> int:
        if self._window is None:
            try:
                info = _litellm().get_model_info(self.model)
                self._window = int(info.get("max_input_tokens") or info.get("max_tokens") or 8192)
            except Exception:
                self._window = 8192
        return self._window

    def count_tokens(self, messages: Sequence[Message]) -> int:
        return int(_litellm().token_counter(model=self.model, messages=[m.to_dict() for m in messages]))

    def generate(self, messages: Sequence[Message], params: GenerateParams) -> Iterator[Chunk]:
        litellm = _litellm()
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": [m.to_dict() for m in messages],
            "max_tokens": params.max_tokens,
            "temperature": params.temperature,
            "stream": True,
            "stream_options": {"include_usage": True},
            "num_retries": 0,
            "timeout": self.timeout,
        }
        if self.api_key:
            kwargs["api_key"] = self.api_key
        if self.api_base:
            kwargs["api_base"] = self.api_base
        if params.seed is not None:
            kwargs["seed"] = params.seed
        if params.stop:
            kwargs["stop"] = list(params.stop)
        if params.json_schema is not None:
            kwargs["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "reply", "schema": params.json_schema, "strict": True},
            }
        start = time.perf_counter()
        try:
            stream = litellm.completion(**kwargs)
            yield from read_openai_stream(stream, start, lambda: self.count_tokens(messages))
        except ModelError:
            raise
        except Exception as err:
            raise translate_litellm_error(err, self.where) from err
