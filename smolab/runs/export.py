"""A run in one portable JSON document, for sharing, archiving or loading into other tools:

    {"format": "smolab-run", "version": 1,
     "run": {id, kind, status, model, task, started, seconds, tokens, cost, steps, ...},
     "info": {... run.json as written ...},
     "events": [ {"v": 1, "type": ..., "time": ..., ...}, ... ]}

Events are upgraded to the current schema on the way out, so a reader of exports needs to know
one version only. The run's folder path is left out: it means nothing on another machine.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .errors import RunsError
from .events import SCHEMA_VERSION, Event, parse
from .files import write_atomic
from .folder import RunRef
from .summary import RunSummary, summarize

FORMAT = "smolab-run"


def export_run(ref: RunRef) -> dict[str, Any]:
    events = ref.trajectory.read()
    summary = summarize(ref, events).model_dump(exclude={"folder"})
    return {
        "format": FORMAT,
        "version": SCHEMA_VERSION,
        "run": summary,
        "info": ref.info(),
        "events": [e.line() for e in events],
    }


def write_export(ref: RunRef, path: Path) -> None:
    write_atomic(path, json.dumps(export_run(ref), ensure_ascii=False, indent=1, default=str))


def read_export(path: Path) -> tuple[RunSummary, dict[str, Any], list[Event]]:
    """The run, its run.json and its events from an export."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise RunsError(f"{path} cannot be read as an export: {err}") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise RunsError(f'{path} is not a smolab run export (no "format": "{FORMAT}")')
    if int(data.get("version", 0)) > SCHEMA_VERSION:
        raise RunsError(f"{path} was exported by a newer smolab (version {data['version']}); upgrade")
    return (
        RunSummary.model_validate(data["run"]),
        dict(data.get("info") or {}),
        [parse(e) for e in data.get("events", [])],
    )
