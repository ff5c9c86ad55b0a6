"""The model layer: one chat interface over local GGUFs, OpenAI-compatible servers and hosted APIs.

>>> from smolab.models import load_model
>>> model = load_model("smollm2-135m")
>>> model.chat("Say hi").text
"""

from .chat import CallRecord, ChatDefaults, ChatModel, Stream
from .errors import (
    APIError,
    ContextLengthError,
    CorruptModelError,
    MissingAPIKeyError,
    ModelError,
    ModelNotAvailableError,
    PermanentAPIError,
    ServerUnreachableError,
    StructuredOutputError,
    TransientAPIError,
    UnknownModelError,
)
from .loader import list_models, load_model, pull
from .registry import DEFAULT_MODEL, REGISTRY, ModelSpec, resolve
from .retry import RetryPolicy
from .scripted import ScriptedBackend
from .types import Backend, Chunk, Completion, GenerateParams, Message, Usage

__all__ = [
    "APIError",
    "Backend",
    "CallRecord",
    "ChatDefaults",
    "ChatModel",
    "Chunk",
    "Completion",
    "ContextLengthError",
    "CorruptModelError",
    "DEFAULT_MODEL",
    "GenerateParams",
    "Message",
    "MissingAPIKeyError",
    "ModelError",
    "ModelNotAvailableError",
    "ModelSpec",
    "PermanentAPIError",
    "REGISTRY",
    "RetryPolicy",
    "ScriptedBackend",
    "ServerUnreachableError",
    "Stream",
    "StructuredOutputError",
    "TransientAPIError",
    "UnknownModelError",
    "Usage",
    "list_models",
    "load_model",
    "pull",
    "resolve",
]
