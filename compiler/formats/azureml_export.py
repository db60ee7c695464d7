"""Writer of Azure ML CLI v2 environment YAMLs: image, or build from a base Dockerfile and its context;
a conda file beside it when there is anything to install; labels as tags."""
from __future__ import annotations

import os
import posixpath

from envc.common.diagnostics import warning
from envc.formats.conda_env_export import conda_text
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
        address = base.registry.address if base.registry else None
        data["image"] = base.image if not address or base.image.startswith(address + "/") else f"{address}/{base.image}"
    installs = spec.conda is not None or spec.pip is not None
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
