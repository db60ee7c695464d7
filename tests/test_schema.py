"""schemas/envc.schema.json is a valid 2020-12 schema and documents every property."""
import json

from jsonschema import Draft202012Validator

from conftest import GOLDEN, REPO, golden_input

SCHEMA = json.loads((REPO / "schemas" / "envc.schema.json").read_text())


def properties(node, path=""):
    """Declared properties; constraints in if/then/dependentSchemas only restrict them."""
    if isinstance(node, dict):
        for name, sub in node.get("properties", {}).items():
            yield f"{path}.{name}", sub
        for key, value in node.items():
            if key not in ("if", "then", "dependentSchemas"):
                yield from properties(value, f"{path}/{key}" if key != "properties" else path)
    elif isinstance(node, list):
        for item in node:
            yield from properties(item, path)


def test_schema_is_valid_draft_2020_12():
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_every_property_has_a_description():
    missing = [path for path, sub in properties(SCHEMA) if "description" not in sub]
    assert missing == []


def test_every_object_rejects_unknown_keys():
    def objects(node):
        if isinstance(node, dict):
            if node.get("type") == "object" and "properties" in node:
                yield node
            for value in node.values():
                yield from objects(value)
    assert all(o.get("additionalProperties") is False for o in objects(SCHEMA))


def test_golden_envc_specs_validate_with_plain_jsonschema():
    """The schema alone (as editors use it) accepts every valid golden envc spec."""
    import yaml

    validator = Draft202012Validator(SCHEMA)
    for case in GOLDEN.iterdir():
        spec = golden_input(case)
        if spec.name == "envc.yml" and not case.name.startswith("error-"):
            assert list(validator.iter_errors(yaml.safe_load(spec.read_text()))) == [], case
