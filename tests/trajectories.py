"""Reading a run's trajectory in tests, through the same reader the CLI uses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from smolab.runs import Trajectory
from smolab.runs.events import ModelCall


def model_calls(folder: Path) -> list[dict[str, Any]]:
    """The model-call events of the run in ``folder`` (with run.json and trajectory.jsonl)."""
    events = Trajectory(folder / "trajectory.jsonl").read()
    return [e.line() for e in events if isinstance(e, ModelCall)]
