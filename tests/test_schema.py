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


def test_editors_and_ci_validate_specs_with_check_jsonschema():
    """The schema as a third-party validator (what editors and CI use) reads it: goldens pass, typos fail."""
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    tool = shutil.which("check-jsonschema", path=str(Path(sys.executable).parent)) or "check-jsonschema"
    schema_file = str(REPO / "schemas" / "envc.schema.json")
    valid = [str(golden_input(c)) for c in GOLDEN.iterdir() if golden_input(c).name == "envc.yml" and not c.name.startswith("error-")]
    passed = subprocess.run([tool, "--schemafile", schema_file, *valid], capture_output=True, text=True)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    failed = subprocess.run([tool, "--schemafile", schema_file, str(GOLDEN / "error-typos" / "envc.yml")], capture_output=True, text=True)
    assert failed.returncode == 1 and "'dependancies'" in failed.stdout


def _relative_path_keys(node, at=()):
    """Key paths of every schema property whose value or items are a relativePath."""
    found = set()
    if isinstance(node, dict):
        for key, value in node.get("properties", {}).items():
            if value.get("$ref") == "#/$defs/relativePath" or value.get("items", {}).get("$ref") == "#/$defs/relativePath":
                found.add(at + (key,))
            found |= _relative_path_keys(value, at + (key,))
    return found


def test_every_leaf_key_carries_its_facts():
    """Per-key facts live in the schema: each leaf says which export formats hold it and has a title
    (the warnings name it); every path key, and only those, is marked x-envc-path."""
    from envc.common.schema import leaf_keys, path_keys

    leaves = leaf_keys()
    assert len(leaves) >= 27
    for path, node in leaves.items():
        assert set(node["x-envc-export"]) <= {"conda", "requirements", "azureml-v2", "azureml-v1"}, path
        assert node.get("title"), path
    assert {path for path, _ in path_keys()} == _relative_path_keys(SCHEMA)
    covered = {leaf[:depth] for leaf in leaves for depth in range(1, len(leaf) + 1)}
    declared = {tuple(p for p in path.split("/")[0].split(".") if p) for path, _ in properties(SCHEMA) if "/" not in path}
    assert declared <= covered, declared - covered  # no key of the spec is without facts


def test_every_leaf_key_offers_a_value_to_complete():
    """Editors complete a key with a value to overwrite (an example, the default, the choices or a snippet), not a
    bare key: tests/test_editor.py shows it in yaml-language-server."""
    from envc.common.schema import leaf_keys

    bare = [path for path, node in leaf_keys().items()
            if not {"examples", "default", "enum", "defaultSnippets"} & set(node)]
    assert bare == []


def test_editor_annotations_are_well_formed():
    """defaultSnippets have a label and a body; enum descriptions match their enum; examples are lists."""
    def nodes(node):
        if isinstance(node, dict):
            yield node
            for value in node.values():
                yield from nodes(value)
        elif isinstance(node, list):
            for item in node:
                yield from nodes(item)

    for node in nodes(SCHEMA):
        for snippet in node.get("defaultSnippets", []) if isinstance(node.get("defaultSnippets"), list) else []:
            assert snippet.get("label") and "body" in snippet and snippet.get("description"), snippet
        for key in ("enumDescriptions", "markdownEnumDescriptions"):
            if isinstance(node.get(key), list):
                assert len(node[key]) == len(node["enum"]), node
        if "examples" in node and "type" in node or "examples" in node and "$ref" in node:
            assert isinstance(node["examples"], list) and node["examples"], node
