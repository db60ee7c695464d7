"""Check a Document against schemas/envc.schema.json and explain each failure in user terms.

The schema is the single source of truth for the spec's shape; this module only
translates jsonschema's errors into located, actionable messages. Schemas carry an
`x-error` text for failures a generic message cannot explain well, and
`x-type-error` where a wrong type deserves a specific fix.
"""
from __future__ import annotations

import json
from functools import lru_cache

from envc.common.diagnostics import Diagnostic, SpecError, closest, did_you_mean, error
from envc.common.schema import matches, resolve, schema
from envc.core.document import Document

REDACTED_KEYS = ("index_url", "extra_index_urls", "registry")  # never echo values that may hold credentials


@lru_cache(maxsize=None)
def _validator():
    from jsonschema import Draft202012Validator, validators

    return validators.extend(Draft202012Validator, {"pattern": _ecma_pattern})(schema())


def _ecma_pattern(validator, pattern, instance, schema):
    """`pattern` with ECMA-262's `$` (see envc.common.schema.matches)."""
    from jsonschema.exceptions import ValidationError

    if isinstance(instance, str) and not matches(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def check_schema(doc: Document) -> None:
    """Raise SpecError with every schema violation in doc, or return None."""
    from envc.core.fastcheck import is_valid

    if not doc.errors and is_valid(schema(), doc.data):
        return  # jsonschema is imported only to explain errors
    problems = list(doc.errors) + [d for err in _validator().iter_errors(doc.data) for d in explain(err, doc)]
    if problems:
        raise SpecError(problems)


def explain(err, doc: Document) -> list[Diagnostic]:
    path = tuple(err.absolute_path)
    keyword = err.validator
    schema_path = tuple(err.absolute_schema_path)
    if "propertyNames" in schema_path:
        return [error(doc.key_at(path + (err.instance,)), f"'{err.instance}' {err.schema.get('x-error', 'is not a valid key')}")]
    if keyword == "additionalProperties":
        allowed = err.schema.get("properties", {})
        where = f" in '{path[-1]}'" if path and isinstance(path[-1], str) else ""
        return [error(doc.key_at(path + (key,)), f"unknown key '{key}'{where}{_suggest(key, err.schema)}")
                for key in err.instance if key not in allowed]
    if keyword in ("anyOf", "oneOf"):
        return _explain_alternatives(err, doc, path)
    if keyword == "type":
        return [error(doc.at(path), _type_message(err, doc, path))]
    if keyword == "required":
        missing = [key for key in err.validator_value if key not in err.instance]
        hint = err.schema.get("x-error")
        return [error(doc.key_at(path) if path else doc.at(path), hint or f"missing required key '{key}'") for key in missing[:1 if hint else None]]
    message = _nearest_x_error(schema_path) or _generic(err)
    if keyword == "pattern" and isinstance(err.instance, str) and not _redacted(schema_path, err.instance):
        from envc.common.package_specs import placeholder_problem

        placeholder = placeholder_problem(err.instance)
        if placeholder:
            return [error(doc.at(path), placeholder)]
    if keyword == "enum":
        message = f"'{_short(err.instance)}' {message}{did_you_mean(str(err.instance), map(str, err.validator_value))}"
    elif keyword == "pattern" and not _redacted(schema_path, err.instance):
        message = f"'{_short(err.instance)}' {message}"
    elif keyword == "pattern":
        message = f"this value {message}"
    return [error(doc.at(path), message)]


def _suggest(key: str, schema: dict) -> str:
    """A did-you-mean from the allowed keys, or from the schema's x-did-you-mean for names other tools use."""
    hint = did_you_mean(key, schema.get("properties", {}))
    if hint:
        return hint
    aliases = schema.get("x-did-you-mean", {})
    alias = key if key in aliases else closest(key, aliases)
    return f" (did you mean '{aliases[alias]}'?)" if alias else ""


def _explain_alternatives(err, doc, path) -> list[Diagnostic]:
    """For 'a string or a {pip: [...]}' style choices: explain the branch whose type fits."""
    branches: dict = {}
    for sub in err.context:
        branches.setdefault(sub.relative_schema_path[0], []).append(sub)
    fitting = [subs for subs in branches.values()
               if not any(s.validator == "type" and tuple(s.absolute_path) == path for s in subs)]
    if len(fitting) == 1:
        return [d for sub in fitting[0] for d in explain(sub, doc)]
    expected = err.schema.get("x-error", "does not match any allowed form")
    return [error(doc.at(path), f"{expected}, got {_describe_value(err.instance)}")]


def _type_message(err, doc, path) -> str:
    expected = _describe_schema(err.schema)
    got = _describe_value(err.instance)
    message = f"expected {expected}, got {got}"
    if err.schema.get("x-type-error"):
        return f"{message}: {err.schema['x-type-error']}"
    raw = doc.raw_scalars.get(path)
    if err.schema.get("type") == "string" and err.instance is None and raw:  # `null`, `~`: rarely meant as that text
        return f"{message}: write the value, or leave the key out (quote it, \"{_short(raw)}\", to mean that text)"
    if err.schema.get("type") == "string" and raw is not None and raw != "":
        return f"{message}: quote it (\"{_short(raw)}\") to keep it exactly as written"
    if err.schema.get("type") == "array" and isinstance(err.instance, (str, int, float)) and not isinstance(err.instance, bool):
        return f"{message}: write it as a list, e.g. [{_short(str(err.instance))}]"
    return message


def _describe_schema(schema: dict) -> str:
    kind = schema.get("type")
    if kind == "array":
        items = schema.get("items", {})
        items = resolve(items)
        return "a list of strings" if items.get("type") == "string" else "a list"
    if kind == "object":
        if isinstance(schema.get("additionalProperties"), dict) and schema["additionalProperties"].get("type") == "string":
            return "a mapping of names to strings"
        return "a mapping"
    return {"string": "a string", "boolean": "true or false", "integer": "a whole number", "number": "a number"}.get(kind, str(kind))


def _describe_value(value) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "an empty value"
    names = {str: "a string", int: "a number", float: "a number", list: "a list", dict: "a mapping"}
    return next((name for kind, name in names.items() if isinstance(value, kind)), f"a {type(value).__name__}")


def _nearest_x_error(schema_path: tuple):
    """The x-error of the deepest schema along schema_path that has one ($refs followed)."""
    node, found = schema(), None
    for step in schema_path:
        if isinstance(node, dict) and "x-error" in node:
            found = node["x-error"]
        if isinstance(node, dict) and "$ref" in node and step not in node:
            node = resolve({"$ref": node["$ref"]})  # jsonschema's paths step through $ref silently
            if "x-error" in node:
                found = node["x-error"]
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            return found
    if isinstance(node, dict) and "x-error" in node:
        found = node["x-error"]
    return found


def _redacted(schema_path: tuple, value) -> bool:
    """Values that may hold credentials are never echoed, wherever they were typed."""
    from envc.common.package_specs import URL_CREDENTIALS, conda_token, url_secret_parameter

    text = str(value)
    return any(key in schema_path for key in REDACTED_KEYS) or bool(URL_CREDENTIALS.search(text) or conda_token(text) or url_secret_parameter(text))


def _generic(err) -> str:
    keyword, value = err.validator, err.validator_value
    if keyword == "minItems":
        return "must not be empty" if value == 1 else f"needs at least {value} entries"
    if keyword in ("minProperties", "maxProperties"):
        return "has the wrong number of keys"
    if keyword == "maxLength":
        return f"is longer than {value} characters"
    if keyword == "const":
        return f"must be {json.dumps(value)}"
    if keyword == "enum":
        return f"must be one of {', '.join(map(json.dumps, value))}"
    return f"is not allowed here ({keyword})"


def _short(text: str, limit: int = 60) -> str:
    """The value as it can be shown on one line: control characters escaped, long text cut."""
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))
    return text if len(text) <= limit else text[: limit - 3] + "..."
