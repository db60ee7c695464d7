"""Layers with one direction: every import of envc's own modules, those inside functions included,
goes to a lower layer or sideways within a layer, and no imports form a cycle. No exceptions.

LAYERS is the one list of layers (the README's Layout section shows it, with the module graph).
"""
import ast
import re
from pathlib import Path

import pytest

from conftest import REPO

# Bottom to top; a pattern ending in ".*" takes every module below that package.
LAYERS = [
    ("common", ["envc.common", "envc.common.*", "envc.grammar", "envc.grammar.*", "envc.schemas"]),
    ("document", ["envc.core", "envc.core.document", "envc.core.yaml_source"]),
    ("formats: readers", ["envc.formats", "envc.formats.conda_env", "envc.formats.mlflow", "envc.formats.requirements",
                          "envc.formats.conda_lock", "envc.formats.azureml", "envc.formats.detect"]),
    ("validate", ["envc.core.fastcheck", "envc.core.validate"]),
    ("spec", ["envc.core.spec"]),
    ("inputs", ["envc.core.files", "envc.core.dockerignore", "envc.core.base_dockerfile", "envc.core.build_context",
                "envc.core.inputs"]),
    ("checked-spec consumers: lint, writers", ["envc.core.lint", "envc.formats.envc_spec", "envc.formats.requirements_export",
                                               "envc.formats.conda_env_export", "envc.formats.azureml_export",
                                               "envc.formats.export"]),
    ("ir", ["envc.core.ir"]),
    ("lower", ["envc.core.init_wrapper", "envc.core.lower"]),
    ("emit", ["envc.core.emit"]),
    ("pipeline", ["envc.core.pipeline"]),
    ("services", ["envc.services", "envc.services.cache", "envc.services.registry", "envc.services.oci_registry", "envc.services.progress",
                  "envc.services.build", "envc.services.dockerfiles"]),
    ("frontends", ["envc", "envc.__main__", "envc.frontends", "envc.frontends.arguments", "envc.frontends.cli", "envc.frontends.api"]),
]
PACKAGE_FOLDERS = {"envc": REPO / "compiler", "envc.grammar": REPO / "grammar", "envc.schemas": REPO / "schemas"}


def modules() -> dict:
    """Module name -> source file, for every envc module (the generated grammar parsers included)."""
    found = {}
    for package, folder in PACKAGE_FOLDERS.items():
        for path in folder.rglob("*.py"):
            parts = list(path.relative_to(folder).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            if package == "envc" and parts[:1] in (["grammar"], ["schemas"]):
                continue
            found[".".join([package, *parts])] = path
    found.pop("envc.grammar.build", None)  # grammar/build.py generates the parsers: a developer tool, not part of envc
    return found


def layer_of(module: str) -> int:
    for rank, (_, patterns) in enumerate(LAYERS):
        for pattern in patterns:
            if module == pattern or pattern.endswith(".*") and module.startswith(pattern[:-1]):
                return rank
    raise AssertionError(f"{module} is in no layer: add it to LAYERS in tests/test_layers.py (and the README's Layout)")


def imports(module: str, path: Path, known: dict) -> list:
    """(line, imported envc module) for every import statement in the file, at any depth."""
    tree = ast.parse(path.read_text(), str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([base] if base else []))
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
        else:
            continue
        found += [(node.lineno, name) for name in names if name == "envc" or name.startswith("envc.")]
    return found


@pytest.fixture(scope="module")
def graph():
    known = modules()
    return {module: imports(module, path, known) for module, path in sorted(known.items())}


def test_every_module_has_a_layer(graph):
    for module in graph:
        layer_of(module)


def test_imports_never_go_up(graph):
    upward = [f"{module}:{line} imports {target} ({LAYERS[layer_of(target)][0]} is above {LAYERS[layer_of(module)][0]})"
              for module, found in graph.items() for line, target in found
              if target in graph and layer_of(target) > layer_of(module)]
    assert upward == []


def test_no_import_cycles(graph):
    edges = {module: {target for _, target in found if target in graph and target != module} for module, found in graph.items()}
    state, cycles = {}, []

    def visit(module, trail):
        state[module] = "open"
        for target in sorted(edges[module]):
            if state.get(target) == "open":
                cycles.append(" -> ".join(trail[trail.index(target):] + [target]))
            elif target not in state:
                visit(target, trail + [target])
        state[module] = "done"

    for module in sorted(edges):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_every_import_names_an_existing_module(graph):
    """A typo'd or stale module path inside a function would only fail when that function runs."""
    missing = [f"{module}:{line} imports {target}" for module, found in graph.items() for line, target in found if target not in graph]
    assert missing == []


def module_graph(graph) -> str:
    """The Layout section's graph: each layer's modules (package prefix dropped) and what each imports."""
    lines = []
    for rank, (name, _) in reversed(list(enumerate(LAYERS))):
        members = [m for m in graph if layer_of(m) == rank and not m.endswith("__main__")]
        lines.append(f"{name}:")
        for module in members:
            targets = sorted({t for _, t in graph[module] if t in graph and t != module and layer_of(t) < rank + 1 and t != "envc"})
            shown = ", ".join(t.removeprefix("envc.") for t in targets if t not in PACKAGE_FOLDERS and not t.endswith("__init__"))
            if module in ("envc.common", "envc.core", "envc.formats", "envc.services", "envc.frontends", "envc.grammar", "envc.schemas"):
                continue
            lines.append(f"  {module.removeprefix('envc.') or 'envc'}" + (f" -> {shown}" if shown else ""))
    return "\n".join(lines)


def test_readme_shows_the_current_module_graph(graph):
    readme = (REPO / "README.md").read_text()
    block = re.search(r"<!-- module graph: tests/test_layers.py -->\n```\n(.*?)```", readme, re.S)
    assert block, "the README's Layout section needs the module graph block"
    assert block.group(1).rstrip("\n") == module_graph(graph), "run: python tests/test_layers.py --update-readme"


if __name__ == "__main__":
    import sys

    known = modules()
    text = module_graph({module: imports(module, path, known) for module, path in sorted(known.items())})
    if "--update-readme" in sys.argv:
        readme = REPO / "README.md"
        readme.write_text(re.sub(r"(<!-- module graph: tests/test_layers.py -->\n```\n)(.*?)(```)",
                                 lambda m: m.group(1) + text + "\n" + m.group(3), readme.read_text(), flags=re.S))
    else:
        print(text)
