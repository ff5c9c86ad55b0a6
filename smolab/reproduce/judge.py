"""``smolab judge``: a Paper2Code-style evaluation of a repository against its paper.

The judge sees a brief of the paper (the run's digest when the repository was written
by smolab from the same paper, else the title, abstract, outline, equations and method
text), then the repository's code, and a reference repository's when given, all cut
to fit the judging model's window. It writes critiques (file, function, severity)
and a 1 to 5 correctness score; N samples are averaged.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path

from ..models import ChatModel, Message
from ..paper import Paper
from ..paper.digest import Digest, key_equations, outline
from .code import interface
from .rundir import META, RunDir, fingerprint
from .schemas import Critique, Judgement

ROLE = (
    "You are an expert reviewer of machine-learning code. You judge whether a repository "
    "implements the method of a research paper correctly and completely."
)
RUBRIC = (
    " Scores: 5 = every part of the method is present and correct; 4 = minor problems only; "
    "3 = one high-severity problem or several medium ones; 2 = the core method is missing or wrong; "
    "1 = unrelated to the paper. A high-severity problem means at most 3."
)
ASK_FREE = (
    "Judge the repository against the paper. List its most important problems (missing or wrong "
    "parts of the method, wrong equations, wrong hyper-parameters, code that cannot run), each "
    "with its file, function and severity. Then score its correctness from 1 (unrelated) to 5 "
    "(implements the paper fully and correctly)." + RUBRIC
)
ASK_REFERENCE = (
    "A reference implementation follows the repository. Judge the repository against the paper "
    "and the reference: list where it differs from the reference in ways that matter, each with "
    "its file, function and severity. Then score its correctness from 1 to 5." + RUBRIC
)
REPLY_TOKENS = 900


@dataclass
class Verdict:
    scores: list[int] = field(default_factory=list)
    critiques: list[Critique] = field(default_factory=list)
    prompt_tokens: int = 0
    cut: list[str] = field(default_factory=list)
    """Files shown as interfaces only (or left out) to fit the window."""

    @property
    def score(self) -> float:
        return statistics.fmean(self.scores) if self.scores else 0.0

    @property
    def consistent(self) -> bool:
        """False when the judge scored above 3 while naming a high-severity problem, against its
        own rubric: a sign the judging model is too small to trust."""
        return not (self.score > 3 and any(c.severity == "high" for c in self.critiques))


def paper_brief(paper: Paper, paper_source: str, repo: Path) -> str:
    """The run's digest when ``repo`` was written by smolab from this paper; else a brief drawn
    from the paper without a model."""
    run = RunDir(repo)
    info = run.info() if (repo / META).is_dir() else None
    digest_json = run.load_text("digest.json") if info else None
    if info and digest_json and info.get("paper_id") == fingerprint(paper_source):
        return Digest.model_validate_json(digest_json).render()
    method = " ".join(
        f"{s.title}: {s.text}"
        for s in paper.all_sections()
        if s.title in {o.split(" ", 1)[-1] for o in outline(paper)}
    )
    parts = [
        f"# {paper.title}",
        f"Abstract: {paper.abstract}",
        "Sections: " + "; ".join(outline(paper)),
        "Equations:\n" + "\n".join(f"- {e}" for e in key_equations(paper, 10)),
        f"Method: {' '.join(method.split()[:1500])}",
    ]
    return "\n".join(parts)


def code_files(repo: Path) -> list[str]:
    """Python files, the method's before the tests."""
    files = [
        str(p.relative_to(repo))
        for p in sorted(repo.rglob("*.py"))
        if not any(
            part.startswith(".") or part in ("__pycache__", "venv") for part in p.relative_to(repo).parts
        )
    ]
    return sorted(files, key=lambda f: (f.startswith("tests/") or "/test" in f, f))


class Judge:
    def __init__(self, model: ChatModel):
        self.model = model

    def _count(self, text: str) -> int:
        return self.model.count_tokens([Message("user", text)])

    def _code(self, repo: Path, room: int, label: str, cut: list[str]) -> str:
        """The repository's files in full while they fit ``room`` tokens, then as interfaces."""
        out: list[str] = []
        used = 0
        for name in code_files(repo):
            text = (repo / name).read_text(errors="replace")
            full = f"### {label}{name}\n```python\n{text}```"
            n = self._count(full)
            if used + n <= room:
                out.append(full)
                used += n
                continue
            short = f"### {label}{name} (interface only)\n{interface(name, text)}"
            n = self._count(short)
            if used + n <= room:
                out.append(short)
                used += n
            cut.append(label + name)
        return "\n\n".join(out)

    def judge(
        self,
        repo: Path,
        paper: Paper,
        paper_source: str,
        reference: Path | None = None,
        samples: int = 1,
    ) -> Verdict:
        verdict = Verdict()
        brief = paper_brief(paper, paper_source, repo)
        system = f"{ROLE}\n\nThe paper:\n{brief}"
        ask = ASK_REFERENCE if reference else ASK_FREE
        fixed = (
            self.model.count_tokens([Message("system", system), Message("user", ask)]) + 600
        )  # schema hint
        room = self.model.context_window - REPLY_TOKENS - fixed
        if room < 500:
            system = f"{ROLE}\n\nThe paper:\n{brief[: max(400, len(brief) // 2)]}"
            room = self.model.context_window - REPLY_TOKENS - 1200
        shares = (room // 2, room // 2) if reference else (room, 0)
        code = self._code(repo, shares[0], "", verdict.cut)
        if reference:
            code += "\n\n# Reference implementation\n\n" + self._code(
                reference, shares[1], "reference/", verdict.cut
            )
        messages = [Message("system", system), Message("user", f"# The repository\n\n{code}\n\n{ask}")]
        verdict.prompt_tokens = self.model.count_tokens(messages)
        seen: set[tuple[str, str]] = set()
        for i in range(samples):
            j = self.model.chat(
                messages,
                schema=Judgement,
                max_tokens=REPLY_TOKENS,
                temperature=0.0 if samples == 1 else 0.7,
                seed=i,
            )
            verdict.scores.append(j.score)
            for c in j.critiques:
                key = (c.file, c.problem.lower())
                if key not in seen:
                    seen.add(key)
                    verdict.critiques.append(c)
        order = {"high": 0, "medium": 1, "low": 2}
        verdict.critiques.sort(key=lambda c: order[c.severity])
        return verdict
