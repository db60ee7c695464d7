"""Reader of Azure ML's own formats: CLI v2 environment YAMLs, and folders saved by
azureml-core's Environment.save_to_directory (v1). envc.formats.detect loads this module only
for these inputs."""
from __future__ import annotations

import os
import posixpath

from envc.common.diagnostics import SpecError, did_you_mean, error, warning
from envc.common.paths import stem
from envc.core.document import Document, environment_name, remap

AZUREML_V2_KEYS = {"$schema", "name", "version", "description", "tags", "image", "conda_file", "build", "os_type",
                   "inference_config", "datastore"}
AZUREML_BUILD_KEYS = {"path", "dockerfile_path"}
VERSION_LABEL = "org.opencontainers.image.version"
V1_CONDA_FILE, V1_DOCKERFILE = "conda_dependencies.yml", "BaseDockerfile"  # beside azureml_environment.json
AZUREML_V1_KEYS = {"name", "version", "environmentVariables", "python", "docker", "spark", "databricks", "r",
                   "inferencingStackVersion", "assetId"}
AZUREML_V1_PYTHON_KEYS = {"userManagedDependencies", "interpreterPath", "condaDependenciesFile", "baseCondaEnvironment",
                          "condaDependencies"}
INLINE_CONDA_KEYS = {"name", "channels", "dependencies", "variables", "prefix"}  # azureml-core's conda file keys
# The shape every part of a saved JSON must have before it is read (null is always allowed).
AZUREML_V1_SHAPES = {("name",): str, ("python",): dict, ("docker",): dict, ("docker", "baseImageRegistry"): dict,
                     ("docker", "platform"): dict, ("docker", "arguments"): list, ("environmentVariables",): dict,
                     ("spark",): dict, ("databricks",): dict, ("python", "interpreterPath"): str,
                     ("python", "condaDependencies"): dict, ("python", "condaDependencies", "variables"): dict,
                     ("docker", "baseImageRegistry", "address"): str, ("docker", "platform", "architecture"): str}
# What a registry credential of a saved folder becomes: a reference, never the value (envc writes none).
USERNAME_REFERENCE, PASSWORD_REFERENCE = {"env": "AZUREML_REGISTRY_USERNAME"}, {"secret": "azureml_registry_password"}
AZUREML_V1_DOCKER_KEYS = {"enabled", "baseImage", "baseDockerfile", "buildContext", "sharedVolumes", "shmSize", "arguments",
                          "baseImageRegistry", "platform"}


def from_azureml_v2(doc: Document, text: str | None = None) -> Document:
    """An Azure ML CLI v2 environment YAML: image, or a build context with its Dockerfile; conda_file (a path,
    or the conda file itself as a mapping, which azure-ai-ml accepts too); tags and version become image
    labels (as written: `cuda: 11.10` stays "11.10"). text: the file's text, for an inline conda file's selectors."""
    data, notes = doc.data, []
    if "environment" in data and not set(data) & {"image", "build", "conda_file"}:
        return _job_environment(doc, text)
    if set(data) & {"command", "jobs"} and not set(data) & {"image", "build", "conda_file"}:
        raise SpecError([error(doc.at(()), "an Azure ML job or component, not an environment, and it names none at its top "
                                           "(a pipeline's environments are in its jobs): give envc the environment's file, or "
                                           "a job or component with an environment: of its own")])
    problems = _shape_problems(doc, {("name",): str})
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
    if "datastore" in data:
        notes.append(warning(doc.key_at(("datastore",)), "'datastore' is ignored: it names where Azure ML uploads the build "
                                                        "context; envc builds from the local folder"))
    if "inference_config" in data:
        notes.append(warning(doc.key_at(("inference_config",)), "'inference_config' is ignored: it configures Azure ML's "
                                                               "inference server routes, not the image"))
    labels = {key: _as_written(doc, ("tags", key)) for key in data.get("tags") or {}} if isinstance(data.get("tags"), dict) else {}
    if "tags" in data and not isinstance(data["tags"], dict):
        problems.append(error(doc.at(("tags",)), "expected a mapping of tag names to values"))
    inline = None
    if isinstance(data.get("conda_file"), dict):
        try:
            inline = _inline_conda(doc, text)
            problems += inline.errors
        except SpecError as exc:
            problems += exc.diagnostics
    if problems:
        raise SpecError(problems)
    result = {"name": environment_name(data.get("name"), stem(doc.path))}
    moves = {("name",): ("name",), ("tags",): ("labels",), ("image",): ("base", "image"),
             ("conda_file",): ("conda",) if inline else ("conda", "file")}
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
    if inline:
        result.update({key: inline.data[key] for key in ("conda", "env") if key in inline.data})
    elif "conda_file" in data:
        result["conda"] = {"file": data["conda_file"]}
    if "version" in data:
        labels[VERSION_LABEL] = _as_written(doc, ("version",))
        moves[("version",)] = ("labels", VERSION_LABEL)
    if labels:
        result["labels"] = labels
    moved = remap(doc, result, moves, tuple(notes))
    if not inline:
        return moved
    located = lambda table, inner: {**table, **{path: at for path, at in inner.items() if path[:1] in (("conda",), ("env",))}}  # noqa: E731
    return moved._replace(locations=located(moved.locations, inline.locations),
                          key_locations=located(moved.key_locations, inline.key_locations),
                          raw_scalars=located(moved.raw_scalars, inline.raw_scalars), notes=moved.notes + inline.notes)


