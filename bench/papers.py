"""Reproduce every paper in a folder and measure whether the repositories run.

For each paper: ``smolab reproduce`` with the model, offline, then the repository's checks in
the sandbox with the network off (parse, ruff, imports, ``python -m pytest``, ``python main.py
--smoke``) before and after repair, as the pipeline's own verify steps ran them. One row per
paper: the kind of contribution chosen, minutes, prompt and reply tokens, each check before and
after repair, the failures each repair round fixed, the fresh methods kept of those sampled
when repair left the method failing, whether the fidelity test (the method against a reference
written separately from the paper's equations) passed, and the verdict on the method (agrees,
disagrees, not checked). Totals at the end: how many run, how many were checked against the
paper, how many run and agree, and the methods tried per paper.

    .venv/bin/python bench/papers.py                       # ../shared/papers/dev/, default model
    .venv/bin/python bench/papers.py DIR --model qwen2.5-coder-0.5b --out runs/bench-0.5b
    .venv/bin/python bench/papers.py --only groupnorm lamb --json results.json
    .venv/bin/python bench/papers.py --compare 1.5b.json 0.5b.json   # side by side
    .venv/bin/python bench/papers.py --repair-by agent --json agent.json  # the agent as repair engine

Runs resume: a paper whose run folder finished is read back, not redone (``--fresh`` redoes it).
"""

from __future__ import annotations

import argparse
import ast
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

ROOT = Path(__file__).resolve().parents[1]
DEV = ROOT.parent / "shared" / "papers" / "dev"
CHECKS = ("parse", "ruff", "imports", "tests", "main")


def papers(folder: Path, only: list[str]) -> list[Path]:
    found = sorted(p for p in folder.iterdir() if p.suffix in (".pdf", ".tex", ".gz", ".tgz", ".zip"))
    return [p for p in found if not only or any(o in p.name for o in only)]


def steps(run: Path, prefix: str) -> list[dict[str, Any]]:
    """The recorded results of a stage's steps, in round order (verify/0, verify/1, ...)."""
    found = []
    for f in (run / ".smolab" / "steps").glob(f"{prefix}__*.json"):
        found.append((int(f.stem.rsplit("__", 1)[1]), json.loads(f.read_text())))
    return [record for _, record in sorted(found, key=lambda item: item[0])]


def fixed_per_round(verifies: list[dict[str, Any]]) -> list[int]:
    """How many failures each repair round removed (a failure: its check and file)."""

    def keys(v: dict[str, Any]) -> set[tuple[str, str]]:
        return {(f["check"], f.get("file") or "") for f in v["result"]["failures"]}

    return [len(keys(a) - keys(b)) for a, b in zip(verifies, verifies[1:], strict=False)]


def written(run: Path) -> str:
    """The class or function the model wrote for the paper: the blueprint's name if the method
    module defines it, else the module's first top-level definition."""
    contribution = run / ".smolab" / "contribution.json"
    blueprint = json.loads(contribution.read_text()).get("blueprint") if contribution.is_file() else None
    method = run / "method.py"
    if not blueprint or not method.is_file():
        return "-"
    try:
        tree = ast.parse(method.read_text())
    except SyntaxError:
        return "(does not parse)"
    names = [n.name for n in tree.body if isinstance(n, ast.ClassDef | ast.FunctionDef)]
    return names[0] if names else "(empty)"


