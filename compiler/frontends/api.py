"""The Python API Azure ML users already know: azureml-core's Environment, CondaDependencies and
ContainerRegistry, offline.

The same names, arguments and results as azureml-core 1.61 (tests/test_azureml_differential.py runs
the same operations against both), with envc's promises where azureml-core differs on purpose (the
README's "Python API" lists each difference and its reason): attributes are fixed, package specs are
checked when they are added, no cloud defaults are added, credentials are never written, and an
Environment compiles to exactly the Dockerfile `envc compile` gives for the folder
`save_to_directory` writes (the format azureml-core writes and envc imports).
"""
from __future__ import annotations

import copy
import json
import os
import re
import tempfile
import warnings
from contextlib import contextmanager

from envc.common.diagnostics import Location, SpecError, did_you_mean, error
from envc.formats.azureml import PASSWORD_REFERENCE, USERNAME_REFERENCE
from envc.formats.azureml import V1_CONDA_FILE as CONDA_FILE
from envc.formats.azureml import V1_DOCKERFILE as DOCKERFILE
from envc.formats.detect import AZUREML_V1_FILE as ENVIRONMENT_FILE

CONDA_KEYS = ("name", "channels", "dependencies", "prefix", "variables")  # what azureml-core accepts in a conda file
PYTHON = "python"
VERSION_REGEX = re.compile(r"(\d+)\.(\d+)(\.(\d+))?([ab](\d+))?$")  # azureml-core's, for python=X.Y[.Z]
TENSORFLOW_DEFAULT_VERSION, CNTK_DEFAULT_VERSION = "2.2.0", "2.7"  # azureml-core's helpers' defaults
CPU, GPU = "cpu", "gpu"
# azureml-core 1.61's azureml.core.environment (and runconfig) constants: code sets env.docker.base_image to them.
# DEFAULT_CPU_IMAGE is the spec's default base image (module __getattr__ below).
DEFAULT_GPU_IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-cuda11.8-cudnn8-ubuntu22.04"


def __getattr__(name):
    if name == "DEFAULT_CPU_IMAGE":
        from envc.common.schema import default

        return default("base", "image")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
PASSWORD_VARIABLE = "AZUREML_REGISTRY_PASSWORD"  # where build_local hands an in-memory password to `envc build`
# Calls of azureml-core envc does not offer, and why: AttributeError names the reason (README "Python API").
REFUSED = {
    "sdk_origin_url": "it names the Azure ML SDK's package index; envc adds no SDK packages",
    "_sdk_scope": "it lists the Azure ML SDK's packages; envc adds no SDK packages",
    "_pin_sdk_packages": "it pins the Azure ML SDK's packages to the installed SDK; envc has no SDK version",
    "add_private_pip_wheel": "it uploads a wheel to a workspace's blob storage; serve wheels from an index "
                             "(pip.index_url, --find-links) instead",
    "label": "Azure ML labels live in a workspace; envc versions may be labels: `envc register SPEC --version LABEL`",
    "from_docker_build_context": "a build context on git or in Azure storage cannot be read offline; write an envc "
                                 "spec with base.dockerfile and base.context, or an Azure ML v2 YAML with build.path",
}


def _did_you_mean(name: str, owner) -> str:
    if name in REFUSED:
        return f": envc does not offer it: {REFUSED[name]}"
    if owner is not None and getattr(owner, "__name__", "") == "Environment" and name == "from_conda_specifications":
        return " (did you mean 'from_conda_specification'? azureml-core has only the singular; Azure ML's guide misspells it)"
    known = [n for n in dir(owner) if not n.startswith("_")]
    return did_you_mean(name, known)


class _Fixed(type):
    """Class attributes: a missing one raises AttributeError with the reason or a did-you-mean."""

    def __getattr__(cls, name):
        if name.startswith("__"):
            raise AttributeError(name)
        raise AttributeError(f"type object '{cls.__name__}' has no attribute '{name}'{_did_you_mean(name, cls)}")


class _Strict(metaclass=_Fixed):
    """Fixed attributes: setting or reading one that does not exist raises, with a did-you-mean
    (azureml-core raises too for Environment and its sections, but not for CondaDependencies)."""

    __slots__ = ()

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'{_did_you_mean(name, type(self))}")

    def __setattr__(self, name, value):
        if not hasattr(type(self), name):
            raise AttributeError(f"{type(self).__name__} has no attribute '{name}'{_did_you_mean(name, type(self))}")
        object.__setattr__(self, name, value)


def _text(value, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"a {what} must be a string, got {type(value).__name__}: {value!r}")
    return value


def _package_name(value: str) -> str:
    """azureml-core's name of a package spec (its python detection depends on it)."""
    if value.endswith(".whl"):
        return re.split("-", re.split("/", value)[-1])[0]
    return re.split(r"[\[=|<|>|~|!]", value)[0]


def _is_python(item) -> bool:
    return isinstance(item, str) and item.startswith(PYTHON) and _package_name(item) == PYTHON


def _python_version(spec: str):
    found = VERSION_REGEX.search(spec)
    return found.group() if found else None


def _conda_name(spec: str) -> str:
    from envc.common.package_specs import parse_matchspec

    return parse_matchspec(spec).name.lower()


def _pip_key(spec: str) -> tuple:
    """What makes two pip lines the same package: the name as pip compares names, and the marker."""
    from envc.common.package_specs import parse_pip_line

    line = parse_pip_line(spec)
    name = re.sub(r"[-_.]+", "-", (line.name or line.value).lower())
    marker = " ".join(spec.split(";", 1)[1].split()) if line.kind == "requirement" and ";" in spec else ""
    return name, marker


def _no_credentials(value: str, what: str) -> str:
    """value; ValueError, not echoing it, when it holds a URL with credentials (repr() and every saved file
    would carry them): `user:password@`, or in a conda value an anaconda.org token (/t/TOKEN)."""
    from envc.common.package_specs import URL_CREDENTIALS, conda_token, url_secret_parameter

    if URL_CREDENTIALS.search(value) or url_secret_parameter(value) or (what.startswith("conda") and conda_token(value)):
        raise ValueError(f"the {what} has a URL with credentials, which would be written into the image and every "
                         "saved file: pass them to the build as a secret instead (for a pip index: pip.netrc_secret)")
    return value


def _check_conda(spec) -> str:
    from envc.common.package_specs import SpecSyntaxError, parse_matchspec

    try:
        parse_matchspec(_no_credentials(_text(spec, "conda package"), "conda package"))
    except SpecSyntaxError as exc:
        raise ValueError(f"not a conda package spec: {spec!r}: {exc}") from None
    return spec


