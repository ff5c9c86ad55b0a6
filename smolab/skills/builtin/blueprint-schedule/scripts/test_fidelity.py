"""The method against a reference written separately from the paper's equations alone."""

from pathlib import Path

import yaml

from method import Schedule
from reference import reference

CONFIG = yaml.safe_load((Path(__file__).resolve().parents[1] / "config.yaml").read_text())


def test_the_method_computes_the_papers_equations():
    base, total = 0.1, 1000
    schedule = Schedule(base, total, **(CONFIG.get("method") or {}))
    gaps = [(s, schedule(s), reference(s, base, total)) for s in range(0, total, 7)]
    wanted = [g[2] for g in gaps]
    # Two constant rates agree and check nothing: a schedule is a rate that changes.
    assert max(wanted) - min(wanted) > 0.05 * base, "the reference is constant, so it cannot check the method"
    worst = max(gaps, key=lambda g: abs(g[1] - g[2]))
    assert abs(worst[1] - worst[2]) <= 1e-6 + 1e-3 * abs(worst[2]), (
        f"step {worst[0]}: {worst[1]} vs {worst[2]}"
    )
