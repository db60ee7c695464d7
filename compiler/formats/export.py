"""`envc export`: a checked spec in the formats other tools read (conda environment.yml,
requirements.txt, Azure ML CLI v2 environment YAML, a folder as azureml-core's save_to_directory writes it).

Each format holds less than a spec. Which keys a format can hold is the schema's `x-envc-export`
annotation; every other key the spec sets is reported as a located warning naming what was left
out, never dropped silently. What would change meaning (conda packages in a requirements file) is
an error. Paths are rewritten to stay valid from the exported file's folder.
"""
from __future__ import annotations

import os
import posixpath

from envc.common.diagnostics import SpecError, error, warning
from envc.common.schema import leaf_keys, property_schema

FORMATS = ("conda", "requirements", "azureml-v2", "azureml-v1")


def export(inputs, to: str, destination: str) -> tuple:
    """({path: text} to write, warnings) for checked Inputs in format `to`, written at destination."""
    spec = inputs.spec  # conda.file already spliced in: its packages are exported, not its path
    folder = os.path.abspath(destination) if to == "azureml-v1" else os.path.dirname(os.path.abspath(destination))
    relocate = _Relocator(os.path.realpath(spec.root), folder)
    notes = lost_keys(spec, to)
    if to == "conda":
        from envc.formats.conda_env_export import conda_text

        files = {destination: conda_text(spec, relocate, f"Exported by envc from environment '{spec.name}'.")}
    elif to == "requirements":
        from envc.formats.requirements_export import requirements_text

        files = {destination: requirements_text(spec, relocate)}
    elif to == "azureml-v2":
        from envc.formats.azureml_export import azureml_v2_files

        files, more = azureml_v2_files(spec, relocate, destination)
        notes += more
    else:
        from envc.formats.azureml_export import azureml_v1_files

        files, more = azureml_v1_files(spec, relocate, destination)
        notes += more
    if relocate.problems:
        raise SpecError(relocate.problems)
    return files, tuple(sorted(notes))  # in the order the spec reads


def lost_keys(spec, to: str) -> list:
    """A warning for each key the spec sets that format `to` cannot hold (x-envc-export), once per
    section when the format holds nothing of it."""
    leaves = leaf_keys()

    def lost(path: tuple) -> list:
        """The set leaves under path that the format cannot hold, or None when it holds some."""
        set_leaves = [leaf for leaf in leaves if leaf[:len(path)] == path and _value(spec.data, leaf) is not None]
        missing = [leaf for leaf in set_leaves if to not in leaves[leaf]["x-envc-export"]]
        return missing if len(missing) == len(set_leaves) else None

    notes, sections = [], sorted({leaf[:depth] for leaf in leaves for depth in range(1, len(leaf) + 1)}, key=len)
    reported = []
    for path in sections:
        if any(path[:len(done)] == done for done in reported) or _value(spec.data, path) is None:
            continue
        missing = lost(path)
        if missing:
            reported.append(path)
            title = property_schema(*path)["title"]
            notes.append(warning(spec.key_at(path), f"'{'.'.join(path)}' is not exported: the format has no place for "
                                                    f"{title[0].lower()}{title[1:]}"))
    return notes


def _value(data, path: tuple):
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


class _Relocator:
    """Paths relative to the spec's folder, rewritten relative to the exported file's folder."""

    def __init__(self, root: str, folder: str):
        self.root, self.folder, self.problems = root, folder, []

    def __call__(self, relative: str) -> str:
        return os.path.relpath(os.path.join(self.root, relative), self.folder).replace(os.sep, "/")

    def inside(self, relative: str, where) -> str:
        """For Azure ML's build context, which must sit below the exported file."""
        moved = self(relative)
        if moved == ".." or moved.startswith("../"):
            self.problems.append(error(where, f"'{relative}' would be outside the exported file's folder: "
                                              "export next to the spec or in a folder above it"))
        return posixpath.normpath(moved)
