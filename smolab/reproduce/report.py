"""REPORT.md and report.json: what ran, what passed, what failed, and what each stage cost."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from .rundir import RunDir
from .verdict import PAPER_TEST, Verdict, error_line, is_paper_failure, judge, said
from .verify import Verification

STAGES = ("read", "digest", "plan", "analyze", "generate", "verify", "repair")


def stage_costs(run: RunDir) -> list[dict[str, Any]]:
    totals: dict[str, dict[str, Any]] = defaultdict(
        lambda: {
            "steps": 0,
            "calls": 0,
            "prompt_tokens": 0,
            "cached_tokens": 0,
            "completion_tokens": 0,
            "seconds": 0.0,
        }
    )
    for r in run.records():
        t = totals[r.stage]
        t["steps"] += 1
        t["calls"] += r.calls
        t["prompt_tokens"] += r.prompt_tokens
        t["cached_tokens"] += r.cached_tokens
        t["completion_tokens"] += r.completion_tokens
        t["seconds"] += r.seconds
    return [{"stage": s, **totals[s]} for s in STAGES if s in totals]


def _mark(ok: bool) -> str:
    return "pass" if ok else "FAIL"


def write_report(
    run: RunDir,
    title: str,
    model: str,
    results: list[Verification],
    about: list[str] | None = None,
    extra: dict[str, Any] | None = None,
    verdict: Verdict | None = None,
) -> dict[str, Any]:
    """REPORT.md and report.json; ``about`` lines say how the repository was made (its blueprint),
    ``extra`` goes into report.json as it is (the fidelity check). The first line of REPORT.md is
    the verdict: whether the code runs, and whether the method was checked against the paper and
    agreed."""
    first, last = results[0], results[-1]
    verdict = verdict or judge(
        run.root, last, "no blueprint fits this kind of paper, so nothing compares the code with the paper"
    )
    costs = stage_costs(run)
    summary: dict[str, Any] = {
        "paper": (run.info() or {}).get("paper"),
        "title": title,
        "model": model,
        "ok": verdict.ok,
        "runs": verdict.runs,
        "method": verdict.method,
        "verdict": verdict.to_dict(),
        "checks": {c.name: {"ok": c.ok, "detail": c.detail} for c in last.checks},
        "tests_before_repair": {"passed": first.tests_passed, "total": first.tests_total},
        "tests_after_repair": {"passed": last.tests_passed, "total": last.tests_total},
        "repair_rounds": len(results) - 1,
        "stages": costs,
        "prompt_tokens": sum(c["prompt_tokens"] for c in costs),
        "completion_tokens": sum(c["completion_tokens"] for c in costs),
        "seconds": round(sum(c["seconds"] for c in costs), 1),
        "files": [],
        **(extra or {}),
    }

    lines = [
        f"# {verdict.headline()}",
        "",
        f"Report on *{title or 'the paper'}*, written by smolab with `{model}`.",
        "",
        *[line for a in about or [] for line in (a, "")],
        *against_the_paper(run, last, (extra or {}).get("criteria", [])),
        "## Checks",
        "",
        "| check | before repair | after repair |",
        "|---|---|---|",
    ]
    before = {c.name: c for c in first.checks}
    for c in last.checks:
        b = before.get(c.name)
        then = f"{_mark(b.ok)}: {b.detail}" if b else "-"
        lines.append(f"| {c.name} | {then} | {_mark(c.ok)}: {c.detail} |")
    lines += [
        "",
        f"Tests passed: {first.tests_passed} of {first.tests_total} before repair, "
        f"{last.tests_passed} of {last.tests_total} after {len(results) - 1} repair round(s).",
    ]
    if last.failures:
        lines += ["", "## What still fails", ""]
        shown: dict[str, int] = {}
        said: set[str] = set()
        for f in last.failures:
            where = f" in `{f.file}`" if f.file else ""
            line = f"- {f.check}{where}: `{error_line(f.error)[:200]}`"
            shown[f.check] = shown.get(f.check, 0) + 1
            if shown[f.check] > 4 or line in said:  # four tests failing on one line are one line
                continue
            said.add(line)
            lines.append(line)
    lines += [
        "",
        "## Cost per stage",
        "",
        "| stage | steps | model calls | prompt tokens | of them cached | reply tokens | seconds |",
        "|---|---|---|---|---|---|---|",
    ]
    for cost in costs:
        lines.append(
            f"| {cost['stage']} | {cost['steps']} | {cost['calls']} | {cost['prompt_tokens']:,} | "
            f"{cost['cached_tokens']:,} | {cost['completion_tokens']:,} | {cost['seconds']:.1f} |"
        )
    lines += [
        "",
        "Artifacts of every stage (digest, plan, architecture with diagrams, per-file analyses, "
        "each check's output) are in `.smolab/`; every model call is a line of `.smolab/trajectory.jsonl`.",
        "",
    ]
    run.write_file("REPORT.md", "\n".join(lines))
    summary["files"] = sorted({*run.repo_files(), "report.json"})
    run.write_file("report.json", json.dumps(summary, indent=1, ensure_ascii=False) + "\n")
    return summary


def against_the_paper(run: RunDir, last: Verification, criteria: list[str]) -> list[str]:
    """The paper's statements the method was held to, and which it breaks."""
    if not criteria or not (run.root / PAPER_TEST).is_file():
        return []
    lines = [
        "## The method against the paper's statements",
        "",
        f"`{PAPER_TEST}` traces `method.py` and checks what the paper states about its method "
        "(read from its equations and the sentences around them, not by a model):",
        "",
        *[f"- {c}" for c in criteria],
        "",
    ]
    broken = [said(f.error) for f in last.failures if is_paper_failure(f, [PAPER_TEST])]
    if broken:
        lines += ["Broken:", "", *[f"- {b[:300]}" for b in broken], ""]
    else:
        lines += ["The method holds to each of them." if last.tests_total else "They did not run.", ""]
    return lines
