"""Algorithm boxes read from PDFs as ordered lines, and their update rules leading the key
equations. The papers are invented, compiled with pdfLaTeX in the two usual styles: the
``algorithm`` float with ``algpseudocode``, and ``algorithm2e`` (ruled); one puts two boxes side
by side, as papers that set a baseline beside their proposal do."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from smolab.paper import read_paper
from smolab.paper.digest import algorithm_steps, key_equations

pytestmark = pytest.mark.skipif(
    shutil.which("pdflatex") is None, reason="pdflatex is not installed (install.sh installs it)"
)

PROSE = (
    "We study optimizers for small networks. Plain gradient descent with momentum is the baseline. "
    "Our method, which we call Tempo, rescales each step by a running estimate of the gradient's "
    "magnitude, and keeps a second estimate to damp oscillations."
)
ABSTRACT = "We propose a new optimizer called Tempo that rescales each update by a running magnitude."

# Every paper opens alike; only its packages and its box differ.
FRONT = r"""\title{Tempo: Rescaled Updates for Small Networks}
\begin{document}
\maketitle
\begin{abstract}ABSTRACT\end{abstract}
\section{Method}"""

ALGPSEUDOCODE = r"""
\documentclass{article}
\usepackage{amsmath,algorithm,algpseudocode}
FRONT
PROSE PROSE
\begin{algorithm}
\caption{Tempo}
\begin{algorithmic}[1]
\Require step size $\eta$, decay $\rho$, damping $\kappa$
\State $a_0 \gets 0$, $b_0 \gets 0$
\For{$t = 1$ to $T$}
  \State $g_t \gets \nabla f(w_{t-1})$
  \State $a_t \gets \rho a_{t-1} + (1 - \rho) |g_t|$
  \State $b_t \gets \kappa b_{t-1} + g_t$
  \State $w_t \gets w_{t-1} - \eta b_t / a_t$
\EndFor
\State \Return $w_T$
\end{algorithmic}
\end{algorithm}
PROSE
\section{Experiments}
PROSE
\end{document}
"""

ALGORITHM2E = r"""
\documentclass{article}
\usepackage{amsmath}
\usepackage[ruled,linesnumbered]{algorithm2e}
FRONT
PROSE PROSE
\begin{algorithm}
\caption{Tempo}
\KwIn{step size $\eta$, decay $\rho$}
$a_0 \leftarrow 0$\;
\For{$t = 1$ \KwTo $T$}{
  $a_t \leftarrow \rho a_{t-1} + (1 - \rho) |g_t|$\;
  $w_t \leftarrow w_{t-1} - \eta g_t / a_t$\;
}
\end{algorithm}
PROSE PROSE PROSE
\section{Experiments}
PROSE PROSE
\end{document}
"""

TWO_BOXES = r"""
\documentclass{article}
\usepackage{amsmath,algorithm,algorithmic}
FRONT
PROSE PROSE
\begin{figure}[t]
\begin{minipage}[t]{0.47\textwidth}
\begin{algorithm}[H]
\caption{Momentum}
\begin{algorithmic}[1]
\STATE $m_0 \gets 0$
\FOR{$t = 1$ to $T$}
  \STATE $m_t \gets \mu m_{t-1} + g_t$
  \STATE $w_t \gets w_{t-1} - \eta m_t$
\ENDFOR
\end{algorithmic}
\end{algorithm}
\end{minipage}\hfill
\begin{minipage}[t]{0.47\textwidth}
\begin{algorithm}[H]
\caption{Tempo}
\begin{algorithmic}[1]
\STATE $a_0 \gets 0$
\FOR{$t = 1$ to $T$}
  \STATE $a_t \gets \rho a_{t-1} + (1 - \rho) |g_t|$
  \STATE $w_t \gets w_{t-1} - \eta g_t / a_t$