def _inline_conda(doc: Document, text: str | None) -> Document:
    """The `conda_file:` mapping read as the conda file it is, with conda's rules (variables, selectors, pip:)."""
    from envc.formats.conda_env import from_conda

    return from_conda(_inner(doc, "conda_file"), text=text)


def _inner(doc: Document, key: str) -> Document:
    """The mapping under key as a document of its own, its locations still in doc's file (relative paths too)."""
    inner = lambda table: {path[1:]: at for path, at in table.items() if path[:1] == (key,)}  # noqa: E731
    return Document(doc.data[key], doc.path, inner(doc.locations), inner(doc.key_locations), inner(doc.raw_scalars))


def _job_environment(doc: Document, text: str | None) -> Document:
    """A v2 command job or component: the environment it runs in, written inline (paths relative to the job's file,
    as azure-ai-ml reads them). One it names (`azureml:NAME:VERSION`) is in a workspace, which envc cannot read."""
    environment = doc.data["environment"]
    if isinstance(environment, dict):
        inline = _inner(doc, "environment")
        if "name" not in environment:
            name = doc.data.get("name") if isinstance(doc.data.get("name"), str) else stem(doc.path)
            inline = inline._replace(data={"name": name, **environment})
        return from_azureml_v2(inline, text)
    raise SpecError([error(doc.at(("environment",)), f"this job or component runs in the registered environment "
                           f"{environment!r}, which is in an Azure ML workspace or registry that envc cannot read: save its "
                           "definition (`az ml environment show --name NAME --version VERSION`) and compile that, write it "
                           "inline under environment:, or use a curated environment envc ships (`envc list`)")])


