"""A backend that replays canned replies: fast, deterministic tests of the machinery above it.

It keeps every prompt it was sent, so tests assert on what a pipeline asked as
well as on what it did with the answer. It is never picked by ``--model``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence

from .chat import timed_chunks
from .types import Chunk, FinishReason, GenerateParams, Message

Reply = str | Callable[[Sequence[Message], GenerateParams], str] | Exception


class ScriptedBackend:
    name = "scripted"
    exact_token_count = True

    def __init__(
        self, replies: Iterable[Reply] = (), context_window: int = 8192, fallback: Reply | None = None
    ):
        self.context_window = context_window
        self.replies: deque[Reply] = deque(replies)
        self.fallback = fallback
        """Answers every call once the queue is empty (a function routing on the prompt, say)."""
        self.history: list[tuple[list[Message], GenerateParams]] = []

    def enqueue(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    def count_tokens(self, messages: Sequence[Message]) -> int:
        # Whitespace words plus a few per message for the template: close enough to a
        # real tokenizer for tests of context budgeting.
        return sum(len(m.content.split()) + 4 for m in messages)

    def generate(self, messages: Sequence[Message], params: GenerateParams) -> Iterator[Chunk]:
        self.history.append((list(messages), params))
        if not self.replies and self.fallback is None:
            raise AssertionError("scripted model ran out of replies")
        reply = self.replies.popleft() if self.replies else self.fallback
        assert reply is not None
        if isinstance(reply, Exception):
            raise reply
        text = reply(messages, params) if callable(reply) else reply
        words = text.split(" ")
        pieces = [w if i == 0 else " " + w for i, w in enumerate(words)]
        reason: FinishReason = "length" if len(pieces) > params.max_tokens else "stop"
        yield from timed_chunks(iter(pieces[: params.max_tokens]), self.count_tokens(messages), reason)
