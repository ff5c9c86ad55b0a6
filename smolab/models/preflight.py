"""The set-up's proof that llama.cpp runs here: ``python -m smolab.models.preflight``.

It decodes with the smallest embedded model in a child process (the canary) and prints one
line; exit 0 when the build works, 1 otherwise. It lives apart from the canary so that the
canary needs nothing from the loader that uses it.
"""

from __future__ import annotations

import sys

from ..config import load_settings
from .canary import EXPECTED, CanaryCache, build_identity, run_canary
from .loader import canary_model, store_for


def check() -> int:
    """The set-up's check: the canary with the smallest embedded model, one line, exit 0 or 1."""
    settings = load_settings()
    model = canary_model(store_for(settings))
    if model is None:
        print("error: the smallest embedded model is not installed; run ./install.sh", file=sys.stderr)
        return 1
    result = run_canary(model)
    if not result.ok:
        print(f"error: {result.reason}", file=sys.stderr)
        return 1
    CanaryCache(settings.cache / "llama-canary.json").put(build_identity(), result)
    print(
        f"llama.cpp runs here: {model.name} continued the count with {EXPECTED}, "
        f"{result.prompt_per_second or 0:.0f} prompt and {result.generated_per_second or 0:.0f} "
        "generated tokens/s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(check())