def from_azureml_v1(doc: Document) -> Document:
    """A folder saved by azureml-core's Environment.save_to_directory: azureml_environment.json, with
    conda_dependencies.yml and BaseDockerfile beside it. Settings of how Azure ML *runs* the image
    (docker.enabled, shmSize, arguments...) are not part of it; any that would change the image and
    that envc cannot honour is reported, never dropped silently."""
    data, notes = doc.data, []
    problems = _shape_problems(doc, AZUREML_V1_SHAPES)
    if problems:  # everything below reads these parts
        raise SpecError(problems)
    problems += _unknown_keys(doc, (), AZUREML_V1_KEYS, "an Azure ML environment")
    python, docker = data.get("python") or {}, data.get("docker") or {}
    problems += _unknown_keys(doc, ("python",), AZUREML_V1_PYTHON_KEYS, "python")
    problems += _unknown_keys(doc, ("python", "condaDependencies"), INLINE_CONDA_KEYS, "python.condaDependencies")
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
    result = {"name": environment_name(data.get("name"), os.path.basename(os.path.dirname(doc.path)))}
    moves = {("name",): ("name",), ("environmentVariables",): ("env",), ("version",): ("labels", VERSION_LABEL),
             ("docker", "baseImage"): ("base", "image")}
    base = {}
    if "baseDockerfile" not in docker and "docker" in data:  # save_to_directory moved it to a file
        base["dockerfile"] = V1_DOCKERFILE
        moves[("docker",)] = ("base", "dockerfile")
    elif docker.get("baseImage"):
        base["image"] = docker["baseImage"]
    registry, registry_notes = _v1_registry(doc, docker.get("baseImageRegistry") or {})
    if registry:
        base["registry"] = registry
        for key in ("address", "username", "password"):
            moves[("docker", "baseImageRegistry", key)] = ("base", "registry", key)
    notes += registry_notes
    architecture = (docker.get("platform") or {}).get("architecture") or "amd64"
    if base.get("image") and architecture != "amd64":
        base["platform"] = f"linux/{architecture}"
    if base:
        result["base"] = base
    if python.get("userManagedDependencies"):
        result["python"] = {"user_managed": True, "interpreter": python.get("interpreterPath") or "python"}
        moves[("python", "interpreterPath")] = ("python", "interpreter")
    elif isinstance(python.get("condaDependencies"), dict):  # inline, as azureml-core's repr() and the service write it
        inline = python["condaDependencies"]
        result["conda"] = {key: inline[key] for key in ("channels", "dependencies") if key in inline}
        moves[("python", "condaDependencies")] = ("conda",)
        if inline.get("prefix") is not None:
            notes.append(warning(doc.key_at(("python", "condaDependencies", "prefix")), "'prefix' is ignored: the "
                                                                                         "environment is created at envc's own path"))
        if inline.get("variables"):
            result["env"] = dict(inline["variables"])
            moves[("python", "condaDependencies", "variables")] = ("env",)
    else:  # decided by the JSON alone, not by which files exist: the result cache lists only files read
        result["conda"] = {"file": V1_CONDA_FILE}
        moves[("python",)] = ("conda", "file")
    if data.get("environmentVariables"):
        result["env"] = {**result.get("env", {}), **data["environmentVariables"]}
    if data.get("version") is not None:
        result["labels"] = {VERSION_LABEL: _as_written(doc, ("version",))}
    return remap(doc, result, moves, tuple(notes))


def _v1_registry(doc: Document, registry: dict) -> tuple:
    """The registry address, with credentials as references: a literal username or password in the
    saved JSON is never copied (envc writes no credential anywhere), only pointed to."""
    if not registry.get("address"):
        return None, []
    result, notes = {"address": registry["address"]}, []
    for key, reference in (("username", USERNAME_REFERENCE), ("password", PASSWORD_REFERENCE)):
        value = registry.get(key)
        if isinstance(value, dict) and len(value) == 1 and set(value) <= {"env", "secret"}:
            result[key] = value  # already a reference (envc's save_to_directory writes these): the schema checks it
            continue
        if value:
            result[key] = dict(reference)
            how = f"env {reference['env']}" if "env" in reference else f"--secret id={reference['secret']},src=FILE"
            notes.append(warning(doc.at(("docker", "baseImageRegistry", key)), f"the literal registry {key} is not copied: "
                                 f"`envc build` takes it by reference ({how})"))
    return result, notes


def _shape_problems(doc: Document, shapes: dict) -> list:
    names = {dict: "a mapping", list: "a list", str: "a string"}
    problems = []
    for at, kind in shapes.items():
        value = _get_in(doc.data, at)
        if value is not None and not isinstance(value, kind):
            problems.append(error(doc.at(at), f"expected {names[kind]}, got {type(value).__name__}"))
    return problems


def _unknown_keys(doc: Document, at: tuple, known: set, where: str) -> list:
    section = _get_in(doc.data, at)
    if not isinstance(section, dict):
        return []  # _shape_problems reported it
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
    value = _get_in(doc.data, at)
    if isinstance(value, (str, dict, list)):
        return value  # a mapping or list is left for the schema to report where it is
    return doc.raw_scalars.get(at, "" if value is None else str(value))
