"""Which format a file is, and its reader: every input becomes the Document an envc spec gives.

Each reader keeps locations pointing into the original file, so validation and everything after
it exists once and reports problems where the user can fix them. A registered NAME[:VERSION] is
resolved to its snapshot before this layer is reached (envc.services.registry).
"""
from __future__ import annotations

import os

from envc.common.diagnostics import Location, SpecError, did_you_mean, error
from envc.core.document import Document, display_name
from envc.core.yaml_source import NotAMapping, load_yaml, read_text

ENVC_ONLY_KEYS = {"base", "system", "python", "conda", "pip", "env", "init", "labels", "description"}
CONDA_LIKE_KEYS = {"channels", "dependencies", "variables", "prefix"}
REQUIREMENTS_SUFFIXES = {".txt", ".in", ".pip"}
LOCK_SUFFIXES = {".lock"}
CONDA_LOCK_KEYS = {"metadata", "package"}  # conda-lock's unified conda-lock.yml
AZUREML_V2_ONLY_KEYS = {"image", "conda_file", "build", "inference_config", "os_type"}  # `$schema` is optional to az ml
AZUREML_V1_FILE = "azureml_environment.json"  # what azureml-core's Environment.save_to_directory writes
MLFLOW_MODEL_FILE = "MLmodel"


STDIN_NAME = "<stdin>"  # how messages name a spec read from standard input
STDIN_FORMATS = ("`-` reads one YAML document from stdin (an envc spec, a conda environment.yml, an MLflow "
                 "python_env.yaml or an Azure ML v2 environment); a requirements file or a conda lock is installed "
                 "from the build context by its name: give its path instead")


def stdin_path() -> str:
    """The path a spec read from stdin stands at: in the working folder, so its relative paths resolve from there."""
    return os.path.join(os.getcwd(), STDIN_NAME)


def load(path, text: str | None = None) -> Document:
    """Load any supported input as an envc-shaped Document (not yet validated).

    text: the input's content when it does not come from path (stdin, at stdin_path()): one YAML document."""
    if text is not None:
        return _from_yaml(path, text, _stdin_yaml(path, text), stdin=True)
    path = os.fspath(path) or "."
    if os.path.isfile(os.path.join(path, AZUREML_V1_FILE)):
        path = os.path.join(path, AZUREML_V1_FILE)
    elif os.path.isfile(os.path.join(path, MLFLOW_MODEL_FILE)):  # an MLflow model is named by its folder
        path = os.path.join(path, MLFLOW_MODEL_FILE)
    elif os.path.isdir(path):
        raise SpecError([error(Location(display_name(path)), "is a directory: give an envc spec, a conda environment.yml, a requirements.txt, "
                                                             f"a folder saved by Azure ML's Environment.save_to_directory ({AZUREML_V1_FILE}) "
                                                             f"or an MLflow model's folder ({MLFLOW_MODEL_FILE})")])
    if os.path.basename(path) == AZUREML_V1_FILE:
        from envc.formats.azureml import from_azureml_v1

        return from_azureml_v1(load_yaml(path))
    if _suffix(path) in REQUIREMENTS_SUFFIXES | LOCK_SUFFIXES:
        if _is_conda_lock(path):
            return from_lock(path)
        from envc.formats.requirements import from_requirements

        return from_requirements(path)
    text = read_text(path)
    return _from_yaml(path, text, load_yaml(path, text))


def _stdin_yaml(path: str, text: str) -> Document:
    """stdin's YAML document; a lock or a file that is no YAML mapping (a requirements file) is refused, saying why."""
    where = Location(display_name(path))
    if _is_explicit_lock(text):
        raise SpecError([error(where, f"a conda lock: {STDIN_FORMATS}")])
    try:
        return load_yaml(path, text)
    except NotAMapping as exc:  # perhaps a requirements file
        raise SpecError([d._replace(message=f"{d.message}: {STDIN_FORMATS}") for d in exc.diagnostics]) from None


