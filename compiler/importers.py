"""Turn the formats users already have into envc-shaped Documents.

Every importer returns the same Document an envc spec would give, with locations
still pointing into the original file, so validation and everything after it
exists once.
"""
from __future__ import annotations

import os
import re

from envc.diagnostics import Location, SpecError, did_you_mean, error, warning
from envc.document import Document, display_name
from envc.paths import stem
from envc.yamlsource import load_yaml

ENVC_ONLY_KEYS = {"base", "system", "python", "conda", "pip", "env", "init", "labels", "description"}
CONDA_KEYS = {"name", "channels", "dependencies", "variables", "prefix"}
MLFLOW_KEYS = {"python", "build_dependencies", "dependencies"}
REQUIREMENTS_SUFFIXES = {".txt", ".in"}
AZUREML_V1_FILE = "azureml_environment.json"  # what azureml-core's Environment.save_to_directory writes


def load(path) -> Document:
    """Load any supported input as an envc-shaped Document (not yet validated)."""
    path = os.fspath(path) or "."
    if not os.path.exists(path):  # perhaps a registered NAME[:VERSION] (a file of that name wins)
        from envc.registry import resolve

        path = resolve(path) or path
    if os.path.isfile(os.path.join(path, AZUREML_V1_FILE)):
        path = os.path.join(path, AZUREML_V1_FILE)
    elif os.path.isdir(path):
        raise SpecError([error(Location(display_name(path)), "is a directory: give an envc spec, a conda environment.yml, a requirements.txt, "
                                                             f"or a folder saved by Azure ML's Environment.save_to_directory ({AZUREML_V1_FILE})")])
    if os.path.basename(path) == AZUREML_V1_FILE:
        from envc.azureml import from_azureml_v1

        return from_azureml_v1(load_yaml(path))
    if _suffix(path) in REQUIREMENTS_SUFFIXES:
        return from_requirements(path)
    doc = load_yaml(path)
    kind = yaml_kind(doc.data)
    if kind == "azureml-v2":
        from envc.azureml import from_azureml_v2

        return from_azureml_v2(doc)
    if kind == "mlflow":
        return from_mlflow_python_env(doc)
    if kind == "conda":
        return from_conda(doc)
    return doc


def input_kind(path) -> str:
    """'requirements', 'azureml-v1', or the yaml_kind of the file (its YAML errors are reported as load() reports them)."""
    path = os.fspath(path)
    if _suffix(path) in REQUIREMENTS_SUFFIXES:
        return "requirements"
    if os.path.basename(path) == AZUREML_V1_FILE or os.path.isfile(os.path.join(path, AZUREML_V1_FILE)):
        return "azureml-v1"
    return yaml_kind(load_yaml(path).data) if os.path.isfile(path) else "envc"


def _suffix(path: str) -> str:
    return os.path.splitext(path)[1].lower()


def yaml_kind(data: dict) -> str:
    """'envc', 'conda' (environment.yml), 'mlflow' (python_env.yaml) or 'azureml-v2', from the keys present."""
    keys = set(data)
    if "azureml" in str(data.get("$schema", "")).lower():
        return "azureml-v2"
    if keys & ENVC_ONLY_KEYS and not isinstance(data.get("python", {}), (str, int, float)):
        return "envc"
    if "build_dependencies" in keys or ("python" in keys and not isinstance(data["python"], dict)):
        return "mlflow"
    conda_like = {"channels", "dependencies", "variables", "prefix"}
    if keys & conda_like or any(did_you_mean(k, conda_like) for k in keys - CONDA_KEYS):
        return "conda"
    return "envc"


def environment_name(raw, fallback: str) -> str:
    """A valid envc name from a conda/pip name or a file name: lowercase, safe characters."""
    text = raw if isinstance(raw, str) and raw.strip() else fallback
    name = re.sub(r"[^a-z0-9._-]+", "-", text.strip().lower()).strip("-._")
    return name[:128] or "env"


