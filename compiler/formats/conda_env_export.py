"""Writer of conda environment.yml files: channels, conda packages, one pip: list, variables."""
from __future__ import annotations

from envc.common.diagnostics import SpecError, error
from envc.formats.envc_spec import yaml_text
from envc.formats.requirements_export import pip_lines


def conda_text(spec, relocate, comment: str) -> str:
    conda = spec.conda
    if conda and conda.lock:
        raise SpecError([error(conda.lock.where, "a conda lock cannot be exported as an environment.yml: share the lock file itself")])
    dependencies = [package.text for package in (conda.packages if conda else ())]
    pip = pip_lines(spec, relocate)
    if pip and not any(package.spec.name.lower() == "pip" for package in (conda.packages if conda else ())):
        dependencies.append("pip")
    data = {"name": spec.name}
    if conda and conda.channels:
        data["channels"] = list(conda.channels)
    data["dependencies"] = dependencies + ([{"pip": pip}] if pip else [])
    if spec.env:
        data["variables"] = dict(spec.env)
    return yaml_text(data, comment)
