"""What the agent's model reads: the system prompt, observations and corrections."""

from __future__ import annotations

import ast
import importlib.util
import re
from typing import Any

from ..sandbox import RunResult
from ..stack import ml_stack
from .missing_names import missing_name_note
from .step import EXAMPLE
from .torch_errors import torch_error_note

SYSTEM = """You are an ML engineer. You solve the task in steps; each step runs Python code.
Reply with exactly one step:
Thought: <one line: what you do next and why>
```python
<code>
```
The code runs in a persistent Python session (variables stay between steps) inside the
workspace folder. print() what you need to see: the output comes back to you. Besides
Python's standard library you can import {packages}. You can call these functions:
{tools}
As soon as you know the result, call final_answer(result) in a step.
Example step:
{example}"""

FORMAT_CORRECTION = (
    "Your reply could not be used: {error}. Reply with one step: a line starting with 'Thought:' "
    "and then one ```python code block."
)

NEXT = "(If this answers the task, call final_answer with it.)"
"""Appended to an observation with output: small models otherwise compute the answer, print
it, and compute it again."""

REJECTED = (
    "Your final answer was not accepted: {problems}. Do what the task asks in a step that runs, "
    "check the result, then call final_answer again."
)

FINAL_QUESTION = (
    "Task: {task}\nThe last outputs of the code run for it:\n{outputs}\n\n"
    "Reply NONE if these outputs do not answer the task. Otherwise reply with the answer alone on one line."
)
"""Self-contained and short: small models asked over the whole conversation, or with NONE as
the last word of the ask, answer NONE even when the outputs hold the answer."""


def final_question(task: str, outputs: list[str]) -> str:
    shown = "\n".join(f"- {clip(o.strip(), 300)}" for o in outputs)
    return FINAL_QUESTION.format(task=task, outputs=shown)


def read_off(answer: Any, outputs: list[str]) -> bool:
    """The answer appears in the outputs (case and surrounding quotes aside): an answer asked
    for after the guard must be read off what the code printed, not made up."""
    text = str(answer).strip().strip("'\"`.").lower()
    return bool(text) and any(text in o.lower() for o in outputs)


def answer_of(reply: str) -> Any:
    """The answer in a reply to FINAL_QUESTION, or None when it has none. A model that answers
    with a step gets the value its ``final_answer(...)`` call names; any other step is no answer."""
    call = re.search(r"final_answer\((.+?)\)\s*(?:```|$)", reply, re.S | re.M)
    if call:
        try:
            return ast.literal_eval(call.group(1).strip())
        except (ValueError, SyntaxError):
            return None
    if "```" in reply or reply.lstrip().lower().startswith("thought:"):
        return None
    text = reply.strip().strip("`").strip()
    text = re.sub(r"^(?:final )?answer\s*:\s*", "", text, flags=re.I).strip()
    if not text or re.fullmatch(r"none\W*", text, re.I):
        return None
    return text.splitlines()[0].strip()[:500]


RESUMED = (
    "The session was restarted: variables from earlier steps are gone, files in the workspace "
    "remain. Continue the task."
)


WANTED = ("pandas", "sklearn", "transformers", "datasets", "torchvision")
"""Packages small models reach for: those not installed are named as such."""


def importable(candidates: tuple[str, ...] = WANTED) -> tuple[list[str], list[str]]:
    """The ML stack the sandbox can import (it runs smolab's own interpreter), and which of the
    packages small models reach for it cannot: a model otherwise imports what is not there."""
    have = list(ml_stack())
    missing = [n for n in candidates if n not in have and importlib.util.find_spec(n) is None]
    return have, missing


def system_prompt(tools: str, skills: str = "") -> str:
    """The agent's system prompt; ``skills`` are instructions chosen for the task, told last."""
    have, missing = importable()
    packages = ", ".join(have) if have else "no third-party package"
    if missing:
        packages += f" (not installed: {', '.join(missing)}; install_packages needs approval)"
    text = SYSTEM.format(tools=tools, example=EXAMPLE, packages=packages)
    return f"{text}\n\nSkills for this kind of task (follow what fits):\n{skills}" if skills else text


def task_message(task: str, context: str = "") -> str:
    return f"Task: {task}" + (f"\n\n{context}" if context else "")


def clip(text: str, limit: int) -> str:
    """Keep the start and the end (where errors are) of a long output."""
    if len(text) <= limit:
        return text
    head = limit // 3
    return f"{text[:head]}\n[... {len(text) - limit} characters cut ...]\n{text[-(limit - head) :]}"


def observation(result: RunResult, limit: int) -> str:
    """The step's result as the model reads it: output, then errors and why the code stopped."""
    parts = []
    if result.stdout.strip():
        out = result.stdout.rstrip()
        # A script run through the shell tool prints its traceback into the step's output.
        parts.append(_short_traceback(out) if "Traceback (most recent call last)" in out else out)
    if result.stderr.strip():
        parts.append(("Error:\n" if not result.ok else "stderr:\n") + _short_traceback(result.stderr))
    if result.message:
        parts.append(f"({result.message})")
    if result.stderr.strip() or "Traceback (most recent call last)" in result.stdout:
        error = result.stderr + result.stdout  # a warning on stderr counts too (a broadcast loss)
        parts += [n for n in (missing_name_note(error), torch_error_note(error)) if n]
    if not parts:
        parts.append(
            "(no output; print() what you want to see)" if result.ok else f"(exit code {result.exit_code})"
        )
    return clip("\n".join(parts), limit)


def _short_traceback(stderr: str) -> str:
    """Drop the sandbox's own frames from a traceback and fold a library's frames into one line:
    the model needs its code's lines and the error, not torch's internals."""
    out: list[str] = []
    skipping = False
    folded: list[str] = []  # the libraries of the frames folded since the last kept line

    def flush() -> None:
        if folded:
            names = ", ".join(dict.fromkeys(folded))
            out.append(f"  [{len(folded)} frame{'s' if len(folded) > 1 else ''} inside {names}]")
            folded.clear()

    for line in stderr.rstrip().splitlines():
        stripped = line.lstrip()
        if stripped.startswith("File ") and "worker.py" in line:
            skipping = True
            continue
        if stripped.startswith("File ") and (library := _library(stripped)) is not None:
            skipping = True
            folded.append(library)
            continue
        if skipping and line.startswith("    "):
            continue  # the skipped frame's source line and its ^^^ markers
        skipping = False
        flush()
        out.append(line)
    flush()
    return "\n".join(out)


def _library(frame: str) -> str | None:
    """The installed package (or "the standard library") a traceback's frame line is in."""
    m = re.match(r'File "([^"]+)"', frame)
    if m is None:
        return None
    path = m.group(1)
    if "/site-packages/" in path or "/dist-packages/" in path:
        return re.split(r"/(?:site|dist)-packages/", path, maxsplit=1)[1].split("/")[0].removesuffix(".py")
    if re.search(r"/lib/python3\.\d+/", path):
        return "the standard library"
    return None
