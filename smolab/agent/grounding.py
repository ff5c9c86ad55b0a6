"""Checks that a final answer comes from the data, not from the model's imagination.

Small models answer questions about files with values they never computed: names that occur
in no file, a count held in a variable that was never printed, a filter on ``'North'`` when the
file says ``north`` (so the count is 0). Each check here holds the answer against the workspace's
text files and the outputs of the run's steps, and says precisely what to fix.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .checks import Ending

MAX_FILE = 2_000_000
MAX_FILES = 50
STATUS_WORDS = {"ok", "done", "yes", "no", "true", "false", "none", "success", "finished", "completed"}
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def _files(end: Ending) -> dict[str, str]:
    """The workspace's text files (the data a question is about), by their relative path."""
    out: dict[str, str] = {}
    for rel, (size, _) in sorted(end.now().items()):
        if len(out) >= MAX_FILES:
            break
        if size > MAX_FILE:
            continue
        try:
            out[rel] = (end.workspace / rel).read_bytes().decode()
        except (OSError, UnicodeDecodeError):
            continue  # not text
    return out


def _sources(end: Ending) -> str:
    """Everything an answer may be read off: the task, the workspace's text, the steps' outputs."""
    outputs = [str(s.get("observation", "")) for s in end.steps]
    return "\n".join([end.task, *_files(end).values(), *outputs])


def _scalars(answer: Any) -> Iterator[Any]:
    if isinstance(answer, dict):
        for k, v in list(answer.items())[:50]:
            yield k
            yield from _scalars(v)
    elif isinstance(answer, (list, tuple, set)):
        for v in list(answer)[:50]:
            yield from _scalars(v)
    else:
        yield answer


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and NUMBER.fullmatch(value.strip()):
        return float(value.strip())
    return None


def _decimals(value: Any) -> int:
    text = str(value).strip()
    return len(text.split(".")[1]) if "." in text and "e" not in text.lower() else 0


def _shown(value: Any, number: float, numbers: list[tuple[float, int]]) -> bool:
    """Whether a number was shown: exactly, rounded to the digits it was printed with, or
    printed more precisely than the answer gives it."""
    mine = _decimals(value)
    for x, decimals in numbers:
        if abs(x - number) <= 1e-9 * max(1.0, abs(number)):
            return True
        if decimals and round(number, decimals) == x:
            return True
        if mine and decimals > mine and round(x, mine) == number:
            return True
    return False


def typed_in(end: Ending) -> bool:
    """Whether the model wrote the answer's value into its ``final_answer`` call itself (a
    literal) rather than passing what its code computed."""
    code = str(end.steps[-1].get("code", "")) if end.steps else ""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "final_answer" and node.args:
            try:
                ast.literal_eval(node.args[0])
            except ValueError:
                return False
            return True
    return False


def answer_grounded(end: Ending) -> str | None:
    """Each value of a short answer the model typed in itself (a number, a word, a list or
    mapping of them) occurs in the task, a file of the workspace or an output of the run."""
    answer = end.answer
    if not typed_in(end):
        return None  # computed by its code: whether the code is right, no check can tell here
    if isinstance(answer, str) and (len(answer) > 40 or len(answer.split()) > 3):
        return None  # prose: what it claims is the other checks' business
    text = _sources(end)
    lowered = text.lower()
    numbers: list[tuple[float, int]] | None = None
    missing = []
    for value in _scalars(answer):
        number = _number(value)
        if number is not None:
            if numbers is None:
                numbers = [(float(m), len(m.split(".")[1]) if "." in m else 0) for m in NUMBER.findall(text)]
            if not _shown(value, number, numbers):
                missing.append(repr(value))
        elif isinstance(value, str) and value.strip() and len(value) <= 60:
            word = value.strip()
            if word.lower() not in STATUS_WORDS and word.lower() not in lowered:
                missing.append(repr(value))
    if not missing:
        return None
    shown = ", ".join(missing[:4])
    return (
        f"the answer's {shown} was never printed by a step and is in no file of the workspace: "
        "compute it from the data, print it, check it, then call final_answer with what was printed"
    )


def _compared_strings(code: str) -> Iterator[str]:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return
    for node in ast.walk(tree):
        if not isinstance(node, ast.Compare):
            continue
        if not all(isinstance(op, (ast.Eq, ast.NotEq, ast.In, ast.NotIn)) for op in node.ops):
            continue
        for side in (node.left, *node.comparators):
            if (
                isinstance(side, ast.Constant)
                and isinstance(side.value, str)
                and 0 < len(side.value.strip()) <= 40
            ):
                yield side.value


def compares_with_the_data(end: Ending) -> str | None:
    """A step that compared the data with a string the files do not hold, when they hold it in
    another case or with other spacing (so a filter matched nothing)."""
    files = _files(end)
    if not files:
        return None
    compared = [list(dict.fromkeys(_compared_strings(str(s.get("code", ""))))) for s in end.steps]
    problems = []
    for i, s in enumerate(end.steps):
        for literal in compared[i]:
            if any(literal in text for text in files.values()):
                continue
            found = _variant(literal.strip(), files)
            if found is not None:
                name, variant = found
                if any(variant in later for later in compared[i + 1 :]):
                    continue  # a later step compared with the file's spelling: corrected
                problems.append(
                    f"step {s.get('step', '?')} compares with {literal!r}, which no file holds; "
                    f"{name} has {variant!r}"
                )
    if not problems:
        return None
    return "; ".join(dict.fromkeys(problems[:3])) + ": fix the comparison and compute the answer again"


def _variant(literal: str, files: dict[str, str]) -> tuple[str, str] | None:
    pattern = re.compile(r"(?<![\w])" + r"\s*".join(map(re.escape, literal.split())) + r"(?![\w])", re.I)
    for name, text in files.items():
        m = pattern.search(text)
        if m is not None:
            return Path(name).name, m.group(0)
    return None


CHECKS = (answer_grounded, compares_with_the_data)
