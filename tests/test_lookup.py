"""Drafts for prompt-lookup decoding, on invented token sequences."""

import numpy as np

from smolab.models.lookup import NgramDraft


def ids(*tokens: int) -> np.ndarray:
    return np.array(tokens, dtype=np.intc)


def test_the_tokens_after_the_latest_earlier_match_are_drafted():
    draft = NgramDraft(most=4)
    # 1 2 3 occurred twice before; the latest is followed by 9 9 8.
    context = ids(1, 2, 3, 5, 6, 7, 1, 2, 3, 9, 9, 8, 0, 1, 2, 3)
    assert draft(context).tolist() == [9, 9, 8, 0]


def test_no_draft_from_fewer_than_three_matched_tokens():
    draft = NgramDraft(most=4)
    assert draft(ids(1, 2, 5, 6, 7, 8, 1, 2)).tolist() == []  # only "1 2" recurs
    assert draft(ids(4)).tolist() == []


def test_a_draft_rejected_shortens_the_next_and_one_kept_lengthens_it():
    draft = NgramDraft(most=8)
    context = ids(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2, 3)
    assert draft(context).tolist() == [4, 5, 6, 7, 8, 9, 10, 11]
    # The sampler kept 4 5, then picked 0 instead of 6: the next draft is at most 3 long.
    assert len(draft(np.concatenate([context, ids(4, 5, 0)]))) <= 3
    assert draft.ahead == 3
    context = ids(7, 7, 1, 2, 3, 4, 5, 6, 1, 2, 3)
    draft = NgramDraft(most=8)
    draft.ahead = 2
    assert draft(context).tolist() == [4, 5]
    draft(np.concatenate([context, ids(4, 5, 6)]))  # all kept: doubled
    assert draft.ahead == 4
    assert draft(ids(9, 9, 9)).tolist() == [] and draft.ahead == 8  # a new reply starts afresh
