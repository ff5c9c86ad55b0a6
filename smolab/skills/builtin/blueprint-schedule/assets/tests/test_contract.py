"""What any learning-rate schedule must do; they fail for a missing or stand-in method.py."""

import math
from pathlib import Path

import yaml

from experiment import run
from method import Schedule

CONFIG = yaml.safe_load((Path(__file__).resolve().parents[1] / "config.yaml").read_text())
BASE, TOTAL = 0.1, 1000


def make(base: float = BASE, total: int = TOTAL) -> Schedule:
    return Schedule(base, total, **(CONFIG.get("method") or {}))


def test_a_float_within_its_bounds_at_every_step():
    schedule = make()
    for step in range(TOTAL):
        lr = schedule(step)
        assert isinstance(lr, (float, int)) and math.isfinite(lr), f"step {step}: {lr!r}"
        assert -1e-12 <= lr <= BASE * (1 + 1e-6), f"step {step}: {lr} outside [0, {BASE}]"


def test_it_changes_the_rate():
    rates = [make()(step) for step in range(TOTAL)]
    assert max(rates) - min(rates) > 0.05 * BASE, "the rate is constant"


def test_it_reaches_the_base_rate():
    assert max(make()(step) for step in range(TOTAL)) > 0.5 * BASE


def test_it_depends_on_the_step_alone():
    schedule = make()
    first = [schedule(s) for s in range(0, TOTAL, 37)]
    assert first == [schedule(s) for s in range(0, TOTAL, 37)]


def test_a_network_trained_under_it_learns():
    config = {**CONFIG, "data": {**CONFIG["data"], "n": 1024}, "train": {**CONFIG["train"], "steps": 150}}
    metrics = run(config)
    assert metrics["loss_end"] < metrics["loss_start"] * 0.9
