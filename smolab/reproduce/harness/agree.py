"""Runs a fidelity test once per candidate reference: ``python agree.py TEST REF...``.

Each candidate is loaded as the module ``reference`` before the test file runs afresh, so the
test's own ``from reference import reference`` picks it up; the method is the repository's.
Prints one JSON list: for each candidate, whether every test function in TEST passed.
"""

import importlib.util
import json
import runpy
import signal
import sys
from types import FrameType

SECONDS = 60


def _stop(signum: int, frame: FrameType | None) -> None:
    raise TimeoutError(f"over {SECONDS} s")


def passes(test: str, candidate: str) -> bool:
    spec = importlib.util.spec_from_file_location("reference", candidate)
    if spec is None or spec.loader is None:
        return False
    signal.signal(signal.SIGALRM, _stop)
    signal.alarm(SECONDS)
    try:
        module = importlib.util.module_from_spec(spec)
        sys.modules["reference"] = module
        spec.loader.exec_module(module)
        names = runpy.run_path(test)
        tests = [fn for name, fn in names.items() if name.startswith("test_") and callable(fn)]
        for fn in tests:
            fn()
        return bool(tests)
    except Exception:  # a crash or a failed comparison: this candidate does not agree
        return False
    finally:
        signal.alarm(0)
        sys.modules.pop("reference", None)


if __name__ == "__main__":
    sys.path.insert(0, ".")
    print(json.dumps([passes(sys.argv[1], c) for c in sys.argv[2:]]))
