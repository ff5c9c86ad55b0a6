"""Thirty agent benchmark tasks in three tiers of ten: questions, files and data, ML work."""

from .files import FILES
from .ml import ML
from .questions import QUESTIONS
from .task import Task

TIERS = {"questions": QUESTIONS, "files": FILES, "ml": ML}
TASKS: list[Task] = [*QUESTIONS, *FILES, *ML]

__all__ = ["TASKS", "TIERS", "Task"]
