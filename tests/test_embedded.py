"""Real inference with the embedded GGUF models on the CPU (greedy, short replies)."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel, Field

from smolab.models import CorruptModelError, Message, load_model
from smolab.models.llamacpp import LlamaCppBackend
from smolab.models.loader import gguf_path, store_for
from smolab.models.registry import QWEN_05B, SMOLLM2_135M

pytestmark = pytest.mark.slow


class FileItem(BaseModel):
    path: str = Field(max_length=40)
    purpose: str = Field(max_length=80)


class Plan(BaseModel):
    title: str = Field(max_length=80)
    files: list[FileItem] = Field(min_length=1, max_length=4)
    learning_rate: float


@pytest.fixture(scope="module")
def small(real_settings):
    return load_model("smollm2-135m", real_settings.model_copy(update={"temperature": 0.0, "seed": 1}))


@pytest.fixture(scope="module")
def qwen(real_settings):
    return load_model("qwen2.5-coder-0.5b", real_settings.model_copy(update={"temperature": 0.0, "seed": 1}))


def test_embedded_files_are_verified_against_their_pins(real_settings):
    store = store_for(real_settings)
    qwen_path = gguf_path(QWEN_05B, store)
    assert qwen_path.stat().st_size == 491_400_064
    assert gguf_path(SMOLLM2_135M, store).stat().st_size == 98_362_432


def test_greedy_reply_is_repeatable_and_counted(small):
    a = small.chat("Name a primary colour.", max_tokens=12)
    b = small.chat("Name a primary colour.", max_tokens=12)
    assert a.text and a.text == b.text
    assert a.usage.prompt_tokens == small.count_tokens("Name a primary colour.")
    assert 0 < a.usage.completion_tokens <= 12


def test_stream_matches_the_whole_reply(small):
    s = small.stream("Count from one to five in words.", max_tokens=24)
    pieces = list(s)
    assert len(pieces) > 3
    assert s.completion is not None and "".join(pieces) == s.completion.text


def test_max_tokens_and_stop_strings(small):
    c = small.chat("Write a long story about a dragon.", max_tokens=5)
    assert c.finish_reason == "length" and c.usage.completion_tokens == 5
    full = small.chat("List three fruits, one per line.", max_tokens=40).text
    cut = small.chat("List three fruits, one per line.", max_tokens=40, stop=["\n"]).text
    assert "\n" not in cut and full.startswith(cut)


def test_chat_template_comes_from_the_gguf(small):
    tokens, stops = small.backend.render([Message("user", "hi")])  # type: ignore[attr-defined]
    text = small.backend.llm.detokenize(tokens, special=True).decode()  # type: ignore[attr-defined]
    assert "<|im_start|>user\nhi<|im_end|>" in text and text.rstrip().endswith("<|im_start|>assistant")
    assert "<|im_end|>" in stops


def test_shared_prefix_is_reused(small, real_settings):
    system = Message("system", "You are a careful research engineer. " * 20)
    small.chat([system, Message("user", "Say A.")], max_tokens=3)
    second = small.chat([system, Message("user", "Say B.")], max_tokens=3)
    assert second.usage.cached_tokens > 100
    cold = LlamaCppBackend(small.backend.path, context_window=small.context_window, reuse_prefix=False)  # type: ignore[attr-defined]
    from smolab.models import ChatModel

    third = ChatModel(cold).chat([system, Message("user", "Say C.")], max_tokens=3)
    assert third.usage.cached_tokens == 0


def test_structured_output_is_valid_with_the_tiny_model(small):
    plan = small.chat("Plan a tiny PyTorch project that trains an MLP on MNIST.", schema=Plan, max_tokens=300)
    assert isinstance(plan, Plan) and 1 <= len(plan.files) <= 4


def test_default_model_writes_python(qwen):
    reply = qwen.chat(
        "Write a Python function add(a, b) that returns a + b. Only the code.", max_tokens=60
    ).text
    assert "def add" in reply and "return" in reply


def test_default_model_structured_plan(qwen):
    plan = qwen.chat(
        "Plan a small PyTorch repository that trains a Transformer with learning rate 0.0003.",
        schema=Plan,
        max_tokens=300,
    )
    assert isinstance(plan, Plan)
    assert all(f.path for f in plan.files)


def test_truncated_copy_of_an_embedded_model_is_refused(tmp_path, small):
    src = small.backend.path  # type: ignore[attr-defined]
    broken = tmp_path / "broken.gguf"
    with src.open("rb") as f:
        broken.write_bytes(f.read(6_000_000))  # a download cut short
    with pytest.raises(CorruptModelError, match="could not load"):
        LlamaCppBackend(broken).count_tokens([Message("user", "x")])


def test_default_model_is_joined_from_its_pypi_parts_into_a_fresh_home(tmp_path):
    from smolab.config import load_settings

    settings = load_settings(home=tmp_path / "home")
    path = gguf_path(QWEN_05B, store_for(settings))  # no network: the parts are installed packages
    assert path.parent == tmp_path / "home" / "models" / "qwen2.5-coder-0.5b"
    assert path.stat().st_size == 491_400_064
    assert not list(path.parent.glob("*.partial"))
    assert list((tmp_path / "home" / "models" / ".verified").iterdir())  # hashed once, remembered


@pytest.mark.timeout(120)
def test_an_abandoned_stream_releases_the_model(small):
    stream = small.stream("Count from one to twenty.", max_tokens=40)
    for i, _ in enumerate(stream):
        if i == 2:
            break
    # Would block forever if the first reply still held the model's lock.
    assert small.chat("Say hi.", max_tokens=3).usage.completion_tokens > 0


def test_a_schema_llama_cpp_cannot_parse_is_refused_not_ignored(small):
    from smolab.models import StructuredOutputError

    class Odd(BaseModel):
        # llama.cpp's grammar parser rejects the "\." this pattern turns into
        name: str = Field(pattern=r"^[a-z]{1,8}\.py$", max_length=11)

    with pytest.raises(StructuredOutputError, match="cannot be turned into a llama.cpp grammar"):
        small.chat("Name a Python file.", schema=Odd, max_tokens=20)


def test_reproduce_schemas_become_grammars(small):
    from smolab.models.llamacpp import _check_grammar, _grammar
    from smolab.reproduce.schemas import Architecture, Judgement, Logic, OverallPlan

    llm = small.backend.llm
    for schema in (OverallPlan, Architecture, Logic, Judgement):
        s = schema.model_json_schema()
        _check_grammar(llm, _grammar(json.dumps(s)), s)  # raises if llama.cpp rejects it


REWRITE = (
    "Here is method.py:\n\n```python\nimport torch\nfrom torch import nn\n\n\nclass Adapter(nn.Module):\n"
    "    def __init__(self, dim: int, size: int = 8):\n        super().__init__()\n"
    "        self.down, self.up = nn.Linear(dim, size), nn.Linear(size, dim)\n\n"
    "    def forward(self, h):\n        return h + self.up(torch.relu(self.down(h)))\n```\n\n"
    "Rename the forward argument `h` to `inputs` everywhere and change nothing else. Reply with the "
    "complete method.py in one ```python block, and nothing else."
)


def test_a_rewrite_is_drafted_from_its_prompt_and_the_reply_is_plain_decodings(qwen, real_settings):
    llm = qwen.backend.llm
    assert qwen.backend.draft == 10  # the default lookahead
    before = llm.decode_steps
    drafted = qwen.chat(REWRITE, max_tokens=200)
    steps = llm.decode_steps - before
    assert "def forward(self, inputs)" in drafted.text
    # Most of the reply came in drafts checked several tokens a step, not one token a step.
    assert drafted.usage.completion_tokens >= 2 * steps, (drafted.usage.completion_tokens, steps)
    path = gguf_path(QWEN_05B, store_for(real_settings))
    plain = LlamaCppBackend(path, context_window=qwen.context_window, draft=0)
    from smolab.models import ChatModel

    again = ChatModel(plain).chat(REWRITE, max_tokens=200, temperature=0.0, seed=1)
    assert again.text == drafted.text
