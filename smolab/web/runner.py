"""Runs started from the page: each in a thread of the server, written to the same run folders,
trajectories and runs index as the command line's, so the page, `smolab runs` and `--resume`
see the same runs. Models are loaded once per name and shared (each run takes its own handle)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..agent import AgentOptions, Budget, build, run_task
from ..agent.build import BUILTIN_TOOLS
from ..agent.policy import parse_allow
from ..config import Settings
from ..models import ChatModel
from ..paper import Paper
from ..paper.arxiv import ArxivClient
from ..reproduce import Options, reproduce
from ..reproduce.judge import Judge
from ..reproduce.rundir import RunDir
from ..runs import RunIndex, RunRef, link, new_run_id, write_atomic
from ..skills import SkillLibrary, SkillStore
from ..skills.evidence import outcomes_from
from ..skills.guide import Guide
from .approvals import PageApprover

Models = Callable[[str], ChatModel]


@dataclass
class Live:
    id: str
    kind: str
    folder: Path
    """The run folder (run.json and trajectory.jsonl)."""
    thread: threading.Thread | None = None
    approver: PageApprover | None = None
    allow: set[str] = field(default_factory=set)
    """The live policy's allow-list: changing it changes what the run asks."""
    error: str = ""


@dataclass
class AgentRequest:
    task: str
    model: str
    max_steps: int = 20
    max_tokens: int | None = None
    allow: list[str] = field(default_factory=list)
    skills: bool = True
    tools: list[str] = field(default_factory=list)
    builtin: list[str] = field(default_factory=lambda: list(BUILTIN_TOOLS))


class WebRuns:
    def __init__(self, settings: Settings, models: Models, index: RunIndex) -> None:
        self.settings = settings
        self.models = models
        self.index = index
        self._live: dict[str, Live] = {}
        self._lock = threading.Lock()

    def live(self, run_id: str) -> Live | None:
        with self._lock:
            return self._live.get(run_id)

    def running(self) -> list[Live]:
        with self._lock:
            return [r for r in self._live.values() if r.thread is not None and r.thread.is_alive()]

    def _start(self, live: Live, work: Callable[[], Any]) -> None:
        def run() -> None:
            try:
                work()
            except Exception as err:  # the trajectory has the error; the page shows its line
                live.error = str(err) or type(err).__name__
            finally:
                if live.kind != "judge":
                    self.index.update(RunRef(live.id, live.folder))

        live.thread = threading.Thread(target=run, name=f"run-{live.id}", daemon=True)
        with self._lock:
            self._live[live.id] = live
        live.thread.start()

    def start_agent(self, req: AgentRequest, workspace: Path | None = None) -> str:
        allowed = parse_allow(req.allow)  # a bad kind fails here, before anything starts
        run_id = new_run_id(req.task)
        folder = self.settings.runs_dir / run_id
        workspace = workspace or self.settings.home / "workspaces" / run_id
        model = self.models(req.model)
        approver = PageApprover(folder)
        guide = None
        if req.skills:
            library = SkillLibrary(store=SkillStore(self.settings.skills_dir))
            guide = Guide(list(library), evidence=outcomes_from(self.index))
        options = AgentOptions(budget=Budget(max_steps=req.max_steps, max_tokens=req.max_tokens))
        session = build(
            model,
            self.settings,
            workspace,
            folder,
            task=req.task,
            options=options,
            approver=approver,
            allow=sorted(allowed),
            extra_tools=req.tools,
            guide=guide,
            builtin=req.builtin,
        )
        live = Live(run_id, "agent", folder, approver=approver, allow=session.agent.policy.allow)
        self.index.update(RunRef(run_id, folder))
        self._start(live, lambda: run_task(session, req.task))
        return run_id

    def start_reproduce(self, paper: str, model_name: str, repair_rounds: int = 2) -> str:
        model = self.models(model_name)
        out = self.settings.home / "repos" / new_run_id(Path(paper).stem)
        run = RunDir.open(out, paper, model.name, resume=False, force=False)
        ref = run.ref()
        link(self.index.runs_dir, ref.id, run.meta)
        self.index.update(ref)
        options = Options(
            repair_rounds=repair_rounds,
            arxiv=ArxivClient.from_settings(self.settings),
            store=SkillStore(self.settings.skills_dir),
            evidence=outcomes_from(self.index),
        )
        live = Live(ref.id, "reproduce", run.meta)
        index = self.index
        self._start(live, lambda: reproduce(paper, out, model, resume=True, options=options, index=index))
        return ref.id

    def start_judge(self, ref: RunRef, model_name: str) -> None:
        """Judge a reproduce run's repository against its paper in the background; the
        critiques go to ``.smolab/judge.json``, which the run's page links."""
        meta = ref.folder
        paper = Paper.model_validate_json((meta / "paper.json").read_text())
        model = self.models(model_name)
        live = Live(f"judge:{ref.id}", "judge", meta)

        def work() -> None:
            verdict = Judge(model).judge(meta.parent, paper, str(ref.info().get("paper", "")))
            data = {
                "score": verdict.score,
                "scores": verdict.scores,
                "critiques": [c.model_dump() for c in verdict.critiques],
                "prompt_tokens": verdict.prompt_tokens,
                "consistent": verdict.consistent,
            }
            write_atomic(meta / "judge.json", json.dumps(data, indent=1))

        self._start(live, work)

    def stop_all(self) -> None:
        with self._lock:
            lives = list(self._live.values())
        for live in lives:
            if live.approver is not None:
                live.approver.stop()
