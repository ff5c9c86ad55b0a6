"""Every real paper PDF beside the project reads: right title, the abstract's first sentence,
the top-level sections in order, the numbered equations; and its digest fits the budget.

The expected values were written by hand from the PDFs (JMLR, ECCV/LNCS, ICLR, NeurIPS, ICML,
CVPR, IEEE TPAMI and arXiv preprints; annotated and re-saved copies among them)."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import pytest

from smolab.models import ChatDefaults, ChatModel, ScriptedBackend
from smolab.paper import read_pdf
from smolab.paper.digest import digest_paper, key_equations
from smolab.paper.pdf.glyphs import KEYBOARD_CODE

PAPERS = Path(__file__).resolve().parents[1].parent / "shared" / "papers"

pytestmark = pytest.mark.skipif(not PAPERS.is_dir(), reason="the shared papers are not beside the project")

ACK = "Acknowledgements"
EXPECTED: dict[str, dict[str, object]] = {
    "attention-is-all-you-need.pdf": {
        "title": "Attention Is All You Need",
        "abstract": "The dominant sequence transduction models are based on complex recurrent or "
        "convolutional neural networks that include an encoder and a decoder.",
        "sections": [
            "Introduction",
            "Background",
            "Model Architecture",
            "Why Self-Attention",
            "Training",
            "Results",
            "Conclusion",
            "Attention Visualizations",
        ],
        "equations": [1, 2, 3],
    },
    "dev/1608.03983_sgdr.pdf": {
        "title": "SGDR: Stochastic Gradient Descent with Warm Restarts",
        "abstract": "Restart techniques are common in gradient-free optimization to deal with "
        "multimodal functions.",
        "sections": [
            "Introduction",
            "Related Work",
            "Stochastic Gradient Descent with Warm Restarts (SGDR)",
            "Experimental Results",
            "Discussion",
            "Conclusion",
            "Acknowledgments",
            "Supplementary Material",
        ],
        "equations": [1, 2, 3, 4, 5],
    },
    "dev/1704.00028_wgan_gp.pdf": {
        "title": "Improved Training of Wasserstein GANs",
        "abstract": "Generative Adversarial Networks (GANs) are powerful generative models, but suffer "
        "from training instability.",
        "sections": [
            "Introduction",
            "Background",
            "Difficulties with weight constraints",
            "Gradient penalty",
            "Experiments",
            "Conclusion",
            ACK,
        ],
        "equations": [1, 2, 3],
    },
    "dev/1708.04552_cutout.pdf": {
        "title": "Improved Regularization of Convolutional Neural Networks with Cutout",
        "abstract": "Convolutional neural networks are capable of learning powerful representational "
        "spaces, which are necessary for tackling complex learning tasks.",
        "sections": [
            "Introduction",
            "Related Work",
            "Cutout",
            "Experiments",
            "Conclusion",
            ACK,
            "Supplementary Materials",
        ],
        "equations": [],
    },
    "dev/1709.01507_senet.pdf": {
        "title": "Squeeze-and-Excitation Networks",
        "abstract": "The central building block of convolutional neural networks (CNNs) is the convolution "
        "operator, which enables networks to construct informative features by fusing both spatial and "
        "channel-wise information within local receptive fields at each layer.",
        "sections": [
            "Introduction",
            "Related Work",
            "Squeeze-and-Excitation Blocks",
            "Model and Computational Complexity",
            "Experiments",
            "Ablation Study",
            "Role of SE blocks",
            "Conclusion",
            "Acknowledgments",
            "Appendix: Details of SENet-154",
        ],
        "equations": [1, 2, 3, 4, 5],
    },
    "dev/1710.05941_swish.pdf": {
        "title": "Searching for Activation Functions",
        "abstract": "The choice of activation functions in deep networks has a significant effect on the "
        "training dynamics and task performance.",
        "sections": [
            "Introduction",
            "Methods",
            "Search Findings",
            "Swish",
            "Experiments with Swish",
            "Related Work",
            "Conclusion",
            ACK,
        ],
        "equations": [],
    },
    "dev/1803.08494_groupnorm.pdf": {
        "title": "Group Normalization",
        "abstract": "Batch Normalization (BN) is a milestone technique in the development of deep "
        "learning, enabling various networks to train.",
        "sections": [
            "Introduction",
            "Related Work",
            "Group Normalization",
            "Experiments",
            "Discussion and Future Work",
        ],
        "equations": [1, 2, 3, 4, 5],
    },
    "dev/1902.00751_adapters.pdf": {
        "title": "Parameter-Efficient Transfer Learning for NLP",
        "abstract": "Fine-tuning large pre-trained models is an effective transfer mechanism in NLP.",
        "sections": [
            "Introduction",
            "Adapter tuning for NLP",
            "Experiments",
            "Related Work",
            "Acknowledgments",
            "Additional Text Classification Tasks",
            "Learning Rate Robustness",
        ],
        "equations": [],
    },
    "dev/1904.00962_lamb.pdf": {
        "title": "Large Batch Optimization for Deep Learning: Training BERT in 76 Minutes",
        "abstract": "Training large deep neural networks on massive datasets is very challenging.",
        "sections": [
            "Introduction",
            "Preliminaries",
            "Algorithms",
            "Experiments",
            "Conclusion",
            "Acknowledgement",
            "Appendix",
            "Proof of Theorem 2",
            "Proof of Theorem 3",
            "Comparison of Convergence Rates of LARS and SGD",
            "Additional Results",
        ],
        "equations": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    },
    "dev/2014_dropout.pdf": {
        "title": "Dropout: A Simple Way to Prevent Neural Networks from Overfitting",
        "abstract": "Deep neural nets with a large number of parameters are very powerful machine "
        "learning systems.",
        "sections": [
            "Introduction",
            "Motivation",
            "Related Work",
            "Model Description",
            "Learning Dropout Nets",
            "Experimental Results",
            "Salient Features",
            "Dropout Restricted Boltzmann Machines",
            "Marginalizing Dropout",
            "Multiplicative Gaussian Noise",
            "Conclusion",
            "Acknowledgments",
            "A Practical Guide for Training Dropout Networks",
            "Detailed Description of Experiments and Data Sets",
        ],
        "equations": [],
    },
    "dev/2016_center_loss.pdf": {
        "title": "A Discriminative Feature Learning Approach for Deep Face Recognition",
        "abstract": "Convolutional neural networks (CNNs) have been widely used in computer vision "
        "community, significantly improving the state-of-the-art.",
        "sections": [
            "Introduction",
            "Related work",
            "The Proposed Approach",
            "Experiments",
            "Conclusions",
            "Acknowledgement",
        ],
        "equations": [1, 2, 3, 4, 5],
    },
}
# Papers whose displays are unnumbered: at least this many equations read.
UNNUMBERED_DISPLAYS = {"dev/1710.05941_swish.pdf": 2, "dev/2014_dropout.pdf": 5}


def squash(text: str) -> str:
    """Letters and digits only: ligatures, hyphenation, spacing and case do not count."""
    return re.sub(r"[^a-z0-9]", "", unicodedata.normalize("NFKC", text).lower())


@pytest.fixture(scope="module")
def papers():
    return {name: read_pdf(PAPERS / name) for name in EXPECTED}


def test_every_pdf_beside_the_project_is_in_the_corpus():
    found = {str(p.relative_to(PAPERS)) for p in PAPERS.rglob("*.pdf")}
    assert found == set(EXPECTED), "a new paper: write its expected values here by hand"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_paper_reads_with_its_title_abstract_sections_and_equations(papers, name):
    paper, want = papers[name], EXPECTED[name]
    assert squash(paper.title) == squash(str(want["title"]))
    assert squash(paper.abstract).startswith(squash(str(want["abstract"])))
    assert [squash(s.title) for s in paper.sections] == [squash(t) for t in want["sections"]]  # type: ignore[union-attr]
    numbered = [s.number for s in paper.sections if s.number and s.number.isdigit()]
    assert numbered == [str(i) for i in range(1, len(numbered) + 1)]
    for n in want["equations"]:  # type: ignore[union-attr]
        assert any(f"({n})" in e.text for e in paper.equations), f"equation ({n})"
    assert len(paper.equations) >= UNNUMBERED_DISPLAYS.get(name, 0)
    assert not paper.notices
    leaves = [s for s in paper.all_sections() if s.number and s.number[0].isdigit() and not s.children]
    assert all(len(s.text.split()) > 20 for s in leaves), [
        s.title for s in leaves if len(s.text.split()) <= 20
    ]


def test_annotations_are_not_read_as_the_paper(papers):
    cutout = papers["dev/1708.04552_cutout.pdf"]  # carries Chinese notes in free-text annotations
    text = cutout.full_text() + " ".join(f.caption for f in cutout.figures)
    assert not re.search(r"[\u4e00-\u9fff]", text)


# A piece of the method's own equation, read legibly, that its key equations must hold.
METHOD_EQUATION = {
    "dev/1608.03983_sgdr.pdf": "cos(",
    "dev/1704.00028_wgan_gp.pdf": "‖∇",  # the gradient penalty, with its norm and nabla restored
    "dev/1709.01507_senet.pdf": "σ(W_2 δ(W_1 z))",
    "dev/1710.05941_swish.pdf": "f(x) = x · sigmoid(βx)",  # the abstract's own formula
    "dev/1803.08494_groupnorm.pdf": "C/G",
    "dev/2016_center_loss.pdf": "∥x_i − c_{yi}∥^2_2",
}

# Displays set in two dimensions (fractions, limits, scripts, cases) read as one line.
DISPLAY = {
    "dev/1608.03983_sgdr.pdf": ["η_t = η_{min}^i + 1/2(η_{max}^i − η_{min}^i )(1 + cos((T_{cur})/T_i π))"],
    "dev/1709.01507_senet.pdf": [
        "z_c = F_{sq}(u_c) = 1/(H × W) ∑_{i=1}^H ∑_{j=1}^W u_c(i, j)",
        "x̃_c = F_{scale}(u_c, s_c) = s_c u_c",
    ],
    "dev/1710.05941_swish.pdf": ["f(x) = {x if x ≥ 0; αx if x < 0"],
    "dev/1803.08494_groupnorm.pdf": ["x̂_i = 1/σ_i (x_i − µ_i)", "µ_i = 1/m ∑_{k∈Si} x_k", "y_i = γx̂_i + β"],
    "dev/1904.00962_lamb.pdf": ["x^{(i)}_{t+1} = x^{(i)}_t − η_t (φ(∥x^{(i)}_t ∥))/(∥g_t^{(i)}∥)g_t^{(i)}"],
    "dev/2016_center_loss.pdf": ["log (e^{Wyi T xi+byi})/(∑^n_{j=1} e^{Wj T xi+bj})"],
}


@pytest.mark.parametrize("name", sorted(DISPLAY))
def test_displays_read_in_two_dimensions(papers, name):
    equations = [e.text for e in papers[name].equations]
    for expected in DISPLAY[name]:
        assert any(expected in e for e in equations), (expected, equations)
    if name in CODED_SUMS:  # sums and accents of an extension font with no Unicode map
        assert not any("\ufffd" in e for e in equations), equations


CODED_SUMS = {"dev/1709.01507_senet.pdf", "dev/1803.08494_groupnorm.pdf"}

# What the sentences around a display say about its symbols, as the reader keeps them.
AROUND = {
    "dev/1608.03983_sgdr.pdf": ("cos((T_{cur})/T_i π)", "how many epochs have been performed since"),
    "dev/1803.08494_groupnorm.pdf": ("⌊k_C/(C/G)⌋", "G is the number of groups"),
    "dev/1709.01507_senet.pdf": ("σ(W_2 δ(W_1 z))", "δ refers to the ReLU"),
    "dev/2014_dropout.pdf": ("= r^{(l)} ∗ y^{(l)}", "Bernoulli random variables each of which"),
}


@pytest.mark.parametrize("name", sorted(AROUND))
def test_displays_keep_the_sentences_that_define_their_symbols(papers, name):
    display, words = AROUND[name]
    found = [e for e in papers[name].equations if display in e.text]
    assert found, [e.text for e in papers[name].equations]
    assert any(words in e.context for e in found), [e.context for e in found]
    # Consecutive displays share the sentence after them; a sentence about something else is not kept.
    assert all(len(e.context) < 700 for e in papers[name].equations)


@pytest.mark.parametrize("name", sorted(METHOD_EQUATION))
def test_key_equations_are_the_methods_and_legible(papers, name):
    equations = key_equations(papers[name])
    assert any(METHOD_EQUATION[name] in e for e in equations), equations
    assert not equations[0].startswith("f ′(x)")  # a derivative never leads
    assert not any("if x < 0" in e for e in equations)  # the baselines of the set-up section
    assert not any(c in KEYBOARD_CODE for e in equations for c in e)


def test_no_paper_reads_math_as_keyboard_symbols(papers):
    for name, paper in papers.items():
        text = paper.full_text() + "".join(e.text for e in paper.equations)
        assert not [c for c in text if c in KEYBOARD_CODE], name


def _maximal_reply(messages, params) -> str:
    """The largest reply each schema allows, so only trimming can keep the digest in budget."""
    schema = params.json_schema
    if schema is None:
        return "It does this. " * 60
    props = schema.get("properties", {})
    if "hyperparameters" in props:
        long = "word " * 45
        full = {
            "problem": long.strip(),
            "method_steps": [long[:110].strip()] * 5,
            "architecture": long.strip(),
            "losses": ["cross entropy"] * 3,
            "datasets": ["ImageNet", "CIFAR-10", "MNIST"],
            "metrics": ["accuracy"] * 3,
            "hyperparameters": [
                {"name": f"parameter {i}", "value": "0.1", "sentence": i} for i in range(1, 11)
            ],
            "unclear": [long[:110].strip()] * props["unclear"]["maxItems"],
        }
        return json.dumps({k: v for k, v in full.items() if k in props})
    return json.dumps({"value": "0.1", "sentence": 1})


@pytest.mark.parametrize("budget", [300, 2000])
def test_every_digest_fits_its_budget(papers, budget):
    for name, paper in papers.items():
        backend = ScriptedBackend(context_window=4096, fallback=_maximal_reply)
        model = ChatModel(backend, ChatDefaults(max_repairs=0))
        d = digest_paper(paper, model, budget=budget, reply_tokens=400)
        assert 0 < d.tokens <= budget, name
        assert d.title == paper.title and d.outline


# The update lines of each dev paper's algorithm box, as the digest leads its key equations with.
ALGORITHM_LINES = {
    # Its arrows have no Unicode map in this copy: an em-wide space of the symbol font is ←.
    "dev/1704.00028_wgan_gp.pdf": [
        "x̂ = ϵx + (1 − ϵ)x̃",
        "L^{(i)} = D_w(x̃) − D_w(x) + λ(‖∇_{x̂} D_w(x̂)‖_2 − 1)^2",
    ],
    "dev/1904.00962_lamb.pdf": ["m_t = β_1 m_{t−1} + (1 − β_1)g_t"],
}


@pytest.mark.parametrize("name", sorted(ALGORITHM_LINES))
def test_algorithm_boxes_give_their_update_lines_in_order(papers, name):
    from smolab.paper.digest import algorithm_steps

    steps = algorithm_steps(papers[name])
    want = ALGORITHM_LINES[name]
    assert all(line in steps for line in want), steps
    assert [steps.index(line) for line in want] == sorted(steps.index(line) for line in want)
