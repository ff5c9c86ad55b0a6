"""The agent loop: ask the model for a step, run its code in the sandbox session, feed the
output back, until ``final_answer``, a budget or a guard ends the run.

Each step is one line of the trajectory the moment it ends, so a crash loses at most the
step in flight and ``resume`` carries on from the conversation as it stood.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from ..models import ChatModel, ContextLengthError, Message, ModelError, Usage
from ..runs import Event, Meter, status_of
from ..runs.events import (
    Approval,
    Check,
    Compact,
    Context,
    FinalQuestion,
    FormatError,
    Guard,
    RunEnded,
    RunResumed,
    RunStarted,
    SandboxCall,
    SkillUsed,
    StepDone,
    StepStarted,
    ToolCalled,
)
from ..runs.tracing import trace_run
from ..sandbox import ProcessSandbox
from ..skills.guide import Guide, told
from .checks import BUILT_IN, Ending, FinalCheck, Snapshot, run_checks, snapshot
from .context import task_context
from .errors import RunFinishedError, SandboxSetupError
from .grounding import CHECKS as GROUNDED
from .guards import CORRECTION, Budget, DoomLoop, Spend, exceeded, free
from .memory import Memory, RunFolder, rebuild
from .outcome import Outcome, Status
from .policy import KIND_HELP, Action, Decision, Policy
from .prompt import (
    FORMAT_CORRECTION,
    NEXT,
    REJECTED,
    RESUMED,
    answer_of,
    final_question,
    importable,
    observation,
    read_off,
    system_prompt,
    task_message,
)
from .step import GRAMMAR, Step, StepFormatError, parse_step, render_step, runaway, shell_escapes
from .summary import write_summary
from .tools.base import Tool, Toolbox, ToolCall, ToolError, make_tool
from .tools.shell import PACKAGES
from .unsaved import defined, python_files, still_unsaved, unsaved

# Deleting inside the workspace needs approval even when the code does it itself: an audit hook
# (which code cannot remove) asks the host before os.remove / os.unlink / os.rmdir /
# shutil.rmtree touch a path under /workspace. Shell commands inside the code are not seen.
DELETE_GUARD = """
def _smolab_delete_guard(event, args, _os=__import__("os")):
    if event in ("os.remove", "os.rmdir", "shutil.rmtree") and args and isinstance(args[0], (str, bytes)):
        path = _os.path.abspath(_os.fsdecode(args[0]))
        if path.startswith("/workspace/"):
            try:
                __host_call__("__approve_delete__", [path], {})
            except HostError as e:
                raise PermissionError(str(e)) from None
_sys.addaudithook(_smolab_delete_guard)
"""

# The workspace's own modules import like in a script run there, and each step imports them as
# they are now: a module the model edited is not served from the session's cache.
FRESH_IMPORTS = """
_sys.path.insert(1, '/workspace')
_sys.dont_write_bytecode = True  # a .pyc as old as an edit in the same second would be served
def _smolab_fresh_imports(_sys=_sys, _importlib=__import__("importlib")):
    for name, module in list(_sys.modules.items()):
        where = getattr(module, '__file__', None) or ''
        if where.startswith('/workspace/') and '/.packages/' not in where:
            del _sys.modules[name]
    _importlib.invalidate_caches()
"""

NO_ANSWER = object()


@dataclass
class AgentOptions:
    budget: Budget = field(default_factory=Budget)
    step_timeout: float = 120.0
    """Seconds one step's code may run (long work belongs in a job)."""
    reply_tokens: int = 768
    observation_chars: int = 4000
    max_format_errors: int = 3
    """Malformed replies in a row before the run stops (models without grammar support)."""
    compact_at: float = 0.75
    """Fold the oldest steps into a summary once the prompt passes this share of the window."""
    keep_recent: int = 2
    """Steps kept whole when compacting."""
    thought_chars: int = 600
    final_checks: list[FinalCheck] = field(default_factory=list)
    """Checks of the user's run after the built-in ones (a file the task asks for exists and is
    not empty, an action the answer claims left a trace)."""
    max_rejections: int = 2
    """Final answers sent back for failing a check before the run ends as ``unverified``."""


