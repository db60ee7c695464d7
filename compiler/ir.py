"""The compiled image as data: one immutable record per stage, in build-cache order.

Lowering decides everything (paths, tools, arguments); emission only formats. A stage
that has nothing to do is None and emits nothing. Records are namedtuples rather than
frozen dataclasses: importing dataclasses costs a third of the cold-compile budget.
"""
from __future__ import annotations

from collections import namedtuple


class Header(namedtuple("Header", "version name spec_hash needs_context registry")):
    """needs_context: COPY instructions read from the spec's folder.
    registry: private registry the base is pulled from (log in before building), or None.
    """

    __slots__ = ()


class Base(namedtuple("Base", "image dockerfile directives platform helper_images")):
    """image: FROM reference, when no base Dockerfile is given.
    dockerfile: a base Dockerfile's text, emitted as the first stage.
    directives: parser directives of that Dockerfile, kept at the top of the output.
    helper_images: (image, stage name) stages the build copies tools from.
    """

    __slots__ = ()


class System(namedtuple("System", "apt")):
    __slots__ = ()


class Conda(namedtuple("Conda", "tool prefix environment lock channels")):
    """tool: "conda" (the base image's) or "micromamba" (copied from a pinned image).
    environment: lines of the environment.yml written during the build, or None.
    lock: lines of the @EXPLICIT list, written and used during the build (no solver), or None.
    channels: channels passed on the command line (micromamba has no defaults).
    """

    __slots__ = ()


class Pip(namedtuple("Pip", "python venv installer uv tools_prefix files args netrc_secret")):
    """python: the environment's interpreter: packages are installed for it.
    venv: prefix of a virtual environment to create first (no conda), or None.
    installer: "uv" or "pip"; uv: the pinned uv requirement, installed into tools_prefix in its own layer.
    files: (path in the image, lines) of requirements trees, written, used and removed in the install layer.
    args: installer arguments in order, grouped: ("-r", path), ("requests>=2",).
    netrc_secret: build secret mounted as /root/.netrc during the install, or None.
    """

    __slots__ = ()


class Init(namedtuple("Init", "scripts wrapper_path wrapper")):
    """scripts: (relative source, target in the image); wrapper: lines of the wrapper script."""

    __slots__ = ()


class Activation(namedtuple("Activation", "path_prefix variables")):
    """Emitted right after the environment exists, so later layers (and a pip-only change) don't repeat it.

    path_prefix: prepended to PATH so `python` is the environment's.
    variables: (name, value) describing the environment, e.g. VIRTUAL_ENV.
    """

    __slots__ = ()


class Runtime(namedtuple("Runtime", "env labels entrypoint command")):
    """env, labels: (name, value) pairs, exact, as the user wrote them; entrypoint, command: tuples or None."""

    __slots__ = ()


class Image(namedtuple("Image", "header base system conda pip activation init runtime")):
    """Stages in emission (and build-cache) order; activation is placed after conda, after the
    venv, or (user-managed) after system."""

    __slots__ = ()