def _from_yaml(path: str, text: str, doc: Document, stdin: bool = False) -> Document:
    kind = yaml_kind(doc.data)
    if kind == "conda-lock":
        if stdin:
            raise SpecError([error(Location(display_name(path)), f"a conda-lock.yml: {STDIN_FORMATS}")])
        return from_lock(path)
    if kind == "azureml-v2":
        from envc.formats.azureml import from_azureml_v2

        return from_azureml_v2(doc, text)
    if kind == "mlflow-model":
        if stdin:
            raise SpecError([error(Location(display_name(path)), f"an MLflow MLmodel: {STDIN_FORMATS}; or give the MLmodel's path")])
        from envc.formats.mlflow import model_environment

        return load(model_environment(doc))
    if kind == "mlflow":
        from envc.formats.mlflow import from_mlflow_python_env

        return from_mlflow_python_env(doc)
    if kind == "conda":
        from envc.formats.conda_env import from_conda

        return from_conda(doc, text=text)  # a conda file given directly is for linux-64, conda's and Azure ML's platform
    return doc


def from_lock(path: str) -> Document:
    """A conda lock given as the spec (an explicit list, or conda-lock's conda-lock.yml): installed as conda.lock."""
    from envc.common.paths import stem
    from envc.core.document import environment_name

    data = {"name": environment_name(None, stem(path)), "conda": {"lock": os.path.basename(path)}}
    return Document(data, path, {(): Location(display_name(path))}, {}, {})


def _is_conda_lock(path: str) -> bool:
    """A conda lock rather than a requirements file: one holding @EXPLICIT, or a `.lock` holding conda packages.
    Rye, PDM and `uv pip compile -o requirements.lock` write requirements files named `.lock` too."""
    text = read_text(path)
    if _is_explicit_lock(text):
        return True
    import re

    return _suffix(path) in LOCK_SUFFIXES and re.search(r"^\s*\S+\.(?:conda|tar\.bz2)(?:#\S*)?\s*$", text, re.M) is not None


def _is_explicit_lock(text: str) -> bool:
    """An explicit conda lock (`conda list --explicit`, conda-lock's render), whatever its file name."""
    return any(line.strip() == "@EXPLICIT" for line in text.splitlines())


def input_kind(path) -> str:
    """'requirements', 'conda-lock', 'azureml-v1', or the yaml_kind of the file (its YAML errors are reported as load() reports them)."""
    path = os.fspath(path)
    if _suffix(path) in REQUIREMENTS_SUFFIXES | LOCK_SUFFIXES:
        return "conda-lock" if _is_conda_lock(path) else "requirements"
    if os.path.basename(path) == AZUREML_V1_FILE or os.path.isfile(os.path.join(path, AZUREML_V1_FILE)):
        return "azureml-v1"
    return yaml_kind(load_yaml(path).data) if os.path.isfile(path) else "envc"


def _suffix(path: str) -> str:
    return os.path.splitext(path)[1].lower()


def yaml_kind(data: dict) -> str:
    """'envc', 'conda' (environment.yml), 'conda-lock' (conda-lock.yml), 'mlflow' (python_env.yaml), 'mlflow-model'
    (an MLmodel) or 'azureml-v2', from the keys present."""
    keys = set(data)
    if "azureml" in str(data.get("$schema", "")).lower() or (keys & AZUREML_V2_ONLY_KEYS or keys >= {"command", "environment"}) \
            and not keys & ENVC_ONLY_KEYS - {"description"}:  # description is a v2 key too
        return "azureml-v2"
    if "flavors" in keys and keys & {"artifact_path", "mlflow_version"}:
        return "mlflow-model"
    if keys >= CONDA_LOCK_KEYS and isinstance(data.get("package"), list):
        return "conda-lock"
    if keys & ENVC_ONLY_KEYS and not isinstance(data.get("python", {}), (str, int, float)):
        return "envc"
    if "build_dependencies" in keys or ("python" in keys and not isinstance(data["python"], dict)):
        return "mlflow"
    from envc.formats.conda_env import CONDA_KEYS

    if keys & CONDA_LIKE_KEYS or any(did_you_mean(k, CONDA_LIKE_KEYS) for k in keys - CONDA_KEYS):
        return "conda"
    return "envc"