StepObserver = Callable[[Event], None]

SKILL_TOKENS = 350
"""What the chosen skills' instructions may add to the system prompt."""


class Agent:
    def __init__(
        self,
        model: ChatModel,
        toolbox: Toolbox,
        sandbox: ProcessSandbox,
        run: RunFolder,
        policy: Policy | None = None,
        options: AgentOptions | None = None,
        price: Callable[[Usage], float] = free,
        on_event: StepObserver | None = None,
        guide: Guide | None = None,
    ):
        # The run's own handle on the model: its calls and tokens are this run's alone.
        self.model = model.share()
        self.toolbox = toolbox
        self.sandbox = sandbox
        self.run = run
        self.policy = policy or Policy()
        self.options = options or AgentOptions()
        self.guide = guide
        """Chooses the instruction skills the system prompt tells for the task."""
        self.price = price
        # Model calls become events too (without their text: the step events hold it).
        self.meter = Meter(run.trajectory, keep_text=False, price=price)
        self._detach = [self.model.observe(self.meter), trace_run(run.trajectory)]
        if on_event is not None:
            self._detach.append(run.trajectory.listen(on_event))
        self.memory = Memory()
        self.spend = Spend()
        self.loop_guard = DoomLoop()
        self.step_no = 0
        self.answer: Any = NO_ANSWER
        self._calls: list[ToolCall] = []
        self._format_errors = 0
        self._unsaved: tuple[dict[str, str], dict[str, str]] = ({}, {})
        """The last "set only in this session" notes, and the files as they were then."""
        self._rejections = 0
        self._task = ""
        self._before: Snapshot = {}
        self._installed = importable()[0]
        self._clock_base = 0.0
        self._started = time.monotonic()
        if "final_answer" not in toolbox.tools:
            toolbox.add(make_tool(self._final_answer, name="final_answer", stops=True))
        self.policy.record = self._record_decision
        sandbox.host = self._host

    # -- tools -------------------------------------------------------------------------

    def _final_answer(self, answer: Any) -> str:
        """End the task with its result (a value, or a short text saying what was found or made)."""
        self.answer = answer
        return "ok"

    def _record_decision(self, action: Action, decision: Decision) -> None:
        self._log(Approval(step=self.step_no, action=asdict(action), decision=asdict(decision)))

    def _approve_delete(self, path: str) -> dict[str, Any]:
        """The code itself (not a tool) is deleting a file of the workspace: same policy."""
        shown = path.removeprefix("/workspace/")
        decision = self.policy.decide(Action("delete", "python code", shown))
        if decision.allowed:
            return {"result": True}
        why = f": {decision.feedback}" if decision.feedback else " (a person can rerun with --allow delete)"
        return {"error": f"deleting {shown} was not approved{why}"}

    def _host(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
        if name == "__approve_delete__":
            return self._approve_delete(str(args[0]))
        calls = len(self._calls)
        reply = self._call_tool(name, args, kwargs)
        if len(self._calls) > calls:
            c = self._calls[-1]
            self._log(
                ToolCalled(step=self.step_no, tool=c.tool, arguments=c.arguments, ok=c.ok, result=c.result)
            )
        return reply

    def _call_tool(self, name: str, args: list[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
        tool = self.toolbox.tools.get(name)
        if tool is None:
            return {"error": f"there is no tool {name}"}
        start = time.perf_counter()
        call = ToolCall(name, {}, False, "")
        self._calls.append(call)
        try:
            call.arguments = tool.bind(args, kwargs)
            self._approve(tool, call)
            value = tool.fn(**call.arguments)
            json.dumps(value)
        except ToolError as err:
            call.result = str(err)
            return {"error": str(err)}
        except TypeError as err:
            if "JSON serializable" in str(err):
                value = str(value)
            else:
                call.result = f"{type(err).__name__}: {err}"
                return {"error": call.result}
        except Exception as err:  # a tool's bug reaches the model as an error, not a crash
            call.result = f"{type(err).__name__}: {err}"
            return {"error": f"{name} failed: {call.result}"}
        finally:
            call.seconds = round(time.perf_counter() - start, 3)
        call.ok = True
        call.result = _short(value)
        return {"stop": True} if tool.stops else {"result": value}

    def _approve(self, tool: Tool, call: ToolCall) -> None:
        if tool.classify is None:
            return
        action = tool.classify(call.arguments)
        if action is None:
            return
        action = replace(action, tool=tool.name)
        decision = self.policy.decide(action)
        call.decision = "allowed" if decision.allowed else "denied"
        if decision.allowed:
            return
        if decision.feedback:
            raise ToolError(f"not done: the user declined {tool.name} and said: {decision.feedback}")
        have = ", ".join(self._installed) or "no third-party package"
        nobody = decision.by == "non-interactive"
        who = "no one can approve that in this run" if nobody else "the user said no"
        raise ToolError(
            f"denied: {tool.name} would {KIND_HELP[action.kind]} ({action.detail[:200]}) and {who}, "
            f"so asking again in this run is pointless. Do without it: use Python's "
            f"standard library and what is installed ({have}). Only the person who started this run "
            f"can allow it, by starting a new run with --allow {action.kind}; no command or flag in your "
            "code can."
        )

    # -- bookkeeping ---------------------------------------------------------------------

    def _log(self, event: Event) -> None:
        self.run.log(event)

    def close(self) -> None:
        """Stop recording: the model and the trajectory may outlive the run."""
        for detach in self._detach:
            detach()
        self._detach = []

    def _elapsed(self) -> float:
        return self._clock_base + time.monotonic() - self._started

    def _prelude(self) -> None:
        # The modules small models most often use without importing them, imported up front.
        setup = (
            f"import sys as _sys\n_sys.path.insert(0, '/workspace/{PACKAGES}')\n"
            "import csv, json, math, os, re\n" + FRESH_IMPORTS + DELETE_GUARD + self.toolbox.prelude()
        )
        r = self.sandbox.run_python(setup, timeout=60)
        if not r.ok:
            last = (r.stderr.strip().splitlines() or [r.message or r.status])[-1][:300]
            raise SandboxSetupError(
                f"the sandbox could not define the agent's tools ({last}); "
                "check `smolab sandbox` and the --tools given"
            )

    # -- the loop ------------------------------------------------------------------------

    def start(self, task: str) -> Outcome:
        self._task = task
        self._before = snapshot(self.sandbox.workspace)
        self.run.write("workspace-before.json", json.dumps(self._before))
        self._log(
            RunStarted(kind="agent", id=self.run.root.name, task=task, model=self.model.name, pid=os.getpid())
        )
        self.memory.add(0, Message("system", system_prompt(self.toolbox.describe(), self._skills(task))))
        self.memory.add(0, Message("user", task_message(task, task_context(task, self.sandbox.workspace))))
        self._log(Context(step=0, messages=[m.to_dict() for m in self.memory.messages()]))
        return self._loop()

    def _skills(self, task: str) -> str:
        """The instructions of the skills chosen for ``task``, each recorded as used."""
        if self.guide is None:
            return ""
        chosen = self.guide.choose("agent", task)
        for c in chosen:
            why = f"relevance {c.relevance:.2f} x effectiveness {c.effectiveness:.2f} for the task"
            self._log(
                SkillUsed(
                    name=c.skill.name,
                    version=c.skill.version,
                    revision=c.skill.revision,
                    role=c.skill.role,
                    why=why,
                )
            )
        return told(chosen, SKILL_TOKENS)

    def resume(self) -> Outcome:
        events = self.run.events()
        if status_of(events) == "done":
            raise RunFinishedError(
                f"{self.run.root} already finished with an answer; start a new run for more work"
            )
        start = next((e for e in events if isinstance(e, RunStarted)), None)
        if start is None:
            raise RunFinishedError(f"{self.run.root} never started (its trajectory is empty); start it anew")
        self.memory = rebuild(events)
        self._task = start.task
        before = self.run.root / "workspace-before.json"
        self._before = (
            {k: tuple(v) for k, v in json.loads(before.read_text()).items()}
            if before.is_file()
            else snapshot(self.sandbox.workspace)
        )
        self._rejections = sum(isinstance(e, Check) for e in events)
        steps = [e for e in events if isinstance(e, StepDone)]
        self.step_no = max((e.step for e in steps), default=0)
        for e in steps:
            self.spend.add(Usage(**e.usage), self.price)
            calls = [[c["tool"], c["arguments"], c["ok"], c["result"]] for c in e.tool_calls]
            self.loop_guard.observe(e.code, e.observation, json.dumps(calls, default=str) if calls else None)
        self.spend.steps = len(steps)
        # Time already spent, from the steps themselves (an end event is missing after a crash).
        self._clock_base = sum(e.model_seconds + e.code_seconds for e in steps)
        note = Message("user", RESUMED)
        self.memory.add(self.step_no, note)
        self._log(RunResumed(step=self.step_no, pid=os.getpid(), messages=[note.to_dict()]))
        return self._loop()

    def _loop(self) -> Outcome:
        try:
            self._prelude()
            while True:
                self.spend.seconds = self._elapsed()
                reason = exceeded(self.options.budget, self.spend)
                if reason:
                    return self._end("budget", reason)
                outcome = self._one_step()
                if outcome is not None:
                    return outcome
        except KeyboardInterrupt:
            return self._end("interrupted", "stopped by Ctrl-C; continue with --resume")
        except ContextLengthError as err:
            return self._end("error", f"the conversation no longer fits the model's window: {err}")
        except ModelError as err:
            return self._end("error", f"the model failed: {err}")

    def _ask(self) -> tuple[str, Usage, str]:
        messages = self._fit()
        self.meter.step = self.step_no + 1
        grammar = GRAMMAR if self.model.supports_grammar else None
        stream = self.model.stream(
            messages,
            max_tokens=self.options.reply_tokens,
            grammar=grammar,
            until=runaway(self.options.thought_chars),
        )
        text = stream.text()
        assert stream.completion is not None
        return text, stream.completion.usage, stream.completion.finish_reason

    def _one_step(self) -> Outcome | None:
        n = self.step_no + 1
        self._log(StepStarted(step=n))
        t0 = time.monotonic()
        reply, usage, finish = self._ask()
        model_seconds = time.monotonic() - t0
        self.spend.add(usage, self.price)
        try:
            step = parse_step(reply)
        except StepFormatError as err:
            return self._format_error(n, reply, str(err), usage)
        self._format_errors = 0
        self.step_no = n
        self._calls = []
        self.spend.seconds = self._elapsed()
        timeout = self.options.step_timeout
        if self.options.budget.max_seconds is not None:
            timeout = max(1.0, min(timeout, self.options.budget.max_seconds - self.spend.seconds))
        self.sandbox.run_python("_smolab_fresh_imports()", timeout=10)
        # Files read only when the step defines something a file might define too.
        files_before = python_files(self.sandbox.workspace) if defined(step.code) else {}
        result = self.sandbox.run_python(shell_escapes(step.code), timeout=timeout, name=f"<step {n}>")
        self._log(SandboxCall(step=n, what="step", status=result.status, seconds=round(result.seconds, 3)))
        obs = observation(result, self.options.observation_chars)
        if files_before:
            files_after = python_files(self.sandbox.workspace)
            if notes := unsaved(step.code, files_before, files_after):
                obs = f"{obs}\n" + "\n".join(notes.values())
                self._unsaved = (notes, files_after)
        self.spend.steps += 1
        assistant = Message("assistant", render_step(step))
        nudge = f"\n{NEXT}" if result.ok and result.stdout.strip() else ""
        user = Message("user", f"Observation:\n{obs}{nudge}")
        self.memory.add(n, assistant, user)
        self._log(
            StepDone(
                step=n,
                reply=reply,
                finish=finish,
                thought=step.thought,
                code=step.code,
                observation=obs,
                status=result.status,
                tool_calls=[asdict(c) for c in self._calls],
                usage={
                    "prompt_tokens": usage.prompt_tokens,
                    "completion_tokens": usage.completion_tokens,
                    "cached_tokens": usage.cached_tokens,
                },
                model_seconds=round(model_seconds, 3),
                code_seconds=round(result.seconds, 3),
                messages=[assistant.to_dict(), user.to_dict()],
            )
        )
        if self.answer is not NO_ANSWER:
            return self._finish("final_answer called")
        return self._guard(step, obs)

    def _guard(self, step: Step, obs: str) -> Outcome | None:
        calls = json.dumps([[c.tool, c.arguments, c.ok, c.result] for c in self._calls], default=str)
        reason = self.loop_guard.observe(step.code, obs, calls if self._calls else None)
        if reason is None:
            return None
        if self.loop_guard.warned:
            self._log(Guard(step=self.step_no, guard="doom_loop", action="stop", reason=reason))
            return self._ask_final_answer(f"still repeating after a warning: {reason}")
        self.loop_guard.warned = True
        # A function left only in the session is the usual reason a small model repeats itself.
        notes, when = self._unsaved
        still = still_unsaved(notes, when, python_files(self.sandbox.workspace)) if notes else ""
        note = Message("user", CORRECTION.format(reason=reason) + (f"\n{still}" if still else ""))
        self.memory.add(self.step_no, note)
        self._log(
            Guard(
                step=self.step_no, guard="doom_loop", action="warn", reason=reason, messages=[note.to_dict()]
            )
        )
        return None

    def _format_error(self, n: int, reply: str, error: str, usage: Usage) -> Outcome | None:
        self._format_errors += 1
        messages = [
            Message("assistant", reply[:2000]),
            Message("user", FORMAT_CORRECTION.format(error=error)),
        ]
        self.memory.add(n - 1, *messages)
        self._log(
            FormatError(
                step=n - 1,
                reply=reply,
                error=error,
                usage={"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens},
                messages=[m.to_dict() for m in messages],
            )
        )
        if self._format_errors >= self.options.max_format_errors:
            return self._end(
                "format_error",
                f"{self._format_errors} replies in a row held no code block; try a larger model",
            )
        return None

    # -- the answer ----------------------------------------------------------------------

    def _steps(self) -> list[StepDone]:
        return [e for e in self.run.events() if isinstance(e, StepDone)]

    def _problems(self) -> list[str]:
        """What the built-in and the user's final checks find wrong with the current answer."""
        steps = [e.model_dump() for e in self._steps()]
        ending = Ending(self._task, self.answer, self.sandbox.workspace, self._before, steps)
        return run_checks(ending, [*BUILT_IN, *GROUNDED, *self.options.final_checks])

    def _finish(self, how: str) -> Outcome | None:
        """End as done if the answer passes its checks; else send the problems back (the run
        goes on) or, once the retries are spent, end as unverified."""
        problems = self._problems()
        if not problems:
            return self._end("done", how)
        self._rejections += 1
        found = "; ".join(problems)
        if self._rejections > self.options.max_rejections:
            self._log(Check(step=self.step_no, problems=problems, action="stop"))
            return self._end("unverified", f"the final answer failed its checks: {found}")
        note = Message("user", REJECTED.format(problems=found))
        self.memory.add(self.step_no, note)
        self._log(
            Check(
                step=self.step_no,
                answer=self.answer,
                problems=problems,
                action="retry",
                messages=[note.to_dict()],
            )
        )
        self.answer = NO_ANSWER
        return None

    def _ask_final_answer(self, reason: str) -> Outcome:
        """A run the loop guard stops may have printed the answer and never given it: one short
        question over the task and the last outputs, recorded as such. The answer must be read
        off those outputs and still pass the checks."""
        outputs = list(dict.fromkeys(e.observation for e in self._steps()[-3:]))
        ask = Message("user", final_question(self._task, outputs))
        reply = self.model.chat([ask], max_tokens=60, temperature=0)
        self.spend.add(reply.usage, self.price)
        answer = answer_of(reply.text)
        if answer is not None and not read_off(answer, outputs):
            answer = None
        self._log(FinalQuestion(step=self.step_no, reason=reason, reply=reply.text, answer=answer))
        if answer is None:
            return self._end("stuck", reason)
        self.answer = answer
        problems = self._problems()
        if problems:
            found = "; ".join(problems)
            return self._end("stuck", f"{reason}; the answer asked for then failed its checks: {found}")
        return self._end("done", f"answer asked for after the loop guard stopped the run ({reason})")

    # -- context -------------------------------------------------------------------------

    def _fit(self) -> list[Message]:
        window = self.model.context_window
        messages = self.memory.messages()
        limit = self.options.compact_at * window - self.options.reply_tokens
        # A token covers at least one byte of text (plus a few per message for the chat template),
        # so a short conversation is known to fit without tokenizing it (the model call counts it).
        if sum(len(m.content.encode()) + 8 for m in messages) <= limit:
            return messages
        if self.model.count_tokens(messages) <= limit:
            return messages
        steps = sorted({t.step for t in self.memory.turns if t.step > 0})
        if len(steps) > self.options.keep_recent:
            upto = steps[-self.options.keep_recent - 1]
            summary = self._summarise(upto)
            self.memory.compact(upto, summary)
            self._log(Compact(step=self.step_no, upto=upto, summary=summary))
            messages = self.memory.messages()
        return messages

    def _summarise(self, upto: int) -> str:
        """Steps 1..upto in a few lines: by the model where it can, else their thoughts and outcomes."""
        lines = []
        for e in self._steps():
            if e.step <= upto:
                first = e.observation.strip().splitlines()
                lines.append(f"- step {e.step}: {e.thought} -> {first[-1][:160] if first else ''}")
        plain = "\n".join(lines[-40:])
        ask = [
            Message(
                "user",
                "Summarise these finished steps of a task in at most 6 short lines: what was learned, "
                f"which files exist, what failed.\n{plain}",
            )
        ]
        try:
            if self.model.count_tokens(ask) + 200 < self.model.context_window // 2:
                done = self.model.chat(ask, max_tokens=200)
                self.spend.add(done.usage, self.price)
                if done.text.strip():
                    return done.text.strip()
        except ModelError:
            pass
        return plain

    # -- the end -------------------------------------------------------------------------

    def _end(self, status: Status, reason: str) -> Outcome:
        self.spend.seconds = self._elapsed()
        answer = None if self.answer is NO_ANSWER else self.answer
        outcome = Outcome(status, reason, answer, self.step_no, self.spend, self.run.root)
        self._log(
            RunEnded(
                step=self.step_no,
                status=status,
                reason=reason,
                answer=answer,
                elapsed=round(self.spend.seconds - self._clock_base, 3),
                spend=asdict(self.spend),
            )
        )
        write_summary(self.run, outcome)
        return outcome


def _short(value: Any, limit: int = 300) -> str:
    """A tool's result as the trajectory keeps it (the code got all of it)."""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= limit else text[:limit] + f"... [{len(text)} characters]"