def _check_pip(spec, option: bool):
    """The parsed line; ValueError when it is not one pip reads, or not of the kind asked for."""
    from envc.common.package_specs import SpecSyntaxError, parse_pip_line

    what = "pip option" if option else "pip package"
    _no_credentials(_text(spec, what), what)  # first: the messages below echo the line
    if spec.startswith("-") != option:
        raise ValueError(f"Invalid pip option {spec}: options start with '-'" if option else
                         f"Invalid package name {spec}: a pip option; use set_pip_option")
    try:
        line = parse_pip_line(spec)
    except SpecSyntaxError as exc:
        raise ValueError(f"not a pip {'option' if option else 'requirement'}: {spec!r}: {exc}") from None
    if line.kind == "path":
        raise ValueError(f"{spec!r} is a local path, which envc does not copy into the image: install a released "
                         "package or a URL, or COPY it in a base Dockerfile")
    if (line.hashes or (line.kind in ("requirement", "url") and line.options)):
        raise ValueError(f"{spec!r}: --hash and per-requirement options work only inside a requirements file: "
                         "use Environment.from_pip_requirements")
    return line


def _is_note(item) -> bool:
    """A pip list entry pip ignores: blank, or a comment (azureml-core copies them from requirements files)."""
    return isinstance(item, str) and (not item.strip() or item.lstrip().startswith("#"))


