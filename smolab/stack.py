"""The ML stack: what code that smolab runs (generated repositories, the agent's steps) can import.

The sandbox runs smolab's own interpreter, so what is importable is what the set-up installed:
smolab's ``ml`` extra (declared once, in ``pyproject.toml``) and PyYAML, which every generated
config needs. The list is read from the installed distribution's metadata and checked by
import lookup, never written out by hand, so a package the set-up could not install (a
torchvision with no build for the pinned torch) is never promised to the model.
"""

from __future__ import annotations

import importlib.metadata as md
import importlib.util
import re
from functools import cache

EXTRA = "ml"
ALWAYS = ("yaml",)
"""Import names beside the extra's: PyYAML is a core dependency that generated code uses."""
OPTIONAL = ("torchvision", "torchaudio")
"""Installed by the set-up only where a build matching the pinned torch exists."""


def _name(requirement: str) -> str:
    return re.split(r"[\s;<>=!~\[]", requirement, maxsplit=1)[0]


def normalize(dist: str) -> str:
    return re.sub(r"[-_.]+", "-", dist).lower()


@cache
def import_names() -> dict[str, str]:
    """Top-level import name -> distribution name, for everything installed here."""
    out: dict[str, str] = {}
    for module, dists in md.packages_distributions().items():
        if dists and not module.startswith("_"):
            out.setdefault(module, dists[0])
    return out


def extra_distributions(extra: str = EXTRA) -> list[str]:
    """The distributions smolab's ``extra`` declares (empty when smolab's metadata is missing)."""
    try:
        requires = md.requires("smolab") or []
    except md.PackageNotFoundError:
        return []
    marker = re.compile(rf"""extra\s*==\s*["']{re.escape(extra)}["']""")
    return [_name(r) for r in requires if marker.search(r)]


@cache
def ml_stack() -> tuple[str, ...]:
    """Import names of the ML packages that import here, in a stable order."""
    wanted = {normalize(d) for d in extra_distributions()}
    by_dist: dict[str, list[str]] = {}
    for module, dist in import_names().items():
        if normalize(dist) in wanted:
            by_dist.setdefault(normalize(dist), []).append(module)
    # A distribution's own module (torch, not the functorch it also ships), else its only one.
    names = {
        next((m for m in mods if normalize(m) == dist), min(mods, key=len)) for dist, mods in by_dist.items()
    }
    names |= {m for m in (*ALWAYS, *OPTIONAL) if importlib.util.find_spec(m) is not None}
    return tuple(sorted(n for n in names if importlib.util.find_spec(n) is not None))


def distribution(module: str) -> str:
    """The distribution that provides ``module`` (``sklearn`` -> ``scikit-learn``), or the name itself."""
    return import_names().get(module, module)


def stack_line() -> str:
    """One line for a prompt: what may be imported beside the standard library."""
    return ", ".join(ml_stack()) or "no third-party package"
