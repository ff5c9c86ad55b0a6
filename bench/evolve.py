"""Does evolution help? Evidence from one half of the papers, candidates validated by replay,
then the other half reproduced before and after, side by side.

1. Read the evidence of finished reproduce runs of the first half (``--first``: their output
   folders, e.g. from ``bench/papers.py --only ... --out``).
2. Propose changes (the evolver, its pitfall lines phrased by the model), validate each by
   replaying ``--replay`` of its recorded papers with and without it, and publish what is not
   worse into a store of this benchmark's own (``OUT/store``); accept what was published.
3. Reproduce each paper of the second half (``--second``) with the built-in skills (before) and
   with the store (after).

One row per second-half paper: tests passing after repair, checks failing, repair rounds,
tokens and the verdict, before and after; totals. Runs resume: a finished run is read back.

    .venv/bin/python bench/evolve.py --first runs/evolve/A --second dropout sgdr adapters --out runs/evolve
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).resolve().parent))
from papers import DEV, papers  # noqa: E402

from smolab.config import load_settings  # noqa: E402
from smolab.models import DEFAULT_MODEL, Message, load_model  # noqa: E402
from smolab.reproduce import Options, reproduce  # noqa: E402
from smolab.skills import SkillLibrary, SkillStore  # noqa: E402
from smolab.skills.cycle import run_cycle  # noqa: E402
from smolab.skills.evidence import read_run  # noqa: E402
from smolab.skills.evolve import Evolver, Pitfall, Proposal, model_phrase  # noqa: E402
from smolab.skills.replay import Score, score_of  # noqa: E402


def finished(run: Path) -> dict[str, Any] | None:
    report = run / "report.json"
    return json.loads(report.read_text()) if report.is_file() else None


def reproduce_once(paper: str, out: Path, model: Any, options: Options) -> dict[str, Any]:
    done = finished(out)
    if done is not None:
        return done
    return reproduce(paper, out, model, resume=out.exists(), options=options)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--first", type=Path, required=True, help="output folders of the first half's runs")
    ap.add_argument("--second", nargs="+", required=True, help="second-half papers (names in the dev folder)")
    ap.add_argument("--papers", type=Path, default=DEV)
    ap.add_argument("--out", type=Path, default=Path("runs/evolve"))
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--replay", type=int, default=1, help="recorded papers each candidate is replayed on")
    ap.add_argument("--most", type=int, default=2, help="proposals validated at most")
    ap.add_argument(
        "--store", type=Path, help="skip evolving: the skills store to compare (e.g. pulled from a hub)"
    )
    args = ap.parse_args()
    console = Console()
    settings = load_settings(model=args.model)
    model = load_model(settings=settings)
    store = SkillStore(args.out / "store")
    evidence = [e for f in sorted(args.first.iterdir()) if (e := read_run(f)) is not None]
    console.print(f"{len(evidence)} first-half runs as evidence")
    for e in evidence:
        tests = f"{e.tests_after[0]}/{e.tests_after[1]}"
        console.print(f"  {e.run}: {e.status or '?'}, tests {tests}, errors {e.errors[:3]}")

    # -- evolve and validate, once (the store is the result; a rerun reads it back) ---------
    log = args.out / "evolution.json"
    if args.store is not None:
        store = SkillStore(args.store)  # evolved elsewhere (a hub, pulled and accepted)
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(json.dumps({"proposals": [], "validated": [], "store": str(args.store)}))
    elif not log.is_file():
        started = time.monotonic()
        library = SkillLibrary()

        def ask(prompt: str) -> str | None:
            return model.chat([Message("user", prompt)], schema=Pitfall, temperature=0).line

        by_run = {e.run: e for e in evidence}

        def cases(p: Proposal) -> list[str]:
            return list(dict.fromkeys(by_run[r].source for r in p.runs if r in by_run and by_run[r].source))

        def again(paper: str, extra: list[Path]) -> Score:
            stem = re.sub(r"[^A-Za-z0-9]+", "-", Path(paper).stem)
            out = args.out / "replays" / f"{stem}-{extra[0].name if extra else 'current'}"
            return score_of(reproduce_once(paper, out, model, Options(skills=extra)))

        evolver = Evolver(library, phrase=model_phrase(ask))
        outcomes = run_cycle(
            evidence, library, evolver, store, again, cases, most_cases=args.replay, most_proposals=args.most
        )
        proposals = [o.proposal for o in outcomes]
        record = []
        for o in outcomes[: args.most]:
            c = o.comparison
            record.append(
                {
                    "proposal": o.proposal.model_dump(),
                    "comparison": c.to_dict() if c else None,
                    "published": o.published,
                    "refused": str(o.refused) if o.refused else None,
                }
            )
            if o.published:
                store.accept(o.proposal.skill)
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(
            json.dumps(
                {
                    "proposals": [p.model_dump() for p in proposals],
                    "validated": record,
                    "minutes": round((time.monotonic() - started) / 60, 1),
                },
                indent=1,
            )
        )
    evolution = json.loads(log.read_text())
    for v in evolution["validated"]:
        p, c = v["proposal"], v["comparison"]
        totals = c["totals"] if c else {}
        console.print(
            f"{p['action']} {p['skill']}: {p['lines']} -> "
            f"{'published r' + str(v['published']) if v['published'] else 'refused'} {totals}"
        )

    # -- the second half, before and after ------------------------------------------------
    table = Table(title=f"second half, before and after evolution ({args.model})")
    for col in ("paper", "tests before→after", "checks failing", "repair rounds", "tokens", "verdict"):
        table.add_column(col)
    sums = {"before": [0, 0, 0, 0, 0], "after": [0, 0, 0, 0, 0]}
    for paper in papers(args.papers, args.second):
        cells: dict[str, Score] = {}
        verdicts = {}
        for tag, opts in (("before", Options()), ("after", Options(store=store))):
            summary = reproduce_once(str(paper), args.out / f"B-{tag}" / paper.stem, model, opts)
            cells[tag] = score_of(summary)
            verdicts[tag] = summary.get("method", "-")
            s = cells[tag]
            for i, v in enumerate((s.tests[0], s.checks_failing, s.repair_rounds, s.tokens, int(s.passed))):
                sums[tag][i] += v
        b, a = cells["before"], cells["after"]
        table.add_row(
            paper.stem,
            f"{b.tests[0]}/{b.tests[1]} → {a.tests[0]}/{a.tests[1]}",
            f"{b.checks_failing} → {a.checks_failing}",
            f"{b.repair_rounds} → {a.repair_rounds}",
            f"{b.tokens:,} → {a.tokens:,}",
            f"{verdicts['before']} → {verdicts['after']}",
        )
    bt, at = sums["before"], sums["after"]
    table.add_row(
        "total",
        f"{bt[0]} → {at[0]}",
        f"{bt[1]} → {at[1]}",
        f"{bt[2]} → {at[2]}",
        f"{bt[3]:,} → {at[3]:,} ({at[3] / max(1, bt[3]):.2f}×)",
        f"passed {bt[4]} → {at[4]}",
    )
    console.print(table)


if __name__ == "__main__":
    main()
