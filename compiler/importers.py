"""Turn the formats users already have into envc-shaped Documents.

Every importer returns the same Document an envc spec would give, with locations
still pointing into the original file, so validation and everything after it
exists once.
"""
from __future__ import annotations

import posixpath
import re
from pathlib import Path

from envc.diagnostics import Location, SpecError, did_you_mean, error, warning
from envc.document import Document, display_name
from envc.yamlsource import load_yaml

ENVC_ONLY_KEYS = {"base", "system", "python", "conda", "pip", "env", "init", "labels", "description"}
CONDA_KEYS = {"name", "channels", "dependencies", "variables", "prefix"}
MLFLOW_KEYS = {"python", "build_dependencies", "dependencies"}
AZUREML_V2_KEYS = {"$schema", "name", "version", "description", "tags", "image", "conda_file", "build", "os_type",
                   "inference_config"}
AZUREML_BUILD_KEYS = {"path", "dockerfile_path"}
VERSION_LABEL = "org.opencontainers.image.version"
AZUREML_V1_FILE = "azureml_environment.json"  # what azureml-core's Environment.save_to_directory writes
AZUREML_V1_KEYS = {"name", "version", "environmentVariables", "python", "docker", "spark", "databricks", "r",
                   "inferencingStackVersion", "assetId"}
AZUREML_V1_PYTHON_KEYS = {"userManagedDependencies", "interpreterPath", "condaDependenciesFile", "baseCondaEnvironment"}
AZUREML_V1_DOCKER_KEYS = {"enabled", "baseImage", "baseDockerfile", "buildContext", "sharedVolumes", "shmSize", "arguments",
                          "baseImageRegistry", "platform"}
REQUIREMENTS_SUFFIXES = {".txt", ".in"}


def load(path) -> Document:
    """Load any supported input as an envc-shaped Document (not yet validated)."""
    path = Path(path)
    if not path.exists():  # perhaps a registered NAME[:VERSION] (a file of that name wins)
        from envc.registry import resolve

        path = Path(resolve(str(path)) or path)
    if path.is_dir() and (path / AZUREML_V1_FILE).is_file():
        path = path / AZUREML_V1_FILE
    elif path.is_dir():
        raise SpecError([error(Location(display_name(path)), "is a directory: give an envc spec, a conda environment.yml, a requirements.txt, "
                                                             f"or a folder saved by Azure ML's Environment.save_to_directory ({AZUREML_V1_FILE})")])
    if path.name == AZUREML_V1_FILE:
        return from_azureml_v1(load_yaml(path))
    if path.suffix.lower() in REQUIREMENTS_SUFFIXES:
        return from_requirements(path)
    doc = load_yaml(path)
    kind = yaml_kind(doc.data)
    if kind == "azureml-v2":
        return from_azureml_v2(doc)
    if kind == "mlflow":
        return from_mlflow_python_env(doc)
    if kind == "conda":
        return from_conda(doc)
    return doc


def input_kind(path) -> str:
    """'requirements', 'azureml-v1', or the yaml_kind of the file (its YAML errors are reported as load() reports them)."""
    path = Path(path)
    if path.suffix.lower() in REQUIREMENTS_SUFFIXES:
        return "requirements"
    if path.name == AZUREML_V1_FILE or (path / AZUREML_V1_FILE).is_file():
        return "azureml-v1"
    return yaml_kind(load_yaml(path).data) if path.is_file() else "envc"


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
    data = {"name": environment_name(doc.data.get("name"), doc.path.stem), "conda": conda}
    moves = {("name",): ("name",), ("channels",): ("conda", "channels"), ("dependencies",): ("conda", "dependencies")}
    if "variables" in doc.data:
        data["env"] = doc.data["variables"]
        moves[("variables",)] = ("env",)
    return _remap(doc, data, moves, tuple(notes))


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
    data = {"name": environment_name(None, doc.path.stem),
            "conda": {"dependencies": [f"python={python}", {"pip": pip_lines}]}}
    moves = {("python",): ("conda", "dependencies", 0)}
    offset = len(lists["build_dependencies"])
    for i in range(len(lists["build_dependencies"])):
        moves[("build_dependencies", i)] = ("conda", "dependencies", 1, "pip", i)
    for i in range(len(lists["dependencies"])):
        moves[("dependencies", i)] = ("conda", "dependencies", 1, "pip", offset + i)
    moves[("dependencies",)] = ("conda", "dependencies", 1)
    return _remap(doc, data, moves)