class CondaDependencies(_Strict):
    """A conda environment file: name, channels in priority order, conda packages and a pip list of
    packages and options, with every file a -r/-c option of the pip list reads carried along."""

    __slots__ = ("_data", "_files", "_layout")
    DEFAULT_NUMBER_OF_CONDA_PACKAGES = DEFAULT_NUMBER_OF_PIP_PACKAGES = 0  # what CondaDependencies() starts with

    def __init__(self, conda_dependencies_file_path=None, _underlying_structure=None):
        object.__setattr__(self, "_files", {})
        object.__setattr__(self, "_layout", {})  # the loaded file's comments and flow-style lists, kept on writing
        if conda_dependencies_file_path is not None:
            object.__setattr__(self, "_data", {})
            path = os.fspath(conda_dependencies_file_path)
            if not os.path.isfile(path):
                raise FileNotFoundError(2, "No such file or directory", path)
            self._load(path)
        elif _underlying_structure is not None:
            object.__setattr__(self, "_data", copy.deepcopy(dict(_underlying_structure)))
        else:  # azureml-core starts from python=3.8.13, azureml-defaults and two channels: envc from nothing
            object.__setattr__(self, "_data", {"name": "project_environment"})

    @staticmethod
    def create(pip_indexurl=None, pip_packages=None, conda_packages=None, python_version=None, pin_sdk_version=True):
        """azureml-core's create(), without what it adds for the cloud: no azureml-defaults, no channels, no
        Python unless asked for, no SDK index; pin_sdk_version has nothing to pin."""
        deps = CondaDependencies()
        if pip_indexurl is not None:
            deps.set_pip_option(f"--find-links {_text(pip_indexurl, 'pip index URL')}")
            deps.set_pip_option("--extra-index-url https://pypi.python.org/simple")
        if python_version is not None:
            deps.set_python_version(python_version)
        for package in pip_packages or ():
            deps.add_pip_package(package)
        for package in conda_packages or ():
            deps.remove_conda_package(package) if not _is_python(package) else None
        for package in conda_packages or ():
            deps.add_conda_package(package)
        return deps

    @staticmethod
    def merge_requirements(requirements):
        """azureml-core's: the constraints of each name joined with ','."""
        packages = {}
        for requirement in requirements:
            name = _package_name(requirement)
            packages.setdefault(name, []).append(requirement[len(name):].strip())
        return [name + ",".join(x for x in rest if x) for name, rest in packages.items()]

    # -- reading ---------------------------------------------------------------------------------
    def _dependencies(self) -> list:
        return self._data.get("dependencies") or []

    def _pip_lists(self) -> list:
        return [item["pip"] for item in self._dependencies() if isinstance(item, dict) and "pip" in item]

    @property
    def conda_channels(self):
        return iter(list(self._data.get("channels") or ()))

    @property
    def conda_packages(self):
        return iter([item for item in self._dependencies() if isinstance(item, str)])

    @property
    def pip_packages(self):
        lists = self._pip_lists()
        return iter([item for item in lists[-1] if not item.startswith("-")] if lists else [])

    @property
    def pip_options(self):
        lists = self._pip_lists()
        return iter([item for item in lists[-1] if item.startswith("-")] if lists else [])

    def get_python_version(self):
        for item in self._dependencies():
            if _is_python(item):
                return _python_version(item)
        return None

    def get_default_number_of_packages(self):
        return 0, 0  # the packages CondaDependencies() starts with: none in envc

    def as_dict(self):
        return json.loads(json.dumps(self._data))

    # -- changing --------------------------------------------------------------------------------
    def add_channel(self, channel) -> None:
        channel = _no_credentials(_text(channel, "conda channel"), "conda channel")
        if not channel.strip():
            raise ValueError(f"not a conda channel: {channel!r}")
        channels = self._data.setdefault("channels", [])
        if channel not in channels:
            channels.append(channel)

    def remove_channel(self, channel) -> None:
        channels = self._data.get("channels") or []
        if channel in channels:
            channels.remove(channel)

    def set_python_version(self, version) -> None:
        self._set_python(f"python={_text(version, 'Python version')}")

    def _set_python(self, spec: str) -> None:
        dependencies = self._data.setdefault("dependencies", [])
        for index, item in enumerate(dependencies):
            if _is_python(item):
                dependencies[index] = spec
                return
        dependencies.append(spec)

    def add_conda_package(self, conda_package) -> None:
        """Checked now, with conda's MatchSpec grammar. Another version of a package already listed
        replaces it (azureml-core keeps both, and the solve fails at build time); a python spec sets
        the Python version, as in azureml-core."""
        _check_conda(conda_package)
        dependencies = self._data.setdefault("dependencies", [])
        if conda_package in dependencies:
            return
        if _is_python(conda_package):
            version = _python_version(conda_package)
            self._set_python(f"python={version}" if version else conda_package)
            return
        name = _conda_name(conda_package)
        for index, item in enumerate(dependencies):
            if isinstance(item, str) and not _is_python(item) and _conda_name(item) == name:
                dependencies[index] = conda_package
                return
        dependencies.append(conda_package)

    def remove_conda_package(self, conda_package) -> None:
        dependencies = self._data.get("dependencies") or []
        if conda_package in dependencies:
            if _is_python(conda_package):
                raise ValueError("python must not be removed from conda dependencies: set_python_version changes it")
            dependencies.remove(conda_package)

    def add_pip_package(self, pip_package) -> None:
        """A requirement (PEP 508, URL, -e VCS URL is an option) checked now. An earlier line for the same
        package (as pip compares names, with the same marker) is replaced, as in azureml-core. A blank one (the
        last of `text.split("\n")`) adds nothing: azureml-core keeps it, and pip skips it in the file conda writes."""
        if isinstance(pip_package, str) and not pip_package.strip():
            return
        _check_pip(pip_package, option=False)
        self.remove_pip_package(pip_package, _same_marker=True)
        lists = self._pip_lists()
        if not lists:
            self._data.setdefault("dependencies", []).append({"pip": [pip_package]})
            return
        for pip in lists:
            if pip_package not in pip:
                pip.append(pip_package)

    def remove_pip_package(self, pip_package, _same_marker=False) -> None:
        _check_pip(pip_package, option=False)
        key = _pip_key(pip_package)
        for pip in self._pip_lists():
            for item in [i for i in pip if not i.startswith("-")]:
                other = _pip_key(item)
                if other[0] == key[0] and (not _same_marker or other[1] == key[1]):
                    pip.remove(item)

    def set_pip_requirements(self, pip_requirements) -> None:
        """The whole pip list, replaced by these lines (packages and options) in order."""
        lines = [item for item in pip_requirements if not _is_note(_text(item, "pip line"))]
        for item in lines:
            self._carry(_check_pip(item, option=item.startswith("-")), os.getcwd())
        lists = self._pip_lists()
        if not lists:
            self._data.setdefault("dependencies", []).append({"pip": lines})
            return
        for item in self._dependencies():
            if isinstance(item, dict) and "pip" in item:
                item["pip"] = list(lines)

    def set_pip_option(self, pip_option) -> None:
        """An option line (`--index-url URL`, `--pre`, `-r FILE`); one with the same option replaces it.
        A -r/-c file is read now, relative to the working folder, and carried with the environment."""
        line = _check_pip(pip_option, option=True)
        self._carry(line, os.getcwd())
        lists = self._pip_lists()
        if not lists:
            self._data.setdefault("dependencies", []).append({"pip": [pip_option]})
            return
        flag = pip_option.split()[0]
        for pip in lists:
            same = [i for i, item in enumerate(pip) if item.startswith("-") and item.split()[0] == flag]
            if same:
                for index in same:
                    pip[index] = pip_option
            else:
                pip.append(pip_option)

    def set_pip_index_url(self, index_url) -> None:
        """As in azureml-core: the whole option, `--index-url URL`."""
        self.set_pip_option(index_url)

    def remove_pip_option(self, pip_option) -> None:
        if not _no_credentials(_text(pip_option, "pip option"), "pip option").startswith("-"):
            raise ValueError(f"Invalid pip option {pip_option}: options start with '-'")
        flag = pip_option.split()[0]
        for pip in self._pip_lists():
            for item in [i for i in pip if i.startswith("-") and i.split()[0] == flag]:
                pip.remove(item)

    def add_tensorflow_conda_package(self, core_type=CPU, version=None) -> None:
        _core_type(core_type)
        for item in [i for i in self.conda_packages if i.startswith("tensorflow")]:
            self.remove_conda_package(item)
        name = "tensorflow-gpu" if core_type == GPU else "tensorflow"
        self.add_conda_package(f"{name}={version or TENSORFLOW_DEFAULT_VERSION}")

    def add_tensorflow_pip_package(self, core_type=CPU, version=None) -> None:
        _core_type(core_type)
        self._remove_pip_prefix("tensorflow")
        name = "tensorflow-gpu" if core_type == GPU else "tensorflow"
        self.add_pip_package(f"{name}=={version or TENSORFLOW_DEFAULT_VERSION}")

    def add_cntk_package(self, core_type=CPU) -> None:
        _core_type(core_type)
        self._remove_pip_prefix("cntk")
        self.add_pip_package(f"{'cntk-gpu' if core_type == GPU else 'cntk'}=={CNTK_DEFAULT_VERSION}")

    def _remove_pip_prefix(self, prefix: str) -> None:
        for pip in self._pip_lists():
            for item in [i for i in pip if i.startswith(prefix)]:
                pip.remove(item)

    # -- writing ---------------------------------------------------------------------------------
    def serialize_to_string(self) -> str:
        """The conda file as azureml-core writes it: block style (lists the file wrote as [a, b] stay so),
        values quoted only where YAML needs it, and the loaded file's comments and blank lines kept with
        the entries they belong to."""
        return _emit(self._data, self._layout)

    def save(self, path=None) -> str:
        """The conda file at path, and the files its -r/-c options read beside it. Returns path."""
        from envc.common.atomic_write import write_atomic

        if path is None:
            raise TypeError("save() needs the path of the file to write")
        if os.path.isdir(path):
            raise ValueError("Cannot save a conda environment specification file to a directory: give the file's path")
        folder = os.path.dirname(os.fspath(path))
        if folder and not os.path.isdir(folder):
            raise ValueError(f"Cannot save the conda environment specification file to {path}: {folder} is not a folder")
        for relative, text in self._files.items():
            target = os.path.join(folder, *relative.split("/"))
            os.makedirs(os.path.dirname(target) or ".", exist_ok=True)
            write_atomic(target, text)
        write_atomic(path, self.serialize_to_string())
        return path

    def save_to_file(self, base_directory, conda_file_path=None) -> str:
        """Deprecated in azureml-core (use save); kept: writes base_directory/conda_file_path."""
        conda_file_path = conda_file_path or ".azureml/auto_conda_dependencies.yml"
        self.save(os.path.join(base_directory, conda_file_path))
        return conda_file_path

    # -- files -----------------------------------------------------------------------------------
    def _carry(self, line, folder: str, at=None) -> None:
        """Read the file a -r/-c line names (and what it includes), relative to folder, to carry it."""
        if line.kind not in ("include", "constraint") or "://" in line.value:
            return
        for relative, text in _read_included(line.value, folder, at).items():
            self._files[relative] = text

    def _load(self, path: str) -> None:
        from envc.core.validate import check_schema
        from envc.core.yaml_source import load_yaml
        from envc.formats.conda_env import from_conda

        raw = load_yaml(path)
        if not isinstance(raw.data, dict):
            raise SpecError([error(raw.at(()), "a conda environment file is a mapping: name, channels, dependencies")])
        unknown = [error(raw.key_at((key,)), f"unknown key '{key}' in a conda environment file{did_you_mean(str(key), CONDA_KEYS)}")
                   for key in raw.data if key not in CONDA_KEYS]
        if unknown:
            raise SpecError(unknown)
        doc = from_conda(raw)
        check_schema(doc)  # located errors, as `envc check` gives them
        problems, data = [], copy.deepcopy(raw.data)
        for index, item in enumerate(data.get("dependencies") or ()):
            if isinstance(item, dict):
                lines = list(item.get("pip") or ())
                item["pip"] = [line for line in lines if not _is_note(line)]  # pip ignores them too
                for position, line in enumerate(lines):
                    if _is_note(line):
                        continue
                    where = doc.at(("conda", "dependencies", index, "pip", position))
                    try:
                        self._carry(_check_pip(line, option=line.startswith("-")), os.path.dirname(path) or ".", where)
                    except ValueError as exc:
                        problems.append(error(where, str(exc)))
            else:
                try:
                    _check_conda(item)
                except ValueError as exc:
                    problems.append(error(doc.at(("conda", "dependencies", index)), str(exc)))
        if problems:
            raise SpecError(problems)
        object.__setattr__(self, "_data", data)
        object.__setattr__(self, "_layout", _layout(raw))


def _identity(section, item):
    """Which entry a comment belongs to: the key, the pip list, the python entry (replaced in place), or
    the entry's text."""
    if isinstance(item, dict):
        return (section, "pip:")
    if section == "dependencies" and _is_python(item):
        return (section, PYTHON)
    return (section, str(item))


