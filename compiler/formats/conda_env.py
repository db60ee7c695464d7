"""Reader of conda environment.yml files (name, channels, dependencies with a pip: list, variables)."""
from __future__ import annotations

from envc.common.diagnostics import SpecError, did_you_mean, error, warning
from envc.common.image_paths import PREFIX
from envc.common.paths import stem
from envc.core.document import Document, environment_name, remap

CONDA_KEYS = {"name", "channels", "dependencies", "variables", "prefix"}


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
        notes.append(warning(doc.key_at(("prefix",)), f"'prefix' is ignored: envc installs the environment at {PREFIX} inside the image"))
    conda = {k: doc.data[k] for k in ("channels", "dependencies") if k in doc.data}
    data = {"name": environment_name(doc.data.get("name"), stem(doc.path)), "conda": conda}
    moves = {("name",): ("name",), ("channels",): ("conda", "channels"), ("dependencies",): ("conda", "dependencies")}
    if "variables" in doc.data:
        data["env"] = doc.data["variables"]
        moves[("variables",)] = ("env",)
    return remap(doc, data, moves, tuple(notes))
