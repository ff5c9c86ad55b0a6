"""Plain records shared by every backend, and the small protocol they implement."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True)
class Message:
    role: Role
    content: str

    def to_dict(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


MessagesLike = str | Sequence[Message | Mapping[str, Any]]


def as_messages(messages: MessagesLike) -> list[Message]:
    """Accept a bare prompt, Message records or OpenAI-style dicts."""
    if isinstance(messages, str):
        return [Message("user", messages)]
    out: list[Message] = []
    for m in messages:
        if isinstance(m, Message):
            out.append(m)
        else:
            role = m.get("role")
            if role not in ("system", "user", "assistant"):
                raise ValueError(f"message role must be system, user or assistant, not {role!r}")
            out.append(Message(role, str(m.get("content", ""))))
    if not out:
        raise ValueError("no messages to send")
    return out


@dataclass(frozen=True)
class GenerateParams:
    """What a caller asks of one completion. ``json_schema`` asks for structured output."""

    max_tokens: int = 512
    temperature: float = 0.0
    seed: int | None = None
    stop: tuple[str, ...] = ()
    json_schema: dict[str, Any] | None = None
    grammar: str | None = None
    """A GBNF grammar the reply must follow, on backends with ``supports_grammar`` (others ignore it
    and the caller checks the reply)."""


@dataclass
class Usage:
    """Cost of one call. ``cached_tokens`` are prompt tokens served from a reused KV prefix."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    seconds: float = 0.0
    first_token_seconds: float | None = None

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @property
    def generation_tokens_per_second(self) -> float:
        gen_time = self.seconds - (self.first_token_seconds or 0.0)
        return self.completion_tokens / gen_time if gen_time > 0 else 0.0

    def __iadd__(self, other: Usage) -> Usage:
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.cached_tokens += other.cached_tokens
        self.seconds += other.seconds
        return self


FinishReason = Literal["stop", "length"]


@dataclass
class Completion:
    text: str
    model: str
    finish_reason: FinishReason = "stop"
    usage: Usage = field(default_factory=Usage)


@dataclass
class Chunk:
    """A piece of a streamed reply. The last chunk of a stream carries usage and finish_reason."""

    text: str
    usage: Usage | None = None
    finish_reason: FinishReason | None = None


@runtime_checkable
class Backend(Protocol):
    """What a model backend implements; :class:`smolab.models.ChatModel` does the rest.

    ``generate`` yields text chunks, the last one carrying usage. It raises
    ``TransientAPIError`` for failures worth retrying and other ``ModelError``\\ s
    for the rest. When ``params.json_schema`` is set the backend constrains
    decoding to it by its own native means (grammar, response_format, ...).
    """

    @property
    def name(self) -> str: ...

    @property
    def context_window(self) -> int: ...

    @property
    def exact_token_count(self) -> bool: ...

    def count_tokens(self, messages: Sequence[Message]) -> int: ...

    def generate(self, messages: Sequence[Message], params: GenerateParams) -> Iterator[Chunk]: ...
