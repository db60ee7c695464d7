"""The Python API Azure ML users already know: Environment and CondaDependencies.

Same names as azureml-core, with envc's promises: attributes are fixed (a typo raises instead of
creating a new, ignored attribute), package specs are checked when they are added, credentials are
never stored, and an Environment compiles to exactly the Dockerfile `envc compile` gives for the
folder `save_to_directory` writes (the format azureml-core writes and envc imports).
"""
from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager

from envc.common.diagnostics import SpecError
from envc.formats.azureml import V1_CONDA_FILE as CONDA_FILE
from envc.formats.azureml import V1_DOCKERFILE as DOCKERFILE
from envc.formats.detect import AZUREML_V1_FILE as ENVIRONMENT_FILE


class CondaDependencies:
    """A conda environment: channels in priority order, conda packages, and pip packages in a pip list."""

    __slots__ = ("_channels", "_conda", "_pip")

    def __init__(self, conda_dependencies_file_path=None):
        self._channels, self._conda, self._pip = [], [], []
        if conda_dependencies_file_path is not None:
            self._load(conda_dependencies_file_path)

    @classmethod
    def create(cls, pip_packages=None, conda_packages=None, python_version=None, pip_indexurl=None, channels=None):
        """Unlike azureml-core, nothing is added behind your back (no azureml-defaults, no channels)."""
        deps = cls()
        for channel in channels or ():
            deps.add_channel(channel)
        if python_version is not None:
            deps.add_conda_package(f"python={python_version}")
        for spec in conda_packages or ():
            deps.add_conda_package(spec)
        if pip_indexurl is not None:
            deps.add_pip_package(f"--index-url {pip_indexurl}")
        for spec in pip_packages or ():
            deps.add_pip_package(spec)
        return deps

    @property
    def conda_channels(self):
        return iter(self._channels)

    @property
    def conda_packages(self):
        return iter(self._conda)

    @property
    def pip_packages(self):
        return iter(self._pip)

    def add_channel(self, channel: str) -> None:
        if not isinstance(channel, str) or not channel.strip():
            raise ValueError(f"not a conda channel: {channel!r}")
        if channel not in self._channels:
            self._channels.append(channel)

    def add_conda_package(self, conda_package: str) -> None:
        """Checked now, with conda's MatchSpec grammar: a mistake surfaces where it is made."""
        from envc.common.package_specs import SpecSyntaxError, parse_matchspec

        try:
            parse_matchspec(_text(conda_package, "conda package"))
        except SpecSyntaxError as exc:
            raise ValueError(f"not a conda package spec: {conda_package!r}: {exc}") from None
        if conda_package not in self._conda:
            self._conda.append(conda_package)

    def add_pip_package(self, pip_package: str) -> None:
        """A requirement (PEP 508, URL) or an option line such as `--index-url URL`, checked now."""
        from envc.common.package_specs import SpecSyntaxError, parse_pip_line

        try:
            line = parse_pip_line(_text(pip_package, "pip package"))
        except SpecSyntaxError as exc:
            raise ValueError(f"not a pip requirement: {pip_package!r}: {exc}") from None
        if line.kind in ("include", "constraint", "editable", "path"):
            raise ValueError(f"{pip_package!r} refers to a local file: use Environment.from_pip_requirements, "
                             "or an envc spec's pip.requirements")
        if pip_package not in self._pip:
            self._pip.append(pip_package)

    def serialize_to_string(self) -> str:
        """The conda environment.yml text (values quoted by PyYAML, so they read back exactly)."""
        import yaml

        dependencies = list(self._conda) + ([{"pip": list(self._pip)}] if self._pip else [])
        data = {"name": "project_environment", "channels": list(self._channels), "dependencies": dependencies}
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, default_flow_style=False, width=1 << 30)

    def save(self, path) -> str:
        from envc.common.atomic_write import write_atomic

        write_atomic(path, self.serialize_to_string())
        return os.fspath(path)

    def _load(self, path) -> None:
        from envc.core.validate import check_schema
        from envc.core.yaml_source import load_yaml
        from envc.formats.conda_env import from_conda

        doc = from_conda(load_yaml(path))
        check_schema(doc)  # located errors, as `envc check` gives them
        conda = doc.data["conda"]
        for channel in conda.get("channels", ()):
            self.add_channel(channel)
        for item in conda.get("dependencies", ()):
            if isinstance(item, dict):
                for spec in item.get("pip", ()):
                    self.add_pip_package(spec)
            else:
                self.add_conda_package(item)