\ENDFOR
\end{algorithmic}
\end{algorithm}
\end{minipage}
\end{figure}
PROSE PROSE PROSE
\section{Experiments}
PROSE PROSE
\end{document}
"""


def compile_pdf(folder: Path, source: str) -> Path:
    tex = folder / "paper.tex"
    tex.write_text(source.replace("FRONT", FRONT).replace("ABSTRACT", ABSTRACT).replace("PROSE", PROSE))
    run = subprocess.run(
        ["pdflatex", "-interaction=nonstopmode", "-halt-on-error", tex.name],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout[-2000:]
    return folder / "paper.pdf"


def test_an_algorithmic_box_is_read_line_by_line_in_order(tmp_path: Path):
    paper = read_paper(str(compile_pdf(tmp_path, ALGPSEUDOCODE)))
    assert len(paper.algorithms) == 1
    box = paper.algorithms[0]
    assert box.caption.startswith("Algorithm 1") and "Tempo" in box.caption
    lines = box.text.splitlines()
    order = ["Require", "a_0", "for t = 1 to T do", "g_t", "a_t", "b_t", "w_t", "end for", "return"]
    at = [next(i for i, ln in enumerate(lines) if key in ln) for key in order]
    assert at == sorted(at), lines
    assert not any(ln.lstrip()[:2].rstrip(":").isdigit() for ln in lines), "line numbers are dropped"
    # The body of the loop is indented under it.
    depth = [len(ln) - len(ln.lstrip()) for ln in lines]
    assert depth[at[3]] > depth[at[2]] and depth[at[7]] == depth[at[2]], lines
    # The box's lines are no displays of the paper, and its updates lead the key equations.
    steps = algorithm_steps(paper)
    assert steps[:2] == ["a_0 = 0, b_0 = 0", "g_t = ∇f(w_{t−1})"] or "a_t = ρa_{t−1} + (1 − ρ)|g_t|" in steps
    assert any(s.startswith("w_t = w_{t−1} − η") for s in steps), steps
    assert key_equations(paper)[: len(steps)] == steps


def test_two_boxes_side_by_side_are_two_and_the_proposals_leads(tmp_path: Path):
    paper = read_paper(str(compile_pdf(tmp_path, TWO_BOXES)))
    captions = [a.caption for a in paper.algorithms]
    assert (
        len(captions) == 2 and any("Momentum" in c for c in captions) and any("Tempo" in c for c in captions)
    )
    tempo = next(a for a in paper.algorithms if "Tempo" in a.caption)
    assert "m_t" not in tempo.text and "a_t" in tempo.text  # each box keeps to its own column
    steps = algorithm_steps(paper)
    assert steps and all("m_" not in s for s in steps), steps  # the baseline's box is not the method
    assert any(s.startswith("a_t = ρ") for s in steps), steps


def test_an_algorithm2e_box_is_read_too(tmp_path: Path):
    paper = read_paper(str(compile_pdf(tmp_path, ALGORITHM2E)))
    assert [a.caption.split()[:2] for a in paper.algorithms] == [["Algorithm", "1:"]] or [
        a.caption.split()[:2] for a in paper.algorithms
    ] == [["Algorithm", "1"]]
    lines = paper.algorithms[0].text.splitlines()
    assert any(ln.strip().startswith("for t = 1 to T do") for ln in lines), lines
    steps = algorithm_steps(paper)
    assert any(s.startswith("a_t = ρ") for s in steps) and any(
        s.startswith("w_t = w_{t−1}") for s in steps
    ), steps


def test_an_em_wide_space_of_the_symbol_font_is_its_arrow():
    """Producers that give the symbol font's code 32 no Unicode hand ← on as a space; MuPDF's own
    spaces between glyphs are a fraction of an em."""
    from smolab.paper.pdf.glyphs import symbol_space

    assert symbol_space(" ", "ABCDEF+CMSY10", 9.96, 10.0) == "←"
    assert symbol_space(" ", "CMSY7", 6.9, 7.0) == "←"
    assert symbol_space(" ", "ABCDEF+CMSY10", 2.8, 10.0) == " "  # a gap between glyphs
    assert symbol_space(" ", "ABCDEF+CMR10", 9.96, 10.0) == " "  # other fonts' spaces are spaces
    assert symbol_space("  ", "CMSY10", 19.9, 10.0) == "  "
