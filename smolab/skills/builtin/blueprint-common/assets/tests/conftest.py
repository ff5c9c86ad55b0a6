import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import VALUES_HEADER, failure_values  # noqa: E402


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A failing test's report ends with the shapes of the values on the line that raised."""
    outcome = yield
    report = outcome.get_result()
    failed = report.failed and call.excinfo is not None and hasattr(report.longrepr, "addsection")
    if failed and (text := failure_values(call.excinfo.tb)):
        report.longrepr.addsection(VALUES_HEADER, text)
