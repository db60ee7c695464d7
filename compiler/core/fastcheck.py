"""A yes/no JSON Schema check for the keywords envc's schema uses, without importing jsonschema.

Valid specs (nearly every run) pass here in microseconds; only an invalid one pays for
jsonschema, which then explains every error. Annotations (JSON Schema's meta-data words, the
editors' completion and hover words, envc's own x- facts) say nothing about validity and are
skipped. Any other keyword this module does not know makes it answer "not valid", so jsonschema
decides: a schema change can make envc slower, never wrong. tests/test_fastcheck.py holds both to
the same answers on generated and mutated specs, and checks that every keyword the schema uses is
known here.
"""
from __future__ import annotations

from envc.common.schema import matches

ANNOTATIONS = {
    # JSON Schema 2020-12: core words that do not validate, and the meta-data vocabulary
    "$schema", "$id", "$defs", "$comment", "title", "description", "default", "examples", "deprecated",
    "readOnly", "writeOnly",
    # editors (VS Code's JSON language service, yaml-language-server): completion and hover text
    "markdownDescription", "enumDescriptions", "markdownEnumDescriptions", "defaultSnippets", "deprecationMessage",
    "doNotSuggest", "suggestSortText",
}
TYPES = {
    "object": lambda v: isinstance(v, dict), "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str), "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool) or isinstance(v, float) and v.is_integer(),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
}


def is_valid(schema, instance, root=None) -> bool:
    root = root if root is not None else schema
    if schema is True or schema == {}:
        return True
    if schema is False:
        return False
    for keyword, value in schema.items():
        if keyword in ANNOTATIONS or keyword.startswith("x-"):
            continue
        check = _KEYWORDS.get(keyword)
        if check is None or not check(value, instance, schema, root):
            return False
    return True


def _ref(ref, instance, schema, root):
    node = root
    for part in ref.lstrip("#/").split("/"):
        node = node[part]
    return is_valid(node, instance, root)


def _type(kind, instance, schema, root):
    return any(TYPES[k](instance) for k in ([kind] if isinstance(kind, str) else kind))


def _properties(properties, instance, schema, root):
    return not isinstance(instance, dict) or all(
        is_valid(properties[k], v, root) for k, v in instance.items() if k in properties)


def _additional(additional, instance, schema, root):
    if not isinstance(instance, dict):
        return True
    declared = schema.get("properties", {})
    return all(is_valid(additional, v, root) for k, v in instance.items() if k not in declared)


def _pattern(pattern, instance, schema, root):
    return not isinstance(instance, str) or matches(pattern, instance)


def _equal(a, b) -> bool:
    """JSON equality: true is not 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    return a == b


def _if(condition, instance, schema, root):
    branch = "then" if is_valid(condition, instance, root) else "else"
    return is_valid(schema.get(branch, True), instance, root)


_KEYWORDS = {
    "$ref": _ref,
    "type": _type,
    "properties": _properties,
    "additionalProperties": _additional,
    "required": lambda keys, i, s, r: not isinstance(i, dict) or all(k in i for k in keys),
    "pattern": _pattern,
    "enum": lambda options, i, s, r: any(_equal(i, o) for o in options),
    "const": lambda value, i, s, r: _equal(i, value),
    "items": lambda items, i, s, r: not isinstance(i, list) or all(is_valid(items, v, r) for v in i),
    "anyOf": lambda options, i, s, r: any(is_valid(o, i, r) for o in options),
    "not": lambda sub, i, s, r: not is_valid(sub, i, r),
    "dependentSchemas": lambda deps, i, s, r: not isinstance(i, dict) or all(
        is_valid(sub, i, r) for k, sub in deps.items() if k in i),
    "if": _if,
    "then": lambda sub, i, s, r: True,  # applied by "if"
    "else": lambda sub, i, s, r: True,
    "propertyNames": lambda sub, i, s, r: not isinstance(i, dict) or all(is_valid(sub, k, r) for k in i),
    "minItems": lambda n, i, s, r: not isinstance(i, list) or len(i) >= n,
    "minProperties": lambda n, i, s, r: not isinstance(i, dict) or len(i) >= n,
    "maxProperties": lambda n, i, s, r: not isinstance(i, dict) or len(i) <= n,
    "maxLength": lambda n, i, s, r: not isinstance(i, str) or len(i) <= n,
}
