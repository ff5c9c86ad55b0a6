"""Tiny GGUF files of a real architecture with random weights: the seed models' layouts (same
tensor names and hyper-parameter keys, sizes scaled down), a byte-level BPE vocabulary with
the chat template's special tokens, and a chat template in the model's published format
(written here, not copied). llama.cpp loads them as it would the real file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

# The chat formats, as the models' cards describe them. SmolLM3: ChatML turns, a system turn
# that opens with metadata (the reasoning mode among it), and an empty think block before the
# answer when reasoning is off. Ministral 3: [SYSTEM_PROMPT]/[INST] markers around each turn.
SMOLLM3_TEMPLATE = """\
{%- set reasoning = '/no_think' if messages and messages[0].role == 'system' \
and '/no_think' in messages[0].content else '/think' -%}
<|im_start|>system
## Metadata

Reasoning Mode: {{ reasoning }}

## Custom Instructions

{% if messages and messages[0].role == 'system' %}\
{{ messages[0].content | replace('/no_think', '') | replace('/think', '') | trim }}\
{% endif %}

<|im_end|>
{% for message in messages if message.role != 'system' -%}
<|im_start|>{{ message.role }}
{{ message.content }}<|im_end|>
{% endfor -%}
{%- if add_generation_prompt -%}
<|im_start|>assistant
{% if reasoning == '/no_think' %}<think>

</think>
{% endif %}{% endif %}"""

MINISTRAL3_TEMPLATE = """\
{{- bos_token -}}
{%- if messages and messages[0].role == 'system' -%}
[SYSTEM_PROMPT]{{ messages[0].content }}[/SYSTEM_PROMPT]
{%- endif -%}
{%- for message in messages if message.role != 'system' -%}
{%- if message.role == 'user' -%}[INST]{{ message.content }}[/INST]
{%- elif message.role == 'assistant' -%}{{ message.content }}{{ eos_token }}
{%- endif -%}
{%- endfor -%}"""


@dataclass(frozen=True)
class Arch:
    name: str
    pre: str
    """The pre-tokenizer llama.cpp applies (its name for the real model's)."""
    template: str
    specials: tuple[str, ...]
    bos: str
    eos: str
    end_of_turn: str


SMOLLM3 = Arch(
    name="smollm3",
    pre="llama-bpe",
    template=SMOLLM3_TEMPLATE,
    specials=("<|begin_of_text|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>"),
    bos="<|begin_of_text|>",
    eos="<|im_end|>",
    end_of_turn="<|im_end|>",
)
MINISTRAL3 = Arch(
    name="mistral3",
    pre="tekken",
    template=MINISTRAL3_TEMPLATE,
    specials=(
        "<unk>",
        "<s>",
        "</s>",
        "[INST]",
        "[/INST]",
        "[SYSTEM_PROMPT]",
        "[/SYSTEM_PROMPT]",
        "[AVAILABLE_TOOLS]",
        "[/AVAILABLE_TOOLS]",
        "[TOOL_CALLS]",
        "[TOOL_RESULTS]",
        "[/TOOL_RESULTS]",
    ),
    bos="<s>",
    eos="</s>",
    end_of_turn="</s>",
)


def byte_symbols() -> list[str]:
    """The 256 printable symbols byte-level BPE stands bytes for (printable bytes as themselves,
    the rest shifted past 255), in byte order."""
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    symbols: dict[int, str] = {b: chr(b) for b in keep}
    extra = 0
    for b in range(256):
        if b not in symbols:
            symbols[b] = chr(256 + extra)
            extra += 1
    return [symbols[b] for b in range(256)]


def write(
    path: Path,
    arch: Arch,
    *,
    embd: int = 64,
    layers: int = 2,
    heads: int = 4,
    kv_heads: int = 2,
    ff: int = 128,
    context: int = 2048,
    seed: int = 0,
) -> Path:
    import gguf

    rng = np.random.default_rng(seed)
    bytes_ = byte_symbols()
    merges = ["Ġ t", "Ġ a", "i n", "e r", "Ġt h"]
    merged = ["Ġt", "Ġa", "in", "er", "Ġth"]
    tokens = [*arch.specials, *bytes_, *merged]
    normal = len(tokens) - len(arch.specials)
    types = [gguf.TokenType.CONTROL] * len(arch.specials) + [gguf.TokenType.NORMAL] * normal
    vocab = len(tokens)
    head_dim = embd // heads

    w = gguf.GGUFWriter(str(path), arch.name)
    w.add_name(f"tiny-{arch.name}")
    w.add_context_length(context)
    w.add_embedding_length(embd)
    w.add_block_count(layers)
    w.add_feed_forward_length(ff)
    w.add_head_count(heads)
    w.add_head_count_kv(kv_heads)
    w.add_rope_dimension_count(head_dim)
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(vocab)
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre(arch.pre)
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges(merges)
    w.add_bos_token_id(tokens.index(arch.bos))
    w.add_eos_token_id(tokens.index(arch.eos))
    w.add_add_bos_token(False)
    w.add_chat_template(arch.template)

    def tensor(name: str, *shape: int) -> None:
        # Norms start at one, as trained models' do; matrices are small random numbers.
        data = np.ones(shape, np.float32) if len(shape) == 1 else rng.normal(0, 0.02, shape)
        w.add_tensor(name, data.astype(np.float32))

    tensor("token_embd.weight", vocab, embd)
    for i in range(layers):
        tensor(f"blk.{i}.attn_norm.weight", embd)
        tensor(f"blk.{i}.attn_q.weight", heads * head_dim, embd)
        tensor(f"blk.{i}.attn_k.weight", kv_heads * head_dim, embd)
        tensor(f"blk.{i}.attn_v.weight", kv_heads * head_dim, embd)
        tensor(f"blk.{i}.attn_output.weight", embd, heads * head_dim)
        tensor(f"blk.{i}.ffn_norm.weight", embd)
        tensor(f"blk.{i}.ffn_gate.weight", ff, embd)
        tensor(f"blk.{i}.ffn_up.weight", ff, embd)
        tensor(f"blk.{i}.ffn_down.weight", embd, ff)
    tensor("output_norm.weight", embd)
    # Random, but only printable ASCII ever wins: a reply is one token per character, so a
    # grammar's bounded thought ends within its 200 characters rather than 800 byte tokens.
    out = rng.normal(0, 0.02, (vocab, embd)).astype(np.float32)
    printable = {tokens.index(chr(c)) for c in range(ord(" ") + 1, ord("~") + 1) if chr(c) in tokens}
    printable |= {tokens.index(t) for t in merged}
    out[[i for i in range(vocab) if i not in printable]] = 0.0
    w.add_tensor("output.weight", out)

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return path
