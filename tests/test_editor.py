"""The editor, for real: yaml-language-server (npm, pinned by tests/editor/package-lock.json) spoken to over LSP
stdio, with the README's modeline and VS Code setting, offers what a user typing a spec needs.

The server is installed by scripts/ci-install-yaml-language-server.sh into .venv/yaml-language-server (no global
install); this test runs the script when the server is missing and npm is there. Without npm it is skipped, except
in CI (CI=true), where a missing server fails. ENVC_YAML_LANGUAGE_SERVER names another server binary.

`python tests/test_editor.py --update-readme` rewrites the README's editor configuration from the schema's $id.
"""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import GOLDEN, REPO, golden_input
from lsp import Client, text

SCHEMA_FILE = REPO / "schemas" / "envc.schema.json"
SCHEMA = json.loads(SCHEMA_FILE.read_text())
SERVER = REPO / ".venv" / "yaml-language-server" / "node_modules" / ".bin" / "yaml-language-server"
MODELINE = "# yaml-language-server: $schema=schemas/envc.schema.json\n"  # the spec language's example, in the README
FILE_MATCH = ["envc.yml", "envc.yaml", "*.envc.yml", "*.envc.yaml"]  # env.yml: too often a conda file to claim


# The README's editor configuration, derived from the schema's $id (the one place that names its URL).

def editor_blocks(url: str) -> dict:
    settings = {"yaml.schemas": {url: FILE_MATCH}}
    entry = {"name": "envc", "description": "envc environment spec, compiled into a reproducible Dockerfile",
             "fileMatch": FILE_MATCH, "url": url}
    return {"modeline": f"# yaml-language-server: $schema={url}",
            "vscode": json.dumps(settings, indent=2), "schemastore": json.dumps(entry, indent=2)}


def readme_blocks(readme: str) -> dict:
    return {m.group(1): m.group(2).rstrip("\n")
            for m in re.finditer(r"<!-- editor (\w+): tests/test_editor.py -->\n```\w*\n(.*?)```", readme, re.S)}


def test_the_readme_editor_configuration_names_the_schema_id():
    assert readme_blocks(REPO.joinpath("README.md").read_text()) == editor_blocks(SCHEMA["$id"]), \
        "run: python tests/test_editor.py --update-readme"


def test_the_schema_id_is_the_raw_file_on_the_default_branch():
    """The schema is served from the repository itself: $id is the raw URL of this file on the default branch."""
    assert re.fullmatch(r"https://raw\.githubusercontent\.com/[\w.-]+/[\w.-]+/main/schemas/envc\.schema\.json", SCHEMA["$id"])


# The server.

def _ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _server_command():
    """The language server's command line, or a reason it cannot be had."""
    given = os.environ.get("ENVC_YAML_LANGUAGE_SERVER")
    if given:
        return [given, "--stdio"], None
    if not SERVER.exists() and not _ci() and shutil.which("npm"):
        done = subprocess.run(["bash", str(REPO / "scripts" / "ci-install-yaml-language-server.sh")],
                              capture_output=True, text=True)
        if done.returncode != 0:
            return None, f"installing yaml-language-server failed: {done.stderr.strip()[-500:]}"
    if not SERVER.exists():
        return None, f"{SERVER} is missing: run scripts/ci-install-yaml-language-server.sh (needs Node.js 20 and npm)"
    return [str(SERVER), "--stdio"], None


SETTINGS = {"yaml": {"validate": True, "hover": True, "completion": True, "format": {"enable": False},
                     "schemaStore": {"enable": False}, "schemas": {}}}


@pytest.fixture(scope="module")
def server():
    command, missing = _server_command()
    if command is None:
        if _ci():
            pytest.fail(f"CI is set but the language server is unusable: {missing}", pytrace=False)
        pytest.skip(f"the editor tests need yaml-language-server: {missing} (with CI=true this fails instead)")
    client = Client(command, SETTINGS, REPO.as_uri())
    yield client
    client.close()


