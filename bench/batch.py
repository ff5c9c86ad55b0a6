"""Batches: wall time for the same papers one after another and on Ray workers, the speed-up,
and the memory each worker peaked at.

    scripted   8 papers (7 dev papers and the README's example) with the scripted author (no
               model compute: reading the PDFs, the runs and the sandbox's checks are what is
               measured), in this process against Ray with 2 workers.
    embedded   2 papers with the embedded model through `smolab batch`, 1 Ray worker (2 CPU
               threads) against 2 workers (1 thread each) on this machine's cores.

    .venv/bin/python bench/batch.py scripted [--workers 2]
    .venv/bin/python bench/batch.py embedded [--model qwen2.5-coder-1.5b] [--papers A B]

Each setting starts from empty folders; nothing else should run meanwhile (2 cores here).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from smolab.batch import Batch, InProcess, Job, OnRay, Result, plan  # noqa: E402
from smolab.batch.worker import peak_rss_mb  # noqa: E402
from smolab.config import load_settings  # noqa: E402
from tests.batch_models import Scripted  # noqa: E402

DEV = ROOT.parent / "shared" / "papers" / "dev"
EXAMPLE = ROOT / "examples" / "gated-residual-mlp.tex"


def scripted_papers() -> list[str]:
    dev = sorted(str(p) for p in DEV.glob("*.pdf"))[:7]
    return [*dev, str(EXAMPLE)]


def row(
    name: str,
    workers: int,
    threads: int,
    seconds: float,
    results: list[Result],
    base: float | None,
    own_rss: float | None = None,
) -> list[str]:
    per_worker: dict[str, float] = {}
    for r in results:
        per_worker[r.worker] = max(per_worker.get(r.worker, 0.0), r.peak_rss_mb)
    memory = own_rss if own_rss is not None else max(per_worker.values(), default=0.0)
    finished = sum(r.status in ("done", "unverified") for r in results)
    loads = max((r.model_loads for r in results), default=0)
    return [
        name,
        str(workers),
        str(threads),
        f"{seconds:.0f}",
        f"{base / seconds:.2f}×" if base else "1.00×",
        f"{finished}/{len(results)}",
        f"{memory:,.0f}",
        str(loads),
    ]


def table(title: str, rows: list[list[str]]) -> Table:
    t = Table(title=title, title_justify="left")
    for name in ("setting", "workers", "threads", "wall s", "speed-up", "finished", "MB per worker", "loads"):
        t.add_column(name, justify="left" if name == "setting" else "right")
    for r in rows:
        t.add_row(*r)
    return t


def scripted(args: argparse.Namespace) -> None:
    papers = scripted_papers()
    rows: list[list[str]] = []
    base: float | None = None
    for name, workers in (("in this process", 1), (f"Ray, {args.workers} workers", args.workers)):
        home = Path(tempfile.mkdtemp(prefix="bench-batch-"))
        out = home / "batch"
        settings = load_settings(home=home / "home", threads=1)
        items = plan(papers, [], out)
        job = Job(out=out, settings=settings)
        runner = (
            InProcess(job, Scripted())
            if workers == 1 and name == "in this process"
            else OnRay(job, Scripted(), workers=workers, threads=1)
        )
        t0 = time.monotonic()
        results = Batch(items, out, runner).run()
        seconds = time.monotonic() - t0
        own = peak_rss_mb() if isinstance(runner, InProcess) else None
        rows.append(row(name, workers, 1, seconds, results, base, own))
        base = base or seconds
        Console().print(f"{name}: {seconds:.0f} s · " + ", ".join(f"{r.key} {r.status}" for r in results))
    Console(width=130).print(table(f"batch · {len(papers)} papers · scripted model", rows))


def embedded(args: argparse.Namespace) -> None:
    papers = args.papers or [str(EXAMPLE), str(DEV / "1710.05941_swish.pdf")]
    cores = len(os.sched_getaffinity(0))
    rows: list[list[str]] = []
    base: float | None = None
    for workers in (1, 2):
        out = Path(tempfile.mkdtemp(prefix="bench-batch-")) / "batch"
        threads = max(1, cores // workers)
        command = [
            str(ROOT / ".venv" / "bin" / "smolab"),
            "-m",
            args.model,
            "batch",
            *papers,
            "--out",
            str(out),
            "--parallel",
            str(workers),
        ]
        t0 = time.monotonic()
        done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, "COLUMNS": "160"})
        seconds = time.monotonic() - t0
        print(done.stdout[-3000:], done.stderr[-1500:], sep="\n")
        results = [Result.model_validate(r) for r in json.loads((out / "summary.json").read_text())]
        rows.append(row(f"Ray, {workers} worker(s)", workers, threads, seconds, results, base))
        base = base or seconds
    Console(width=130).print(table(f"batch · {len(papers)} papers · {args.model}", rows))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="what", required=True)
    s = sub.add_parser("scripted")
    s.add_argument("--workers", type=int, default=2)
    e = sub.add_parser("embedded")
    e.add_argument("--model", default="qwen2.5-coder-1.5b")
    e.add_argument("--papers", nargs="*")
    args = parser.parse_args()
    scripted(args) if args.what == "scripted" else embedded(args)


if __name__ == "__main__":
    main()
