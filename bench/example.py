"""Reproduce the project's example paper and check the method against its equations by hand.

The example (``examples/gated-residual-mlp.tex``) is the one paper whose equations this bench
knows: a block ``y = x + α (W_2 GELU(W_1 LayerNorm(x) + b_1) + b_2)`` with α a learned scalar
that starts at 0. Passing every check is not enough (a plain MLP passes them all): each run's
``method.py`` is searched for a module with one LayerNorm, a Linear d -> d_h, a Linear d_h -> d
and a one-element parameter, and that module's output is compared with the equations computed
from its own weights, the gate set to 0.5. One row per run: kind chosen, minutes, each check,
and whether the equations hold.

    .venv/bin/python bench/example.py                    # one run with the default model
    .venv/bin/python bench/example.py --runs 3 --model qwen2.5-coder-0.5b
    .venv/bin/python bench/example.py --check runs/example   # an existing repository only
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from smolab.models import DEFAULT_MODEL, load_model
from smolab.reproduce import Options, reproduce

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "gated-residual-mlp.tex"
CHECKS = ("parse", "ruff", "imports", "tests", "main")

EQUATIONS_HOLD = """
import torch
from torch import nn
import method
found = []
for cls in vars(method).values():
    if not (isinstance(cls, type) and issubclass(cls, nn.Module)):
        continue
    for args in ((64,), (64, 128), (16, 4)):
        try:
            top = cls(*args)
        except Exception:
            continue
        for m in top.modules():
            norms = [c for c in m.children() if isinstance(c, nn.LayerNorm)]
            linears = [c for c in m.modules() if isinstance(c, nn.Linear)]
            gates = [p for p in m.parameters(recurse=False) if p.numel() == 1]
            ups = [lin for lin in linears if lin.out_features > lin.in_features]
            downs = [lin for lin in linears if ups and lin.in_features == ups[0].out_features]
            if len(norms) == 1 and len(gates) == 1 and ups and downs:
                found.append((m, norms[0], ups[0], downs[0], gates[0]))
        break
assert found, "no module has the block's LayerNorm, two linear maps and a scalar gate"
for m, norm, w1, w2, gate in found:
    m.eval()
    start = float(gate.detach())
    assert start == 0.0, f"the gate starts at {start}, the paper says 0"
    with torch.no_grad():
        gate.fill_(0.5)
        x = torch.randn(8, w1.in_features)
        gap = float((m(x) - (x + 0.5 * w2(nn.functional.gelu(w1(norm(x)))))).abs().max())
    assert gap < 1e-5, f"the block's output is {gap:.3g} away from the equations"
print(f"{len(found)} block(s) match the equations")
"""


def equations_hold(repo: Path) -> str:
    """ "yes", or what the by-hand check found wrong."""
    if not (repo / "method.py").is_file():
        return "no method.py"
    run = subprocess.run(
        [sys.executable, "-c", EQUATIONS_HOLD], cwd=repo, capture_output=True, text=True, timeout=300
    )
    if run.returncode == 0:
        return "yes"
    last = (run.stderr.strip().splitlines() or ["it crashed"])[-1]
    return "no: " + last.removeprefix("AssertionError: ")[:80]


def row(repo: Path, minutes: float | None) -> dict:
    report = json.loads((repo / "report.json").read_text()) if (repo / "report.json").is_file() else {}
    checks = report.get("checks", {})
    kind = (report.get("contribution") or {}).get("kind", "")
    if not kind and (repo / ".smolab" / "contribution.json").is_file():
        kind = json.loads((repo / ".smolab" / "contribution.json").read_text()).get("kind", "")
    return {
        "repo": str(repo),
        "kind": kind,
        "minutes": minutes,
        "checks": {c: bool(checks.get(c, {}).get("ok")) for c in CHECKS},
        "method": report.get("method", "-"),
        "headline": (report.get("verdict") or {}).get("headline", ""),
        "equations": equations_hold(repo),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "bench-example")
    ap.add_argument("--check", type=Path, nargs="*", help="check these repositories; reproduce nothing")
    args = ap.parse_args()
    rows = []
    if args.check:
        rows = [row(repo, None) for repo in args.check]
    else:
        model = load_model(args.model)
        for n in range(1, args.runs + 1):
            repo = args.out / f"run-{n}"
            shutil.rmtree(repo, ignore_errors=True)
            start = time.perf_counter()
            reproduce(str(EXAMPLE), repo, model, options=Options())
            rows.append(row(repo, (time.perf_counter() - start) / 60))
    table = Table(title=f"{EXAMPLE.name}: every check, and the equations by hand")
    for col in ("run", "kind", "min", *CHECKS, "method (verdict)", "equations hold"):
        table.add_column(col)
    for r in rows:
        minutes = f"{r['minutes']:.1f}" if r["minutes"] is not None else "-"
        marks = ["pass" if r["checks"][c] else "FAIL" for c in CHECKS]
        table.add_row(Path(r["repo"]).name, r["kind"], minutes, *marks, r["method"], r["equations"])
    Console().print(table)
    for r in rows:
        print(f"{Path(r['repo']).name}: {r['headline']}")
    passing = sum(all(r["checks"].values()) for r in rows)
    checked = sum(r["method"] in ("agrees", "disagrees") for r in rows)
    agreed = sum(r["method"] == "agrees" for r in rows)
    holding = sum(r["equations"] == "yes" for r in rows)
    lies = sum(r["method"] == "agrees" and r["equations"] != "yes" for r in rows)
    print(
        f"every check: {passing}/{len(rows)} · method checked: {checked}/{len(rows)} · agrees: "
        f"{agreed}/{len(rows)} · equations hold by hand: {holding}/{len(rows)} · "
        f"agreement claimed where they do not hold: {lies}"
    )


if __name__ == "__main__":
    main()