def from_conda(doc: Document) -> Document:
    """A conda environment.yml: name/channels/dependencies (with pip:), variables -> env."""
    problems = []
    for key in doc.data:
        if key not in CONDA_KEYS:
            problems.append(error(doc.key_at((key,)), f"unknown key '{key}' in a conda environment file{did_you_mean(key, CONDA_KEYS)}"))
    if problems:
        raise SpecError(problems)
    notes = []
    if "prefix" in doc.data:
        notes.append(warning(doc.key_at(("prefix",)), "'prefix' is ignored: envc installs the environment at /opt/envc/env inside the image"))
    conda = {k: doc.data[k] for k in ("channels", "dependencies") if k in doc.data}
    data = {"name": environment_name(doc.data.get("name"), stem(doc.path)), "conda": conda}
    moves = {("name",): ("name",), ("channels",): ("conda", "channels"), ("dependencies",): ("conda", "dependencies")}
    if "variables" in doc.data:
        data["env"] = doc.data["variables"]
        moves[("variables",)] = ("env",)
    return remap(doc, data, moves, tuple(notes))


def from_mlflow_python_env(doc: Document) -> Document:
    """MLflow's python_env.yaml: a python version plus pip build_dependencies and dependencies.

    It becomes a conda environment pinning that python, with every pip line kept, in order.
    """
    problems = [error(doc.key_at((k,)), f"unknown key '{k}' in an MLflow python_env file{did_you_mean(k, MLFLOW_KEYS)}")
                for k in doc.data if k not in MLFLOW_KEYS]
    python = doc.data.get("python")
    if python is None:
        problems.append(error(doc.at(()), "missing required key 'python' (the Python version, e.g. python: \"3.10\")"))
    elif not isinstance(python, str) or not re.fullmatch(r"\d+(\.\d+){0,2}", python):
        problems.append(error(doc.at(("python",)), "expected a Python version as a string, e.g. \"3.10\" (quote it: 3.10 unquoted reads as 3.1)"))
    lists = {}
    for key in ("build_dependencies", "dependencies"):
        value = doc.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.append(error(doc.at((key,)), "expected a list of strings (pip requirement lines)"))
        lists[key] = value if isinstance(value, list) else []
    if problems:
        raise SpecError(problems)
    pip_lines = lists["build_dependencies"] + lists["dependencies"]
    data = {"name": environment_name(None, stem(doc.path)),
            "conda": {"dependencies": [f"python={python}", {"pip": pip_lines}]}}
    moves = {("python",): ("conda", "dependencies", 0)}
    offset = len(lists["build_dependencies"])
    for i in range(len(lists["build_dependencies"])):
        moves[("build_dependencies", i)] = ("conda", "dependencies", 1, "pip", i)
    for i in range(len(lists["dependencies"])):
        moves[("dependencies", i)] = ("conda", "dependencies", 1, "pip", offset + i)
    moves[("dependencies",)] = ("conda", "dependencies", 1)
    return remap(doc, data, moves)


def from_requirements(path: str) -> Document:
    """A requirements.txt: a pip-only environment installing that file."""
    name = display_name(path)
    if not os.path.isfile(path):
        raise SpecError([error(Location(name), "no such file")])
    data = {"name": environment_name(None, stem(path)), "pip": {"requirements": [os.path.basename(path)]}}
    return Document(data, path, {(): Location(name)}, {}, {})


def remap(doc: Document, data: dict, moves: dict, notes: tuple = ()) -> Document:
    """A new Document whose locations follow values moved from old paths to new ones."""
    def move(table):
        moved = {}
        for old_path, location in table.items():
            for old, new in moves.items():
                if old_path[: len(old)] == old:
                    moved[new + old_path[len(old):]] = location
                    break
        moved.setdefault((), doc.at(()))
        return moved

    return Document(data, doc.path, move(doc.locations), move(doc.key_locations), move(doc.raw_scalars), doc.notes + notes, doc.errors)
