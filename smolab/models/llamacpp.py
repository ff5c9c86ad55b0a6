"""Local GGUF models through llama-cpp-python.

One ``Llama`` per (file, context size) is loaded per process and shared, since
loading costs seconds and hundreds of MB. Prompts are rendered with the chat
template stored in the GGUF and tokenized here, so the prompt's size is known
exactly before any compute is spent. llama-cpp-python keeps the KV cache of the
previous prompt and re-evaluates only past the longest common prefix; later
stages send many prompts that start the same way, so that reuse is on by
default (``reuse_prefix=False`` turns it off, for benchmarks).
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from .errors import CorruptModelError, ModelNotAvailableError, StructuredOutputError
from .lookup import lookup_llama
from .types import Chunk, GenerateParams, Message, Usage

# (path, n_ctx, threads, draft tokens) -> (Llama, the lock that serialises its use across threads)
_LOADED: dict[tuple[str, int, int, int], tuple[Any, threading.Lock]] = {}
_LOAD_LOCK = threading.Lock()


@atexit.register
def _unload_all() -> None:
    # Free models while llama_cpp's module globals still exist; left to interpreter
    # teardown, their destructors run after those globals are gone and print tracebacks.
    with _LOAD_LOCK:
        for llm, _ in _LOADED.values():
            with contextlib.suppress(Exception):
                llm.close()
        _LOADED.clear()


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _silence_llama_logs() -> None:
    # llama.cpp logs every tensor at load through llama-cpp-python's logger; the
    # terminal belongs to smolab's own output.
    import logging

    logging.getLogger("llama-cpp-python").setLevel(logging.CRITICAL)


def _looks_like_gguf(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(4) == b"GGUF"
    except OSError:
        return False


def check_gguf(path: Path) -> None:
    """A file that exists and opens as GGUF, or a one-line error."""
    if not path.is_file():
        raise ModelNotAvailableError(f"GGUF file not found: {path}")
    if not _looks_like_gguf(path):
        raise CorruptModelError(
            f"{path} is not a GGUF file (bad magic bytes); check the path or download it again"
        )


def load_llama(path: Path, n_ctx: int, threads: int, draft: int = 0) -> tuple[Any, threading.Lock]:
    """The process-wide ``Llama`` for this file and context size (and its lock), loaded on first
    use; ``draft`` > 0 drafts that many tokens ahead by prompt lookup (see ``lookup.py``)."""
    key = (str(path.resolve()), n_ctx, threads, draft)
    with _LOAD_LOCK:
        if key in _LOADED:
            return _LOADED[key]
        check_gguf(path)
        from llama_cpp import Llama

        _silence_llama_logs()
        args: dict[str, Any] = {"model_path": str(path), "n_ctx": n_ctx, "verbose": False}
        args |= {"n_threads": threads, "n_threads_batch": threads, "n_batch": 512}
        try:
            llm = lookup_llama(draft, **args) if draft else Llama(**args)
        except (ValueError, RuntimeError) as err:
            raise CorruptModelError(
                f"llama.cpp could not load {path} ({err}); the file may be truncated or of an "
                "unsupported architecture: download it again or update smolab"
            ) from err
        _LOADED[key] = (llm, threading.Lock())
        return _LOADED[key]


# llama-cpp-python's schema converter lets a JSON string hold raw control characters (a bare
# newline at a length cap was seen), which no JSON parser accepts; JSON allows them escaped only.
LOOSE_CHAR = 'char ::= [^"\\\\]'
JSON_CHAR = 'char ::= [^"\\\\\\x7F\\x00-\\x1F]'


MOST_ENUMERATED = 256


def enumerate_ranges(node: Any) -> Any:
    """The schema with each small integer range (``minimum`` and ``maximum``, at most 256 values)
    written as its values: the converter ignores bounds on numbers, so a score of 1 to 5 would
    otherwise be sampled as any integer and only refused after the reply."""
    if isinstance(node, list):
        return [enumerate_ranges(n) for n in node]
    if not isinstance(node, dict):
        return node
    node = {k: enumerate_ranges(v) for k, v in node.items()}
    if node.get("type") == "integer":
        low = node.get("minimum", node["exclusiveMinimum"] + 1 if "exclusiveMinimum" in node else None)
        high = node.get("maximum", node["exclusiveMaximum"] - 1 if "exclusiveMaximum" in node else None)
        if isinstance(low, int) and isinstance(high, int) and 0 <= high - low < MOST_ENUMERATED:
            bounds = ("type", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")
            return {**{k: v for k, v in node.items() if k not in bounds}, "enum": list(range(low, high + 1))}
    return node


def schema_gbnf(schema_json: str) -> str:
    """The GBNF grammar of a JSON schema, its strings free of raw control characters and its
    small integer ranges kept."""
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    schema = json.dumps(enumerate_ranges(json.loads(schema_json)))
    return str(json_schema_to_gbnf(schema)).replace(LOOSE_CHAR, JSON_CHAR)


@lru_cache(maxsize=32)
def _grammar(schema_json: str) -> Any:
    from llama_cpp.llama_grammar import LlamaGrammar

    return LlamaGrammar.from_string(schema_gbnf(schema_json), verbose=False)


@lru_cache(maxsize=32)
def _gbnf(text: str) -> Any:
    from llama_cpp.llama_grammar import LlamaGrammar

    return LlamaGrammar.from_string(text, verbose=False)


_CHECKED: set[str] = set()


def _check_grammar(llm: Any, grammar: Any, schema: Any) -> None:
    """llama.cpp reports a grammar it cannot parse on stderr and then samples unconstrained;
    refuse instead, so a schema is never silently ignored."""
    import llama_cpp

    text = grammar._grammar
    if text in _CHECKED:
        return
    sampler = llama_cpp.llama_sampler_init_grammar(llm._model.vocab, text.encode(), grammar._root.encode())
    if not sampler:
        title = schema.get("title", "the schema") if isinstance(schema, dict) else "the schema"
        raise StructuredOutputError(
            f"{title} cannot be turned into a llama.cpp grammar (a pattern it does not support?); "
            "simplify the schema",
            last_reply="",
        )
    llama_cpp.llama_sampler_free(sampler)
    _CHECKED.add(text)


class LlamaCppBackend:
    """Any GGUF file, run in-process on the CPU."""

    exact_token_count = True
    supports_grammar = True

    def __init__(
        self,
        path: Path,
        name: str | None = None,
        context_window: int | None = None,
        threads: int | None = None,
        reuse_prefix: bool = True,
        preflight: Callable[[Path], None] | None = None,
        draft: int = 0,
    ):
        self.path = Path(path)
        self.name = name or self.path.name
        self.threads = threads or available_cores()
        self.reuse_prefix = reuse_prefix
        self.draft = draft
        """Tokens drafted ahead by prompt lookup in free-text replies (0: off; see ``lookup.py``)."""
        self.preflight = preflight
        """Called with the GGUF's path before it is first loaded: the build check (canary.BuildCheck)."""
        self._requested_ctx = context_window
        self._llm: Any = None
        self._lock: threading.Lock | None = None
        self._formatter: Any = None

    @property
    def llm(self) -> Any:
        if self._llm is None:
            if self.preflight is not None:
                check_gguf(self.path)
                self.preflight(self.path)
            self._llm, self._lock = load_llama(self.path, self._requested_ctx or 0, self.threads, self.draft)
            self._formatter = self._make_formatter(self._llm)
        return self._llm

    @property
    def context_window(self) -> int:
        # Known without loading when asked for: a run checks the window long before its first call.
        return self._requested_ctx or int(self.llm.n_ctx())

    @staticmethod
    def _make_formatter(llm: Any) -> Any:
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        template = llm.metadata.get("tokenizer.chat_template")
        if not template:
            raise CorruptModelError(
                "the GGUF has no chat template (tokenizer.chat_template); use an instruct/chat model"
            )
        eos_id, bos_id = llm.token_eos(), llm.token_bos()
        eos = llm._model.token_get_text(eos_id) if eos_id != -1 else ""
        bos = llm._model.token_get_text(bos_id) if bos_id != -1 else ""
        return Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos, stop_token_ids=[eos_id])

    def render(self, messages: Sequence[Message]) -> tuple[list[int], list[str]]:
        """The prompt's tokens after the GGUF's chat template, and the template's stop strings."""
        llm = self.llm
        out = self._formatter(messages=[m.to_dict() for m in messages])
        tokens = llm.tokenize(out.prompt.encode("utf-8"), add_bos=not out.added_special, special=True)
        stops = [s for s in (out.stop if isinstance(out.stop, list) else [out.stop]) if s]
        return tokens, stops

    def count_tokens(self, messages: Sequence[Message]) -> int:
        return len(self.render(messages)[0])

    def generate(self, messages: Sequence[Message], params: GenerateParams) -> Iterator[Chunk]:
        self.llm  # noqa: B018 - loads the model and its lock
        assert self._lock is not None
        with self._lock:
            # A grammar-bound reply is short and copies nothing: no draft to check.
            drafts = self.llm.draft_model if self.draft else None
            if drafts is not None and (params.json_schema or params.grammar):
                self.llm.draft_model = None
            try:
                yield from self._generate(messages, params)
            finally:
                if drafts is not None:
                    self.llm.draft_model = drafts

    def _generate(self, messages: Sequence[Message], params: GenerateParams) -> Iterator[Chunk]:
        llm = self.llm
        tokens, template_stops = self.render(messages)
        if self.reuse_prefix:
            cached = llm.longest_token_prefix(llm._input_ids.tolist(), tokens)
            cached = min(cached, max(len(tokens) - 1, 0))
        else:
            llm.reset()
            cached = 0
        grammar = None
        if params.json_schema:
            grammar = _grammar(json.dumps(params.json_schema))
            _check_grammar(llm, grammar, params.json_schema)
        elif params.grammar:
            grammar = _gbnf(params.grammar)
            _check_grammar(llm, grammar, {"title": "the grammar"})
        sampled = 0

        def count(_ids: Any, _logits: Any) -> bool:
            nonlocal sampled
            sampled += 1
            return False

        from llama_cpp import StoppingCriteriaList

        start = time.perf_counter()
        first: float | None = None
        reason = "stop"
        stream = llm.create_completion(
            prompt=tokens,
            max_tokens=params.max_tokens,
            temperature=params.temperature,
            seed=params.seed,
            stop=[*template_stops, *params.stop],
            grammar=grammar,
            stopping_criteria=StoppingCriteriaList([count]),
            stream=True,
        )
        for part in stream:
            choice = part["choices"][0]
            text = choice.get("text") or ""
            if text:
                if first is None:
                    first = time.perf_counter() - start
                yield Chunk(text)
            if choice.get("finish_reason"):
                reason = choice["finish_reason"]
        usage = Usage(
            prompt_tokens=len(tokens),
            completion_tokens=min(sampled, params.max_tokens),
            cached_tokens=cached,
            seconds=time.perf_counter() - start,
            first_token_seconds=first,
        )
        yield Chunk("", usage=usage, finish_reason="length" if reason == "length" else "stop")
