"""Structured output: JSON schemas for pydantic models, bound checks, validation messages.

Small models loop inside an unbounded array or string until max_tokens runs
out, so every schema sent to a model must bound its arrays (``maxItems``) and
strings (``maxLength``). :func:`unbounded_paths` finds the places that do not.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ValidationError


def schema_for(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON schema of ``model`` with every ``$ref`` inlined (grammar converters want it flat)."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return inline(defs[ref.removeprefix("#/$defs/")])
            return {k: inline(v) for k, v in node.items()}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    flat: dict[str, Any] = inline(schema)
    return flat


def unbounded_paths(schema: dict[str, Any], path: str = "$") -> list[str]:
    """Paths in ``schema`` where an array has no maxItems or a free string has no maxLength."""
    found: list[str] = []
    types = schema.get("type")
    type_set = set(types) if isinstance(types, list) else {types}
    free_string = not any(k in schema for k in ("enum", "const", "maxLength", "format", "pattern"))
    if "string" in type_set and free_string:
        found.append(path)
    if "array" in type_set:
        if "maxItems" not in schema:
            found.append(path)
        items = schema.get("items")
        if isinstance(items, dict):
            found += unbounded_paths(items, path + "[]")
    for name, sub in (schema.get("properties") or {}).items():
        found += unbounded_paths(sub, f"{path}.{name}")
    for key in ("anyOf", "oneOf", "allOf"):
        for i, sub in enumerate(schema.get(key) or []):
            found += unbounded_paths(sub, f"{path}<{key}{i}>")
    return found


def max_reply_chars(schema: dict[str, Any]) -> int:
    """An upper bound on the characters of a compact JSON value valid under a bounded schema.

    Every token is at least one character, so this also bounds the tokens a
    grammar-constrained reply can take: a structured call given this many
    tokens always finishes its object instead of being cut off mid-way.
    """
    if "enum" in schema:
        return max(len(json.dumps(v)) for v in schema["enum"])
    if "const" in schema:
        return len(json.dumps(schema["const"]))
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return max(max_reply_chars(s) for s in schema[key])
    types = schema.get("type")
    kind = types[0] if isinstance(types, list) else types
    if kind == "object" or "properties" in schema:
        props = schema.get("properties") or {}
        return 2 + sum(len(json.dumps(k)) + 2 + max_reply_chars(v) for k, v in props.items())
    if kind == "array":
        items = schema.get("items") or {}
        return 2 + int(schema.get("maxItems", 0)) * (max_reply_chars(items) + 1)
    if kind == "string":
        # Two quotes; escapes (\n, \") can double a character, rarely; allow a quarter more.
        return 2 + int(schema.get("maxLength", 0) * 1.25)
    if kind in ("integer", "number"):
        return 24
    if kind == "boolean":
        return 5
    return 4  # null


def compact_schema(schema: dict[str, Any]) -> str:
    """The schema as a short line for the prompt: titles and descriptions kept, noise dropped."""

    def strip(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: strip(v) for k, v in node.items() if k not in ("title", "additionalProperties")}
        if isinstance(node, list):
            return [strip(v) for v in node]
        return node

    return json.dumps(strip(schema), separators=(",", ":"))


def schema_instruction(schema: dict[str, Any]) -> str:
    """The line appended to a structured request, so the model knows the fields to fill."""
    return f"Reply with only a JSON object that matches this JSON schema: {compact_schema(schema)}"


def describe_error(err: ValidationError | json.JSONDecodeError, limit: int = 3) -> str:
    """A short, model-readable account of why a reply failed validation."""
    if isinstance(err, json.JSONDecodeError):
        return f"not valid JSON ({err.msg} at character {err.pos})"
    parts = []
    for e in err.errors()[:limit]:
        where = ".".join(str(p) for p in e["loc"]) or "the object"
        parts.append(f"{where}: {e['msg']}")
    more = err.error_count() - limit
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts)


def extract_json(text: str) -> str:
    """The JSON object in a reply, tolerating prose or a code fence around it (hosted models)."""
    start, end = text.find("{"), text.rfind("}")
    if start == -1 or end < start:
        return text.strip()
    return text[start : end + 1]
