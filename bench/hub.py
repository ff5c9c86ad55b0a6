"""One evolution through a hub, end to end, with a real model: a member shares the evidence of
finished reproduce runs, the hub evolves the group's skills from it (pitfalls phrased by the
model, each candidate replayed on recorded papers with and without it), publishes what is not
worse, and a second member pulls the published revision and accepts it. Every stage is printed:
the evidence shared (scrubbed), the proposals, the candidate's lines, the validation, the
published revision and the diff the second member gets.

    .venv/bin/python bench/hub.py --runs runs/bench-example-s35 runs/evolve/A --papers ../shared/papers/dev
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from smolab.cli_evolve import repositories  # noqa: E402
from smolab.config import load_settings  # noqa: E402
from smolab.hub.client import HubClient  # noqa: E402
from smolab.hub.db import HubDB, engine_for  # noqa: E402
from smolab.hub.evolve import evolve_group  # noqa: E402
from smolab.models import DEFAULT_MODEL, Message, load_model  # noqa: E402
from smolab.reproduce import Options, reproduce  # noqa: E402
from smolab.skills import SkillLibrary, SkillStore  # noqa: E402
from smolab.skills.evidence import read_run  # noqa: E402
from smolab.skills.evolve import Pitfall, model_phrase  # noqa: E402
from smolab.skills.replay import Score, score_of  # noqa: E402
from tests.hubserver import serve_hub  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument(
        "--runs", type=Path, nargs="+", required=True, help="reproduce output folders, or folders of them"
    )
    ap.add_argument("--papers", type=Path, required=True, help="where the hub finds the papers by file name")
    ap.add_argument("--example", type=Path, default=ROOT / "examples", help="more papers, by file name")
    ap.add_argument("--out", type=Path, default=Path("runs/hub-evolution"))
    ap.add_argument("--model", default=DEFAULT_MODEL)
    ap.add_argument("--replay", type=int, default=1)
    ap.add_argument("--most", type=int, default=1)
    args = ap.parse_args()
    console = Console()
    args.out.mkdir(parents=True, exist_ok=True)
    folders = repositories(args.runs)
    evidence = [
        e for f in folders if (e := read_run(f, f"{f.parent.name}-{f.name}")) is not None and e.skills
    ]
    console.print(f"[bold]1. evidence[/bold]: {len(evidence)} finished runs that recorded their skills")

    papers = Path(tempfile.mkdtemp(prefix="hub-papers-"))
    for source in (args.papers, args.example):
        for f in source.glob("*"):
            if f.is_file() and f.suffix in (".pdf", ".tex"):
                (papers / f.name).symlink_to(f.resolve())

    db = HubDB(engine_for(f"sqlite:///{args.out / 'hub.db'}"))
    with serve_hub(db) as url:
        ann = HubClient(url, db.add_user("ann", ["lab"]))
        bob = HubClient(url, db.add_user("bob", ["lab"]))
        shared = ann.share(evidence, "lab")
        sample = ann.evidence("lab")[0]
        console.print(f"   ann shared: {shared}; one record as the hub keeps it: {json.dumps(sample)[:400]}…")

        settings = load_settings(model=args.model)
        model = load_model(settings=settings)

        def ask(prompt: str) -> str | None:
            return model.chat([Message("user", prompt)], schema=Pitfall, temperature=0).line

        def replay(paper: str, extra: list[Path]) -> Score:
            tag = "candidate" if extra else "current"
            out = args.out / "replays" / f"{Path(paper).stem}-{tag}"
            started = time.monotonic()
            summary = reproduce(paper, out, model, force=True, options=Options(skills=extra))
            console.print(
                f"   replayed {Path(paper).name} ({tag}): {time.monotonic() - started:.0f} s, "
                f"tests {summary['tests_after_repair']}, verdict {summary.get('method')}"
            )
            return score_of(summary)

        console.print("[bold]2. the hub evolves the group's skills[/bold]")
        outcomes = evolve_group(
            db, "lab", model_phrase(ask), replay, papers, most_cases=args.replay, most_proposals=args.most
        )
        table = Table(title="proposals and their validation")
        for col in (
            "action",
            "skill",
            "lines",
            "why",
            "replayed",
            "tests now → candidate",
            "passing",
            "result",
        ):
            table.add_column(col)
        for o in outcomes:
            p, c = o.proposal, o.comparison
            now = c.totals(c.current) if c else {}
            new = c.totals(c.candidate) if c else {}
            table.add_row(
                p.action,
                p.skill,
                "\n".join(p.lines),
                p.reason[:80],
                str(len(c.cases)) if c else "-",
                f"{now.get('tests')} → {new.get('tests')}" if c else "-",
                f"{now.get('passed')} → {new.get('passed')}" if c else "-",
                f"published r{o.published}" if o.published else ("refused" if c else "not validated"),
            )
        console.print(table)
        (args.out / "outcomes.json").write_text(
            json.dumps(
                [
                    {
                        "proposal": o.proposal.model_dump(),
                        "comparison": o.comparison.to_dict() if o.comparison else None,
                        "published": o.published,
                    }
                    for o in outcomes
                ],
                indent=1,
            )
        )

        published = [o for o in outcomes if o.published]
        console.print("[bold]3. bob pulls[/bold]")
        if not published:
            console.print("   nothing was published: no candidate was found not worse")
            return
        name = published[0].proposal.skill
        store = SkillStore(args.out / "bob-skills")
        state, _ = bob.pull(name, store)
        console.print(
            f"   bob has {name} r{state.current} from {state.revision(state.current).source}, "
            f"accepted: {state.trusted}"
        )
        before = SkillLibrary().get(name).body if name in {s.name for s in SkillLibrary()} else ""
        store.accept(name)
        after = SkillLibrary(store=store).get(name).body
        diff = difflib.unified_diff(
            before.splitlines(), after.splitlines(), "built-in", "pulled", lineterm=""
        )
        console.print("\n".join(diff) or "(no change to the instructions)")


if __name__ == "__main__":
    main()
