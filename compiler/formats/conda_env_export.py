"""Writer of conda environment.yml files: channels, conda packages, one pip: list, variables."""
from __future__ import annotations

from envc.common.diagnostics import SpecError, error
from envc.formats.envc_spec import yaml_text
from envc.formats.requirements_export import pip_lines


def conda_text(spec, relocate, comment: str) -> str:
    conda = spec.conda
    if conda and conda.lock:
        raise SpecError([error(conda.lock.where, "a conda lock cannot be exported as an environment.yml: share the lock file itself")])
    data = {"name": spec.name}
    if conda and conda.channels:
        data["channels"] = list(conda.channels)
    data["dependencies"] = conda_dependencies(spec, relocate)
    if spec.env:
        data["variables"] = dict(spec.env)
    return yaml_text(data, comment)


def conda_dependencies(spec, relocate) -> list:
    """A conda file's dependencies: the conda packages, conda's pip when there are pip lines, then one pip list."""
    packages = spec.conda.packages if spec.conda else ()
    dependencies = [package.text for package in packages]
    pip = pip_lines(spec, relocate)
    if pip and not any(package.spec.name.lower() == "pip" for package in packages):
        dependencies.append("pip")
    return dependencies + ([{"pip": pip}] if pip else [])
