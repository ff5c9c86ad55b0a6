"""Approvals: which actions need a person's yes, and who gives it.

Every sensitive action a tool would take is described as an :class:`Action` of one
kind. The policy lets it through when its kind (or its tool) is on the allow-list or
was answered "always" earlier in the run; otherwise it asks the approver. A run with
no one to ask denies. Every decision is recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol

Kind = Literal["network", "install", "write_outside", "read_outside", "delete", "job", "destructive"]
KINDS: tuple[Kind, ...] = (
    "network",
    "install",
    "write_outside",
    "read_outside",
    "delete",
    "job",
    "destructive",
)
KIND_HELP = {
    "network": "reach the network",
    "install": "install packages",
    "write_outside": "write outside the workspace",
    "read_outside": "read outside the workspace",
    "delete": "delete files",
    "job": "start a long-running job",
    "destructive": "run a tool its server marks destructive",
}


@dataclass(frozen=True)
class Action:
    kind: Kind
    tool: str
    detail: str
    """What exactly, in one line (the URL, the path, the command)."""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    always: bool = False
    """Allow this kind for the rest of the run."""
    feedback: str = ""
    """A person's line of feedback instead of yes or no (the action is not taken; the agent reads it)."""
    by: str = "person"
    """person, allow-list, always, or non-interactive."""


class Approver(Protocol):
    def __call__(self, action: Action) -> Decision: ...


def deny_all(action: Action) -> Decision:
    """No one to ask (a non-interactive run): deny."""
    return Decision(False, by="non-interactive")


def parse_allow(items: list[str]) -> set[str]:
    """``network,install`` or ``tool:fetch_page`` entries; ``all`` allows every kind."""
    allowed: set[str] = set()
    for raw in items:
        for item in (s.strip() for s in raw.split(",")):
            if not item:
                continue
            if item == "all":
                allowed.update(KINDS)
            elif item in KINDS or item.startswith("tool:"):
                allowed.add(item)
            else:
                raise ValueError(
                    f"unknown approval kind {item!r}; use one of {', '.join(KINDS)}, all, or tool:NAME"
                )
    return allowed


@dataclass
class Policy:
    approver: Approver = deny_all
    allow: set[str] = field(default_factory=set)
    record: Callable[[Action, Decision], None] | None = None

    def decide(self, action: Action) -> Decision:
        if action.kind in self.allow or f"tool:{action.tool}" in self.allow:
            decision = Decision(True, by="allow-list")
        else:
            decision = self.approver(action)
            if decision.always and decision.allowed:
                self.allow.add(action.kind)
        if self.record:
            self.record(action, decision)
        return decision
