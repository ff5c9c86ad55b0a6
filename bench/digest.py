"""The digest's cost and yield: the whole-paper read beside the facts read, per paper, in one run.

Both digest the same paper with the same model: "whole" reads every chunk of the paper into the
full schema (as the digest did first); "facts" reads only the sentences likeliest to state
settings into the smaller schema, and asks problem, architecture and method steps as narrow
free-text questions (the narrow hyper-parameter questions run in both). Per paper and mode:
seconds, prompt and reply tokens, model calls, and the hyper-parameters whose value was verified
against the paper's own sentence. Ratios (facts / whole) at the end.

    .venv/bin/python bench/digest.py                              # 3 dev papers, default model
    .venv/bin/python bench/digest.py --only sgdr lamb --model qwen2.5-coder-0.5b
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from smolab.models import DEFAULT_MODEL, load_model
from smolab.paper import read_paper
from smolab.paper.digest import digest_paper

DEV = Path(__file__).resolve().parents[1].parent / "shared" / "papers" / "dev"
MODES = {"whole": {"facts_tokens": None}, "facts": {}}


def measure(paper_path: Path, model_name: str, mode: str) -> dict[str, float]:
    paper = read_paper(str(paper_path))
    model = load_model(model_name)
    calls = 0

    def count(*_args: object) -> None:
        nonlocal calls
        calls += 1

    model.observe(count)
    start = time.perf_counter()
    d = digest_paper(paper, model, **MODES[mode])  # type: ignore[arg-type]
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "prompt": model.usage.prompt_tokens,
        "reply": model.usage.completion_tokens,
        "calls": calls,
        "verified": sum(h.verified for h in d.hyperparameters),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", nargs="?", type=Path, default=DEV)
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--only", nargs="*", default=["sgdr", "groupnorm", "center_loss"])
    args = ap.parse_args()
    papers = sorted(p for p in args.folder.glob("*.pdf") if any(o in p.name for o in args.only))
    console = Console()
    t = Table(title=f"digest with {args.model}: whole paper vs facts only")
    for col in ("paper", "mode", "s", "prompt tok", "reply tok", "calls", "verified values"):
        t.add_column(col, justify="left" if col in ("paper", "mode") else "right")
    totals = {m: {"seconds": 0.0, "prompt": 0.0, "reply": 0.0} for m in MODES}
    for p in papers:
        for mode in MODES:
            console.print(f"[dim]{p.name} {mode} …[/dim]")
            r = measure(p, args.model, mode)
            for k in totals[mode]:
                totals[mode][k] += r[k]
            t.add_row(
                p.stem[:28], mode, f"{r['seconds']:.0f}", f"{r['prompt']:,}", f"{r['reply']:,}",
                str(r["calls"]), str(r["verified"]),
            )  # fmt: skip
    w, f = totals["whole"], totals["facts"]
    t.caption = (
        f"facts / whole: time {f['seconds'] / w['seconds']:.2f}, "
        f"prompt tokens {f['prompt'] / w['prompt']:.2f}, reply tokens {f['reply'] / w['reply']:.2f}"
    )
    console.print(t)


if __name__ == "__main__":
    main()
