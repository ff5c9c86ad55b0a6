"""Errors raised by the model layer.

::

    ModelError
    ├── UnknownModelError        name not in the registry (lists the known ones)
    ├── ModelNotAvailableError   registered but not on disk (says how to get it)
    ├── CorruptModelError        wrong size / checksum / unreadable GGUF
    ├── ContextLengthError       prompt does not fit the context window
    ├── MissingAPIKeyError       hosted model without its key variable
    ├── StructuredOutputError    reply still invalid after the repair attempts
    └── APIError                 a backend call failed
        ├── TransientAPIError    worth retrying (connection, timeout, 5xx, 429)
        │   └── ServerUnreachableError  cannot connect to the URL at all
        └── PermanentAPIError    not worth retrying (401, 403, 404, 400)
"""

from __future__ import annotations

from ..errors import SmolabError


class ModelError(SmolabError):
    """Base class of every model-layer error."""


class UnknownModelError(ModelError):
    exit_code = 2


class ModelNotAvailableError(ModelError):
    pass


class CorruptModelError(ModelError):
    pass


class ContextLengthError(ModelError):
    def __init__(self, prompt_tokens: int, max_tokens: int, context_window: int, model: str):
        self.prompt_tokens = prompt_tokens
        self.max_tokens = max_tokens
        self.context_window = context_window
        super().__init__(
            f"prompt is {prompt_tokens} tokens and {max_tokens} more are reserved for the reply, "
            f"but {model} has a {context_window}-token context window; "
            "shorten the prompt, lower --max-tokens or pick a model with a larger window"
        )


class MissingAPIKeyError(ModelError):
    exit_code = 2


class StructuredOutputError(ModelError):
    def __init__(self, message: str, last_reply: str):
        self.last_reply = last_reply
        super().__init__(message)


class APIError(ModelError):
    def __init__(self, message: str, status: int | None = None):
        self.status = status
        super().__init__(message)


class TransientAPIError(APIError):
    def __init__(self, message: str, status: int | None = None, retry_after: float | None = None):
        self.retry_after = retry_after
        super().__init__(message, status)


class ServerUnreachableError(TransientAPIError):
    pass


class PermanentAPIError(APIError):
    pass
