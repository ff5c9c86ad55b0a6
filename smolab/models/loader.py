"""From a model name and settings to a ready :class:`ChatModel`; listing and pulling models."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .canary import BuildCheck, CanaryCache
from .chat import ChatDefaults, ChatModel
from .errors import ModelNotAvailableError
from .files import Progress
from .registry import CANARY_MODEL, REGISTRY, ModelSpec, resolve
from .retry import RetryPolicy
from .sources import PackageChunks, Source, Store
from .types import Backend

if TYPE_CHECKING:
    from ..config import Settings


def store_for(settings: Settings) -> Store:
    return Store(settings.models_dir)


def gguf_path(spec: ModelSpec, store: Store, progress: Progress | None = None) -> Path:
    """The verified GGUF for a llamacpp spec; embedded models are assembled on first use."""
    if spec.path is not None:
        return spec.path
    for source in spec.sources:
        path = source.local_path(store, spec.name)
        if path is not None:
            source.verify(path, store, spec.name, progress)
            return path
    for source in spec.sources:
        # Parts installed by set-up but not joined yet: join them now, no network needed.
        if isinstance(source, PackageChunks) and source.part_paths() is not None:
            return source.assemble(store, spec.name, progress)
    raise ModelNotAvailableError(f"{spec.name} is not on this machine; run: smolab models pull {spec.name}")


def canary_model(store: Store) -> Path | None:
    """The smallest embedded model, if it is on this machine: what the build check decodes with."""
    spec = resolve(CANARY_MODEL)
    for source in spec.sources:
        if (path := source.local_path(store, spec.name)) is not None:
            return path
    return None


def build_check(settings: Settings, store: Store) -> BuildCheck:
    """The check that this llama.cpp build runs on this CPU, run before a GGUF's first load."""
    return BuildCheck(CanaryCache(settings.cache / "llama-canary.json"), canary_model(store))


def make_backend(spec: ModelSpec, settings: Settings, progress: Progress | None = None) -> Backend:
    if spec.backend == "llamacpp":
        from .llamacpp import LlamaCppBackend

        store = store_for(settings)
        path = gguf_path(spec, store, progress)
        window = settings.context_window or spec.context_window
        return LlamaCppBackend(
            path,
            name=spec.name,
            context_window=window,
            threads=settings.threads,
            preflight=build_check(settings, store),
            draft=settings.lookahead,
        )
    if spec.backend == "openai":
        from .openai_compat import OpenAICompatBackend

        assert spec.base_url is not None
        return OpenAICompatBackend(
            spec.base_url,
            model=spec.remote_model,
            context_window=settings.context_window,
            timeout=settings.request_timeout,
            name=spec.name,
        )
    from .hosted import LiteLLMBackend

    assert spec.remote_model is not None
    return LiteLLMBackend(
        spec.remote_model,
        name=spec.name,
        api_key_env=spec.api_key_env,
        api_base=os.environ.get(spec.api_base_env) if spec.api_base_env else None,
        context_window=settings.context_window or spec.context_window,
        timeout=settings.request_timeout,
    )


def load_model(
    name: str | None = None, settings: Settings | None = None, progress: Progress | None = None
) -> ChatModel:
    """A ChatModel for ``name`` (default: the configured model)."""
    from ..config import load_settings

    settings = settings or load_settings()
    spec = resolve(name or settings.model)
    backend = make_backend(spec, settings, progress)
    defaults = ChatDefaults(
        max_tokens=settings.max_tokens,
        temperature=settings.temperature,
        seed=settings.seed,
        max_repairs=settings.max_repairs,
        retry=RetryPolicy(attempts=settings.retries + 1),
    )
    return ChatModel(backend, defaults)


@dataclass(frozen=True)
class ModelStatus:
    spec: ModelSpec
    available: bool
    where: str
    """Path on disk, or what is needed to use it."""


def status(spec: ModelSpec, store: Store) -> ModelStatus:
    if spec.backend == "llamacpp":
        for source in spec.sources:
            path = source.local_path(store, spec.name)
            if path is not None:
                return ModelStatus(spec, True, str(path))
        for source in spec.sources:
            if isinstance(source, PackageChunks) and source.part_paths() is not None:
                return ModelStatus(spec, True, "installed parts (joined on first use)")
        return ModelStatus(spec, False, f"smolab models pull {spec.name}")
    if spec.api_key_env:
        ok = bool(os.environ.get(spec.api_key_env))
        return ModelStatus(spec, ok, f"{spec.api_key_env} {'set' if ok else 'not set'}")
    return ModelStatus(spec, True, spec.base_url or "")


def list_models(settings: Settings) -> list[ModelStatus]:
    store = store_for(settings)
    return [status(spec, store) for spec in REGISTRY.values()]


def pull(
    name: str,
    settings: Settings,
    source_kind: str | None = None,
    progress: Progress | None = None,
    force: bool = False,
) -> Path:
    """Download or assemble a registered GGUF, verify it, and return its path.

    Sources are tried in the registry's order (or only ``source_kind``: ``hf`` or
    ``pypi``); when one fails for want of network the next is tried.
    """
    spec = resolve(name)
    if spec.backend != "llamacpp" or not spec.sources:
        raise ModelNotAvailableError(f"{spec.name} is not a downloadable GGUF; nothing to pull")
    sources: list[Source] = [s for s in spec.sources if source_kind in (None, s.kind)]
    if not sources:
        kinds = ", ".join(sorted({s.kind for s in spec.sources}))
        raise ModelNotAvailableError(f"{spec.name} has no '{source_kind}' source; it has: {kinds}")
    store = store_for(settings)
    errors: list[str] = []
    for source in sources:
        try:
            return source.fetch(store, spec.name, progress, force)
        except ModelNotAvailableError as err:
            errors.append(str(err))
        except Exception as err:
            from .errors import ServerUnreachableError

            if not isinstance(err, ServerUnreachableError) or source is sources[-1]:
                raise
            errors.append(str(err))
    raise ModelNotAvailableError(errors[-1] if len(errors) == 1 else " | ".join(errors))
