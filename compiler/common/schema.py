"""schemas/envc.schema.json: the spec language's single source of truth, and the facts derived from it.

Validation reads it, and so does everything that needs a per-key fact (a default, which keys hold
paths): those facts are annotations in the schema, never lists kept by hand elsewhere.
"""
from __future__ import annotations

import json
from functools import lru_cache


@lru_cache(maxsize=None)
def schema() -> dict:
    return json.loads(schema_text())


def schema_text() -> str:
    """The schema file's text (next to the envc.schemas package; importlib.resources costs ~7 ms)."""
    import os

    import envc.schemas

    with open(os.path.join(os.path.dirname(envc.schemas.__file__), "envc.schema.json"), encoding="utf-8") as handle:
        return handle.read()


def matches(pattern: str, value: str) -> bool:
    """Whether value matches a schema pattern as JSON Schema (ECMA-262) means it: `$` is the end of
    the string. Python's `$` also matches before a final newline, which would let "name\\n" through
    every anchored pattern and into the Dockerfile."""
    return bool(_compiled(pattern).search(value))


@lru_cache(maxsize=None)
def _compiled(pattern: str):
    import re

    return re.compile(pattern[:-1] + r"\Z" if pattern.endswith("$") and not pattern.endswith("\\$") else pattern)


def resolve(node: dict) -> dict:
    """node, or the definition its $ref names."""
    while isinstance(node, dict) and "$ref" in node:
        target = schema()
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def property_schema(*path: str) -> dict:
    """The schema of the key at path, e.g. property_schema("pip", "installer"), $refs followed."""
    node = schema()
    for key in path:
        node = resolve(node)["properties"][key]
    return resolve(node)


def default(*path: str):
    """The schema's default for the key at path (what an omitted key means)."""
    return property_schema(*path)["default"]


def leaf_keys() -> dict:
    """Every leaf key of the spec language: path (a tuple of keys) -> its schema, $refs followed.
    A leaf is a key that carries the per-key facts (x-envc-export, and x-envc-path for paths);
    sections (base, pip, ...) hold leaves. env and labels are leaves: their keys are the user's."""
    found = {}

    def walk(node: dict, path: tuple) -> None:
        for key, child in node.get("properties", {}).items():
            child = resolve(child)
            if "x-envc-export" in child:
                found[path + (key,)] = child
            else:
                walk(child, path + (key,))

    walk(schema(), ())
    return found


def path_keys() -> tuple:
    """The keys whose values are paths relative to the spec's folder: ((path, "file" | "folder"), ...)."""
    return tuple((path, node["x-envc-path"]) for path, node in leaf_keys().items() if "x-envc-path" in node)