def from_azureml_v2(doc: Document) -> Document:
    """An Azure ML CLI v2 environment YAML: image, or a build context with its Dockerfile; conda_file;
    tags and version become image labels (as written: `cuda: 11.10` stays "11.10")."""
    data, problems, notes = doc.data, [], []
    for key in data:
        if key not in AZUREML_V2_KEYS:
            problems.append(error(doc.key_at((key,)), f"unknown key '{key}' in an Azure ML environment{did_you_mean(key, AZUREML_V2_KEYS)}"))
    build = data.get("build")
    if "image" in data and "build" in data:
        problems.append(error(doc.key_at(("build",)), "image and build cannot both be set (Azure ML refuses it too): keep one"))
    elif "image" not in data and "build" not in data:
        problems.append(error(doc.at(()), "an Azure ML environment needs image or build: add one"))
    if build is not None:
        problems += _azureml_build_problems(doc, build)
    if str(data.get("os_type", "linux")).lower() != "linux":
        problems.append(error(doc.at(("os_type",)), "envc builds Linux images only: remove os_type or set it to linux"))
    if "inference_config" in data:
        notes.append(warning(doc.key_at(("inference_config",)), "'inference_config' is ignored: it configures Azure ML's "
                                                               "inference server routes, not the image"))
    labels = {key: _as_written(doc, ("tags", key)) for key in data.get("tags") or {}} if isinstance(data.get("tags"), dict) else {}
    if "tags" in data and not isinstance(data["tags"], dict):
        problems.append(error(doc.at(("tags",)), "expected a mapping of tag names to values"))
    if problems:
        raise SpecError(problems)
    result = {"name": environment_name(data.get("name"), doc.path.stem)}
    moves = {("name",): ("name",), ("tags",): ("labels",), ("image",): ("base", "image"), ("conda_file",): ("conda", "file")}
    if "description" in data:
        result["description"] = data["description"]
        moves[("description",)] = ("description",)
    if "image" in data:
        result["base"] = {"image": data["image"]}
    if build is not None:
        context = posixpath.normpath(build["path"])
        result["base"] = {"dockerfile": posixpath.normpath(posixpath.join(context, build.get("dockerfile_path", "Dockerfile"))),
                          "context": context}
        moves.update({("build", "path"): ("base", "context"), ("build", "dockerfile_path"): ("base", "dockerfile"),
                      ("build",): ("base", "dockerfile")})
    if "conda_file" in data:
        result["conda"] = {"file": data["conda_file"]}
    if "version" in data:
        labels[VERSION_LABEL] = _as_written(doc, ("version",))
        moves[("version",)] = ("labels", VERSION_LABEL)
    if labels:
        result["labels"] = labels
    return _remap(doc, result, moves, tuple(notes))


def from_azureml_v1(doc: Document) -> Document:
    """A folder saved by azureml-core's Environment.save_to_directory: azureml_environment.json, with
    conda_dependencies.yml and BaseDockerfile beside it. Settings of how Azure ML *runs* the image
    (docker.enabled, shmSize, arguments...) are not part of it; any that would change the image and
    that envc cannot honour is reported, never dropped silently."""
    data, problems, notes = doc.data, [], []
    problems += _unknown_keys(doc, (), AZUREML_V1_KEYS, "an Azure ML environment")
    python, docker = data.get("python") or {}, data.get("docker") or {}
    problems += _unknown_keys(doc, ("python",), AZUREML_V1_PYTHON_KEYS, "python")
    problems += _unknown_keys(doc, ("docker",), AZUREML_V1_DOCKER_KEYS, "docker")
    for at, what in ((("python", "baseCondaEnvironment"), "cloning a base conda environment"),
                     (("python", "condaDependenciesFile"), "a conda file outside the saved folder"),
                     (("docker", "buildContext"), "a Docker build context"), (("r",), "R packages"),
                     (("inferencingStackVersion",), "Azure ML's inferencing stack")):
        if _get_in(data, at):
            problems.append(error(doc.at(at), f"{what} is not supported by envc: remove it, or write an envc spec"))
    for at in (("spark", "packages"), ("spark", "repositories"), *(("databricks", k) for k in (data.get("databricks") or {}))):
        if _get_in(data, at):
            notes.append(warning(doc.at(at), f"'{'.'.join(at)}' is ignored: it configures a Spark/Databricks cluster, not the image"))
    if docker.get("arguments"):
        notes.append(warning(doc.at(("docker", "arguments")), "'docker.arguments' is ignored: they are `docker run` flags, not part of the image"))
    if problems:
        raise SpecError(problems)
    result = {"name": environment_name(data.get("name"), doc.path.parent.name)}
    moves = {("name",): ("name",), ("environmentVariables",): ("env",), ("version",): ("labels", VERSION_LABEL),
             ("docker", "baseImage"): ("base", "image")}
    base = {}
    if "baseDockerfile" not in docker and "docker" in data:  # save_to_directory moved it to a file
        base["dockerfile"] = "BaseDockerfile"
        moves[("docker",)] = ("base", "dockerfile")
    elif docker.get("baseImage"):
        base["image"] = docker["baseImage"]
    registry, registry_notes = _v1_registry(doc, docker.get("baseImageRegistry") or {})
    if registry:
        base["registry"] = registry
        moves[("docker", "baseImageRegistry", "address")] = ("base", "registry", "address")
    notes += registry_notes
    architecture = (docker.get("platform") or {}).get("architecture") or "amd64"
    if base.get("image") and architecture != "amd64":
        base["platform"] = f"linux/{architecture}"
    if base:
        result["base"] = base
    if python.get("userManagedDependencies"):
        result["python"] = {"user_managed": True, "interpreter": python.get("interpreterPath") or "python"}
        moves[("python", "interpreterPath")] = ("python", "interpreter")
    else:  # decided by the JSON alone, not by which files exist: the result cache lists only files read
        result["conda"] = {"file": "conda_dependencies.yml"}
        moves[("python",)] = ("conda", "file")
    if data.get("environmentVariables"):
        result["env"] = data["environmentVariables"]
    if data.get("version") is not None:
        result["labels"] = {VERSION_LABEL: _as_written(doc, ("version",))}
    return _remap(doc, result, moves, tuple(notes))


