"""The root of smolab's exception tree.

Every error a user can cause or fix derives from :class:`SmolabError`; its
message is one line saying what went wrong and what to do next. Only the CLI
prints these; the library raises them. Each package adds its own subtree::

    SmolabError
    ├── ConfigError              bad smolab.toml or environment value
    └── ModelError               (smolab.models.errors)
"""

from __future__ import annotations


class SmolabError(Exception):
    """An error the user can act on; ``str(err)`` is the one-line message."""

    exit_code: int = 1


class ConfigError(SmolabError):
    """A configuration value (environment or smolab.toml) is invalid."""

    exit_code = 2
