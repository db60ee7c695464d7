"""Writer of Azure ML CLI v2 environment YAMLs: image, or build from a base Dockerfile and its context;
a conda file beside it when there is anything to install; labels as tags."""
from __future__ import annotations

import os
import posixpath

from envc.common.diagnostics import warning
from envc.formats.conda_env_export import conda_dependencies, conda_text
from envc.formats.envc_spec import yaml_text

AZUREML_V2_SCHEMA = "https://azuremlschemas.azureedge.net/latest/environment.schema.json"


def azureml_v2_files(spec, relocate, destination: str) -> tuple:
    """({path: text}: the YAML, and its conda file when there are packages; notes on what it cannot hold
    beyond the schema's x-envc-export: env without a conda file)."""
    base, data, notes = spec.base, {"$schema": AZUREML_V2_SCHEMA, "name": spec.name}, []
    if spec.description:
        data["description"] = spec.description
    if base.dockerfile is not None:
        context = base.context_ref.relative if base.context_ref else "."
        at = base.context_ref if base.context_ref else base.dockerfile
        data["build"] = {"path": relocate.inside(context, at.where),
                         "dockerfile_path": posixpath.relpath(base.dockerfile.relative, context)}
    else:
        data["image"] = base.pulled_from
    installs = spec.conda is not None or spec.pip is not None
    notes += pip_into_conda(spec)
    if spec.env and not installs:  # otherwise the conda file's `variables` carry them
        notes.append(warning(spec.key_at(("env",)), "'env' is not exported: the format has no place for environment variables "
                                                   "without a conda file (set them on the job)"))
    files = {}
    if installs:
        stem = os.path.splitext(os.path.basename(destination))[0]
        conda_path = os.path.join(os.path.dirname(destination), f"{stem}.conda.yml")
        files[conda_path] = conda_text(spec, relocate, f"Conda file of the Azure ML environment exported by envc from environment '{spec.name}'.")
        data["conda_file"] = os.path.basename(conda_path)
    if spec.labels:
        data["tags"] = dict(spec.labels)
    return {destination: yaml_text(data, f"Exported by envc from environment '{spec.name}'."), **files}, notes


def azureml_v1_files(spec, relocate, folder: str) -> tuple:
    """({path: text, or None to remove a stale file}: azureml_environment.json, conda_dependencies.yml unless
    the Python is user-managed, BaseDockerfile for a base Dockerfile; notes on what it cannot hold
    beyond the schema's x-envc-export: labels other than the version)."""
    import json

    from envc.formats.azureml import V1_CONDA_FILE, V1_DOCKERFILE, VERSION_LABEL
    from envc.formats.detect import AZUREML_V1_FILE

    base, notes, files, labels = spec.base, [], {}, dict(spec.labels or ())
    others = sorted(key for key in labels if key != VERSION_LABEL)
    if others:
        notes.append(warning(spec.key_at(("labels", others[0])), f"labels {', '.join(repr(k) for k in others)} are not "
                                                               "exported: the format keeps only the version label"))
    dockerfile_path = os.path.join(folder, V1_DOCKERFILE)
    registry = {"address": None, "username": None, "password": None, "registryIdentity": None}
    if base.registry:
        registry["address"] = base.registry.address
        for key in ("username", "password"):
            reference = getattr(base.registry, key)
            if reference is not None:
                registry[key] = {reference.kind: reference.name}
    docker = {"enabled": False, "baseImage": base.image, "baseDockerfile": None, "buildContext": None,
              "sharedVolumes": True, "shmSize": "2g", "arguments": [], "baseImageRegistry": registry,
              "platform": {"os": "Linux", "architecture": "amd64"}}
    if base.dockerfile is not None:
        with open(os.path.join(spec.root, base.dockerfile.relative), encoding="utf-8") as handle:
            files[dockerfile_path] = handle.read()
        del docker["baseDockerfile"]  # in a file of its own, as azureml-core saves it
        docker["baseImage"] = None
    else:
        files[dockerfile_path] = None  # a BaseDockerfile left there would be read as the base
    managed = bool(spec.python and spec.python.user_managed)
    saved = {"name": spec.name, "version": labels.get(VERSION_LABEL), "environmentVariables": dict(spec.env or {}),
             "python": {"userManagedDependencies": bool(managed), "interpreterPath": (spec.python.interpreter if managed else None) or "python",
                        "condaDependenciesFile": None, "baseCondaEnvironment": None},
             "docker": docker, "spark": {"repositories": [], "packages": [], "precachePackages": True},
             "databricks": {"mavenLibraries": [], "pypiLibraries": [], "rcranLibraries": [], "jarLibraries": [],
                            "eggLibraries": []},
             "r": None, "inferencingStackVersion": None, "assetId": None}
    conda_path = os.path.join(folder, V1_CONDA_FILE)
    files[conda_path] = None
    if not managed:
        conda = spec.conda
        if conda and conda.lock:
            notes.append(warning(conda.lock.where, "'conda.lock' is not exported: the format has no place for a lock file"))
        notes += pip_into_conda(spec)
        data = {"name": spec.name, "dependencies": conda_dependencies(spec, relocate)}
        if conda and conda.channels:
            data["channels"] = list(conda.channels)
        files[conda_path] = yaml_text(data, f"Conda file of the Azure ML environment exported by envc from environment '{spec.name}'.")
    files[os.path.join(folder, AZUREML_V1_FILE)] = json.dumps(saved, indent=4, ensure_ascii=False)
    return files, notes


def pip_into_conda(spec) -> list:
    """Azure ML installs pip packages with conda's pip: a spec's pip without conda (a virtual environment
    on the base's Python) becomes a conda environment."""
    if spec.pip is None or spec.conda is not None or (spec.python and spec.python.user_managed):
        return []
    return [warning(spec.key_at(("pip",)), "'pip' without 'conda' is exported into a conda environment: Azure ML "
                                          "installs pip packages with conda's pip, not in a virtual environment")]
