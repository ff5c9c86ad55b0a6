"""The seed models' architectures through the llamacpp backend, without their weights: tiny
GGUF files of each architecture (random weights, their tensor layout and chat format) load the
way the real files would, render the chat template, generate, and take the two grammar-bound
paths smolab depends on (the agent's step format and JSON under a schema)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from pydantic import BaseModel, Field

from smolab.agent.step import GRAMMAR, parse_step
from smolab.models import Message, load_model
from smolab.models.errors import CorruptModelError
from smolab.models.llamacpp import enumerate_ranges, schema_gbnf

from .conftest import REAL_SETTINGS
from .tiny_gguf import MINISTRAL3, SMOLLM3, Arch, write

ARCHS = {"smollm3": SMOLLM3, "mistral3": MINISTRAL3}


class Verdict(BaseModel):
    label: str = Field(max_length=12)
    score: int = Field(ge=0, le=9)


@pytest.fixture(scope="module", params=sorted(ARCHS))
def tiny(request, tmp_path_factory):
    arch: Arch = ARCHS[request.param]
    path = write(tmp_path_factory.mktemp(arch.name) / f"tiny-{arch.name}.gguf", arch)
    model = load_model(str(path), REAL_SETTINGS)
    return arch, model


def test_the_file_loads_as_its_architecture(tiny):
    arch, model = tiny
    llm = model.backend.llm
    assert llm.metadata["general.architecture"] == arch.name
    assert llm.n_vocab() == len(arch.specials) + 256 + 5


def test_the_chat_template_is_applied(tiny):
    arch, model = tiny
    messages = [Message("system", "Be brief."), Message("user", "Name a prime.")]
    tokens, stops = model.backend.render(messages)
    text = model.backend.llm.detokenize(tokens, special=True).decode()
    if arch is SMOLLM3:
        assert text.startswith("<|im_start|>system\n## Metadata")
        assert "Be brief." in text and "<|im_start|>user\nName a prime.<|im_end|>" in text
        assert text.endswith("<|im_start|>assistant\n")
    else:
        assert text.startswith("<s>[SYSTEM_PROMPT]Be brief.[/SYSTEM_PROMPT][INST]Name a prime.[/INST]")
    # Special tokens are single tokens, not spelled out byte by byte.
    vocab = {model.backend.llm._model.token_get_text(t) for t in tokens}
    assert arch.specials[1] in vocab or arch.end_of_turn in vocab or arch.bos in vocab
    assert arch.eos in stops


def test_it_generates_and_counts_tokens(tiny):
    _, model = tiny
    reply = model.chat("Say something.", max_tokens=6, temperature=0.0)
    assert 1 <= reply.usage.completion_tokens <= 6 and reply.usage.prompt_tokens > 5
    again = model.chat("Say something.", max_tokens=6, temperature=0.0)
    assert again.text == reply.text  # greedy decoding is repeatable


def test_the_agent_step_grammar_gives_a_step_the_loop_can_run(tiny):
    _, model = tiny
    reply = model.chat(
        [Message("system", "Reply with a thought and Python code."), Message("user", "List the files.")],
        grammar=GRAMMAR,
        max_tokens=300,  # a thought of at most 200 characters, then the code block opens
        temperature=0.0,
    )
    assert reply.text.startswith("Thought: ")
    step = parse_step(reply.text)  # the code block is there even when the reply is cut short
    assert step.thought and step.code is not None


def test_json_under_a_schema_is_valid(tiny):
    _, model = tiny
    verdict = model.chat("Rate this.", schema=Verdict, max_tokens=60, temperature=0.0)
    assert isinstance(verdict, Verdict) and len(verdict.label) <= 12 and 0 <= verdict.score <= 9


def test_a_file_of_an_unknown_architecture_is_refused_in_one_line(tmp_path):
    arch = dataclasses.replace(SMOLLM3, name="notanarch", pre="default")
    path = write(tmp_path / "odd.gguf", arch)
    model = load_model(str(path), REAL_SETTINGS)
    with pytest.raises(CorruptModelError, match="unsupported architecture"):
        model.chat("hi", max_tokens=2)
    assert Path(path).is_file()


def test_small_integer_ranges_are_kept_by_the_grammar():
    schema = {
        "type": "object",
        "properties": {
            "stars": {"type": "integer", "minimum": 1, "maximum": 5, "description": "how good"},
            "rank": {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 4},
            "count": {"type": "integer", "minimum": 0},
            "seed": {"type": "integer", "minimum": 0, "maximum": 2**31},
        },
        "required": ["stars", "rank", "count", "seed"],
    }
    props = enumerate_ranges(schema)["properties"]
    assert props["stars"] == {"description": "how good", "enum": [1, 2, 3, 4, 5]}
    assert props["rank"] == {"enum": [1, 2, 3]}
    assert props["count"] == schema["properties"]["count"]  # open-ended: left to validation
    assert props["seed"] == schema["properties"]["seed"]  # too many values to list
    grammar = schema_gbnf(json.dumps(schema))
    stars = next(line for line in grammar.splitlines() if line.startswith("stars"))
    assert all(f'"{n}"' in stars for n in range(1, 6)) and '"6"' not in stars
