"""What one run spends on its model: each call as a ``model_call`` event and the run's totals.

A meter observes the run's own handle on the model (``ChatModel.share``), so two runs served
by one loaded model count their own calls, and the observer is removed when the run ends."""

from __future__ import annotations

from collections.abc import Callable

from ..models.chat import CallRecord
from ..models.types import Usage
from .events import ModelCall
from .trajectory import Trajectory


class Meter:
    def __init__(
        self,
        trajectory: Trajectory,
        keep_text: bool = True,
        price: Callable[[Usage], float | None] | None = None,
    ):
        self.trajectory = trajectory
        self.keep_text = keep_text
        """Store each call's messages and reply (the agent's steps already hold them)."""
        self.price = price
        self.usage = Usage()
        self.calls = 0
        self.stage = ""
        self.key = ""
        self.step: int | None = None

    def __call__(self, rec: CallRecord) -> None:
        u = rec.completion.usage
        self.usage += u
        self.calls += 1
        self.trajectory.append(
            ModelCall(
                model=rec.model,
                stage=self.stage,
                key=self.key,
                step=self.step,
                prompt_tokens=u.prompt_tokens,
                cached_tokens=u.cached_tokens,
                completion_tokens=u.completion_tokens,
                seconds=round(u.seconds, 3),
                cost=self.price(u) if self.price else None,
                finish=rec.completion.finish_reason,
                max_tokens=rec.params.max_tokens,
                schema_title=(rec.params.json_schema or {}).get("title"),
                messages=[m.to_dict() for m in rec.messages] if self.keep_text else None,
                reply=rec.completion.text if self.keep_text else None,
            )
        )
