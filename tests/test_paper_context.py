"""The sentences kept around a display: its lead-in and the clause that defines its symbols."""

from pathlib import Path

from smolab.paper.context import around, follow_up, lead_in, sentences
from smolab.paper.digest import Digest
from smolab.paper.latex import read_latex
from smolab.paper.notation import readable

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "gated-residual-mlp.tex"


def test_sentences_split_at_full_stops_but_not_abbreviations():
    text = "We use e.g. Adam as in Fig. 2 of the paper. Then it trains. $x$ is small."
    assert sentences(text) == [
        "We use e.g. Adam as in Fig. 2 of the paper.",
        "Then it trains.",
        "$x$ is small.",
    ]


def test_lead_in_is_kept_only_when_it_introduces_the_display():
    assert lead_in("Some background. The block computes") == "The block computes"
    assert lead_in("Some background. The set is defined as:") == "The set is defined as:"
    assert lead_in("Some background. Results are in Table 2.") == ""


def test_follow_up_keeps_definitions_and_stops_at_other_talk():
    after = (
        "where T_cur counts the epochs since the last restart. T_i is the length of the run. "
        "We report results on CIFAR-10. It trains fast."
    )
    assert follow_up(after) == (
        "where T_cur counts the epochs since the last restart. T_i is the length of the run."
    )
    assert follow_up("We report results on CIFAR-10. where x is.") == ""
    assert follow_up("It is followed by four blocks. x is y.") == ""
    # A definition that runs on is cut, so one sentence cannot fill a prompt.
    assert len(follow_up("where " + "x " * 400)) <= 240


def test_latex_displays_carry_their_lead_in_and_where_clause():
    paper = read_latex(EXAMPLE)
    branch, gate, loss = paper.equations
    # Inline math reads in the same notation as the displays.
    assert branch.context.startswith("The block computes … with W_1 ∈ R^{d_h × d} and W_2 ∈ R^{d × d_h}")
    assert gate.context == "where α is a learned scalar initialised to 0."
    assert "label smoothing" in loss.context
    assert around("", "") == ""


def test_prompts_list_each_equation_with_the_papers_words_within_a_budget():
    where = {"y = x + a h": "where a starts at 0.", "z = 2y": "x" * 50}
    d = Digest(equations=["y = x + a h", "z = 2y"], where=where)
    listed = d.equation_list()
    assert listed.splitlines() == [
        "- y = x + a h",
        "  (the paper around it: where a starts at 0.)",
        "- z = 2y",
        "  (the paper around it: " + "x" * 50 + ")",
    ]
    assert "xxxx" not in d.equation_list(budget=30)


def test_latex_math_reads_in_the_readers_common_notation():
    assert readable(r"h = W_2\, \mathrm{GELU}(W_1\, \mathrm{LayerNorm}(x) + b_1) + b_2") == (
        "h = W_2 GELU(W_1 LayerNorm(x) + b_1) + b_2"
    )
    eta = (
        r"\eta_t = \eta_{min}^i + \frac{1}{2}(\eta_{max}^i - \eta_{min}^i)"
        r"\left(1 + \cos\left(\frac{T_{cur}}{T_i}\pi\right)\right)"
    )
    assert readable(eta) == "η_t = η_{min}^i + 1/2(η_{max}^i - η_{min}^i)(1 + cos((T_{cur})/T_i π))"
    attention = r"\mathrm{softmax}\left(\frac{QK^\top}{\sqrt{d_k}}\right)V"
    assert readable(attention) == "softmax((QK^⊤)/(√d_k))V"
    norm = r"\sigma_i = \sqrt{\frac{1}{m}\sum_{k \in S_i}(x_k-\mu_i)^2 + \epsilon} \label{eq:std}"
    assert readable(norm) == "σ_i = √(1/m∑_{k ∈ S_i}(x_k-μ_i)^2 + ϵ)"
    assert readable(r"\hat{x} = \mathbf{W}\tilde{h}") == "x̂ = Wh̃"  # as TeX sets it