def row(paper: Path, run: Path, minutes: float, error: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {"paper": paper.stem, "minutes": round(minutes, 1), "error": error}
    contribution = run / ".smolab" / "contribution.json"
    out["kind"] = json.loads(contribution.read_text())["kind"] if contribution.is_file() else "-"
    out["wrote"] = written(run)
    verifies = steps(run, "verify")
    if verifies:
        first = {c["name"]: c["ok"] for c in verifies[0]["result"]["checks"]}
        last = {c["name"]: c["ok"] for c in verifies[-1]["result"]["checks"]}
        out["before"], out["after"] = first, last
        out["fixed"] = fixed_per_round(verifies)
        out["tests"] = f"{verifies[-1]['result']['tests_passed']}/{verifies[-1]['result']['tests_total']}"
    report = run / "report.json"
    if report.is_file():
        data = json.loads(report.read_text())
        out["prompt_tokens"], out["reply_tokens"] = data["prompt_tokens"], data["completion_tokens"]
        out["fidelity"] = data.get("fidelity", {}).get("status", "-")
        # The repository as it was left: after repair, and after any fresh method that was kept.
        out["after"] = {name: check["ok"] for name, check in data["checks"].items()}
        after = data["tests_after_repair"]
        out["tests"] = f"{after['passed']}/{after['total']}"
        fresh = data.get("fresh") or {}
        out["fresh"] = f"{fresh.get('kept', 0)}/{fresh.get('sampled', 0)}" if fresh.get("sampled") else "-"
        out["candidates"] = 1 + int(fresh.get("sampled", 0))  # the first method and each fresh one
        out["method"] = data.get("method", "-")  # the verdict: agrees, disagrees or not checked
        out["ok"] = bool(data.get("ok"))
    else:
        out["prompt_tokens"] = out["reply_tokens"] = 0
    out["runs"] = bool(out.get("after", {}).get("main")) and bool(out.get("after", {}).get("tests"))
    return out


def measure(paper: Path, out: Path, model, fresh: bool, agent_repair: Any = None) -> dict[str, Any]:
    run = out / paper.stem
    if fresh and run.exists():
        shutil.rmtree(run)
    start = time.monotonic()
    error = None
    if not (run / "report.json").is_file():
        try:
            options = Options(repair_rounds=2, agent_repair=agent_repair)
            reproduce(str(paper), run, model, resume=run.exists(), options=options)
        except SmolabError as err:
            error = str(err).splitlines()[0][:120]
    minutes = (time.monotonic() - start) / 60
    if not error and (run / "report.json").is_file():
        # A resumed run reads its own time back from its records.
        minutes = json.loads((run / "report.json").read_text())["seconds"] / 60
    return row(paper, run, minutes, error)


def mark(checks: dict[str, bool] | None, name: str) -> str:
    if not checks or name not in checks:
        return "-"
    return "ok" if checks[name] else "[red]x[/red]"


def table(rows: list[dict[str, Any]], model: str) -> Table:
    t = Table(title=f"reproduce on {len(rows)} papers with {model} (checks before → after repair)")
    for col in (
        "paper",
        "kind",
        "wrote",
        "min",
        "prompt tok",
        "reply tok",
        *CHECKS,
        "tests",
        "fixed/round",
        "fresh kept",
        "fidelity",
        "method",
    ):
        t.add_column(col, justify="left" if col in ("paper", "kind", "wrote") else "right")
    for r in rows:
        checks = [f"{mark(r.get('before'), c)}→{mark(r.get('after'), c)}" for c in CHECKS]
        fixed = ",".join(map(str, r.get("fixed", []))) or "-"
        t.add_row(
            r["paper"][:28],
            r["kind"],
            r.get("wrote", "-")[:24],
            f"{r['minutes']:.1f}",
            f"{r['prompt_tokens']:,}",
            f"{r['reply_tokens']:,}",
            *checks,
            r.get("tests", r["error"] or "-"),
            fixed,
            r.get("fresh", "-"),
            r.get("fidelity", "-"),
            r.get("method", "-"),
        )
    n = len(rows) or 1
    runs = sum(r["runs"] for r in rows)
    mean = sum(r["minutes"] for r in rows) / n
    faithful = sum(r.get("fidelity") == "pass" for r in rows)
    checked = sum(r.get("method") in ("agrees", "disagrees") for r in rows)
    ok = sum(r.get("ok", False) for r in rows)
    candidates = sum(r.get("candidates", 0) for r in rows) / n
    prompt, reply = sum(r["prompt_tokens"] for r in rows), sum(r["reply_tokens"] for r in rows)
    t.caption = (
        f"smoke + pytest pass: {runs} of {len(rows)} · method checked against the paper: {checked} · "
        f"runs and agrees: {ok} · fidelity passes: {faithful} · mean {mean:.1f} min/paper · "
        f"{candidates:.1f} methods tried/paper · tokens: {prompt:,} prompt, {reply:,} reply"
    )
    return t


def side_by_side(results: dict[str, list[dict[str, Any]]]) -> Table:
    """One row per paper, a column group per model: smoke + pytest, minutes, fidelity."""
    t = Table(title="reproduce, models side by side (runs = main.py --smoke and pytest pass)")
    t.add_column("paper")
    for name in results:
        for col in ("kind", "runs", "min", "method"):
            t.add_column(f"{name.removeprefix('qwen2.5-coder-')} {col}", justify="right")
    by_model = {name: {r["paper"]: r for r in rows} for name, rows in results.items()}
    papers = sorted({p for rows in by_model.values() for p in rows})
    for paper in papers:
        cells = [paper[:28]]
        for rows in by_model.values():
            r = rows.get(paper)
            cells += (
                [
                    r["kind"],
                    "yes" if r["runs"] else "[red]no[/red]",
                    f"{r['minutes']:.1f}",
                    r.get("method", r.get("fidelity", "-")),
                ]
                if r
                else ["-"] * 4
            )
        t.add_row(*cells)
    t.caption = " · ".join(
        f"{name}: {sum(r['runs'] for r in rows)} of {len(rows)} run, "
        f"{sum(r['minutes'] for r in rows) / max(1, len(rows)):.1f} min/paper, "
        f"{sum(r.get('ok', False) for r in rows)} run and agree"
        for name, rows in results.items()
    )
    return t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", nargs="?", type=Path, default=DEV)
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--out", type=Path, help="run folders (default: runs/bench-papers/MODEL)")
    ap.add_argument("--only", nargs="*", default=[], help="papers whose file name contains one of these")
    ap.add_argument("--fresh", action="store_true", help="redo finished papers")
    ap.add_argument("--json", type=Path, help="also write the rows as JSON")
    ap.add_argument(
        "--repair-by", choices=("pipeline", "agent"), default="pipeline", help="the repair engine to measure"
    )
    ap.add_argument(
        "--compare", nargs="+", type=Path, metavar="JSON", help="print earlier --json results side by side"
    )
    args = ap.parse_args()
    if args.compare:
        Console().print(side_by_side({p.stem: json.loads(p.read_text()) for p in args.compare}))
        return
    engine = f"-{args.repair_by}-repair" if args.repair_by != "pipeline" else ""
    out = args.out or ROOT / "runs" / "bench-papers" / (args.model.replace("/", "_") + engine)
    console = Console()
    rows = []
    # One model for every paper: each run counts its own calls (ChatModel.share).
    model = load_model(args.model)
    agent_repair = AgentRepair(load_settings()) if args.repair_by == "agent" else None
    for paper in papers(args.folder, args.only):
        console.print(f"[dim]{paper.name} …[/dim]")
        rows.append(measure(paper, out, model, args.fresh, agent_repair))
        r = rows[-1]
        console.print(
            f"  {r['kind']}, {r['minutes']:.1f} min, runs: {r['runs']}, tests {r.get('tests', r['error'])}"
        )
        if args.json:
            args.json.write_text(json.dumps(rows, indent=1))
    console.print(table(rows, args.model))


if __name__ == "__main__":
    main()
