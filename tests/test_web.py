"""The web app: its API over real HTTP, and its pages in a real headless Chromium (Debian's,
through Playwright) with the scripted model: start a run, watch its events arrive, answer an
approval, reload mid-run, open the artifacts and the diagrams, compose an agent.

Set SCREENSHOTS=DIR to keep a screenshot of each page."""

from __future__ import annotations

import io
import os
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from smolab.config import load_settings
from smolab.skills import SkillStore

from .test_skill_guide import write_skill
from .webserver import TOKEN, chromium, finished_reproduce_run, scripted_model, serve_web


@pytest.fixture
def settings(tmp_path, monkeypatch):
    monkeypatch.setenv("SMOLAB_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)  # the agent builder writes ./smolab.toml's neighbour in home
    return load_settings(home=tmp_path / "home")


def client(url: str) -> httpx.Client:
    return httpx.Client(base_url=url, cookies={"smolab_token": TOKEN}, follow_redirects=False, timeout=30)


def wait_status(c: httpx.Client, run_id: str, answer: str | None = None, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = c.get(f"/api/runs/{run_id}/state").json()
        if state["approval"] and answer:
            c.post(f"/api/runs/{run_id}/approval", json={"id": state["approval"]["id"], "answer": answer})
        if state["summary"]["status"] not in ("running", "unfinished"):
            return state
        time.sleep(0.1)
    raise AssertionError(f"run {run_id} did not finish: {state}")


# -- the API --------------------------------------------------------------------------------


def test_every_route_refuses_a_request_without_the_token(settings):
    finished_reproduce_run(settings)
    routes = [
        ("GET", "/"),
        ("GET", "/start"),
        ("GET", "/skills"),
        ("GET", "/agents"),
        ("GET", "/api/runs"),
        ("GET", "/runs/20261207-000000-gated-block"),
        ("GET", "/runs/20261207-000000-gated-block/zip"),
        ("GET", "/api/runs/20261207-000000-gated-block/events"),
        ("GET", "/api/runs/20261207-000000-gated-block/state"),
        ("POST", "/api/runs/20261207-000000-gated-block/approval"),
        ("POST", "/api/runs/20261207-000000-gated-block/allow"),
        ("POST", "/runs/agent"),
        ("POST", "/runs/reproduce"),
        ("POST", "/agents"),
        ("GET", "/static/run.js"),
        ("GET", "/runs/20261207-000000-gated-block/files/method.py"),
    ]
    with serve_web(settings) as url:
        for method, path in routes:
            for auth in (
                {},
                {"cookies": {"smolab_token": "wrong"}},
                {"headers": {"authorization": "Bearer wrong"}},
            ):
                r = httpx.request(method, url + path, **auth)
                assert r.status_code == 401, (method, path, auth)
        # The token once in the address: a cookie, and the address without it.
        r = httpx.get(url + "/runs/20261207-000000-gated-block?token=" + TOKEN)
        assert r.status_code == 303 and r.headers["location"] == "/runs/20261207-000000-gated-block"
        assert "smolab_token" in r.cookies and "httponly" in r.headers["set-cookie"].lower()
        assert httpx.get(url + "/api/runs", headers={"authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_artifacts_are_served_from_inside_the_run_only(settings):
    repo = finished_reproduce_run(settings)
    (settings.home / "secret.txt").write_text("not yours")
    with serve_web(settings) as url, client(url) as c:
        run = "/runs/20261207-000000-gated-block"
        assert "class GatedBlock" in c.get(f"{run}/files/method.py").text
        for bad in [
            "../../secret.txt",
            "..%2F..%2Fsecret.txt",
            "%2e%2e/%2e%2e/secret.txt",
            "/etc/passwd",
            ".smolab/run.json/../../../secret.txt",
        ]:
            r = c.get(f"{run}/files/{bad}")
            assert r.status_code == 404 and "not yours" not in r.text, bad
        z = zipfile.ZipFile(io.BytesIO(c.get(f"{run}/zip").content))
        assert sorted(z.namelist()) == ["REPORT.md", "method.py", "tests/test_contract.py"]
        assert (
            c.get(f"{run}/doc/architecture").status_code == 200
            and c.get(f"{run}/doc/nope").status_code == 404
        )
        assert c.get("/runs/no-such-run").status_code == 404
    assert (repo / "method.py").is_file()


def test_a_bad_upload_gets_one_clear_line_and_keeps_the_form(settings, monkeypatch):
    with serve_web(settings) as url, client(url) as c:
        r = c.post(
            "/runs/reproduce",
            files={"paper": ("paper.pdf", b"%PDF-1.4 this is not really a pdf")},
            data={"model": "qwen2.5-coder-0.5b"},
        )
        assert r.status_code == 422 and "paper.pdf is not a readable PDF" in r.text
        assert "<option selected>qwen2.5-coder-0.5b</option>" in r.text  # what was chosen stays
        r = c.post("/runs/reproduce", files={"paper": ("notes.docx", b"x")})
        assert r.status_code == 422 and "give a .pdf, a .tex" in r.text
        monkeypatch.setattr("smolab.web.actions.MOST_UPLOAD", 1000)
        r = c.post("/runs/reproduce", files={"paper": ("big.pdf", b"%PDF" + b"\0" * 5000)})
        assert r.status_code == 413 and "over" in r.text
        r = c.post("/runs/reproduce", data={"arxiv": ""})
        assert r.status_code == 422 and "give a paper" in r.text
        r = c.post("/runs/agent", data={"task": "  "})
        assert r.status_code == 422 and "give the agent a task" in r.text
        r = c.post("/runs/agent", data={"task": "x", "max_steps": "lots"})
        assert r.status_code == 422 and "max steps: give a whole number" in r.text
        r = c.post("/runs/agent", data={"task": "x", "allow": "everything"})
        assert r.status_code == 422 and "unknown approval kind" in r.text
        assert c.get("/api/runs").json() == []  # nothing started, nothing half-made
        assert (
            not list((settings.home / "uploads").glob("*/*"))
            if (settings.home / "uploads").exists()
            else True
        )


def test_an_approval_survives_and_is_answered_once(settings):
    with serve_web(settings) as url, client(url) as c:
        r = c.post("/runs/agent", data={"task": "fetch the notes, then give 41 + 1", "max_steps": "6"})
        run_id = r.headers["location"].split("/")[-1]
        deadline = time.monotonic() + 30
        while not (state := c.get(f"/api/runs/{run_id}/state").json())["approval"]:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        asked = state["approval"]
        assert asked["kind"] == "network" and "127.0.0.1:9" in asked["detail"]
        # A second look (a reload, another tab) sees the same question.
        assert c.get(f"/api/runs/{run_id}/state").json()["approval"]["id"] == asked["id"]
        assert (
            c.post(f"/api/runs/{run_id}/approval", json={"id": "stale", "answer": "yes"}).status_code == 409
        )
        assert (
            c.post(f"/api/runs/{run_id}/approval", json={"id": asked["id"], "answer": "maybe"}).status_code
            == 422
        )
        assert c.post(f"/api/runs/{run_id}/approval", json={"id": asked["id"], "answer": "no"}).json() == {
            "ok": True
        }
        assert (
            c.post(f"/api/runs/{run_id}/approval", json={"id": asked["id"], "answer": "yes"}).status_code
            == 409
        )
        state = wait_status(c, run_id)
        assert state["summary"]["status"] == "done" and state["approval"] is None
        stream = c.get(f"/api/runs/{run_id}/events").text
        lines = [ln for ln in stream.splitlines() if ln.startswith("data: ") and ln != "data: {}"]
        every = [int(ln[4:]) for ln in stream.splitlines() if ln.startswith("id: ")]
        assert every == list(range(1, len(lines) + 1))
        approvals = [ln for ln in lines if '"type": "approval"' in ln or '"type":"approval"' in ln]
        assert len(approvals) == 1 and '"by": "person"' in approvals[0].replace('":"', '": "')
        # The stream resumes after the last line seen: nothing twice.
        after = c.get(f"/api/runs/{run_id}/events", headers={"last-event-id": "3"}).text
        ids = [int(ln[4:]) for ln in after.splitlines() if ln.startswith("id: ")]
        assert ids == list(range(4, len(lines) + 1))


def test_rules_change_while_a_run_goes_on(settings):
    with serve_web(settings, scripted_model(delay=0.5)) as url, client(url) as c:
        r = c.post("/runs/agent", data={"task": "fetch the notes, then give 41 + 1", "max_steps": "6"})
        run_id = r.headers["location"].split("/")[-1]
        assert c.post(f"/api/runs/{run_id}/allow", json={"kind": "network", "on": True}).json()["allow"] == [
            "network"
        ]
        assert c.post(f"/api/runs/{run_id}/allow", json={"kind": "rocket", "on": True}).status_code == 422
        state = wait_status(c, run_id)
        events = c.get(f"/api/runs/{run_id}/events").text
        assert state["summary"]["status"] == "done" and '"by": "allow-list"' in events.replace('":"', '": "')


def test_many_runs_at_once_do_not_block_the_server(settings):
    with serve_web(settings, scripted_model(delay=0.3)) as url, client(url) as c:
        ids = [
            c.post("/runs/agent", data={"task": f"give 41 + 1 (run {i})", "max_steps": "5"})
            .headers["location"]
            .split("/")[-1]
            for i in range(4)
        ]
        slowest = 0.0
        while any(
            c.get(f"/api/runs/{i}/state").json()["summary"]["status"] in ("running", "unfinished")
            for i in ids
        ):
            start = time.monotonic()
            assert c.get("/").status_code == 200
            slowest = max(slowest, time.monotonic() - start)
            time.sleep(0.1)
        assert slowest < 2.0  # pages answer while four runs go on
        assert all(c.get(f"/api/runs/{i}/state").json()["summary"]["status"] == "done" for i in ids)
        with ThreadPoolExecutor(4) as pool:  # four streams at once, each complete
            streams = list(
                pool.map(lambda i: c.get(f"/api/runs/{i}/events").text.count("event: trajectory"), ids)
            )
        assert all(n >= 6 for n in streams)


def test_skill_revisions_are_compared_in_the_page(settings):
    store = SkillStore(settings.skills_dir)
    folder = write_skill(
        Path(settings.home) / "mine", "plot-curves", "Plotting training curves.", "agent", "Label the axes."
    )
    store.add(folder, source="local:test")
    (folder / "SKILL.md").write_text(
        (folder / "SKILL.md").read_text().replace("Label the axes.", "Label the axes and the units.")
    )
    store.add(folder, source="local:test")
    with serve_web(settings) as url, client(url) as c:
        page = c.get("/skills").text
        assert "plot-curves" in page and "blueprint-layer" in page and "repair-shape-mismatch" in page
        diff = c.get("/skills/plot-curves?a=1&b=2").text
        assert (
            '<span class="del">-Label the axes.</span>' in diff
            and '<span class="add">+Label the axes and the units.</span>' in diff
        )
        assert c.get("/skills/nope").status_code == 404


def test_an_agent_composed_in_the_page_is_saved_for_the_command_line(settings, tmp_path):
    with serve_web(settings) as url, client(url) as c:
        r = c.post(
            "/agents",
            data={
                "name": "csv-helper",
                "model": "qwen2.5-coder-0.5b",
                "allow": ["network"],
                "skills": "on",
                "builtin": ["files"],
                "max_steps": "12",
            },
        )
        assert r.status_code == 303
        r = c.post("/agents", data={"name": "bad name!"})
        assert r.status_code == 422 and "agent name" in r.text
        r = c.post("/runs/agent", data={"task": "give 41 + 1", "profile": "csv-helper"})
        run_id = r.headers["location"].split("/")[-1]
        assert wait_status(c, run_id)["summary"]["status"] == "done"
        system = next(ln for ln in c.get(f"/api/runs/{run_id}/events").text.splitlines() if '"context"' in ln)
        assert "read_file" in system and "start_job" not in system and "fetch_page" not in system
    saved = (settings.home / "smolab.toml").read_text()
    assert (
        "[agents.csv-helper]" in saved
        and 'model = "qwen2.5-coder-0.5b"' in saved
        and "max_steps = 12" in saved
    )
    assert load_settings(home=settings.home).agents["csv-helper"].allow == ["network"]


# -- the pages, in a browser -----------------------------------------------------------------

browser_only = pytest.mark.skipif(
    chromium() is None, reason="Chromium is not installed (install.sh installs it)"
)


@pytest.fixture
def page(tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium(), args=["--no-sandbox"] if os.geteuid() == 0 else []
        )
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        yield context.new_page()
        browser.close()


def shot(page, name: str) -> None:
    folder = os.environ.get("SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


@browser_only
def test_a_run_started_in_the_page_is_watched_answered_and_survives_a_reload(settings, page):
    with serve_web(settings, scripted_model(delay=0.2)) as url:
        page.goto(f"{url}/start?token={TOKEN}")
        assert page.url == f"{url}/start"  # the token left the address
        page.fill("#agent-form textarea[name=task]", "fetch the notes, then give 41 + 1")
        page.click("#agent-form button")
        page.wait_for_url(f"{url}/runs/*")
        page.wait_for_selector("#approval:not([hidden])", timeout=30_000)
        assert "network" in page.inner_text("#approval-what")
        assert page.locator("#timeline li[data-line]").count() >= 2  # events arrive while it waits
        shot(page, "run-approval")
        page.reload()  # mid-run, a question open
        page.wait_for_selector("#approval:not([hidden])", timeout=10_000)
        page.click("#approval [data-answer=no]")
        page.wait_for_selector("#approval", state="hidden", timeout=10_000)
        page.wait_for_function("document.getElementById('status').textContent === 'done'", timeout=30_000)
        lines = page.eval_on_selector_all("#timeline li[data-line]", "els => els.map(e => e.dataset.line)")
        assert len(lines) == len(set(lines)) and lines == sorted(lines, key=int)  # none lost, none twice
        assert [int(x) for x in lines] == list(range(1, len(lines) + 1))
        assert (
            "denied" in page.inner_text("#timeline") and int(page.inner_text("#tokens").replace(",", "")) > 0
        )
        shot(page, "run-done")


@browser_only
def test_the_artifacts_and_diagrams_are_drawn(settings, page):
    repo = finished_reproduce_run(settings)
    critique = {
        "file": "method.py",
        "function": "forward",
        "severity": "medium",
        "problem": "<b>no dropout</b>",
    }
    (repo / ".smolab" / "judge.json").write_text(
        __import__("json").dumps({"score": 4, "critiques": [critique]})
    )
    with serve_web(settings) as url:
        page.goto(f"{url}/?token={TOKEN}")
        page.click("text=20261207-000000-gated-block")
        page.wait_for_selector("#timeline li.run_ended")
        assert "rewrote method.py" in page.inner_text("#timeline")
        page.click("#timeline summary:has-text('rewrote method.py')")
        assert "+        return x + self.alpha" in page.inner_text("#timeline")
        shot(page, "run-reproduce")
        page.click("a:has-text('architecture')")
        page.wait_for_selector("body[data-diagrams=drawn]", timeout=30_000)
        assert page.locator(".mermaid svg").count() == 2
        assert "GatedBlock" in page.inner_text(".mermaid")
        shot(page, "architecture")
        page.go_back()
        page.click("a:has-text('report')")
        assert (
            page.locator("#doc strong").inner_text() == "agrees" and page.locator("#doc table").count() == 1
        )
        page.go_back()
        page.click("a:has-text('judge')")
        assert "score 4 / 5" in page.inner_text("#doc") and page.locator("#doc td").count() == 4
        assert page.locator("#doc b").count() == 0  # the model's words are text, never markup
        page.go_back()
        page.click("#files a:has-text('method.py')")
        page.wait_for_selector("#code.hljs")
        assert page.locator("#code .hljs-keyword").count() > 0
        shot(page, "file")
        with page.expect_download() as download:
            page.goto(f"{url}/runs/20261207-000000-gated-block")
            page.click("text=Download as zip")
        assert download.value.suggested_filename == "20261207-000000-gated-block.zip"


@browser_only
def test_the_runs_skills_and_agents_pages(settings, page):
    finished_reproduce_run(settings)
    with serve_web(settings) as url:
        page.goto(f"{url}/?token={TOKEN}")
        assert page.locator("table.runs tbody tr").count() == 1
        page.select_option("select[name=kind]", "agent")
        page.click(".filters button")
        assert "No runs match" in page.inner_text("main")
        shot(page, "runs")
        page.goto(f"{url}/skills")
        assert page.locator("table.skills tbody tr").count() >= 20
        shot(page, "skills")
        page.goto(f"{url}/agents")
        page.fill("#builder input[name=name]", "quick")
        page.check("#builder input[value=network]")
        page.click("#builder button")
        assert "Saved agent quick" in page.inner_text("main")
        shot(page, "agents")


def test_a_named_agent_that_does_not_exist_is_one_line(tmp_path):
    from .conftest import run_cli

    home = {"SMOLAB_HOME": str(tmp_path / "home")}
    r = run_cli("run", "--agent", "nope", "give 1 + 1", "--non-interactive", env=home)
    assert r.returncode != 0 and "no agent named 'nope'" in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    (tmp_path / "home").mkdir(exist_ok=True)
    (tmp_path / "home" / "smolab.toml").write_text('[agents.broken]\nmcp = ["absent"]\n')
    r = run_cli("run", "--agent", "broken", "give 1 + 1", "--non-interactive", env=home)
    assert r.returncode != 0 and "not configured: absent" in r.stderr
    r = run_cli("serve", "--host", "0.0.0.0", env=home)
    assert r.returncode != 0 and "--public" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_a_paper_uploaded_in_the_page_is_reproduced_and_its_artifacts_are_served(settings):
    """The reproduce path from the page, with the scripted author: upload, run, report, diagrams."""
    from .scripted_author import PAPER_TEX, Author, author_model
    from .test_skills import METHODS

    swish = (METHODS / "activation.py").read_text()
    reference = "import torch\n\n\ndef reference(x):\n    return x * torch.sigmoid(x)\n"
    model = author_model(Author(contribution="activation", method=swish, reference=reference))
    with serve_web(settings, model) as url, client(url) as c:
        upload = {"paper": ("swish.tex", PAPER_TEX.encode())}
        r = c.post("/runs/reproduce", files=upload, data={"repair_rounds": "0"})
        assert r.status_code == 303, r.text
        run_id = r.headers["location"].split("/")[-1]
        state = wait_status(c, run_id, timeout=300)
        assert state["summary"]["status"] == "done", state
        page = c.get(f"/runs/{run_id}").text
        for name in ("report", "digest", "architecture", "method.py", "tests/test_fidelity.py"):
            assert name in page, name
        assert "```mermaid" in c.get(f"/runs/{run_id}/doc/architecture").text.replace("&#96;", "`")
        stream = c.get(f"/api/runs/{run_id}/events").text
        assert '"type": "skill_used"' in stream.replace('":"', '": "') and "event: end" in stream
        assert [r["id"] for r in c.get("/api/runs").json()] == [run_id]


def test_a_finished_reproduce_run_is_judged_from_the_page(settings):
    import json

    from smolab.models import ChatDefaults, ChatModel, ScriptedBackend
    from smolab.paper import Paper

    repo = finished_reproduce_run(settings)
    paper = Paper(title="Gated blocks", abstract="A gated residual block: y = x + alpha W x.")
    (repo / ".smolab" / "paper.json").write_text(paper.model_dump_json())
    critique = {
        "file": "method.py",
        "function": "forward",
        "severity": "medium",
        "problem": "no dropout on h",
    }
    judge = ChatModel(
        ScriptedBackend(fallback=json.dumps({"critiques": [critique], "score": 4})), ChatDefaults()
    )
    with serve_web(settings, judge) as url, client(url) as c:
        run = "/runs/20261207-000000-gated-block"
        assert "Judge against the paper" in c.get(run).text
        r = c.post(f"{run}/judge", data={"model": "x"})
        assert r.status_code == 303 and "judging=1" in r.headers["location"]
        deadline = time.monotonic() + 30
        while not (repo / ".smolab" / "judge.json").exists():
            assert time.monotonic() < deadline
            time.sleep(0.1)
        verdict = json.loads((repo / ".smolab" / "judge.json").read_text())
        assert verdict["score"] == 4 and verdict["critiques"][0]["problem"] == "no dropout on h"
        assert "/doc/judge" in c.get(run).text and "Judge again" in c.get(run).text
        assert c.post("/runs/no-such-run/judge").status_code == 404
