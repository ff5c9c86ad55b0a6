"""An installed library without the name the code asked for: small models take the error for an
old version and ask to upgrade (denied where no one can approve, again and again). The note says
the library is installed, at which version, and which of its names are close to the one asked
for. The agent's sandbox runs smolab's own interpreter, so the module is looked at here."""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata
import re

_FROM = re.compile(r"cannot import name '(\w+)' from '([\w.]+)'")
_ATTR = re.compile(r"module '([\w.]+)' has no attribute '(\w+)'")

# Distributions whose import name differs from their package name.
_DISTRIBUTION = {"sklearn": "scikit-learn", "yaml": "PyYAML", "cv2": "opencv-python", "PIL": "Pillow"}


def _version(module: str) -> str:
    top = module.split(".")[0]
    try:
        return importlib.metadata.version(_DISTRIBUTION.get(top, top))
    except importlib.metadata.PackageNotFoundError:
        return ""


def missing_name_note(error: str, most: int = 4) -> str:
    """A line for the first missing name ``error`` reports from an importable module; "" when
    it reports none, or the module does not import here either."""
    m = _FROM.search(error)
    found = (m.group(2), m.group(1)) if m else None
    if found is None and (a := _ATTR.search(error)):
        found = (a.group(1), a.group(2))
    if found is None:
        return ""
    module, name = found
    try:
        mod = importlib.import_module(module)
    except Exception:  # a broken or absent module: the error says enough
        return ""
    public = [n for n in dir(mod) if not n.startswith("_")]
    close = difflib.get_close_matches(name, public, n=most, cutoff=0.5)
    close += [n for n in public if name.lower() in n.lower() and n not in close][: most - len(close)]
    version = _version(module)
    installed = f"{module} {version}" if version else module
    hint = f"; use what it has (close names: {', '.join(close)})" if close else ""
    return f"({installed} is installed here and this version has no {name}{hint}.)"
