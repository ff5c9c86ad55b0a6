"""The web app for tests: `create_app` under uvicorn on a loopback port, driven by a scripted
model that answers by the conversation so far (so any number of runs can share it), and a
finished reproduce run laid out on disk as the pipeline leaves one."""

from __future__ import annotations

import contextlib
import json
import shutil
import time
from collections.abc import Sequence
from pathlib import Path

from smolab.config import Settings
from smolab.models import ChatDefaults, ChatModel, ScriptedBackend
from smolab.models.types import GenerateParams, Message
from smolab.runs import link
from smolab.web.app import create_app

from .hubserver import serve_in_thread

TOKEN = "test-token-0123456789"


def step(thought: str, code: str) -> str:
    return f"Thought: {thought}\n```python\n{code}\n```"


def agent_replies(delay: float = 0.0):  # type: ignore[no-untyped-def]
    """A scripted agent: a task that says "fetch" first asks for the network; then it prints
    the sum and answers with it."""

    def reply(messages: Sequence[Message], params: GenerateParams) -> str:
        time.sleep(delay)
        task = next((m.content for m in messages if m.role == "user"), "")
        done = sum(m.role == "assistant" for m in messages)
        if "fetch" in task and done == 0:
            return step("Look at the page first.", "print(fetch_page('http://127.0.0.1:9/notes'))")
        if done <= 1:
            return step("Compute it.", "print(41 + 1)")
        return step("Answer.", "final_answer(42)")

    return reply


def scripted_model(delay: float = 0.0) -> ChatModel:
    return ChatModel(ScriptedBackend(fallback=agent_replies(delay)), ChatDefaults(max_tokens=200))


def serve_web(settings: Settings, model: ChatModel | None = None) -> contextlib.AbstractContextManager[str]:
    model = model or scripted_model()
    return serve_in_thread(create_app(settings, lambda name: model, token=TOKEN), "/", 401)


ARCHITECTURE = """# Architecture

| file | purpose |
|---|---|
| `method.py` | the paper's method (GatedBlock) |

## Classes

```mermaid
classDiagram
    class GatedBlock {
        +forward(x)
    }
    class Model {
        +forward(x)
    }
    Model --> GatedBlock
```

## Call flow

```mermaid
sequenceDiagram
    main->>Model: forward(x)
    Model->>GatedBlock: forward(x)
```
"""


def finished_reproduce_run(settings: Settings, run_id: str = "20261207-000000-gated-block") -> Path:
    """A reproduce run as the pipeline leaves one: the repository, its .smolab folder with the
    documents and the trajectory (with a repair's diff), linked into the runs folder."""
    repo = settings.home / "repos" / "gated"
    meta = repo / ".smolab"
    meta.mkdir(parents=True)
    (repo / "tests").mkdir()
    (repo / "method.py").write_text(
        "import torch\nfrom torch import nn\n\n\nclass GatedBlock(nn.Module):\n"
        "    def __init__(self, dim: int = 16) -> None:\n        super().__init__()\n"
        "        self.proj = nn.Linear(dim, dim)\n        self.alpha = nn.Parameter(torch.zeros(1))\n\n"
        "    def forward(self, x: torch.Tensor) -> torch.Tensor:\n"
        "        return x + self.alpha * self.proj(x)\n"
    )
    (repo / "tests" / "test_contract.py").write_text("def test_shape():\n    assert True\n")
    (repo / "REPORT.md").write_text(
        "# Report\n\nRuns, and the method **agrees** with the paper.\n\n"
        "| check | result |\n|---|---|\n| tests | 6 of 6 pass |\n"
    )
    (meta / "digest.md").write_text(
        "# Digest\n\nThe paper proposes a gated residual block: `y = x + α W x`.\n"
    )
    (meta / "architecture.md").write_text(ARCHITECTURE)
    info = {"kind": "reproduce", "id": run_id, "paper": "gated.pdf", "paper_id": "x", "model": "scripted"}
    (meta / "run.json").write_text(json.dumps(info))
    events = [
        {
            "type": "run_started",
            "kind": "reproduce",
            "id": run_id,
            "task": "gated.pdf",
            "model": "scripted",
            "time": 1.0,
        },
        {"type": "stage_started", "stage": "generate", "key": "generate/method.py", "time": 2.0},
        {
            "type": "model_call",
            "stage": "generate",
            "key": "generate/method.py",
            "prompt_tokens": 900,
            "completion_tokens": 120,
            "seconds": 4.0,
            "messages": [{"role": "user", "content": "Write method.py"}],
            "reply": "```python\n...\n```",
            "time": 6.0,
        },
        {"type": "file_written", "path": "method.py", "bytes": 300, "time": 6.1},
        {
            "type": "file_written",
            "path": "method.py",
            "bytes": 320,
            "time": 9.0,
            "diff": "--- a/method.py\n+++ b/method.py\n-        return self.proj(x)\n"
            "+        return x + self.alpha * self.proj(x)\n",
        },
        {
            "type": "run_ended",
            "status": "done",
            "reason": "Runs, and the method agrees with the paper.",
            "time": 10.0,
        },
    ]
    (meta / "trajectory.jsonl").write_text("".join(json.dumps(e) + "\n" for e in events))
    link(settings.runs_dir, run_id, meta)
    return repo


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")
