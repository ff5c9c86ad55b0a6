"""The digest's logic with a scripted model: chunking, merging, quote checks, the budget."""

from __future__ import annotations

import json
import re

import pytest

from smolab.models import ChatDefaults, ChatModel, Message, ScriptedBackend
from smolab.paper import Paper, Section
from smolab.paper.digest import UNKNOWN, chunks, digest_paper, fit_budget, normalize, quote_holds


def paper() -> Paper:
    return Paper(
        title="Tiny Transformer",
        abstract="We train a small model.",
        sections=[
            Section(
                title="Model",
                number="1",
                text="We use d_model = 512 and six layers. " * 2 + "We train on WMT 2014.",
            ),
            Section(
                title="Training",
                number="2",
                text="We used a dropout rate of P_drop = 0.1 and warm-\nup_steps = 4000. " * 3,
            ),
        ],
    )


def reply(**hp: tuple[str, int]) -> str:
    return json.dumps(
        {
            "problem": "translation",
            "method_steps": ["encode", "decode"],
            "architecture": "encoder-decoder, d_model 512",
            "losses": ["cross-entropy"],
            "datasets": ["WMT 2014", "ImageNet"],
            "metrics": ["BLEU"],
            "hyperparameters": [{"name": k, "value": v, "sentence": n} for k, (v, n) in hp.items()],
            "unclear": ["batching details"],
        }
    )


def model(*replies: str, window: int = 4000) -> tuple[ChatModel, ScriptedBackend]:
    backend = ScriptedBackend(replies, context_window=window)
    return ChatModel(backend, ChatDefaults(max_repairs=0)), backend


def test_quotes_are_checked_against_the_paper():
    text = normalize(paper().full_text())
    assert quote_holds("a dropout rate of P_drop = 0.1", "0.1", text)
    assert quote_holds("warm-up_steps = 4000", "4000", text)  # hyphenation and case tolerated
    assert not quote_holds("we set the learning rate to 0.5", "0.5", text)  # invented
    assert not quote_holds("a dropout rate of P_drop = 0.1", "0.3", text)  # quote lacks the value


def test_digest_merges_chunks_and_flags_unverified_values():
    def cite(messages, needle: str) -> int:
        """The number the prompt gave the sentence containing ``needle``."""
        return int(re.search(r"\(S(\d+)\) [^(]*" + re.escape(needle), messages[-1].content).group(1))

    m, backend = model(
        lambda msgs, _: reply(d_model=("512", cite(msgs, "d_model = 512"))),
        lambda msgs, _: reply(
            d_model=("1024", cite(msgs, "dropout rate")),  # a sentence that does not say 1024
            dropout=("0.1", cite(msgs, "dropout rate")),
            lr=("0.5", cite(msgs, "dropout rate")),
            beta2=(UNKNOWN, 0),
        ),
    )
    p = paper()
    # Force two chunks by making the window small relative to the paper.
    d = digest_paper(
        p,
        m,
        budget=2000,
        reply_tokens=100,
        chunk_tokens=60,
        ask_common_values=False,
        ask_overview_questions=False,
    )
    by_name = {h.name: h for h in d.hyperparameters}
    assert by_name["d_model"].value == "512" and by_name["d_model"].verified  # verified beats invented
    assert by_name["dropout"].verified
    # An unverified value stays in the data (the config marks it) but prompts never carry it.
    assert by_name["lr"].verified is False and "- lr =" not in d.render() and "- d_model = 512" in d.render()
    assert by_name["beta2"].value == UNKNOWN
    assert d.datasets == ["WMT 2014"]  # merged without duplicates; ImageNet is not in the paper
    assert len(backend.history) == 2  # two chunks, two calls
    assert "(S1)" in backend.history[0][0][-1].content  # sentences are numbered for citing
    assert by_name["dropout"].quote.startswith("We used a dropout rate")  # the paper's words, not the model's
    assert all(params.json_schema is not None for _, params in backend.history)


def test_chunks_respect_the_size():
    p = paper()
    pieces = chunks(p, 40, lambda t: len(t.split()))
    assert len(pieces) > 1 and all(len(x.split()) <= 40 for x in pieces)
    assert "Tiny Transformer" in pieces[0]


def test_budget_is_never_exceeded():
    m, _ = model(reply(**{f"h{i}": (str(i), i) for i in range(10)}))
    d = digest_paper(
        paper(), m, budget=2000, reply_tokens=100, ask_common_values=False, ask_overview_questions=False
    )
    count = lambda t: len(t.split())  # noqa: E731
    for budget in (200, 80, 40, 20):
        small = fit_budget(d, budget, count)
        assert count(small.render()) <= budget and small.tokens <= budget


