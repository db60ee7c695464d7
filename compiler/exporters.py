"""`envc export`: a spec in the formats other tools read (conda environment.yml, requirements.txt,
Azure ML CLI v2 environment YAML).

Each format holds less than a spec. What it cannot hold is reported as a located warning naming
what was left out, never dropped silently; what would change meaning (conda packages in a
requirements file) is an error. Paths are rewritten to stay valid from the exported file's folder.
"""
from __future__ import annotations

import os
import posixpath

from envc.diagnostics import SpecError, error, warning

FORMATS = ("conda", "requirements", "azureml-v2")
AZUREML_V2_SCHEMA = "https://azuremlschemas.azureedge.net/latest/environment.schema.json"
_DOCKER_ONLY = {"base": "the base image", "system": "apt packages", "python": "the user-managed interpreter",
                "init": "init scripts", "labels": "image labels"}


def export(spec: str, to: str, destination: str) -> tuple:
    """({path: text} to write, warnings) for spec in format `to`, written at destination."""
    from envc.pipeline import check

    inputs, _ = check(spec)
    doc = inputs.doc  # conda.file already spliced in: its packages are exported, not its path
    folder = os.path.dirname(os.path.abspath(destination))
    relocate = _Relocator(os.path.realpath(doc.root), folder, doc)
    if to == "conda":
        text, notes = _conda(doc, relocate, dropped=_DOCKER_ONLY)
        files = {destination: text}
    elif to == "requirements":
        files, notes = {destination: _requirements(doc, relocate)}, _dropped(doc, {**_DOCKER_ONLY, "env": "environment variables"})
    else:
        files, notes = _azureml_v2(doc, relocate, destination)
    if relocate.problems:
        raise SpecError(relocate.problems)
    return files, tuple(notes)


class _Relocator:
    """Paths relative to the spec's folder, rewritten relative to the exported file's folder."""

    def __init__(self, root: str, folder: str, doc):
        self.root, self.folder, self.doc, self.problems = root, folder, doc, []

    def __call__(self, relative: str) -> str:
        return os.path.relpath(os.path.join(self.root, relative), self.folder).replace(os.sep, "/")

    def inside(self, relative: str, at: tuple) -> str:
        """For Azure ML's build context, which must sit below the exported file."""
        moved = self(relative)
        if moved == ".." or moved.startswith("../"):
            self.problems.append(error(self.doc.at(at), f"'{relative}' would be outside the exported file's folder: "
                                                        "export next to the spec or in a folder above it"))
        return posixpath.normpath(moved)


def _dropped(doc, keys: dict) -> list:
    present = {key for key in keys if doc.data.get(key)}
    if "python" in present and not doc.data["python"].get("user_managed"):
        present.discard("python")  # user_managed: false says nothing the format lacks
    return [warning(doc.key_at((key,)), f"'{key}' is not exported: the format has no place for {what}")
            for key, what in keys.items() if key in present]


def _pip_lines(doc, relocate) -> list:
    """Every pip line of the spec in install order: index options, conda's pip list, pip.packages, -r files."""
    pip = doc.data.get("pip", {})
    lines = [f"--index-url {pip['index_url']}"] if "index_url" in pip else []
    lines += [f"--extra-index-url {url}" for url in pip.get("extra_index_urls", [])]
    for item in doc.data.get("conda", {}).get("dependencies", []):
        if isinstance(item, dict):
            lines += item.get("pip", [])
    lines += pip.get("packages", [])
    lines += [f"-r {relocate(path)}" for path in pip.get("requirements", [])]
    return lines


def _conda(doc, relocate, dropped: dict) -> tuple:
    from envc.specfile import yaml_text

    conda = doc.data.get("conda", {})
    if conda.get("lock"):
        raise SpecError([error(doc.at(("conda", "lock")), "a conda lock cannot be exported as an environment.yml: "
                                                          "share the lock file itself")])
    dependencies = [item for item in conda.get("dependencies", []) if not isinstance(item, dict)]
    pip = _pip_lines(doc, relocate)
    if pip and not any(isinstance(d, str) and d.split("=")[0].split(" ")[0] == "pip" for d in dependencies):
        dependencies.append("pip")
    data = {"name": doc.data["name"]}
    if conda.get("channels"):
        data["channels"] = list(conda["channels"])
    data["dependencies"] = dependencies + ([{"pip": pip}] if pip else [])
    if doc.data.get("env"):
        data["variables"] = dict(doc.data["env"])
    return yaml_text(data, f"Exported by envc from environment '{doc.data['name']}'."), _dropped(doc, dropped)


def _requirements(doc, relocate) -> str:
    others = [(i, item) for i, item in enumerate(doc.data.get("conda", {}).get("dependencies", []))
              if not isinstance(item, dict) and item.split("=")[0].split(" ")[0] not in ("python", "pip")]
    if others or doc.data.get("conda", {}).get("lock"):
        at = ("conda", "dependencies", others[0][0]) if others else ("conda", "lock")
        raise SpecError([error(doc.at(at), "a requirements file cannot hold conda packages: export --to conda")])
    header = f"# Exported by envc from environment '{doc.data['name']}'.\n"
    return header + "".join(line + "\n" for line in _pip_lines(doc, relocate))


def _azureml_v2(doc, relocate, destination: str) -> tuple:
    """The YAML, and (when there are packages) a conda file beside it named after it."""
    from envc.specfile import yaml_text

    base, data, files = doc.data.get("base", {}), {"$schema": AZUREML_V2_SCHEMA, "name": doc.data["name"]}, {}
    if doc.data.get("description"):
        data["description"] = doc.data["description"]
    if "dockerfile" in base:
        context = base.get("context", ".")
        data["build"] = {"path": relocate.inside(context, ("base", "context") if "context" in base else ("base", "dockerfile")),
                         "dockerfile_path": posixpath.relpath(base["dockerfile"], context)}
    else:
        from envc.lower import DEFAULT_BASE_IMAGE

        image, address = base.get("image") or DEFAULT_BASE_IMAGE, base.get("registry", {}).get("address")
        data["image"] = image if not address or image.startswith(address + "/") else f"{address}/{image}"
    conda_keys = doc.data.get("conda") or doc.data.get("pip")
    dropped = {"system": "apt packages", "python": "the user-managed interpreter", "init": "init scripts"}
    if not conda_keys:  # otherwise the conda file's `variables` carry them
        dropped["env"] = "environment variables without a conda file (set them on the job)"
    notes = _dropped(doc, dropped)
    for key, what in (("platform", "a platform (Azure ML builds linux/amd64)"),
                      ("registry", "registry credentials (Azure ML uses the workspace's registry connections)")):
        if key in base:
            notes.append(warning(doc.key_at(("base", key)), f"'base.{key}' is not exported: the format has no place for {what}"))
    if conda_keys:
        stem = os.path.splitext(os.path.basename(destination))[0]
        conda_path = os.path.join(os.path.dirname(destination), f"{stem}.conda.yml")
        text, _ = _conda(doc, relocate, dropped={})
        files[conda_path] = text.replace("# Exported", "# Conda file of the Azure ML environment exported", 1)
        data["conda_file"] = os.path.basename(conda_path)
    if doc.data.get("labels"):
        data["tags"] = dict(doc.data["labels"])
    files = {destination: yaml_text(data, f"Exported by envc from environment '{doc.data['name']}'."), **files}
    return files, notes
