"""Batches: many reproduce runs and agent tasks, in this process or as Ray tasks over workers
that each load their model once; every item is a normal run folder in the runs index, and a
batch run again resumes where it stopped without redoing what finished."""

from .batch import Batch, Watcher, stage_of
from .errors import BatchError
from .outcome import Result, result_of, state_of
from .plan import Item, plan, read_tasks
from .runners import InProcess, OnRay, Runner, cores
from .worker import Job, ModelFactory, SettingsModel, Worker

__all__ = [
    "Batch",
    "BatchError",
    "InProcess",
    "Item",
    "Job",
    "ModelFactory",
    "OnRay",
    "Result",
    "Runner",
    "SettingsModel",
    "Watcher",
    "Worker",
    "cores",
    "plan",
    "read_tasks",
    "result_of",
    "stage_of",
    "state_of",
]