def test_window_too_small_for_a_digest():
    m, _ = model(window=300)
    with pytest.raises(Exception, match="too small to read a paper"):
        digest_paper(paper(), m)


@pytest.mark.slow
def test_default_model_digests_the_attention_paper_within_budget(real_settings):
    from pathlib import Path

    from smolab.models import load_model
    from smolab.paper import read_pdf

    pdf = Path(__file__).resolve().parents[1].parent / "shared" / "papers" / "attention-is-all-you-need.pdf"
    if not pdf.exists():
        pytest.skip("the shared example paper is not beside the project")
    p = read_pdf(pdf)
    m = load_model("qwen2.5-coder-0.5b", real_settings)
    d = digest_paper(p, m, budget=2000)
    assert 0 < d.tokens <= 2000 and m.count_tokens(d.render()) <= 2000
    paper_norm = normalize(p.full_text())
    for h in d.hyperparameters:
        if h.verified:  # a verified value is really in the paper's own sentence
            assert normalize(h.value) in normalize(h.quote) and normalize(h.quote) in paper_norm
        else:
            assert f"- {h.name} = " not in d.render()
    stated = {
        "d_model (model width)": "512",
        "number of layers": "6",
        "attention heads": "8",
        "d_ff (feed-forward width)": "2048",
        "dropout": "0.1",
        "label smoothing": "0.1",
        "warmup steps": "4000",
    }
    got = {h.name: h for h in d.hyperparameters}
    right = [n for n, v in stated.items() if n in got and got[n].verified and normalize(got[n].value) == v]
    assert len(right) >= 5, right  # measured: all 7


def test_a_chunk_the_model_cannot_digest_is_skipped_and_noted():
    m, _ = model("not json at all", reply(d_model=("512", 0)))
    d = digest_paper(
        paper(), m, reply_tokens=100, chunk_tokens=60, ask_common_values=False, ask_overview_questions=False
    )
    assert d.unclear[0] == "1 of 2 parts of the paper could not be digested"
    m, _ = model("nope", "still nope")
    with pytest.raises(Exception, match="no valid digest for any part"):
        digest_paper(
            paper(),
            m,
            reply_tokens=100,
            chunk_tokens=60,
            ask_common_values=False,
            ask_overview_questions=False,
        )


def test_common_values_are_asked_narrowly_and_checked():
    from smolab.paper.digest import ask_common, number_sentences

    table: dict[int, str] = {}
    p = paper()
    number_sentences(p.full_text(), 1, table)
    asked: list[str] = []

    def answer(messages, _params):
        text = messages[-1].content
        asked.append(text)
        if "dropout" in text.split("What ")[-1]:
            return json.dumps({"value": "0.1", "sentence": 999})  # wrong citation, value in a shown sentence
        if "d_model" in text.split("What ")[-1]:
            return json.dumps({"value": "1024", "sentence": 1})  # invented
        return json.dumps({"value": "unknown", "sentence": 0})

    m, backend = model(*[answer] * 20)
    found = {h.name: h for h in ask_common(m, table, normalize(p.full_text()))}
    assert found["dropout"].verified and "dropout rate" in found["dropout"].quote
    assert found["d_model (model width)"].value == "1024" and not found["d_model (model width)"].verified
    assert found["learning rate"].value == UNKNOWN  # no sentence mentions it: not even asked
    assert not any("learning rate" in a.split("What ")[-1] for a in asked)
    assert all(len(a) < 2000 for a in asked)  # narrow prompts: a few sentences each


def test_overview_questions_replace_the_chunk_guesses_and_outline_is_the_papers():
    asked: list[str] = []

    def answer(messages, params):
        q = messages[-1].content.rsplit("\n", 1)[-1]
        asked.append(q)
        assert params.json_schema is None  # free text: fast on small models
        if "problem" in q:
            return "It trains a small translation model."
        if "architecture" in q:
            return "A 6-layer encoder-decoder with d_model 512."
        return "1. Embedding layer\n2. Encoder stack\n- method_steps\n3. Decoder stack."

    m, _ = model(reply(d_model=("512", 1)), *[answer] * 3)
    d = digest_paper(paper(), m, reply_tokens=100, ask_common_values=False)
    assert d.problem == "It trains a small translation model."
    assert d.architecture.startswith("A 6-layer encoder-decoder")
    assert d.method_steps == ["Embedding layer", "Encoder stack", "Decoder stack"]  # schema words dropped
    assert d.outline == ["1 Model", "2 Training"]
    assert "Sections: 1 Model; 2 Training" in d.render()
    assert len(asked) == 3