def uri(name):
    """A document in this checkout (it need not exist: the editor sends the text), so that the README's relative
    modeline finds schemas/envc.schema.json."""
    return (REPO / name).as_uri()


def schema_at(*path):
    node = SCHEMA
    for key in path:
        node = node["properties"][key]
    if "$ref" in node:
        target = SCHEMA
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = {**target, **node}
    return node


def plain(markdown: str) -> str:
    """Text without markdown escapes, for comparing the schema's words with what the editor shows."""
    return markdown.replace("\\", "")


def documented(node) -> str:
    return node.get("markdownDescription") or node["description"]


def test_completion_under_base_offers_its_keys_with_descriptions(server):
    doc = uri("editor-base.envc.yml")
    server.open(doc, MODELINE + "name: demo\nbase:\n  \n")
    items = {item["label"]: item for item in server.completion(doc, 3, 2)}
    for key in ("image", "dockerfile", "platform", "registry", "context", "user"):
        assert key in items, sorted(items)
        assert plain(text(items[key]["documentation"])) == plain(documented(schema_at("base", key))), key
    for key in ("image", "dockerfile", "platform", "context", "user"):  # a value to fill in, not a bare key
        assert items[key]["insertText"].startswith(f"{key}: "), items[key]["insertText"]
    assert items["registry"]["insertText"].startswith("registry:\n  address: ")
    assert "docker/base.Dockerfile" in items["dockerfile"]["insertText"]
    snippets = {label for label in items if " " in label}  # the base block's defaultSnippets
    assert {"base image", "base Dockerfile", "base image from a private registry"} <= snippets


def test_completion_at_the_top_offers_every_section_and_a_starter_spec(server):
    doc = uri("editor-top.envc.yml")
    server.open(doc, MODELINE + "name: demo\n\n")
    items = {item["label"]: item for item in server.completion(doc, 2, 0)}
    assert {"base", "system", "python", "conda", "pip", "env", "init", "labels", "description"} <= set(items)
    assert plain(text(items["conda"]["documentation"])) == plain(documented(schema_at("conda")))
    empty = uri("editor-empty.envc.yml")
    server.open(empty, MODELINE)
    labels = {item["label"] for item in server.completion(empty, 1, 0)}
    assert {"envc spec: pip packages", "envc spec: conda environment", "name"} <= labels


def test_snippets_for_the_common_blocks_and_values_to_choose(server):
    doc = uri("editor-blocks.envc.yml")
    server.open(doc, MODELINE + "name: demo\nconda:\n  \npip:\n  \ninit:\n  \nbase:\n  platform: \n")
    labels = lambda line, column: {item["label"] for item in server.completion(doc, line, column)}
    assert {"conda channels and dependencies", "conda environment file", "conda lock file"} <= labels(3, 2)
    assert {"pip packages", "pip requirements files", "pip from a private index"} <= labels(5, 2)
    assert "init scripts and command" in labels(7, 2)
    assert {"linux/amd64", "linux/arm64"} <= labels(9, 12)


def test_hover_on_a_key_shows_its_title_and_description(server):
    doc = uri("editor-hover.envc.yml")
    server.open(doc, MODELINE + "name: demo\nbase:\n  image: ubuntu:22.04\npip:\n  installer: uv\n  packages: [requests]\n")
    for (line, column), path in {(2, 1): ("base",), (3, 3): ("base", "image"), (5, 4): ("pip", "installer"),
                                 (6, 4): ("pip", "packages")}.items():
        shown = plain(text(server.hover(doc, line, column)["contents"]))
        node = schema_at(*path)
        assert f"#### {node['title']}" in shown and plain(documented(node)) in shown, (path, shown)
    installer = plain(text(server.hover(doc, 5, 4)["contents"]))
    assert all(plain(d) in installer for d in schema_at("pip", "installer")["markdownEnumDescriptions"])


