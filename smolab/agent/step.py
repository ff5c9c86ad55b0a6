"""The step format: a one-line thought, then one Python code block.

On local GGUF models the reply is decoded under :data:`GRAMMAR`, so it always has this
shape; other models are checked with :func:`parse_step` and corrected by message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

FENCE = "```"

# The thought is one line of at most 200 characters (a small model otherwise narrates until
# its token limit; the bound moves it on to the code); the code may hold anything but a
# backtick, so the closing fence is unambiguous. A completed grammar ends the reply.
GRAMMAR = r"""
root ::= "Thought: " thought "\n```python\n" code "\n```"
thought ::= [^\n`]{1,200}
code ::= [^`]+
"""

EXAMPLE = """Thought: See which files the workspace holds.
```python
print(list_files())
```"""

_BLOCK = re.compile(r"```[ \t]*(?:python|py)?[ \t]*\n(.*?)(?:\n[ \t]*```|\Z)", re.S)
_THOUGHT = re.compile(r"(?:^|\n)\s*(?:Thought|Thoughts|THOUGHT)\s*:\s*(.*)")


class StepFormatError(ValueError):
    """The reply holds no code block."""


@dataclass(frozen=True)
class Step:
    thought: str
    code: str


def parse_step(text: str) -> Step:
    """The thought and code of a reply. Tolerates a missing ``Thought:``, an untagged fence and
    a reply cut off inside its block; raises StepFormatError when there is no code at all."""
    match = _BLOCK.search(text)
    if match is None or not match.group(1).strip():
        raise StepFormatError(
            "no code block found: reply with 'Thought: <one line>' and then a ```python block"
        )
    code = match.group(1).rstrip().strip("\n")
    before = text[: match.start()]
    thought_match = _THOUGHT.search(before)
    thought = (thought_match.group(1) if thought_match else before).strip().splitlines()
    return Step(thought=thought[0].strip() if thought else "", code=code)


_BANG = re.compile(r"^([ \t]*)!(.+)$", re.M)


def shell_escapes(code: str) -> str:
    """Notebook-style ``!command`` lines (``!pip install x``, which small models write often) as
    calls of the ``shell`` tool, so they run, behind the same approvals, instead of failing to parse."""
    return _BANG.sub(lambda m: f"{m.group(1)}print(shell({m.group(2).strip()!r}))", code)


def render_step(step: Step) -> str:
    """The step as the assistant message kept in the conversation (the canonical shape)."""
    return f"Thought: {step.thought}\n{FENCE}python\n{step.code}\n{FENCE}"


def runaway(limit_chars: int):  # type: ignore[no-untyped-def]
    """An ``until`` predicate: stop a reply whose thought runs on past ``limit_chars`` without
    reaching the code block (a small model describing instead of acting)."""

    def check(text: str) -> bool:
        return FENCE not in text and len(text) > limit_chars

    return check
