"""The whole pipeline runs end to end at smoke size."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_main_runs_at_smoke_size():
    run = subprocess.run(
        [sys.executable, "main.py", "--smoke"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr[-2000:]
    metrics = json.loads(run.stdout[run.stdout.index("{") :])
    assert metrics and all(isinstance(v, (int, float)) for v in metrics.values())