def _layout(doc) -> dict:
    """Comments (whole lines above an entry, and after it on its line) and flow-style lists of a loaded
    conda file, by entry, for _emit."""
    lines = doc.text.splitlines() if getattr(doc, "text", None) is not None else _read_lines(doc.path)

    def above(line: int) -> list:
        found, number = [], line - 1
        while number >= 1 and (not lines[number - 1].strip() or lines[number - 1].lstrip().startswith("#")):
            found.insert(0, lines[number - 1])
            number -= 1
        return found

    def inline(location) -> tuple:
        text = lines[location.line - 1]
        start = location.col - 1
        if text[start:start + 1] in "'\"":
            close = text.find(text[start], start + 1)
            start = close if close > 0 else start
        found = re.search(r"\s#", text[start:])
        return (start + found.start() + 1, text[start + found.start() + 1:]) if found else None

    comments, flow = {}, set()
    for key in doc.data:
        at = doc.key_locations.get((key,))
        if at is None:
            continue
        value = doc.locations.get((key,))
        if value is not None and lines[value.line - 1][value.col - 1:value.col] == "[":
            flow.add(key)
        comments[("key", key)] = (above(at.line), inline(value) if value is not None and value.line == at.line else None)
        if not isinstance(doc.data[key], list) or key in flow:
            continue
        for index, item in enumerate(doc.data[key]):
            where = doc.locations.get((key, index))
            if where is None:
                continue
            if isinstance(item, dict) and isinstance(item.get("pip"), list):
                pip_at = doc.key_locations.get((key, index, "pip"), where)
                comments[_identity(key, item)] = (above(where.line), inline(doc.locations.get((key, index, "pip"), where))
                                                  if (doc.locations.get((key, index, "pip")) or where).line == pip_at.line else None)
                for position, line in enumerate(item["pip"]):
                    at_line = doc.locations.get((key, index, "pip", position))
                    if at_line is not None:
                        comments[("pip", str(line))] = (above(at_line.line), inline(at_line))
            else:
                comments[_identity(key, item)] = (above(where.line), inline(where))
    last = max((at.line for at in doc.locations.values()), default=0)
    header = []  # the lines above the first key are its comments
    trailer = [line for line in lines[last:] if line.strip()]
    return {"comments": comments, "flow": flow, "header": header, "trailer": trailer}


def _read_lines(path: str) -> list:
    with open(path, encoding="utf-8", errors="replace") as handle:
        return handle.read().splitlines()


def _scalar(value, flow: bool = False) -> str:
    import yaml

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    if flow:
        return yaml.dump([value], Dumper=dumper, default_flow_style=True, width=1 << 30, allow_unicode=True).strip()[1:-1]
    return yaml.dump({"k": value}, Dumper=dumper, default_flow_style=False, width=1 << 30, allow_unicode=True)[3:].rstrip("\n")


def _emit(data: dict, layout: dict) -> str:
    """A conda file's YAML: block style as ruamel.yaml (azureml-core) writes it, with layout's comments."""
    import yaml

    comments, flow = layout.get("comments", {}), layout.get("flow", set())
    out = list(layout.get("header", ()))

    def put(identity, text: str) -> None:
        before, after = comments.get(identity, ((), None))
        out.extend(before)
        if after:
            column, comment = after
            text = text + " " * max(1, column - len(text)) + comment
        out.append(text)

    for key, value in data.items():
        if isinstance(value, list) and value and (key not in flow or any(isinstance(v, (dict, list)) for v in value)):
            put(("key", key), f"{key}:")
            for item in value:
                if isinstance(item, dict) and isinstance(item.get("pip"), list) and len(item) == 1:
                    if not item["pip"]:
                        put(_identity(key, item), "- pip: []")
                        continue
                    put(_identity(key, item), "- pip:")
                    for line in item["pip"]:
                        put(("pip", str(line)), f"  - {_scalar(line)}")
                elif isinstance(item, (dict, list)):
                    block = yaml.safe_dump([item], default_flow_style=False, sort_keys=False, width=1 << 30).rstrip("\n")
                    put(_identity(key, item), block)
                else:
                    put(_identity(key, item), f"- {_scalar(item)}")
        elif isinstance(value, list):
            put(("key", key), f"{key}: [{', '.join(_scalar(item, flow=True) for item in value)}]")
        elif isinstance(value, dict) and value:
            put(("key", key), f"{key}:")
            out.extend(f"  {line}" for line in yaml.safe_dump(value, default_flow_style=False, sort_keys=False,
                                                              width=1 << 30, allow_unicode=True).splitlines())
        else:
            put(("key", key), f"{key}: {_scalar(value)}")
    out.extend(layout.get("trailer", ()))
    return "\n".join(out) + "\n"


def _core_type(core_type) -> None:
    if core_type not in (CPU, GPU):
        raise ValueError(f"Invalid core type {core_type}. Only accept 'cpu' or 'gpu'")


def _read_included(value: str, folder: str, at=None) -> dict:
    """{relative path: text} of the requirements file value (relative to folder) and every file it
    includes, read now: a missing file or a loop is a located error."""
    from envc.common.paths import relative_to
    from envc.formats.requirements import read_requirements

    path = os.path.realpath(os.path.join(folder, value))
    root = os.path.realpath(folder)
    if not os.path.isfile(path):
        raise SpecError([error(at or Location(value), f"no such file '{value}' (read relative to {folder})")])
    tree = read_requirements(path, root)
    if tree.problems:
        raise SpecError(tree.problems)
    files = {}
    for relative, resolved in tree.files:
        relative = relative_to(resolved, root)
        if relative.startswith("../") or os.path.isabs(relative):
            raise SpecError([error(at or Location(value), f"'{value}' includes '{resolved}', outside {folder}: an environment "
                                                          "carries the files beside its requirements file only")])
        with open(resolved, encoding="utf-8") as handle:
            files[relative] = handle.read()
    return files


class ContainerRegistry(_Strict):
    """Where the base image is pulled from. A username and password are kept in memory only (for
    build_local's login): whatever is written gets references ({env: AZUREML_REGISTRY_USERNAME},
    {secret: azureml_registry_password}) and a warning naming what to set."""

    __slots__ = ("address", "_username", "_password", "registry_identity")

    def __init__(self):
        self.address = None
        object.__setattr__(self, "_username", None)
        object.__setattr__(self, "_password", None)
        self.registry_identity = None

    @property
    def username(self):
        return self._username

    @username.setter
    def username(self, value):
        object.__setattr__(self, "_username", _credential(value, "username"))

    @property
    def password(self):
        return self._password

    @password.setter
    def password(self, value):
        object.__setattr__(self, "_password", _credential(value, "password"))

    def __repr__(self) -> str:
        return f"ContainerRegistry(address={self.address!r}, username={'***' if self._username else None}, " \
               f"password={'***' if self._password else None})"

    def __deepcopy__(self, memo):
        clone = ContainerRegistry()
        for name in self.__slots__:
            object.__setattr__(clone, name, getattr(self, name))
        return clone

    def __getstate__(self):
        """What pickle or copy.copy keeps: never the credentials (a pickle is a file)."""
        return None, {"address": self.address, "_username": None, "_password": None,
                      "registry_identity": self.registry_identity}

    def _saved(self) -> dict:
        return {"address": self.address, "username": dict(USERNAME_REFERENCE) if self._username else None,
                "password": dict(PASSWORD_REFERENCE) if self._password else None, "registryIdentity": None}

    def _check_pair(self) -> None:
        """Both credentials or neither: with one, `envc build` would not log in, and say a variable is unset."""
        if bool(self._username) != bool(self._password):
            given, missing = ("username", "password") if self._username else ("password", "username")
            raise ValueError(f"the base image registry has a {given} but no {missing}: set both username and password "
                             "(or neither, to use the engine's current login)")


