"""Prompt-lookup decoding for llama.cpp on a CPU: a reply that copies from its prompt (a file
rewritten with one line changed, a method rewritten from the last draft) costs a fraction of its
tokens in decode steps.

A draft is the tokens that followed the latest earlier occurrence of the context's last few
tokens (``NgramDraft``); llama-cpp-python checks it in one batch and keeps the tokens the sampler
would have picked anyway. On a CPU a batch of a few tokens costs about one decode step, a batch
of ten about two: drafts that fail cost more than they save, so the draft is found only from
three tokens matched or more, and grows or shrinks with how much of the last one was kept.

Given a draft model llama-cpp-python also keeps the logits of every position of every batch, the prompt's
thousands included, in an array of the context's size times the vocabulary (20 GB for a
32k-token window of a 150k-token vocabulary). Only the short batches that check a draft need
them, and the sampler reads them from llama.cpp's context, not from that array: ``LookupLlama``
asks for them there only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import numpy as np


class NgramDraft:
    """Up to ``most`` tokens that followed the latest earlier occurrence of the context's last
    ``longest`` .. ``shortest`` tokens (the longest match wins); as many as the last draft earned."""

    def __init__(self, most: int, longest: int = 4, shortest: int = 3):
        self.most, self.longest, self.shortest = most, longest, shortest
        self.ahead = most
        self._last: tuple[int, np.ndarray] | None = None  # (context length, the draft proposed)

    def __call__(self, input_ids: np.ndarray, /, **_: Any) -> np.ndarray:
        ids = np.asarray(input_ids)
        self._learn(ids)
        draft = self.find(ids)
        self._last = (len(ids), draft) if len(draft) else None
        return draft

    def _learn(self, ids: np.ndarray) -> None:
        """How much of the last draft the sampler kept: all doubles the next one's length, less
        makes it one longer than what was kept."""
        if self._last is None:
            return
        at, draft = self._last
        if len(ids) <= at:  # a new reply
            self.ahead, self._last = self.most, None
            return
        got = ids[at : at + len(draft)]
        kept = next((i for i, (a, b) in enumerate(zip(got, draft, strict=False)) if a != b), len(got))
        self.ahead = min(self.most, self.ahead * 2) if kept == len(draft) else max(1, kept + 1)

    def find(self, ids: np.ndarray) -> np.ndarray:
        for n in range(min(self.longest, len(ids) - 1), self.shortest - 1, -1):
            tail = ids[-n:]
            windows = np.lib.stride_tricks.sliding_window_view(ids[:-1], n)
            starts = np.nonzero((windows == tail).all(axis=1))[0]
            if len(starts):
                begin = int(starts[-1]) + n
                return ids[begin : begin + self.ahead].astype(np.intc)
        return np.array([], dtype=np.intc)


def lookup_llama(draft_tokens: int, **kwargs: Any) -> Any:
    """A ``Llama`` that drafts ``draft_tokens`` tokens ahead from its own context."""
    from llama_cpp import Llama

    class LookupLlama(Llama):
        decode_steps = 0
        """Batches that checked a draft (or decoded one token): the decode steps a reply took."""

        def eval(self, tokens: Sequence[int]) -> None:
            checks_a_draft = len(tokens) <= draft_tokens + 1
            self.decode_steps += checks_a_draft
            self._ctx.kv_cache_seq_rm(-1, self.n_tokens, -1)
            for i in range(0, len(tokens), self.n_batch):
                batch = list(tokens[i : i + self.n_batch])
                self._batch.set_batch(batch=batch, n_past=self.n_tokens, logits_all=checks_a_draft)
                self._ctx.decode(self._batch)
                self.input_ids[self.n_tokens : self.n_tokens + len(batch)] = batch
                self.n_tokens += len(batch)
            self._requires_eval = False

    llm = LookupLlama(**kwargs)
    # Set after construction: given to the constructor it sizes the logits array for every position.
    llm.draft_model = cast(Any, NgramDraft(draft_tokens))  # the interface llama-cpp-python calls
    return llm
