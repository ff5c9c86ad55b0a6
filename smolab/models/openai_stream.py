"""Reading a streamed chat completion in OpenAI's chunk format (the OpenAI SDK's and litellm's)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .types import Chunk, Usage


def read_openai_stream(
    events: Iterable[Any], start: float, estimate_prompt: Callable[[], int]
) -> Iterator[Chunk]:
    """Text chunks from ``events``, then one chunk with usage and finish reason.

    Servers that ignore ``stream_options.include_usage`` send no usage; then the
    prompt is estimated and each text delta counts as one token, rather than
    reporting nothing.
    """
    first: float | None = None
    reason = "stop"
    usage = Usage()
    pieces = 0
    for event in events:
        reported = getattr(event, "usage", None)
        if reported is not None and getattr(reported, "prompt_tokens", None) is not None:
            usage.prompt_tokens = reported.prompt_tokens or 0
            usage.completion_tokens = reported.completion_tokens or 0
        for choice in event.choices or []:
            text = choice.delta.content if choice.delta else None
            if text:
                if first is None:
                    first = time.perf_counter() - start
                pieces += 1
                yield Chunk(text)
            if choice.finish_reason:
                reason = choice.finish_reason
    if usage.prompt_tokens == 0 and usage.completion_tokens == 0:
        usage.prompt_tokens = estimate_prompt()
        usage.completion_tokens = pieces
    usage.seconds = time.perf_counter() - start
    usage.first_token_seconds = first
    yield Chunk("", usage=usage, finish_reason="length" if reason in ("length", "max_tokens") else "stop")