def _credential(value, what: str):
    if value is not None and not isinstance(value, str):  # the message never shows the value
        raise ValueError(f"the registry {what} must be a string, got {type(value).__name__}")
    return value


class DockerImagePlatform(_Strict):
    __slots__ = ("os", "architecture")

    def __init__(self, os="Linux", architecture="amd64"):
        self.os, self.architecture = os, architecture


class DockerSection(_Strict):
    """The base image, or a base Dockerfile (the last one set wins, as in azureml-core), and how
    Azure ML runs the container (enabled, shm_size, arguments: kept and saved; `envc build` ignores them)."""

    __slots__ = ("_base_image", "_base_dockerfile", "enabled", "shm_size", "shared_volumes", "arguments",
                 "_registry", "platform")

    def __init__(self):
        from envc.common.schema import default

        object.__setattr__(self, "_base_image", default("base", "image"))
        object.__setattr__(self, "_base_dockerfile", None)
        self.enabled, self.shm_size, self.shared_volumes, self.arguments = False, "2g", True, []
        object.__setattr__(self, "_registry", ContainerRegistry())
        self.platform = DockerImagePlatform()

    @property
    def base_image(self):
        return self._base_image

    @base_image.setter
    def base_image(self, value):
        if value is not None and not isinstance(value, str):
            hint = ": a trailing comma makes a tuple" if isinstance(value, tuple) else ""
            raise ValueError(f"base_image must be an image reference (a string), got {type(value).__name__}{hint}")
        if value and self._base_dockerfile is not None:
            warnings.warn("base_image replaces base_dockerfile (they are mutually exclusive): base_dockerfile is now None", stacklevel=2)
            object.__setattr__(self, "_base_dockerfile", None)
        object.__setattr__(self, "_base_image", value or None)

    @property
    def base_dockerfile(self):
        return self._base_dockerfile

    @base_dockerfile.setter
    def base_dockerfile(self, value):
        """The Dockerfile's text, a path to it (an existing file, relative to the working folder, as in
        azureml-core) or an open file."""
        if value is not None and hasattr(value, "read"):
            value = value.read()
        if value and not isinstance(value, str):
            if not isinstance(value, os.PathLike):
                raise ValueError(f"base_dockerfile must be Dockerfile text, a path or an open file, got {type(value).__name__}")
            value = os.fspath(value)
        if value and os.path.isfile(value):
            with open(value, encoding="utf-8") as handle:
                value = handle.read()
        elif value and "\n" not in value.strip() and not re.search(r"(?im)^\s*FROM\s", value):
            raise ValueError(f"base_dockerfile {value!r} is neither a file (from {os.getcwd()}) nor Dockerfile text "
                             "(no FROM): give the Dockerfile's path or its content")
        if value and self._base_image:
            warnings.warn("base_dockerfile replaces base_image (they are mutually exclusive): base_image is now None", stacklevel=2)
            object.__setattr__(self, "_base_image", None)
        object.__setattr__(self, "_base_dockerfile", value or None)

    @property
    def build_context(self):
        return None

    @build_context.setter
    def build_context(self, value):
        if value is not None:
            raise NotImplementedError(f"docker.build_context is not supported: {REFUSED['from_docker_build_context']}")

    @property
    def gpu_support(self):
        return True  # deprecated in azureml-core: GPU support is always on

    @gpu_support.setter
    def gpu_support(self, value):
        pass

    @property
    def base_image_registry(self):
        return self._registry

    @base_image_registry.setter
    def base_image_registry(self, value):
        if value is not None and not isinstance(value, ContainerRegistry):
            raise ValueError(f"base_image_registry must be a ContainerRegistry or None, got {type(value).__name__}")
        object.__setattr__(self, "_registry", value)


class PythonSection(_Strict):
    __slots__ = ("_conda", "user_managed_dependencies", "interpreter_path")

    def __init__(self):
        object.__setattr__(self, "_conda", CondaDependencies())
        self.user_managed_dependencies = False
        self.interpreter_path = "python"

    @property
    def conda_dependencies(self):
        return self._conda

    @conda_dependencies.setter
    def conda_dependencies(self, value):
        if value is not None and not isinstance(value, CondaDependencies):
            raise ValueError(f"conda_dependencies must be a CondaDependencies or None, got {type(value).__name__}")
        object.__setattr__(self, "_conda", value)

    @property
    def conda_dependencies_file(self):
        return None

    @conda_dependencies_file.setter
    def conda_dependencies_file(self, value):
        if value:
            raise ValueError("conda_dependencies_file is deprecated in azureml-core and not kept by envc: use "
                             "Environment.from_conda_specification(name, path) or CondaDependencies(path)")


class SparkSection(_Strict):
    """Kept and saved as azureml-core does; it configures a Spark cluster, so `envc compile` ignores it with a warning."""

    __slots__ = ("repositories", "packages", "precache_packages")

    def __init__(self):
        self.repositories, self.packages, self.precache_packages = [], [], True


class DatabricksSection(_Strict):
    """Kept and saved as azureml-core does; it configures a Databricks cluster, so `envc compile` ignores it with a warning."""

    __slots__ = ("maven_libraries", "pypi_libraries", "rcran_libraries", "jar_libraries", "egg_libraries", "cluster")

    def __init__(self):
        self.maven_libraries, self.pypi_libraries, self.rcran_libraries = [], [], []
        self.jar_libraries, self.egg_libraries, self.cluster = [], [], None  # cluster: not saved, as in azureml-core


class DockerImageDetails(dict):
    """What get_image_details() returns: azureml-core's mapping (details['ingredients']['dockerfile']) with
    the keys that mean something offline, and its properties (details.dockerfile)."""

    @property
    def dockerfile(self):
        return (self.get("ingredients") or {}).get("dockerfile")

    @property
    def image_exist(self) -> bool:
        """Whether the local engine has the image (Azure ML: its workspace registry); asked when read."""
        if "imageExistsInRegistry" not in self:
            self["imageExistsInRegistry"] = _image_exists(self["dockerImage"]["name"])
        return bool(self["imageExistsInRegistry"])

    @property
    def repository(self):
        return self["dockerImage"]["name"]

    @property
    def registry(self):
        return self["dockerImage"]["registry"]["address"]

    @property
    def image(self):
        return f"{self.registry}/{self.repository}" if self.registry else self.repository

    @property
    def interpreter_path(self):
        return self["pythonEnvironment"]["interpreterPath"]

    @property
    def environment_path(self):
        return self["pythonEnvironment"]["condaEnvironmentPath"]

    @property
    def spec_hash(self):
        return self["specHash"]

    @property
    def image_name(self):
        return self["dockerImage"]["name"]


