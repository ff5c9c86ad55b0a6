"""smolab as an MCP server (``smolab mcp serve``): its abilities as tools for other agents,
over stdio or streamable HTTP, through the ``mcp`` SDK.

The same rules hold as on the command line: code runs only in the sandbox, with the network off
unless the server was started allowing it; a reproduce run writes only inside the server's root
folder unless writing outside it is allowed. A refused call says what to allow, in one line.
Long work (reproduce, a digest) runs in a worker thread and reports its progress to the client.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

import anyio
import anyio.to_thread
from anyio.from_thread import run as from_thread
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations

from ..config import Settings
from ..errors import SmolabError
from ..models import ChatModel

Models = Callable[[], ChatModel]


class Refused(SmolabError):
    """A call the server's rules do not allow; the message says which flag would."""


F = TypeVar("F", bound=Callable[..., Any])


def one_line(fn: F) -> F:
    """smolab's own errors reach the client as the tool's error text (the SDK hides any other
    exception's message behind "Error executing tool")."""
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def run_async(*args: Any, **kwargs: Any) -> Any:
            try:
                return await fn(*args, **kwargs)
            except SmolabError as err:
                raise ToolError(str(err)) from None

        return cast(F, run_async)

    @functools.wraps(fn)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except SmolabError as err:
            raise ToolError(str(err)) from None

    return cast(F, run)


@dataclass
class Rules:
    root: Path
    """Where reproduce runs may write (the folder the server was started in, by default)."""
    allow: set[str] = field(default_factory=set)
    """network, write_outside: what the client may do beyond the defaults."""

    def writable(self, out: Path) -> Path:
        target = (self.root / out).resolve() if not out.is_absolute() else out.resolve()
        if not target.is_relative_to(self.root.resolve()) and "write_outside" not in self.allow:
            raise Refused(
                f"{out} is outside {self.root}; start the server with --allow write_outside to write there"
            )
        return target


