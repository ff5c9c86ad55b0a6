"""One worker of a batch: it loads its model once and runs items one after another, each a
normal run folder (a paper's repository, or an agent run and its workspace) that resumes
from its last finished step when the item was cut off before."""

from __future__ import annotations

import os
import resource
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..config import Settings
from ..errors import SmolabError
from ..models import ChatModel
from ..skills.select import Outcome
from .outcome import Result, result_of, state_of
from .plan import Item

ModelFactory = Callable[[], ChatModel]
"""Makes the model in the worker's own process (so it must pickle to reach a Ray worker)."""


@dataclass(frozen=True)
class SettingsModel:
    """The model the settings name, as ``--model`` gives it."""

    settings: Settings

    def __call__(self) -> ChatModel:
        from ..models import load_model

        return load_model(settings=self.settings)


@dataclass
class Job:
    """What every item of a batch shares."""

    out: Path
    settings: Settings
    repair_rounds: int = 2
    fresh_attempts: int = 4
    skills: list[Path] | None = None
    evidence: dict[str, list[Outcome]] = field(default_factory=dict)
    """Earlier runs' outcomes per skill, read once by the driver (workers open no database)."""
    max_steps: int = 30
    allow: list[str] = field(default_factory=list)
    """What agent tasks may do without asking (nobody is there to ask)."""


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


class Worker:
    def __init__(self, job: Job, models: ModelFactory):
        self.job = job
        self.models = models
        self.loads = 0
        self._model: ChatModel | None = None
        self.name = f"{socket.gethostname()}:{os.getpid()}"

    def model(self) -> ChatModel:
        if self._model is None:
            self._model = self.models()
            self.loads += 1
        return self._model

    def run(self, item: Item) -> Result:
        out = self.job.out
        error = ""
        state = state_of(item, out)
        if state != "finished":
            try:
                if item.kind == "reproduce":
                    self._reproduce(item, resume=state != "new")
                else:
                    self._agent(item, resume=state != "new")
            except SmolabError as err:  # the trajectory has it too, once the run had started
                error = str(err)
            except Exception as err:  # one item's failure never stops the batch
                error = f"{type(err).__name__}: {err}"
        result = result_of(item, out)
        if error and (result.status in ("not run", "unfinished") or not result.reason):
            result.status = "error" if result.status in ("not run", "unfinished") else result.status
            result.reason = error
        result.worker = self.name
        result.peak_rss_mb = round(peak_rss_mb(), 1)
        result.model_loads = self.loads
        return result

    def _reproduce(self, item: Item, resume: bool) -> None:
        from ..paper.arxiv import ArxivClient
        from ..reproduce import Options, reproduce
        from ..skills import SkillStore

        settings, evidence = self.job.settings, self.job.evidence
        options = Options(
            repair_rounds=self.job.repair_rounds,
            fresh_attempts=self.job.fresh_attempts,
            arxiv=ArxivClient.from_settings(settings),
            skills=self.job.skills,
            store=SkillStore(settings.skills_dir),
            evidence=lambda name: evidence.get(name, []),
        )
        reproduce(item.what, item.root(self.job.out), self.model(), resume=resume, options=options)

    def _agent(self, item: Item, resume: bool) -> None:
        from ..agent import AgentOptions, Budget, build, resume_run, run_task
        from ..skills import SkillLibrary, SkillStore
        from ..skills.guide import Guide

        settings, evidence = self.job.settings, self.job.evidence
        library = SkillLibrary(store=SkillStore(settings.skills_dir))
        session = build(
            self.model(),
            settings,
            item.workspace(self.job.out),
            item.run_folder(self.job.out),
            task=None if resume else item.what,
            options=AgentOptions(budget=Budget(max_steps=self.job.max_steps)),
            allow=self.job.allow,
            guide=Guide(list(library), evidence=lambda name: evidence.get(name, [])),
        )
        if resume:
            resume_run(session)
        else:
            run_task(session, item.what)