ImageDetails = DockerImageDetails


class Environment(_Strict):
    """An environment as azureml-core describes it; compiled, registered and built by envc, locally."""

    __slots__ = ("name", "version", "python", "docker", "_variables", "spark", "databricks", "asset_id", "_curated")

    def __init__(self, name, **kwargs):
        if name is not None and not isinstance(name, str):
            raise TypeError(f"Environment name expected str, {type(name)} found")
        if kwargs:
            raise TypeError(f"Environment() got an unexpected keyword argument '{next(iter(kwargs))}'")
        self.name, self.version, self.asset_id = name, None, None
        self.python, self.docker, self.spark, self.databricks = PythonSection(), DockerSection(), SparkSection(), DatabricksSection()
        object.__setattr__(self, "_variables", {})  # azureml-core adds EXAMPLE_ENV_VAR; envc adds nothing
        object.__setattr__(self, "_curated", False)

    @property
    def environment_variables(self):
        return self._variables

    @environment_variables.setter
    def environment_variables(self, value):
        object.__setattr__(self, "_variables", value)

    @property
    def inferencing_stack_version(self):
        return None

    @inferencing_stack_version.setter
    def inferencing_stack_version(self, value):
        if value is not None:
            raise NotImplementedError("inferencing_stack_version is not supported: Azure ML's inferencing stack is built by the "
                                      "service; install the inference server (azureml-inference-server-http) as a pip package, "
                                      "or start from the curated environment AzureML-minimal-ubuntu22.04-py311-cpu-inference")

    @property
    def r(self):
        return None

    @r.setter
    def r(self, value):
        if value is not None:
            raise NotImplementedError("R environments are not supported by envc: install R in a base Dockerfile")

    @property
    def curated(self) -> bool:
        """True for one of Azure ML's curated environments shipped with envc (Environment.get/list)."""
        return self._curated

    def __str__(self) -> str:
        return f"Environment(Name: {self.name},\nVersion: {self.version})"

    def __repr__(self) -> str:
        return json.dumps(self._serialize_to_dict(), indent=4, sort_keys=True)

    # -- factories -------------------------------------------------------------------------------
    @classmethod
    def from_conda_specification(cls, name: str, file_path) -> Environment:
        env = cls(name)
        env.python.conda_dependencies = CondaDependencies(file_path)
        return env

    @classmethod
    def from_pip_requirements(cls, name: str, file_path, pip_version=None) -> Environment:
        """The file's requirement and option lines as the pip list (comments and blank lines dropped,
        as pip drops them), conda's pip added as azureml-core does. Files included with -r/-c are carried
        along; a file with --hash lines is carried whole and installed with `-r FILE`."""
        env = cls(name)
        env.python.conda_dependencies = _pip_dependencies(os.fspath(file_path), pip_version)
        return env

    @classmethod
    def from_dockerfile(cls, name: str, dockerfile, conda_specification=None, pip_requirements=None) -> Environment:
        """A base Dockerfile (text, path or open file); with no dependencies, its Python is used as is."""
        env = cls(name)
        env.docker.base_image = None
        env.docker.base_dockerfile = dockerfile
        _add_dependencies(env, conda_specification, pip_requirements)
        return env

    @classmethod
    def from_docker_image(cls, name: str, image, container_registry=None, conda_specification=None,
                          pip_requirements=None) -> Environment:
        env = cls(name)
        env.docker.base_image = image
        if container_registry is not None:
            env.docker.base_image_registry = container_registry
        _add_dependencies(env, conda_specification, pip_requirements)
        return env

    @classmethod
    def from_existing_conda_environment(cls, name: str, conda_environment_name: str):
        raise NotImplementedError("from_existing_conda_environment reads a conda installation on this machine, which "
                                  "envc does not: write the environment out with `conda env export --no-builds -n "
                                  f"{conda_environment_name} > environment.yml`, then call "
                                  "Environment.from_conda_specification(name, 'environment.yml')")

    @classmethod
    def load_from_directory(cls, path) -> Environment:
        """A folder saved by this class or by azureml-core. Its JSON is read as `envc compile` reads it (what
        envc cannot build is refused here, located), its conda file as CondaDependencies(path) reads it
        (blank and comment lines azureml-core copied from a requirements file into the pip list are dropped,
        as pip drops them); the rest is checked when it is compiled."""
        from envc.formats.detect import load

        path = os.fspath(path)
        if not os.path.isfile(os.path.join(path, ENVIRONMENT_FILE)):
            raise FileNotFoundError(os.path.join(path, ENVIRONMENT_FILE))
        with open(os.path.join(path, ENVIRONMENT_FILE), encoding="utf-8") as handle:
            saved = json.load(handle)  # a JSONDecodeError, as in azureml-core
        load(os.path.join(path, ENVIRONMENT_FILE))  # located errors before anything is read into objects
        env = cls(saved.get("name"))
        env.version = saved.get("version")
        env.asset_id = saved.get("assetId")
        env.environment_variables = dict(saved.get("environmentVariables") or {})
        python, docker = saved.get("python") or {}, saved.get("docker") or {}
        env.python.user_managed_dependencies = bool(python.get("userManagedDependencies"))
        env.python.interpreter_path = python.get("interpreterPath") or "python"
        conda_file = os.path.join(path, CONDA_FILE)
        if os.path.exists(conda_file):
            env.python.conda_dependencies = CondaDependencies(conda_file)
        elif isinstance(python.get("condaDependencies"), dict):  # inline, as repr() and Azure ML's service write it
            env.python.conda_dependencies = CondaDependencies(_underlying_structure=python["condaDependencies"])
        else:
            env.python.conda_dependencies = None
        env.docker.base_image = docker.get("baseImage")
        if os.path.isfile(os.path.join(path, DOCKERFILE)):
            with open(os.path.join(path, DOCKERFILE), encoding="utf-8") as handle:
                object.__setattr__(env.docker, "_base_dockerfile", handle.read())
                object.__setattr__(env.docker, "_base_image", None)
        for key, attribute in (("enabled", "enabled"), ("shmSize", "shm_size"), ("sharedVolumes", "shared_volumes"),
                               ("arguments", "arguments")):
            if key in docker:
                setattr(env.docker, attribute, docker[key])
        platform = docker.get("platform") or {}
        env.docker.platform = DockerImagePlatform(platform.get("os") or "Linux", platform.get("architecture") or "amd64")
        registry = docker.get("baseImageRegistry")
        if registry is None and "baseImageRegistry" in docker:
            env.docker.base_image_registry = None
        else:
            env.docker.base_image_registry.address = (registry or {}).get("address")
        spark = saved.get("spark") or {}
        env.spark.repositories, env.spark.packages = list(spark.get("repositories") or []), list(spark.get("packages") or [])
        databricks = saved.get("databricks") or {}
        for key, attribute in (("mavenLibraries", "maven_libraries"), ("pypiLibraries", "pypi_libraries"),
                               ("rcranLibraries", "rcran_libraries"), ("jarLibraries", "jar_libraries"),
                               ("eggLibraries", "egg_libraries")):
            setattr(env.databricks, attribute, list(databricks.get(key) or []))
        return env

    @staticmethod
    def get(workspace=None, name=None, version=None, label=None) -> Environment:
        """A registered (`envc register`) or curated environment, latest version unless one is named.
        label: a version label given with `envc register --version LABEL`, or 'latest'."""
        from envc.services.registry import resolve

        if version is not None and label is not None:
            raise ValueError("Only one of version or label can be specified")
        name = _text(name, "environment name")
        reference = name if (version or label) in (None, "latest") else f"{name}:{version or label}"
        path = resolve(reference)
        if path is None:
            from envc.services.registry import all_names

            raise ValueError(f"no environment {reference!r} is registered or curated{did_you_mean(name, all_names())}: "
                             "`envc list` shows them")
        return _from_spec(path)

    @staticmethod
    def list(workspace=None) -> dict:
        """{name: Environment} of every registered environment (latest version) and every curated one
        (named as Azure ML spells them, e.g. 'AzureML-sklearn-1.5'; env.curated is True). What an Environment
        cannot hold of one is left out quietly here; Environment.get names it in a warning."""
        from envc.services.registry import curated, names, resolve

        found = {}
        for name in names():
            found[name] = _from_spec(resolve(name), quiet=True)
        for entry in curated():
            found[entry["azureml_name"]] = _from_spec(entry["spec"], quiet=True)
        return found

    def clone(self, new_name) -> Environment:
        """An independent copy (azureml-core's shares the conda structure with the original)."""
        if not new_name:
            raise ValueError("Name is required to instantiate an Environment object")
        clone = copy.deepcopy(self)
        clone.name, clone.version, clone.asset_id = new_name, None, None
        object.__setattr__(clone, "_curated", False)
        return clone

    # -- writing ---------------------------------------------------------------------------------
    def _serialize_to_dict(self, inline_conda: bool = True) -> dict:
        """azureml-core's JSON, key for key; credentials as references, never values."""
        docker, python = self.docker, self.python
        for section, value in (("python", python), ("docker", docker)):
            if value is None:  # azureml-core fails here too, on the attribute of None
                raise AttributeError(f"env.{section} is None: an Environment needs its {section} section")
        registry = docker.base_image_registry
        saved_python = {"userManagedDependencies": bool(python.user_managed_dependencies),
                        "interpreterPath": python.interpreter_path, "condaDependenciesFile": None,
                        "baseCondaEnvironment": None}
        if inline_conda and python.conda_dependencies is not None:
            saved_python["condaDependencies"] = python.conda_dependencies.as_dict()
        saved_docker = {"enabled": docker.enabled, "baseImage": docker.base_image, "baseDockerfile": docker.base_dockerfile,
                        "buildContext": None, "sharedVolumes": docker.shared_volumes, "shmSize": docker.shm_size,
                        "arguments": list(docker.arguments or []),
                        "baseImageRegistry": registry._saved() if registry is not None else None,
                        "platform": {"os": docker.platform.os, "architecture": docker.platform.architecture}}
        return {"name": self.name, "version": self.version, "environmentVariables": self.environment_variables,
                "python": saved_python, "docker": saved_docker,
                "spark": {"repositories": list(self.spark.repositories), "packages": list(self.spark.packages),
                          "precachePackages": self.spark.precache_packages},
                "databricks": {"mavenLibraries": list(self.databricks.maven_libraries),
                               "pypiLibraries": list(self.databricks.pypi_libraries),
                               "rcranLibraries": list(self.databricks.rcran_libraries),
                               "jarLibraries": list(self.databricks.jar_libraries),
                               "eggLibraries": list(self.databricks.egg_libraries)},
                "r": None, "inferencingStackVersion": None, "assetId": self.asset_id}

    def save_to_directory(self, path, overwrite: bool = False) -> None:
        """azureml-core's format: azureml_environment.json, conda_dependencies.yml (and the files its
        -r/-c options read) and BaseDockerfile. Registry credentials are written as references."""
        from envc.common.atomic_write import write_atomic

        registry = self.docker.base_image_registry
        if registry is not None:
            registry._check_pair()
        os.makedirs(path, exist_ok=overwrite)  # an existing folder needs overwrite=True, as in azureml-core
        if registry is not None and registry.username:
            warnings.warn("the registry username and password are not written (envc writes no credential): the saved "
                          f"environment refers to them; before `envc build`, set {USERNAME_REFERENCE['env']} and pass "
                          f"--secret id={PASSWORD_REFERENCE['secret']},env={PASSWORD_VARIABLE}", stacklevel=2)
        saved = self._serialize_to_dict(inline_conda=False)
        dockerfile = os.path.join(path, DOCKERFILE)
        if self.docker.base_dockerfile:
            del saved["docker"]["baseDockerfile"]  # moved to a file of its own, as azureml-core does
            write_atomic(dockerfile, self.docker.base_dockerfile)
        elif os.path.exists(dockerfile):
            os.unlink(dockerfile)  # azureml-core leaves a stale one, which then wins over base_image on load
        if self.python.conda_dependencies is not None:
            self.python.conda_dependencies.save(os.path.join(path, CONDA_FILE))
        write_atomic(os.path.join(path, ENVIRONMENT_FILE), json.dumps(saved, indent=4, ensure_ascii=False))

    # -- envc's services ---------------------------------------------------------------------------
    def get_image_details(self, workspace=None) -> DockerImageDetails:
        """The Dockerfile `envc compile` gives for the saved folder, and the image it names."""
        from envc.common.image_paths import PREFIX as ENV_PREFIX
        from envc.core.pipeline import compile_spec
        from envc.services.build import default_tag

        _no_workspace(workspace)
        with self._saved() as folder:
            compiled = compile_spec(folder)
        spec, spec_hash = compiled.inputs.spec, compiled.inputs.spec_hash
        tag = default_tag(spec.name, spec_hash)
        managed = bool(spec.python and spec.python.user_managed)
        return DockerImageDetails({
            "dockerImage": {"name": tag, "registry": {"address": None, "username": None, "password": None}},
            "pythonEnvironment": {"interpreterPath": spec.python.interpreter if managed else f"{ENV_PREFIX}/bin/python",
                                  "condaEnvironmentPath": None if managed else ENV_PREFIX},
            "ingredients": {"dockerfile": compiled.dockerfile},
            "specHash": spec_hash,
        })

    def register(self, workspace=None) -> Environment:
        """Into envc's local registry (`envc list`); version becomes the registered one. Registering
        unchanged content keeps its version, as Azure ML does."""
        from envc.services.registry import register

        _no_workspace(workspace)
        version, self.version = self.version, None  # the registry numbers versions; not part of the content
        try:
            with self._saved() as folder:
                _, version, _ = register(folder)
        finally:
            self.version = version
        return self

    def build_local(self, workspace=None, platform=None, useDocker=True, pushImageToWorkspaceAcr=False, *,
                    tag=None, engine=None, force=False, registry=None, engine_args=(), **kwargs):
        """Build the image with the installed engine, as `envc build` does; returns its tag (with
        pushImageToWorkspaceAcr=True: the pushed reference, as `envc build --registry` prints it). A registry
        username and password set on env.docker.base_image_registry log in for this build only."""
        import sys

        from envc.services import build as build_service

        _no_workspace(workspace)
        if kwargs:
            raise TypeError(f"build_local() got an unexpected keyword argument '{next(iter(kwargs))}'")
        if not useDocker:
            raise NotImplementedError("build_local(useDocker=False) creates a conda environment on this machine; envc "
                                      "builds images only: leave useDocker=True")
        if platform not in (None, "linux", "Linux") and not str(platform).startswith("linux/"):
            raise ValueError(f"platform {platform!r}: envc builds Linux images only")
        options = {"tag": tag, "engine_name": engine, "force": force, "engine_args": tuple(engine_args), "out": sys.stderr}
        if pushImageToWorkspaceAcr:  # Azure ML's workspace registry is the team's: `envc build --registry`
            registry = registry or os.environ.get("ENVC_IMAGE_REGISTRY")
            if not registry:
                raise ValueError("pushImageToWorkspaceAcr=True pushes to the team's registry: name it with "
                                 "registry='HOST[:PORT]/NAMESPACE' or the ENVC_IMAGE_REGISTRY environment variable")
            options["registry"] = registry
        elif registry is not None:
            raise ValueError("registry= is where pushImageToWorkspaceAcr=True pushes: set both, or neither")
        credentials = self.docker.base_image_registry
        with self._saved() as folder, _credentials_in_memory(credentials) as secrets:
            built_tag, _ = build_service.build(folder, secrets=secrets, **options)
        return built_tag

    def build(self, workspace=None, image_build_compute=None):
        raise NotImplementedError("build() builds in a workspace's cloud: build on this machine with "
                                  "env.build_local(), or `envc build SPEC`")

    @contextmanager
    def _saved(self):
        """A temporary saved folder; a SpecError names this environment, not the temporary path."""
        if not self.name:
            raise ValueError("the Environment has no name: Environment(name)")
        if self.python is not None and self.python.conda_dependencies is None and not self.python.user_managed_dependencies:
            raise ValueError("python.conda_dependencies is None: set a CondaDependencies, or set "
                             "python.user_managed_dependencies = True to use the base image's Python")
        for key, value in (self.environment_variables or {}).items():  # named here, not in the JSON envc writes
            if value is None:
                raise ValueError(f"environment_variables[{key!r}] is None (os.getenv gives None for an unset variable): "
                                 "set a string, or leave the variable out")
            if not isinstance(value, str):
                raise ValueError(f"environment_variables[{key!r}] is {type(value).__name__} {value!r}: an environment "
                                 f"variable is a string: write it as one, e.g. {str(value)!r}")
        with tempfile.TemporaryDirectory(prefix="envc-environment-") as folder:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # the credential warning is for folders the user keeps
                self.save_to_directory(folder, overwrite=True)
            try:
                yield folder
            except SpecError as exc:
                label = f"<Environment {self.name!r}>"
                raise SpecError([d._replace(location=d.location._replace(file=_relabel(d.location.file, folder, label)))
                                 for d in exc.diagnostics]) from None


