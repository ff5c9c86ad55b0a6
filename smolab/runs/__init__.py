"""Runs: the folder a run writes, its trajectory of typed events, the rules for its status and
usage, the index of every run, and the portable export. Reproduce and the agent both write
runs through this package, and everything that reads a run (the CLI, resume, the judge,
skill learning, a live view) reads it here."""

from .errors import RunsError, UnknownRun
from .events import SCHEMA_VERSION, Event, parse
from .export import export_run, read_export, write_export
from .files import write_atomic
from .folder import RunRef, all_runs, link, locate, new_run_id
from .index import RunIndex
from .meter import Meter
from .summary import RunSummary, status_of, summarize
from .trajectory import Trajectory

__all__ = [
    "SCHEMA_VERSION",
    "Event",
    "Meter",
    "RunIndex",
    "RunRef",
    "RunSummary",
    "RunsError",
    "Trajectory",
    "UnknownRun",
    "all_runs",
    "export_run",
    "link",
    "locate",
    "new_run_id",
    "parse",
    "read_export",
    "status_of",
    "summarize",
    "write_atomic",
    "write_export",
]
