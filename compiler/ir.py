"""The compiled image as data: one frozen dataclass per stage, in build-cache order.

Lowering decides everything (paths, tools, arguments); emission only formats. A stage
that has nothing to do is None and emits nothing.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Header:
    version: str
    name: str
    spec_hash: str
    needs_context: bool  # COPY instructions read from the spec's folder
    registry: str | None  # private registry the base is pulled from (log in before building)


@dataclass(frozen=True)
class Base:
    image: str | None  # FROM reference, when no base Dockerfile is given
    dockerfile: str | None  # a base Dockerfile's text, emitted as the first stage
    directives: tuple  # parser directives of that Dockerfile, kept at the top of the output
    platform: str | None
    helper_images: tuple  # (image, stage name) stages the build copies tools from


@dataclass(frozen=True)
class System:
    apt: tuple


@dataclass(frozen=True)
class Conda:
    tool: str  # "conda" (the base image's) or "micromamba" (copied from a pinned image)
    prefix: str
    environment: tuple | None  # lines of the environment.yml written during the build
    lock: tuple | None  # lines of the @EXPLICIT list, written and used during the build (no solver)
    channels: tuple  # channels passed on the command line (micromamba has no defaults)


@dataclass(frozen=True)
class Pip:
    python: str  # the environment's interpreter: packages are installed for it
    venv: str | None  # prefix of a virtual environment to create first (no conda)
    installer: str  # "uv" or "pip"
    uv: str | None  # pinned uv requirement, installed into TOOLS_PREFIX in its own layer
    tools_prefix: str
    files: tuple  # (path in the image, lines): requirements trees, written, used and removed in the install layer
    args: tuple  # installer arguments in order, grouped: ("-r", path), ("requests>=2",)
    netrc_secret: str | None  # build secret mounted as /root/.netrc during the install


@dataclass(frozen=True)
class Init:
    scripts: tuple  # (relative source, target in the image)
    wrapper_path: str
    wrapper: tuple  # lines of the wrapper script


@dataclass(frozen=True)
class Activation:
    """Emitted right after the environment exists, so later layers (and a pip-only change) don't repeat it."""

    path_prefix: str  # prepended to PATH so `python` is the environment's
    variables: tuple  # (name, value) describing the environment, e.g. VIRTUAL_ENV


@dataclass(frozen=True)
class Runtime:
    env: tuple  # (name, value), user's variables, exact
    labels: tuple  # (key, value), exact
    entrypoint: tuple | None
    command: tuple | None


@dataclass(frozen=True)
class Image:
    header: Header
    base: Base
    system: System | None
    conda: Conda | None
    pip: Pip | None
    activation: Activation | None  # placed after conda, after the venv, or (user-managed) after system
    init: Init | None
    runtime: Runtime  # fields in emission (and build-cache) order