def test_facts_read_numbers_every_sentence_but_sends_the_settings():
    from smolab.paper.digest import fact_sentences

    p = Paper(
        title="Tiny",
        abstract="We propose a layer. It works well.",
        sections=[
            Section(
                title="Method", number="1", text="The layer scales by beta. We set beta = 1.5 for all runs."
            ),
            Section(title="Related work", number="2", text="Smith et al. used 12 layers in 2019."),
            Section(
                title="Experiments",
                number="3",
                text="We train for 90 epochs with batch size 256 and learning rate 0.1. "
                + "The figure has 3 panels. " * 40,
            ),
        ],
    )
    table: dict[int, str] = {}
    m, _ = model()
    text = fact_sentences(p, 60, lambda t: m.count_tokens([Message("user", t)]), table)
    numbers = {table[int(n)]: int(n) for n in re.findall(r"\(S(\d+)\)", text)}
    # Every sentence is numbered (the narrow questions search them all), in the paper's order.
    assert len(table) == 2 + 2 + 1 + 1 + 40 and list(table) == sorted(table)
    assert "We set beta = 1.5 for all runs." in numbers
    assert "We train for 90 epochs with batch size 256 and learning rate 0.1." in numbers
    assert not any("Smith" in s for s in numbers)  # other people's settings
    assert "It works well." not in numbers  # no number, no setting
    assert m.count_tokens([Message("user", text)]) < 120  # bounded: the filler is cut
    assert text.index("## 1 Method") < text.index("## 3 Experiments")


def test_default_digest_reads_facts_in_one_small_call():
    seen: list[dict] = []

    def facts(messages, params):
        seen.append(params.json_schema)
        n = re.search(r"\(S(\d+)\) We used a dropout rate", messages[-1].content)
        return json.dumps(
            {"hyperparameters": [{"name": "dropout", "value": "0.1", "sentence": int(n.group(1))}],
             "losses": [], "datasets": ["WMT 2014"], "metrics": [], "unclear": []}
        )  # fmt: skip

    m, _ = model(facts, *["A short answer."] * 3)
    d = digest_paper(paper(), m, ask_common_values=False)
    assert len(seen) == 1 and seen[0]["title"] == "ChunkFacts" and "problem" not in seen[0]["properties"]
    assert {h.name: h.verified for h in d.hyperparameters} == {"dropout": True}
    assert d.datasets == ["WMT 2014"] and d.problem == "A short answer."


def test_formulas_written_into_the_abstract_are_found_and_settings_are_not():
    from smolab.paper.digest import inline_formulas

    text = "We set d = 128 and train. Our best function, f(x) = x · sigmoid(βx), which we name Swish, works."
    assert inline_formulas(text) == ["f(x) = x · sigmoid(βx)"]
    assert inline_formulas("where L = L_s + λ L_c is the joint loss of the whole model") == []


def test_a_value_that_restates_its_name_is_not_stated():
    from smolab.paper.digest import CheckedHyperParameter, Digest

    digest = Digest(
        hyperparameters=[
            CheckedHyperParameter(name="dropout", value="dropout ratio", verified=True),
            CheckedHyperParameter(name="dropout", value="0.2", verified=True),
            CheckedHyperParameter(name="optimizer", value="SGD", verified=True),
            CheckedHyperParameter(name="reduction ratio", value="16", verified=False),
        ]
    )
    assert [(h.name, h.value) for h in digest.stated()] == [("dropout", "0.2"), ("optimizer", "SGD")]


def test_an_algorithm_box_read_as_fragments_gives_no_key_equation():
    from smolab.paper.digest import key_equations
    from smolab.paper.model import Equation, Source

    where = Source(section="3 The proposed approach")
    displays = [
        "L_C = 1/2 ∑^m ∥x_i − c_{yi}∥^2_2 (2)",
        "_S + L^t",  # the glyphs its scripts hang on were lost
        "_j = c^t_j − α · ∆c^t_j.",
        "^{t+1} = W^t − µ^t ∂L/∂W",
    ]
    found = key_equations(
        Paper(
            title="Center loss for the proposed approach",
            abstract="We propose the center loss.",
            equations=[Equation(text=t, source=where) for t in displays],
        )
    )
    assert found == [displays[0]]


def test_an_overview_question_that_does_not_fit_is_skipped_but_a_failing_model_stops_the_digest():
    from smolab.models import ContextLengthError
    from smolab.models.errors import PermanentAPIError
    from smolab.paper.digest import ask_overview

    too_long = ContextLengthError(9000, 70, 4096, "a small model")
    m, _ = model(too_long, "A six-layer encoder.", "- attention\n- feed-forward")
    got = ask_overview(m, paper())
    assert got["problem"] == "" and got["architecture"] == "A six-layer encoder."
    assert got["method_steps"] == ["attention", "feed-forward"]
    refused = PermanentAPIError("the provider refused the request: the key is revoked", status=401)
    m, _ = model(refused)
    with pytest.raises(PermanentAPIError):
        ask_overview(m, paper())
