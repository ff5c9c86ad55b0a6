"""The web app's live view: the time from an event written to the run's trajectory to the event
shown in the page, in a real headless Chromium, with one run and with several at once (scripted
model, so only the app is measured). p50 and p95 per setting, and the slowest page load of the
runs list while the runs go on.

    .venv/bin/python bench/web.py                 # 1 run, then 4 at once
    .venv/bin/python bench/web.py --runs 1 8
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from smolab.config import load_settings  # noqa: E402
from tests.webserver import TOKEN, chromium, scripted_model, serve_web  # noqa: E402


def measure(runs: int, delay: float, steps: int) -> tuple[list[float], float]:
    """Latencies (ms) of every event written while its page was open, and the slowest runs-list load."""
    from playwright.sync_api import sync_playwright

    home = Path(tempfile.mkdtemp(prefix="bench-web-")) / "home"
    settings = load_settings(home=home)
    latencies: list[float] = []
    slowest = 0.0
    with serve_web(settings, scripted_model(delay=delay)) as url, sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium(), args=["--no-sandbox"] if os.geteuid() == 0 else []
        )
        context = browser.new_context()
        context.add_cookies([{"name": "smolab_token", "value": TOKEN, "url": url}])
        pages, opened = [], []
        c = httpx.Client(base_url=url, cookies={"smolab_token": TOKEN}, timeout=30)
        for i in range(runs):
            task = f"give 41 + 1 (run {i})"
            r = c.post("/runs/agent", data={"task": task, "max_steps": str(steps)}, follow_redirects=False)
            page = context.new_page()
            page.goto(url + r.headers["location"])
            opened.append(time.time())
            pages.append(page)
        while any(pg.inner_text("#status") in ("running", "unfinished") for pg in pages):
            start = time.monotonic()
            c.get("/")
            slowest = max(slowest, time.monotonic() - start)
            time.sleep(0.2)
        time.sleep(0.5)
        for pg, t_open in zip(pages, opened, strict=True):
            arrivals = pg.evaluate("window.smolabArrivals")
            latencies += [lat * 1000 for _, lat, written in arrivals if written > t_open]
        browser.close()
        c.close()
    return latencies, slowest


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, nargs="+", default=[1, 4])
    ap.add_argument("--delay", type=float, default=0.3, help="seconds the scripted model takes a reply")
    ap.add_argument("--steps", type=int, default=5)
    args = ap.parse_args()
    table = Table(title="event written → shown in the page (headless Chromium, scripted model)")
    columns = ("runs at once", "events", "p50 ms", "p95 ms", "max ms", "slowest runs-list load ms")
    for col in (*columns, f"p50 / p95 × {args.runs[0]} run(s)"):
        table.add_column(col, justify="right")
    base: tuple[float, float] | None = None
    for n in args.runs:
        lat, slowest = measure(n, args.delay, args.steps)
        q = statistics.quantiles(lat, n=20) if len(lat) > 1 else [lat[0]] * 19
        p50, p95 = statistics.median(lat), q[18]
        base = base or (p50, p95)
        ratio = f"{p50 / base[0]:.1f}× / {p95 / base[1]:.1f}×"
        cells = (f"{p50:.0f}", f"{p95:.0f}", f"{max(lat):.0f}", f"{slowest * 1000:.0f}", ratio)
        table.add_row(str(n), str(len(lat)), *cells)
    Console().print(table)


if __name__ == "__main__":
    main()