class ContainerRegistry:
    """Where the base image is pulled from. Credentials are never stored: `envc build` takes them by
    reference at build time."""

    __slots__ = ("address",)

    def __init__(self):
        self.address = None

    def __setattr__(self, name, value):
        if name in ("username", "password"):
            raise ValueError(f"envc never stores registry credentials: leave {name} unset and log in to the registry "
                             "before building, or use an envc spec whose base.registry names them by reference")
        super().__setattr__(name, value)


class DockerSection:
    __slots__ = ("base_image", "base_dockerfile", "base_image_registry")

    def __init__(self):
        from envc.common.schema import default

        self.base_image = default("base", "image")
        self.base_dockerfile = None  # the Dockerfile's text, as in azureml-core
        self.base_image_registry = ContainerRegistry()


class PythonSection:
    __slots__ = ("conda_dependencies", "user_managed_dependencies", "interpreter_path")

    def __init__(self):
        self.conda_dependencies = CondaDependencies()
        self.user_managed_dependencies = False
        self.interpreter_path = "python"


class ImageDetails:
    """What get_image_details() found: the Dockerfile, and the tag `envc build` would give the image."""

    __slots__ = ("dockerfile", "spec_hash", "image_name")

    def __init__(self, dockerfile: str, spec_hash: str, image_name: str):
        self.dockerfile, self.spec_hash, self.image_name = dockerfile, spec_hash, image_name


