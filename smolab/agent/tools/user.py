"""The user's own tools: every public function with type hints and a docstring in a Python
file (``tools.py``) or module (``my_pkg.tools``, or one function: ``my_pkg.tools:fn``)."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
from pathlib import Path
from types import ModuleType

from .base import Tool, make_tool


class UserToolError(ValueError):
    """A tools file or module that cannot be loaded; the message says which and why."""


def _module(spec: str) -> ModuleType:
    path = Path(spec)
    if spec.endswith(".py"):
        if not path.is_file():
            raise UserToolError(f"tools file {spec} does not exist")
        mod_spec = importlib.util.spec_from_file_location(f"smolab_user_tools_{path.stem}", path)
        if mod_spec is None or mod_spec.loader is None:
            raise UserToolError(f"cannot load {spec} as Python")
        module = importlib.util.module_from_spec(mod_spec)
        try:
            mod_spec.loader.exec_module(module)
        except Exception as err:
            raise UserToolError(f"{spec} failed to load: {type(err).__name__}: {err}") from None
        return module
    try:
        return importlib.import_module(spec)
    except Exception as err:
        raise UserToolError(f"cannot import tools module {spec}: {type(err).__name__}: {err}") from None


def _check(fn: object, where: str) -> None:
    sig = inspect.signature(fn)  # type: ignore[arg-type]
    missing = [p.name for p in sig.parameters.values() if p.annotation is inspect.Parameter.empty]
    if missing:
        raise UserToolError(f"{where}: give type hints to {', '.join(missing)} (the model reads them)")


def load_user_tools(spec: str) -> list[Tool]:
    name, _, attr = spec.partition(":") if not spec.endswith(".py") else (spec, "", "")
    module = _module(name)
    if attr:
        fn = getattr(module, attr, None)
        if not callable(fn):
            raise UserToolError(f"{name} has no function {attr}")
        candidates = [fn]
    else:
        candidates = [
            obj
            for key, obj in vars(module).items()
            if inspect.isfunction(obj) and not key.startswith("_") and obj.__module__ == module.__name__
        ]
        if not candidates:
            raise UserToolError(f"{spec} defines no public function to use as a tool")
    tools = []
    for fn in candidates:
        where = f"{spec}: {fn.__name__}"
        _check(fn, where)
        try:
            tools.append(make_tool(fn, source=spec))
        except ValueError as err:
            raise UserToolError(f"{where}: {err}") from None
    return tools