def test_a_typo_gets_a_diagnostic_on_the_key(server):
    doc = uri("editor-typo.envc.yml")
    diagnostics = server.open(doc, MODELINE + "name: Bad Name\nconda:\n  dependancies: [python=3.10]\n"
                                              "base:\n  dockerfile: /etc/Dockerfile\n")
    found = {(d["range"]["start"]["line"], d["range"]["start"]["character"],
              d["range"]["end"]["line"], d["range"]["end"]["character"]): d for d in diagnostics}
    assert set(found) == {(3, 2, 3, 14), (1, 6, 1, 14), (5, 14, 5, 29)}, diagnostics
    assert "dependancies" in found[(3, 2, 3, 14)]["message"] and found[(3, 2, 3, 14)]["severity"] == 1
    assert found[(3, 2, 3, 14)]["data"]["properties"][:2] == ["channels", "dependencies"]  # what the key could be
    assert "pattern" in found[(1, 6, 1, 14)]["message"]  # the name's pattern
    assert "pattern" in found[(5, 14, 5, 29)]["message"]  # #/$defs/relativePath, resolved inside the file


def test_an_enum_value_completes_with_what_each_value_means(server):
    doc = uri("editor-enum.envc.yml")
    server.open(doc, MODELINE + "name: demo\npip:\n  installer: \n")
    items = {item["label"]: item for item in server.completion(doc, 3, 13)}
    assert set(items) == {"uv", "pip"}
    node = schema_at("pip", "installer")
    for value, description in zip(node["enum"], node["markdownEnumDescriptions"]):
        assert text(items[value]["documentation"]) == description
    assert items["uv"]["insertText"] == "uv"


def test_every_valid_golden_spec_is_clean_in_the_editor(server):
    """The schema as the editor's own validator (ajv) reads it: no false alarm on any valid golden spec."""
    schema_line = f"# yaml-language-server: $schema={SCHEMA_FILE}\n"
    cases = [c for c in sorted(GOLDEN.iterdir()) if golden_input(c).name == "envc.yml" and not c.name.startswith("error-")]
    assert len(cases) > 20
    for case in cases:
        spec = golden_input(case)
        assert server.open(spec.as_uri(), schema_line + spec.read_text()) == [], case.name
        server.close_document(spec.as_uri())


def test_the_readme_vscode_setting_associates_spec_names(tmp_path):
    """The README's `yaml.schemas` setting (its URL pointed at this file, as no network is assumed) gives specs named
    envc.yml and NAME.envc.yml the schema, and leaves other YAML alone."""
    command, missing = _server_command()
    if command is None:
        pytest.skip(missing) if not _ci() else pytest.fail(missing, pytrace=False)
    settings = json.loads(readme_blocks(REPO.joinpath("README.md").read_text())["vscode"])
    (url, patterns), = settings["yaml.schemas"].items()
    assert url == SCHEMA["$id"]
    client = Client(command, {"yaml": {**SETTINGS["yaml"], "schemas": {SCHEMA_FILE.as_uri(): patterns}}}, tmp_path.as_uri())
    try:
        typo = "name: demo\nconda:\n  dependancies: [python]\n"
        for name in ("envc.yml", "envs/train.envc.yml", "envs/serve.envc.yaml"):
            assert [d["range"]["start"] for d in client.open((tmp_path / name).as_uri(), typo)] == [{"line": 2, "character": 2}], name
        for name in ("environment.yml", "envs/values.yml"):
            assert client.open((tmp_path / name).as_uri(), typo) == [], name
    finally:
        client.close()


if __name__ == "__main__":
    if "--update-readme" in sys.argv:
        readme = REPO / "README.md"
        blocks = editor_blocks(SCHEMA["$id"])
        readme.write_text(re.sub(r"(<!-- editor (\w+): tests/test_editor.py -->\n```\w*\n)(.*?)(```)",
                                 lambda m: m.group(1) + blocks[m.group(2)] + "\n" + m.group(4), readme.read_text(), flags=re.S))
    else:
        print("\n\n".join(editor_blocks(SCHEMA["$id"]).values()))
