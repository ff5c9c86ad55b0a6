"""Sandbox speed: smolab's process sandbox against smolagents' LocalPythonExecutor and plain CPython.

Three measures, all in one run on the same machine:
* warm call: a trivial statement in an already started session (median of many);
* loop: a 10**6-iteration pure-Python loop;
* cold start: a new session until it has run a statement.
Each is the median over rounds that interleave the contestants.

    .venv/bin/python bench/sandbox.py [--calls 2000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable

from rich.console import Console
from rich.table import Table

from smolab.sandbox import Limits, ProcessSandbox, WasmSandbox

TRIVIAL = "x = 1"
LOOP = "s = 0\nfor i in range(10**6):\n    s += i"


def median_time(fn: Callable[[], object], n: int = 1) -> float:
    t = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t) / n


class Executor:
    """One contestant: run a cell, and start a fresh session (None where it has no sessions)."""

    def __init__(self, run: Callable[[str], object], cold: Callable[[], object] | None):
        self.run, self.cold = run, cold
        self.samples: dict[str, list[float]] = {"warm": [], "loop": [], "cold": []}


def contestants(workspace: str) -> tuple[dict[str, Executor], list[ProcessSandbox]]:
    from smolagents.local_python_executor import LocalPythonExecutor

    def new_smolagents() -> LocalPythonExecutor:
        ex = LocalPythonExecutor(additional_authorized_imports=[])
        ex.send_tools({})
        return ex

    ns: dict[str, object] = {}
    sa = new_smolagents()
    limits = Limits(timeout=120, cpu_seconds=None)
    boxes = [ProcessSandbox(workspace, limits, isolation=iso) for iso in ("bwrap", "none")]
    boxes.append(WasmSandbox(workspace, limits))
    for box in boxes:
        box.start()

    def cold_box(isolation: str, cls: type[ProcessSandbox] = ProcessSandbox) -> Callable[[], object]:
        def start_and_run() -> None:
            with cls(workspace, limits, isolation=isolation) as fresh:
                fresh.run_python(TRIVIAL)

        return start_and_run

    executors = {
        "CPython exec (no isolation, baseline)": Executor(
            lambda c: exec(compile(c, "<cell>", "exec"), ns), None
        ),
        "smolagents LocalPythonExecutor": Executor(sa, lambda: new_smolagents()(TRIVIAL)),
        "smolab process (bubblewrap)": Executor(boxes[0].run_python, cold_box("bwrap")),
        "smolab unsafe-no-isolation": Executor(boxes[1].run_python, cold_box("none")),
        "smolab wasm (Pyodide in the jail)": Executor(boxes[2].run_python, cold_box("bwrap", WasmSandbox)),
    }
    return executors, boxes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=4000, help="warm calls per contestant, over all rounds")
    ap.add_argument("--rounds", type=int, default=8)
    args = ap.parse_args()
    console = Console(width=130)
    executors, boxes = contestants(tempfile.mkdtemp(prefix="smolab-bench-"))
    # Rounds interleave the contestants, so machine noise and drift hit all of them alike.
    for _ in range(args.rounds):
        for ex in executors.values():
            for _ in range(20):
                ex.run(TRIVIAL)  # warm-up
            ex.samples["warm"].append(median_time(lambda ex=ex: ex.run(TRIVIAL), args.calls // args.rounds))
            ex.samples["loop"].append(median_time(lambda ex=ex: ex.run(LOOP)))
            if ex.cold is not None:
                ex.samples["cold"].append(median_time(ex.cold))
    for box in boxes:
        box.close()
    med = statistics.median
    rows = {
        name: {k: med(v) if v else float("nan") for k, v in ex.samples.items()}
        for name, ex in executors.items()
    }
    sa, cp = rows["smolagents LocalPythonExecutor"], rows["CPython exec (no isolation, baseline)"]
    table = Table(title="sandbox speed (medians)")
    for col in (
        "executor",
        "warm call (µs)",
        "vs smolagents",
        "10**6 loop (s)",
        "vs CPython",
        "cold start (ms)",
    ):
        table.add_column(col, justify="right")
    for name, r in rows.items():
        table.add_row(
            name,
            f"{r['warm'] * 1e6:.1f}",
            f"{r['warm'] / sa['warm']:.2f}x",
            f"{r['loop']:.3f}",
            f"{r['loop'] / cp['loop']:.2f}x",
            "-" if r["cold"] != r["cold"] else f"{r['cold'] * 1e3:.1f}",
        )
    console.print(table)


if __name__ == "__main__":
    main()