def _v1_registry(doc: Document, registry: dict) -> tuple:
    """The registry address, with credentials as references: a literal username or password in the
    saved JSON is never copied (envc writes no credential anywhere), only pointed to."""
    if not registry.get("address"):
        return None, []
    result, notes = {"address": registry["address"]}, []
    for key, reference in (("username", {"env": "AZUREML_REGISTRY_USERNAME"}), ("password", {"secret": "azureml_registry_password"})):
        if registry.get(key):
            result[key] = reference
            how = f"env {reference['env']}" if "env" in reference else f"--secret id={reference['secret']},src=FILE"
            notes.append(warning(doc.at(("docker", "baseImageRegistry", key)), f"the literal registry {key} is not copied: "
                                 f"`envc build` takes it by reference ({how})"))
    return result, notes


def _unknown_keys(doc: Document, at: tuple, known: set, where: str) -> list:
    section = _get_in(doc.data, at)
    if not isinstance(section, dict):
        return [] if section is None else [error(doc.at(at), "expected a mapping")]
    return [error(doc.key_at(at + (key,)), f"unknown key '{key}' in {where}{did_you_mean(key, known)}")
            for key in section if key not in known]


def _get_in(data, at: tuple):
    for key in at:
        data = data.get(key) if isinstance(data, dict) else None
    return data


def _azureml_build_problems(doc: Document, build) -> list:
    if not isinstance(build, dict):
        return [error(doc.at(("build",)), "expected a mapping: build: {path: <context folder>, dockerfile_path: Dockerfile}")]
    problems = [error(doc.key_at(("build", key)), f"unknown key '{key}' in build{did_you_mean(key, AZUREML_BUILD_KEYS)}")
                for key in build if key not in AZUREML_BUILD_KEYS]
    path = build.get("path")
    if path is None:
        problems.append(error(doc.key_at(("build",)), "build needs path: the folder holding the Docker build context"))
    elif not isinstance(path, str) or "://" in path or path.startswith("azureml:"):
        problems.append(error(doc.at(("build", "path")), "expected a local folder next to the environment YAML: envc builds "
                                                         "from local files, not from a URL or an Azure ML datastore"))
    if not isinstance(build.get("dockerfile_path", ""), str):
        problems.append(error(doc.at(("build", "dockerfile_path")), "expected the Dockerfile's path inside the build context, as a string"))
    return problems


def _as_written(doc: Document, at: tuple) -> str:
    """A scalar as the file spells it: YAML reads 2.10 as the number 2.1, a label must keep "2.10"."""
    value = doc.data
    for key in at:
        value = value[key]
    if isinstance(value, (str, dict, list)):
        return value  # a mapping or list is left for the schema to report where it is
    return doc.raw_scalars.get(at, "" if value is None else str(value))


def from_requirements(path: Path) -> Document:
    """A requirements.txt: a pip-only environment installing that file."""
    name = display_name(path)
    if not path.is_file():
        raise SpecError([error(Location(name), "no such file")])
    data = {"name": environment_name(None, path.stem), "pip": {"requirements": [path.name]}}
    return Document(data, path, {(): Location(name)}, {}, {})


def _remap(doc: Document, data: dict, moves: dict, notes: tuple = ()) -> Document:
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
