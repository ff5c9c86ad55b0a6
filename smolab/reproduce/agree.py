"""Agreement between the method and references written independently of it.

A reference is a few lines a small model writes from the equations alone, and it is wrong as
often as the method: a disagreement does not say which side is wrong. Several references are
sampled, and the method is compared with each (CodeT's idea, dual execution agreement, at the
size of one module): a method that agrees with a reference written separately is evidence for
both, and the report says how many of them it agreed with.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

from ..sandbox import Limits, ProcessSandbox, SandboxError

HARNESS = Path(__file__).with_name("harness") / "agree.py"


def agreement(
    repo: Path, files: list[str], test: str, candidates: list[str], limits: Limits | None = None
) -> list[bool]:
    """For each candidate reference (its source), whether the method in ``repo`` passes ``test``
    against it; one sandboxed process on a copy of ``repo``, nothing in ``repo`` touched."""
    if not candidates:
        return []
    limits = limits or Limits(timeout=600, cpu_seconds=1200, session_cpu_seconds=None, network=False)
    with tempfile.TemporaryDirectory(prefix="smolab-agree-") as tmp:
        work = Path(tmp)
        for f in files:
            (work / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(repo / f, work / f)
        names = [f"_candidates/reference_{i}.py" for i in range(len(candidates))]
        (work / "_candidates").mkdir()
        for name, code in zip(names, candidates, strict=True):
            (work / name).write_text(code)
        shutil.copyfile(HARNESS, work / "_agree.py")
        try:
            with ProcessSandbox(work, limits) as box:
                r = box.run_shell(f"python _agree.py {test} {' '.join(names)}", timeout=60 * len(names) + 60)
        except SandboxError:
            return [False] * len(candidates)
    try:
        found = json.loads((r.stdout or "").strip().splitlines()[-1])
    except (ValueError, IndexError):
        return [False] * len(candidates)
    if not isinstance(found, list) or len(found) != len(candidates):
        return [False] * len(candidates)
    return [bool(x) for x in found]