def _no_workspace(workspace) -> None:
    if workspace is not None:
        warnings.warn("the workspace argument is ignored: envc registers and builds on this machine", stacklevel=3)


def _image_exists(tag: str) -> bool:
    """Whether the local engine already has the image (Azure ML: its workspace registry); False without one."""
    from envc.services.build import BuildError, find_engine, image_exists

    try:
        return image_exists(find_engine(None), tag)
    except (BuildError, OSError):
        return False


@contextmanager
def _credentials_in_memory(registry):
    """--secret arguments for `envc build` that hand an in-memory username and password to the engine's
    login through this process's environment (never a file, an argument or a message); restored after."""
    if registry is None or not (registry.username and registry.password):
        yield ()
        return
    names = (USERNAME_REFERENCE["env"], PASSWORD_VARIABLE)
    before = {name: os.environ.get(name) for name in names}
    os.environ[names[0]], os.environ[names[1]] = registry.username, registry.password
    try:
        yield (f"id={PASSWORD_REFERENCE['secret']},env={PASSWORD_VARIABLE}",)
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _add_dependencies(env: Environment, conda_specification, pip_requirements) -> None:
    if conda_specification is not None and pip_requirements is not None:
        raise ValueError("Only one of conda_specification or pip_requirements can be specified as python dependencies")
    if conda_specification is not None:
        env.python.conda_dependencies = CondaDependencies(conda_specification)
    elif pip_requirements is not None:
        env.python.conda_dependencies = _pip_dependencies(os.fspath(pip_requirements), None)
    else:
        env.python.user_managed_dependencies = True


