"""Train and evaluate: ``python main.py [--config config.yaml] [--smoke]``."""

from __future__ import annotations

import argparse
import json
import math

from common import load_config, set_seed
from experiment import run


def main(argv: list[str] | None = None) -> dict[str, float]:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--config", default="config.yaml")
    ap.add_argument("--smoke", action="store_true", help="a tiny run, seconds on a CPU")
    args = ap.parse_args(argv)
    config = load_config(args.config, smoke=args.smoke)
    set_seed(int(config.get("seed", 0)))
    metrics = run(config)
    bad = [k for k, v in metrics.items() if not math.isfinite(v)]
    if bad:
        raise SystemExit(f"non-finite metrics: {', '.join(bad)}")
    print(json.dumps(metrics, indent=1))
    return metrics


if __name__ == "__main__":
    main()
