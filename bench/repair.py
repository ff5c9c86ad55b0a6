"""Which repair engine fixes more: the pipeline's own unit-by-unit repair or the agent, from the
same broken repositories.

Each repository is a finished ``smolab reproduce`` run whose checks still fail (the folders
``bench/papers.py`` leaves). It is copied once per engine; in each copy the records of the
verification, repair, reference and fresh-attempt steps are removed, and the run is resumed
with that engine: the paper, digest, kind and method are read back, not redone, so both engines
start from the same files and the same failing checks. Fresh attempts and extra references are
off, so what changes is the repair alone. One row per repository and engine: the tests passing
before and after, whether it runs, the verdict on the method, the rounds and the minutes.

    .venv/bin/python bench/repair.py runs/bench-papers/s34 --only lamb cutout --out runs/bench-repair
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from smolab.config import load_settings
from smolab.errors import SmolabError
from smolab.models import DEFAULT_MODEL, load_model
from smolab.reproduce import Options, reproduce
from smolab.reproduce.agent_repair import AgentRepair

REDONE = ("verify__", "repair__", "fidelity__", "fresh__")
"""The steps each engine runs again; everything before them is read back."""


def broken(folder: Path, only: list[str]) -> list[Path]:
    """Finished runs under ``folder`` whose code does not run or whose method disagrees."""
    out = []
    for run in sorted(p for p in folder.iterdir() if (p / "report.json").is_file()):
        if only and not any(o in run.name for o in only):
            continue
        report = json.loads((run / "report.json").read_text())
        if not report.get("ok"):
            out.append(run)
    return out


def fresh_copy(run: Path, target: Path) -> None:
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(run, target, ignore=shutil.ignore_patterns("__pycache__", ".pytest_cache"))
    for record in (target / ".smolab" / "steps").iterdir():
        if record.name.startswith(REDONE):
            record.unlink()
    (target / "report.json").unlink()


def tests(report: dict[str, Any], key: str) -> str:
    t = report.get(key) or {}
    return f"{t.get('passed', 0)}/{t.get('total', 0)}"


def repair_with(run: Path, target: Path, model: Any, engine: AgentRepair | None) -> dict[str, Any]:
    fresh_copy(run, target)
    paper = json.loads((target / ".smolab" / "run.json").read_text())["paper"]
    options = Options(repair_rounds=2, fresh_attempts=0, reference_samples=0, agent_repair=engine)
    start = time.monotonic()
    error = ""
    try:
        reproduce(paper, target, model, resume=True, options=options)
    except SmolabError as err:
        error = str(err).splitlines()[0][:100]
    minutes = (time.monotonic() - start) / 60
    report = json.loads((target / "report.json").read_text()) if (target / "report.json").is_file() else {}
    return {
        "paper": run.name,
        "engine": "agent" if engine else "pipeline",
        "before": tests(report, "tests_before_repair"),
        "after": tests(report, "tests_after_repair"),
        "runs": bool(report.get("runs")),
        "method": report.get("method", "-"),
        "rounds": report.get("repair_rounds", 0),
        "minutes": round(minutes, 1),
        "error": error,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path, help="finished reproduce runs (bench/papers.py's --out)")
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--only", nargs="*", default=[], help="runs whose folder name contains one of these")
    ap.add_argument("--out", type=Path, default=Path("runs") / "bench-repair")
    ap.add_argument("--json", type=Path, help="also write the rows as JSON")
    args = ap.parse_args()
    model = load_model(args.model)
    engines = {"pipeline": None, "agent": AgentRepair(load_settings())}
    rows = []
    console = Console()
    for run in broken(args.folder, args.only):
        for name, engine in engines.items():
            r = repair_with(run, args.out / name / run.name, model, engine)
            rows.append(r)
            console.print(f"{run.name:28} {name:8} tests {r['before']} -> {r['after']}, {r['minutes']} min")
            if args.json:
                args.json.write_text(json.dumps(rows, indent=1))
    table = Table(title=f"repair engines from the same broken repositories, {model.name}")
    for col in ("paper", "engine", "tests before", "tests after", "runs", "method", "rounds", "min"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            r["paper"],
            r["engine"],
            r["before"],
            r["after"],
            "yes" if r["runs"] else "no",
            r["method"],
            str(r["rounds"]),
            str(r["minutes"]),
        )
    console.print(table)
    for name in engines:
        mine = [r for r in rows if r["engine"] == name]
        gained = sum(int(r["after"].split("/")[0]) - int(r["before"].split("/")[0]) for r in mine)
        console.print(
            f"{name}: {sum(r['runs'] for r in mine)}/{len(mine)} run after repair, "
            f"{gained:+d} tests passing in all, {sum(r['minutes'] for r in mine):.1f} min"
        )


if __name__ == "__main__":
    main()