def _pip_dependencies(path: str, pip_version) -> CondaDependencies:
    from envc.common.package_specs import parse_pip_line
    from envc.formats.requirements import logical_lines

    if not os.path.isfile(path):
        raise FileNotFoundError(2, "No such file or directory", path)
    folder = os.path.dirname(path) or "."
    files = _read_included(os.path.basename(path), folder)  # every problem located, includes followed
    deps = CondaDependencies()
    lines = [line for _, line in logical_lines(files[os.path.basename(path)], path)]
    parsed = [parse_pip_line(line) for line in lines]
    if any(p.hashes or (p.kind in ("requirement", "url") and p.options) for p in parsed):
        lines = [f"-r {os.path.basename(path)}"]  # what only a requirements file holds: install it as one
    else:
        del files[os.path.basename(path)]
    deps.set_pip_requirements([])
    deps._pip_lists()[0].extend(lines)
    deps._files.update(files)
    deps.add_conda_package(f"pip={pip_version}" if pip_version else "pip")
    return deps


def _from_spec(path: str, quiet: bool = False) -> Environment:
    """The Environment for a registered or curated spec: the spec exported as a saved Azure ML folder and
    loaded, with a warning naming what an Environment cannot hold (its description aside)."""
    from envc.core.pipeline import check
    from envc.formats.export import export

    inputs = check(path)
    with tempfile.TemporaryDirectory(prefix="envc-get-") as folder:
        files, notes = export(inputs, "azureml-v1", folder)
        lost = [note.message for note in notes if "'description'" not in note.message]  # an Environment has none
        if lost and not quiet:
            warnings.warn(f"the Environment of {inputs.spec.name} cannot hold all of its spec: " +
                          "; ".join(lost) + f"; `envc compile {inputs.spec.name}` compiles all of it", stacklevel=3)
        from envc.common.atomic_write import write_atomic

        for target, text in files.items():
            if text is None:
                continue
            os.makedirs(os.path.dirname(target), exist_ok=True)
            write_atomic(target, text)
        env = Environment.load_from_directory(folder)
    from envc.services.registry import is_curated

    object.__setattr__(env, "_curated", is_curated(path))
    return env


def _relabel(file: str, folder: str, label: str) -> str:
    real = os.path.realpath(folder)
    for prefix in (real, folder):
        if os.path.abspath(file).startswith(prefix + os.sep):
            return label + "/" + os.path.relpath(os.path.abspath(file), prefix)
    return file
