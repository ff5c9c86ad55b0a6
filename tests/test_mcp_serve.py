"""smolab as an MCP server, through the SDK's own client: over stdio and over streamable HTTP
(`smolab mcp serve` as a client starts it), and in-process for the long reproduce tool with its
progress (scripted author). The sandbox's network and writing outside the root are refused
unless the server was started allowing them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import anyio
import httpx
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from smolab.config import load_settings
from smolab.mcp_server.server import Rules, create_server

from .hubserver import free_port
from .scripted_author import PAPER_TEX, Author, author_model
from .test_skills import METHODS

TOOLS = {"paper_show", "paper_digest", "reproduce", "sandbox_run", "runs_list", "runs_show", "skills_search"}


def env(home: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SMOLAB_")}
    return {**clean, "SMOLAB_HOME": str(home)}


def payload(result: Any) -> Any:
    """A tool result's value: its structured content, else its text parsed as JSON."""
    if getattr(result, "structured_content", None) is not None:
        data = result.structured_content
        return data.get("result", data) if isinstance(data, dict) and set(data) == {"result"} else data
    text = "".join(getattr(c, "text", "") for c in result.content)
    try:
        return json.loads(text)
    except ValueError:
        return text


async def exercise(target: Any, tmp_path: Path) -> None:
    async with Client(target, read_timeout_seconds=120) as client:
        tools = await client.list_tools()
        assert {t.name for t in tools.tools} == TOOLS
        found = payload(
            await client.call_tool("skills_search", {"query": "mat1 and mat2 shapes cannot be multiplied"})
        )
        assert found[0]["name"] == "repair-shape-mismatch"
        ran = payload(await client.call_tool("sandbox_run", {"code": "print(6 * 7)"}))
        assert ran["status"] == "ok" and ran["stdout"].strip() == "42"
        refused = await client.call_tool("sandbox_run", {"code": "print(1)", "network": True})
        assert refused.is_error and "--allow network" in refused.content[0].text
        outside = await client.call_tool("reproduce", {"paper": "x.pdf", "out": "/tmp/elsewhere"})
        assert outside.is_error and "--allow write_outside" in outside.content[0].text
        tex = tmp_path / "paper.tex"
        tex.write_text(PAPER_TEX)
        shown = payload(await client.call_tool("paper_show", {"paper": str(tex)}))
        assert shown["title"] and shown["equations"]
        assert payload(await client.call_tool("runs_list", {})) == []
        missing = await client.call_tool("runs_show", {"run": "nope"})
        assert missing.is_error and "no run 'nope'" in missing.content[0].text


def test_over_stdio(tmp_path):
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "smolab.cli", "mcp", "serve", "--root", str(tmp_path)],
        env=env(tmp_path / "home"),
    )
    anyio.run(exercise, params, tmp_path)


def test_over_streamable_http(tmp_path):
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "smolab.cli", "mcp", "serve", "--http", str(port), "--root", str(tmp_path)],
        env=env(tmp_path / "home"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}/mcp"
        for _ in range(200):
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        anyio.run(exercise, url, tmp_path)
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_reproduce_as_a_long_task_reports_progress(tmp_path):
    swish = (METHODS / "activation.py").read_text()
    reference = "import torch\n\n\ndef reference(x):\n    return x * torch.sigmoid(x)\n"
    model = author_model(Author(contribution="activation", method=swish, reference=reference))
    settings = load_settings(home=tmp_path / "home")
    server = create_server(settings, lambda: model, Rules(tmp_path))
    tex = tmp_path / "paper.tex"
    tex.write_text(PAPER_TEX)
    seen: list[tuple[float, float | None, str | None]] = []

    async def progress(done: float, total: float | None, message: str | None) -> None:
        seen.append((done, total, message))

    async def go() -> Any:
        async with Client(server, read_timeout_seconds=300) as client:
            args = {"paper": str(tex), "out": "repo", "repair_rounds": 0}
            return payload(await client.call_tool("reproduce", args, progress_callback=progress))

    result = anyio.run(go)
    assert result["ok"] and result["repository"] == str((tmp_path / "repo").resolve())
    assert "agrees" in result["verdict"] and (tmp_path / "repo" / "method.py").is_file()
    stages = {m for _, _, m in seen}
    assert {"read", "digest", "verify"} <= stages, stages


def test_an_unknown_allowance_is_one_line(tmp_path):
    from .conftest import run_cli

    r = run_cli("mcp", "serve", "--allow", "everything", env={"SMOLAB_HOME": str(tmp_path)})
    assert r.returncode != 0 and "--allow everything" in r.stderr and len(r.stderr.strip().splitlines()) == 1
