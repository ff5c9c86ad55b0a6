"""ChatModel: what callers use. Wraps a Backend with context checks, retries, streaming,
structured output with bounded repair, and per-call records for the run's trajectory.

Backends only turn messages into text chunks; everything a caller relies on being
the same across llama.cpp, an HTTP server and a hosted API lives here, once.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar, overload

from pydantic import BaseModel, ValidationError

from .errors import ContextLengthError, StructuredOutputError
from .retry import RetryPolicy, call_with_retry
from .structured import (
    describe_error,
    extract_json,
    max_reply_chars,
    schema_for,
    schema_instruction,
    unbounded_paths,
)
from .types import (
    Backend,
    Chunk,
    Completion,
    FinishReason,
    GenerateParams,
    Message,
    MessagesLike,
    Usage,
    as_messages,
)

T = TypeVar("T", bound=BaseModel)


@dataclass
class CallRecord:
    """One model call as the trajectory stores it."""

    model: str
    messages: list[Message]
    params: GenerateParams
    completion: Completion
    attempt: int = 1


Observer = Callable[[CallRecord], None]


class Stream:
    """Iterate for text deltas; after the loop ``completion`` holds the whole reply and usage."""

    def __init__(
        self,
        chunks: Iterator[Chunk],
        finish: Callable[[Completion], None],
        model: str,
        until: Callable[[str], bool] | None = None,
        prompt_tokens: int = 0,
    ):
        self._chunks = chunks
        self._finish = finish
        self._model = model
        self._until = until
        self._prompt_tokens = prompt_tokens
        self.completion: Completion | None = None

    def __iter__(self) -> Iterator[str]:
        parts: list[str] = []
        usage, reason = Usage(), "stop"
        start = time.perf_counter()
        cut = False
        try:
            for chunk in self._chunks:
                if chunk.text:
                    parts.append(chunk.text)
                    yield chunk.text
                if chunk.usage is not None:
                    usage = chunk.usage
                if chunk.finish_reason is not None:
                    reason = chunk.finish_reason
                if self._until is not None and chunk.text and self._until("".join(parts)):
                    cut = True
                    break
        finally:
            # A caller that stops early (Ctrl-C, break) must not leave a model locked mid-reply.
            self.close()
        if cut:
            # Stopped by ``until`` before the backend reported usage: count what is known.
            usage = Usage(
                prompt_tokens=self._prompt_tokens,
                completion_tokens=len(parts),
                seconds=time.perf_counter() - start,
            )
        self.completion = Completion("".join(parts), self._model, reason, usage)  # type: ignore[arg-type]
        self._finish(self.completion)

    def close(self) -> None:
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()

    def text(self) -> str:
        """Drain the stream and return the whole reply."""
        for _ in self:
            pass
        assert self.completion is not None
        return self.completion.text


@dataclass
class ChatDefaults:
    max_tokens: int = 512
    temperature: float = 0.0
    seed: int | None = None
    max_repairs: int = 2
    retry: RetryPolicy = field(default_factory=RetryPolicy)


class ChatModel:
    """A model ready to chat. Build one with :func:`smolab.models.load_model`."""

    def __init__(
        self, backend: Backend, defaults: ChatDefaults | None = None, parent: ChatModel | None = None
    ):
        self.backend = backend
        self.defaults = defaults or ChatDefaults()
        self.usage = Usage()
        """Every call made through this handle and the handles shared from it."""
        self._observers: list[Observer] = []
        self._parent = parent
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self.backend.name

    @property
    def context_window(self) -> int:
        return self.backend.context_window

    def observe(self, observer: Observer) -> Callable[[], None]:
        """Call ``observer`` with a :class:`CallRecord` after every finished call made through
        this handle; returns what removes it."""
        self._observers.append(observer)

        def remove() -> None:
            if observer in self._observers:
                self._observers.remove(observer)

        return remove

    def share(self) -> ChatModel:
        """Another handle on the same loaded model, with its own usage and observers: what a
        run uses, so its calls and tokens are its own when one model serves several runs
        (the backend serialises calls from different threads)."""
        return ChatModel(self.backend, self.defaults, parent=self)

    def count_tokens(self, messages: MessagesLike) -> int:
        """Prompt tokens of ``messages`` after the chat template (estimated where the backend can't)."""
        return self.backend.count_tokens(as_messages(messages))

    def _params(
        self,
        max_tokens: int | None,
        temperature: float | None,
        seed: int | None,
        stop: Sequence[str] | None,
        grammar: str | None = None,
    ) -> GenerateParams:
        d = self.defaults
        return GenerateParams(
            max_tokens=d.max_tokens if max_tokens is None else max_tokens,
            temperature=d.temperature if temperature is None else temperature,
            seed=d.seed if seed is None else seed,
            stop=tuple(stop or ()),
            grammar=grammar,
        )

    @property
    def supports_grammar(self) -> bool:
        """Whether the backend constrains decoding to a grammar (local GGUFs do)."""
        return bool(getattr(self.backend, "supports_grammar", False))

    def check_fits(self, messages: list[Message], max_tokens: int) -> int:
        """Raise ContextLengthError unless prompt + max_tokens fits; return the prompt's tokens."""
        n = self.backend.count_tokens(messages)
        if n + max_tokens > self.context_window:
            raise ContextLengthError(n, max_tokens, self.context_window, self.name)
        return n

    def _open(self, messages: list[Message], params: GenerateParams) -> Iterator[Chunk]:
        """Start a generation, retrying transient failures until the first chunk arrives.

        Once text has reached the caller a retry would duplicate it, so later
        failures propagate.
        """

        def first() -> tuple[Chunk | None, Iterator[Chunk]]:
            it = self.backend.generate(messages, params)
            return next(it, None), it

        head, rest = call_with_retry(first, self.defaults.retry)

        def chain() -> Iterator[Chunk]:
            if head is not None:
                yield head
            yield from rest

        return chain()

    def _record(
        self, messages: list[Message], params: GenerateParams, attempt: int
    ) -> Callable[[Completion], None]:
        def finish(completion: Completion) -> None:
            handle: ChatModel | None = self
            while handle is not None:  # this handle's usage, and that of the one it was shared from
                with handle._lock:
                    handle.usage += completion.usage
                handle = handle._parent
            record = CallRecord(self.name, messages, params, completion, attempt)
            for observer in self._observers:
                observer(record)

        return finish

    def stream(
        self,
        messages: MessagesLike,
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        seed: int | None = None,
        stop: Sequence[str] | None = None,
        until: Callable[[str], bool] | None = None,
        grammar: str | None = None,
    ) -> Stream:
        """Stream a reply token by token. Raises ContextLengthError before any call if it won't fit.

        ``until`` sees the reply so far after each piece and ends it early when it returns True
        (a guard against a small model repeating itself to its token limit). ``grammar`` (GBNF)
        constrains the reply where :attr:`supports_grammar`; elsewhere it is ignored."""
        msgs = as_messages(messages)
        params = self._params(max_tokens, temperature, seed, stop, grammar)
        n = self.check_fits(msgs, params.max_tokens)
        return Stream(self._open(msgs, params), self._record(msgs, params, 1), self.name, until, n)

    @overload
    def chat(
        self,
        messages: MessagesLike,
        *,
        schema: None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
        seed: int | None = None,
        stop: Sequence[str] | None = None,
        until: Callable[[str], bool] | None = None,
        grammar: str | None = None,
    ) -> Completion: ...

    @overload
    def chat(
        self,
        messages: MessagesLike,
        *,
        schema: type[T],
        max_tokens: int | None = None,
        temperature: float | None = None,
        seed: int | None = None,
        stop: Sequence[str] | None = None,
    ) -> T: ...

    def chat(
        self,
        messages: MessagesLike,
        *,
        schema: type[T] | None = None,
        max_tokens: int | None = None,
        temperature: float | None = None,
        seed: int | None = None,
        stop: Sequence[str] | None = None,
        until: Callable[[str], bool] | None = None,
        grammar: str | None = None,
    ) -> Completion | T:
        """One reply. With ``schema`` (a pydantic model) returns a validated instance of it.
        ``until`` and ``grammar``: as for :meth:`stream` (free-text replies only)."""
        if schema is not None:
            return self._structured(messages, schema, self._params(max_tokens, temperature, seed, stop))
        s = self.stream(
            messages,
            max_tokens=max_tokens,
            temperature=temperature,
            seed=seed,
            stop=stop,
            until=until,
            grammar=grammar,
        )
        s.text()
        assert s.completion is not None
        return s.completion

    def _structured(self, messages: MessagesLike, schema: type[T], params: GenerateParams) -> T:
        json_schema = schema_for(schema)
        loose = unbounded_paths(json_schema)
        if loose:
            # A programming error, not a user one: small models loop in unbounded fields.
            raise ValueError(
                f"schema {schema.__name__} has unbounded fields {', '.join(loose)}; "
                "give arrays max_length and strings max_length"
            )
        msgs = as_messages(messages)
        hint = schema_instruction(json_schema)
        last = msgs[-1]
        request = [*msgs[:-1], Message(last.role, f"{last.content}\n\n{hint}")]
        msgs = request
        asked = replace(params, json_schema=json_schema)
        largest = max_reply_chars(json_schema)

        first_error = ""
        reply = ""
        for attempt in range(1, self.defaults.max_repairs + 2):
            # Room for the largest object the bounded schema allows, where the window has it,
            # so a grammar-bound reply is not cut off mid-object (small models often fill
            # arrays to their bound). Never less than the caller asked for.
            prompt_tokens = self.backend.count_tokens(msgs)
            room = self.context_window - prompt_tokens
            params = replace(asked, max_tokens=max(asked.max_tokens, min(largest, room)))
            if prompt_tokens + params.max_tokens > self.context_window:
                raise ContextLengthError(prompt_tokens, params.max_tokens, self.context_window, self.name)
            stream = Stream(self._open(msgs, params), self._record(msgs, params, attempt), self.name)
            reply = stream.text()
            try:
                return schema.model_validate_json(extract_json(reply))
            except ValidationError as err:
                problem = describe_error(err)
                tolerated = _with_raw_controls(schema, reply)
                if tolerated is not None:
                    return tolerated
            except json.JSONDecodeError as err:  # pragma: no cover - pydantic raises ValidationError
                problem = describe_error(err)
            cut = stream.completion is not None and stream.completion.finish_reason == "length"
            if cut:
                problem += f" (cut off at {params.max_tokens} tokens)"
            first_error = first_error or problem
            # Each re-ask is the original request plus only the latest failure, so repairs
            # do not grow the prompt. A cut-off reply is useless to show back: ask for less.
            if cut:
                note = (
                    f"Your previous reply was cut off at {params.max_tokens} tokens. "
                    "Reply again, keeping every string and list shorter."
                )
                msgs = [*request[:-1], Message(request[-1].role, f"{request[-1].content}\n\n{note}")]
            else:
                msgs = [
                    *request,
                    Message("assistant", reply),
                    Message(
                        "user",
                        f"That reply is invalid: {problem}. Reply again with only the corrected JSON object.",
                    ),
                ]
        raise StructuredOutputError(
            f"{self.name} gave no valid {schema.__name__} in {self.defaults.max_repairs + 1} attempts "
            f"({first_error}); try a larger model or a simpler request",
            reply,
        )


def _with_raw_controls(schema: type[T], reply: str) -> T | None:
    """The reply read as JSON that lets strings hold raw control characters (a bare newline),
    which strict JSON refuses but whose meaning is plain; None when that does not help."""
    try:
        return schema.model_validate(json.loads(extract_json(reply), strict=False))
    except (ValueError, ValidationError):
        return None


def timed_chunks(
    chunks: Iterator[str], prompt_tokens: int, finish_reason: FinishReason = "stop"
) -> Iterator[Chunk]:
    """Wrap a plain text iterator (one item per token) into chunks ending with usage."""
    start = time.perf_counter()
    first: float | None = None
    n = 0
    for text in chunks:
        if first is None:
            first = time.perf_counter() - start
        n += 1
        yield Chunk(text)
    usage = Usage(prompt_tokens, n, 0, time.perf_counter() - start, first)
    yield Chunk("", usage=usage, finish_reason=finish_reason)


def to_dicts(messages: Sequence[Message]) -> list[dict[str, Any]]:
    return [m.to_dict() for m in messages]