class Environment:
    __slots__ = ("name", "version", "python", "docker", "environment_variables")

    def __init__(self, name: str):
        self.name = name
        self.version = None
        self.python = PythonSection()
        self.docker = DockerSection()
        self.environment_variables = {}

    @classmethod
    def from_conda_specification(cls, name: str, file_path) -> Environment:
        env = cls(name)
        env.python.conda_dependencies = CondaDependencies(file_path)
        return env

    @classmethod
    def from_pip_requirements(cls, name: str, file_path) -> Environment:
        """Every requirement line of the file, in order, as pip packages (as azureml-core does)."""
        from envc.formats.requirements import logical_lines

        with open(file_path, encoding="utf-8") as handle:
            text = handle.read()
        env = cls(name)
        for _, line in logical_lines(text, os.fspath(file_path)):
            if line.strip():
                env.python.conda_dependencies.add_pip_package(line.strip())
        return env

    @classmethod
    def load_from_directory(cls, path) -> Environment:
        """A folder saved by this class or by azureml-core; checked as `envc check` checks it."""
        from envc.core.pipeline import check

        check(path)  # located errors for the whole folder before anything is read into objects
        with open(os.path.join(path, ENVIRONMENT_FILE), encoding="utf-8") as handle:
            saved = json.load(handle)
        env = cls(saved["name"])
        env.version = saved.get("version")
        env.environment_variables = dict(saved.get("environmentVariables") or {})
        python, docker = saved.get("python") or {}, saved.get("docker") or {}
        env.python.user_managed_dependencies = bool(python.get("userManagedDependencies"))
        env.python.interpreter_path = python.get("interpreterPath") or "python"
        if os.path.exists(os.path.join(path, CONDA_FILE)):
            env.python.conda_dependencies = CondaDependencies(os.path.join(path, CONDA_FILE))
        env.docker.base_image = docker.get("baseImage")
        if "baseDockerfile" not in docker:
            with open(os.path.join(path, DOCKERFILE), encoding="utf-8") as handle:
                env.docker.base_dockerfile = handle.read()
        env.docker.base_image_registry.address = (docker.get("baseImageRegistry") or {}).get("address")
        return env

    def save_to_directory(self, path, overwrite: bool = False) -> None:
        """azureml-core's format: azureml_environment.json, conda_dependencies.yml and BaseDockerfile."""
        if os.path.exists(path) and not overwrite and os.listdir(path):
            raise FileExistsError(f"{path} exists and is not empty: pass overwrite=True to replace what envc saved there")
        os.makedirs(path, exist_ok=True)
        from envc.common.atomic_write import write_atomic

        docker = {"enabled": False, "baseImage": self.docker.base_image, "baseDockerfile": None, "buildContext": None,
                  "sharedVolumes": True, "shmSize": "2g", "arguments": [],
                  "baseImageRegistry": {"address": self.docker.base_image_registry.address, "username": None,
                                        "password": None, "registryIdentity": None},
                  "platform": {"os": "Linux", "architecture": "amd64"}}
        dockerfile = os.path.join(path, DOCKERFILE)
        if self.docker.base_dockerfile is not None:
            del docker["baseDockerfile"]  # azureml-core moves it to a file of its own, and so does envc
            docker["baseImage"] = None
            write_atomic(dockerfile, self.docker.base_dockerfile)
        elif os.path.exists(dockerfile):
            os.unlink(dockerfile)
        saved = {"name": self.name, "version": self.version, "environmentVariables": dict(self.environment_variables),
                 "python": {"userManagedDependencies": bool(self.python.user_managed_dependencies),
                            "interpreterPath": self.python.interpreter_path, "condaDependenciesFile": None,
                            "baseCondaEnvironment": None},
                 "docker": docker,
                 "spark": {"repositories": [], "packages": [], "precachePackages": True},
                 "databricks": {"mavenLibraries": [], "pypiLibraries": [], "rcranLibraries": [], "jarLibraries": [],
                                "eggLibraries": []},
                 "r": None, "inferencingStackVersion": None, "assetId": None}
        self.python.conda_dependencies.save(os.path.join(path, CONDA_FILE))
        write_atomic(os.path.join(path, ENVIRONMENT_FILE), json.dumps(saved, indent=4, ensure_ascii=False))

    def get_image_details(self) -> ImageDetails:
        """Compiled as `envc compile` compiles the saved folder."""
        from envc.services.build import default_tag
        from envc.core.pipeline import compile_spec

        with self._saved() as folder:
            compiled = compile_spec(folder)
        spec_hash = compiled.inputs.spec_hash
        return ImageDetails(compiled.dockerfile, spec_hash, default_tag(compiled.inputs.spec.name, spec_hash))

    def register(self, workspace=None) -> Environment:
        """Into envc's local registry (`envc list`); version becomes the registered one. Registering
        unchanged content keeps its version, as Azure ML does."""
        from envc.services.registry import register

        if workspace is not None:
            raise ValueError("envc registers locally, there is no workspace: call register() without one")
        version, self.version = self.version, None  # the registry numbers versions; not part of the content
        try:
            with self._saved() as folder:
                _, version, _ = register(folder)
        finally:
            self.version = version
        return self

    @contextmanager
    def _saved(self):
        """A temporary saved folder; a SpecError names this environment, not the temporary path."""
        with tempfile.TemporaryDirectory(prefix="envc-environment-") as folder:
            self.save_to_directory(folder, overwrite=True)
            try:
                yield folder
            except SpecError as exc:
                label = f"<Environment {self.name!r}>"
                raise SpecError([d._replace(location=d.location._replace(file=_relabel(d.location.file, folder, label)))
                                 for d in exc.diagnostics]) from None


def _relabel(file: str, folder: str, label: str) -> str:
    real = os.path.realpath(folder)
    for prefix in (real, folder):
        if os.path.abspath(file).startswith(prefix + os.sep):
            return label + "/" + os.path.relpath(os.path.abspath(file), prefix)
    return file


def _text(value, what: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"a {what} must be a string, got {type(value).__name__}: {value!r}")
    return value