def create_server(settings: Settings, model: Models, rules: Rules) -> MCPServer:
    server = MCPServer("smolab")

    @server.tool(annotations=ToolAnnotations(read_only_hint=True))
    @one_line
    def paper_show(paper: str) -> dict[str, Any]:
        """Read a paper (a PDF or .tex path, or an arXiv id): title, abstract, sections, and its
        equations and algorithm boxes."""
        from ..paper import read_paper
        from ..paper.arxiv import ArxivClient

        p = read_paper(paper, arxiv=ArxivClient.from_settings(settings))
        return {
            "title": p.title,
            "abstract": p.abstract,
            "sections": [s.title for s in p.all_sections()][:60],
            "equations": [e.text for e in p.equations][:60],
            "algorithms": [{"caption": a.caption, "text": a.text[:4000]} for a in p.algorithms][:10],
            "notices": p.notices,
        }

    @server.tool(annotations=ToolAnnotations(read_only_hint=True))
    @one_line
    async def paper_digest(paper: str, ctx: Context) -> str:
        """The paper's digest, written by smolab's model: its method steps, equations and the
        values it states (minutes on a CPU; progress is reported)."""
        from ..paper import read_paper
        from ..paper.arxiv import ArxivClient
        from ..paper.digest import digest_paper

        def work() -> str:
            p = read_paper(paper, arxiv=ArxivClient.from_settings(settings))
            m = model()
            budget = max(300, min(2000, m.context_window // 6))

            def progress(i: int, n: int) -> None:
                from_thread(ctx.report_progress, i, n, "digest")

            return digest_paper(p, m, budget=budget, progress=progress).render()

        return await anyio.to_thread.run_sync(work)

    @server.tool()
    @one_line
    async def reproduce(paper: str, out: str, ctx: Context, repair_rounds: int = 2) -> dict[str, Any]:
        """Turn a paper into a runnable, tested repository in ``out`` (a folder under the
        server's root) and check it in the sandbox. Long: progress is reported per stage.
        Returns the verdict, the checks and where the repository is."""
        from ..paper.arxiv import ArxivClient
        from ..reproduce import Options
        from ..reproduce import reproduce as run

        target = rules.writable(Path(out))

        def work() -> dict[str, Any]:
            def progress(stage: str, done: int, total: int) -> None:
                from_thread(ctx.report_progress, done, total, stage)

            options = Options(
                repair_rounds=repair_rounds, progress=progress, arxiv=ArxivClient.from_settings(settings)
            )
            summary = run(paper, target, model(), options=options)
            return {
                "repository": str(target),
                "ok": summary.get("ok"),
                "verdict": (summary.get("verdict") or {}).get("headline", ""),
                "checks": {k: v["detail"] for k, v in summary.get("checks", {}).items()},
                "tests_after_repair": summary.get("tests_after_repair"),
            }

        return await anyio.to_thread.run_sync(work)

    @server.tool(annotations=ToolAnnotations(open_world_hint=False))
    @one_line
    def sandbox_run(code: str, network: bool = False, timeout: float = 60.0) -> dict[str, Any]:
        """Run Python in smolab's sandbox (its own namespaces, a scratch folder, no network
        unless the server allows it). Returns the status, stdout, stderr and seconds."""
        import tempfile

        from ..sandbox import Limits, ProcessSandbox

        if network and "network" not in rules.allow:
            raise Refused("network access is off; start the server with --allow network to permit it")
        with tempfile.TemporaryDirectory(prefix="smolab-mcp-") as tmp:
            limits = Limits(timeout=min(timeout, 600.0), network=network)
            with ProcessSandbox(Path(tmp), limits) as box:
                r = box.run_python(code, timeout=min(timeout, 600.0))
        return {
            "status": r.status,
            "stdout": r.stdout[-20000:],
            "stderr": r.stderr[-20000:],
            "seconds": r.seconds,
        }

    @server.tool(annotations=ToolAnnotations(read_only_hint=True))
    @one_line
    def runs_list(limit: int = 20) -> list[dict[str, Any]]:
        """smolab's runs, newest first: id, kind, status, model, task, tokens, seconds."""
        from ..runs import RunIndex

        index = RunIndex(settings.home / "runs.db", settings.runs_dir)
        try:
            return [r.model_dump() for r in index.list()[: max(1, min(limit, 200))]]
        finally:
            index.close()

    @server.tool(annotations=ToolAnnotations(read_only_hint=True))
    @one_line
    def runs_show(run: str) -> dict[str, Any]:
        """One run: its summary and its last events."""
        from ..runs import RunIndex, UnknownRun, locate

        try:
            ref = locate(settings.runs_dir, run)
        except UnknownRun:
            raise SmolabError(f"no run {run!r}; runs_list shows them") from None
        index = RunIndex(settings.home / "runs.db", settings.runs_dir)
        try:
            summary = index.update(ref).model_dump()
        finally:
            index.close()
        events = [e.line() for e in ref.trajectory.read()][-30:]
        for e in events:
            e.pop("messages", None)
        return {"summary": summary, "last_events": events}

    @server.tool(annotations=ToolAnnotations(read_only_hint=True))
    @one_line
    def skills_search(query: str, limit: int = 5) -> list[dict[str, Any]]:
        """smolab's skills best fitting a task or an error: name, description, role, version and
        score (relevance times measured effectiveness)."""
        from ..skills import SkillLibrary, SkillStore
        from ..skills.select import BM25Ranker, rank

        skills = list(SkillLibrary(store=SkillStore(settings.skills_dir)))
        ranked = rank(query, skills, BM25Ranker())[: max(1, min(limit, 50))]
        return [
            {
                "name": c.skill.name,
                "description": c.skill.description,
                "role": c.skill.role,
                "version": c.skill.version,
                "score": round(c.score, 3),
            }
            for c in ranked
        ]

    return server
