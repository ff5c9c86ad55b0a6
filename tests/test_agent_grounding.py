"""Answers held against the data: values that occur nowhere, comparisons with a value the files
spell differently. Invented workspaces; each check fails on a made-up answer and passes the true one."""

from __future__ import annotations

from smolab.agent.checks import Ending, snapshot
from smolab.agent.grounding import answer_grounded, compares_with_the_data


def ending(tmp_path, task, answer, files, steps=()):
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    return Ending(task, answer, tmp_path, snapshot(tmp_path), list(steps))


def step(n, code, observation=""):
    return {"step": n, "code": code, "observation": observation, "status": "ok", "tool_calls": []}


def answered(steps, answer, files, tmp_path, task="the task"):
    """The run's steps and a last one that types ``answer`` into final_answer."""
    return ending(tmp_path, task, answer, files, [*steps, step(len(steps) + 1, f"final_answer({answer!r})")])


PETS = {"pets.json": '[{"pet": "otter", "age": 4}, {"pet": "heron", "age": 11}]'}


def test_names_typed_into_the_answer_that_occur_nowhere_are_refused(tmp_path):
    task = "Which pets in pets.json are older than 3?"
    problem = answer_grounded(answered([], ["Rex", "Tom"], PETS, tmp_path, task))
    assert problem is not None and "'Rex'" in problem and "print it" in problem
    assert answer_grounded(answered([], ["heron", "otter"], PETS, tmp_path, task)) is None
    assert answer_grounded(answered([], "Otter", PETS, tmp_path, task)) is None  # case does not matter


def test_a_typed_number_must_have_been_printed_or_be_in_the_data(tmp_path):
    never_printed = answered([step(1, "m = 7.5")], 8.25, PETS, tmp_path)
    assert "8.25" in (answer_grounded(never_printed) or "")
    printed = answered([step(1, "print(m)", "7.5")], 7.5, PETS, tmp_path)
    assert answer_grounded(printed) is None
    # Rounded either way: printed with more digits than answered, or answered with more.
    finer = answered([step(1, "print(a)", "0.3333333")], 0.33, PETS, tmp_path)
    coarser = answered([step(1, "print(round(a, 3))", "0.333")], 0.3333333, PETS, tmp_path)
    assert answer_grounded(finer) is None and answer_grounded(coarser) is None
    assert answer_grounded(answered([], "11", PETS, tmp_path)) is None  # in the file, as text


def test_an_answer_the_code_computed_is_not_second_guessed(tmp_path):
    computed = ending(
        tmp_path, "Mean age?", 8.25, PETS, [step(1, "m = 7.5"), step(2, "final_answer(m + 0.75)")]
    )
    assert answer_grounded(computed) is None


def test_prose_and_status_words_are_left_to_the_other_checks(tmp_path):
    prose = "The ages were summed and the result is stored in total.txt for later."
    assert answer_grounded(answered([], prose, PETS, tmp_path)) is None
    assert answer_grounded(answered([], "done", PETS, tmp_path)) is None
    assert answer_grounded(answered([], True, PETS, tmp_path)) is None


def test_a_comparison_with_a_value_the_files_spell_otherwise_is_pointed_out(tmp_path):
    files = {"visits.csv": "city,n\nlisbon,3\nporto,5\nlisbon,2\n"}
    wrong = step(1, "rows = [r for r in data if r['city'] == 'Lisbon']\nprint(len(rows))", "0")
    problem = compares_with_the_data(ending(tmp_path, "How many visits to lisbon?", 0, files, [wrong]))
    assert problem is not None and "'Lisbon'" in problem and "'lisbon'" in problem and "step 1" in problem
    right = step(1, "rows = [r for r in data if r['city'] == 'lisbon']\nprint(len(rows))", "2")
    assert compares_with_the_data(ending(tmp_path, "How many visits to lisbon?", 2, files, [right])) is None
    # Corrected by a later step: the earlier mistake no longer counts.
    fixed = {**right, "step": 2}
    assert (
        compares_with_the_data(ending(tmp_path, "How many visits to lisbon?", 2, files, [wrong, fixed]))
        is None
    )
    # A value no file holds in any spelling is not the data's (a sentinel, say): no complaint.
    other = step(1, "if line != 'END':\n    pass")
    assert compares_with_the_data(ending(tmp_path, "Count the lines.", 4, files, [other])) is None
