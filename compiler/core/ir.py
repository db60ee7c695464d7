"""The compiled image as data: a header and one ordered list of stages, in build-cache order.

Lowering decides everything (tools, paths, command lines, where activation goes); emission only
formats. Command lines are tuples of words, unquoted: envc.common.quoting quotes them when the
Dockerfile is written. Every record is built by keyword. `envc compile --emit ir` prints the IR
as JSON (to_json), and from_json reads it back, so lowering and emission each have goldens.
"""
from __future__ import annotations

from envc.common.records import Record


class Header(Record):
    """directives: a base Dockerfile's parser directives (`# syntax=`), which must come first.
    needs_context: COPY instructions read from the build context; context: that folder, from the spec's
    ('.': the spec's folder). registry: the private registry the base is pulled from (log in before
    building), or None."""

    __slots__ = ("version", "name", "spec_hash", "directives", "needs_context", "context", "registry")


class InlineFile(Record):
    """A file written during the build from its lines (its layer's cache key is its content)."""

    __slots__ = ("path", "lines")


class Mount(Record):
    """A RUN --mount: kind 'secret' (id, target, required), 'cache' (target) or 'bind' (source from a stage)."""

    __slots__ = ("kind", "target", "id", "required", "source", "stage")
    _defaults = {"id": None, "required": False, "source": None, "stage": None}


class Raw(Record):
    """Shell syntax among a command's words, written as is: one of RAW_TOKENS (every other word is quoted)."""

    __slots__ = ("text",)


RAW_TOKENS = frozenset(("if", "then", "else", "fi", "||", "&&", ";", "{", "}"))


class Installer(Record):
    """A pip install command (words) and the test (words) under which it runs; the last one has none."""

    __slots__ = ("command", "condition")
    _defaults = {"condition": None}


# Stages, in the order they may appear.

class Helper(Record):
    """A stage tools are copied from: FROM image AS name."""

    __slots__ = ("image", "name", "platform")


class From(Record):
    """The image everything is built on."""

    __slots__ = ("image", "platform")


class BaseDockerfile(Record):
    """A base Dockerfile's stages (directives removed, COPY sources rebased); its last FROM is built on."""

    __slots__ = ("text",)


class User(Record):
    """The user the following instructions run as (root for envc's installs; the base's own user after)."""

    __slots__ = ("name",)


class Apt(Record):
    """System packages, in one layer that also removes apt's lists."""

    __slots__ = ("packages",)


class CopyFrom(Record):
    """A file copied from a Helper stage."""

    __slots__ = ("stage", "source", "target")


class CondaCreate(Record):
    """The conda environment: file is written (None: written by WriteFile stages before), commands run in
    order (create, clean), and the file at `cleanup` removed."""

    __slots__ = ("mounts", "file", "commands", "cleanup")


class Activate(Record):
    """The environment first on PATH (path_prefix), plus variables describing it (CONDA_PREFIX, VIRTUAL_ENV).
    Placed right after the stage that creates the environment, so a package change repeats nothing."""

    __slots__ = ("path_prefix", "variables")


class Run(Record):
    """Commands run in one layer, in order (each a tuple of words, Raw shell syntax among them)."""

    __slots__ = ("commands",)


class PipInstall(Record):
    """One install layer: the commands in `before` run (conda activation), the files are written, the
    installer runs with every argument group, and the files' folders are removed. mounts: RUN --mount
    options (a netrc secret, the installer's cache). installers: one Installer, or several tried in
    order by their conditions (decided at build time)."""

    __slots__ = ("mounts", "before", "files", "arguments", "installers", "cleanup")
    _defaults = {"before": ()}


class Copy(Record):
    """Files from the build context: one source to a target path, or several into a target folder (ending in /)."""

    __slots__ = ("sources", "target")


class WriteFile(Record):
    """A file written into the image (its folder made first), with a mode (the init wrapper) or None; or,
    with append, lines added to it: a file too large for one instruction is written a chunk at a time."""

    __slots__ = ("file", "mode", "append")
    _defaults = {"mode": None, "append": False}


class Env(Record):
    """Runtime variables: (name, value) pairs, exact, as the user wrote them."""

    __slots__ = ("variables",)


class Labels(Record):
    __slots__ = ("labels",)


class Entrypoint(Record):
    __slots__ = ("command",)


class Cmd(Record):
    __slots__ = ("command",)


class Image(Record):
    """sections: (name, number of stages) in order, naming what part of the spec each stage builds:
    base, system, conda, pip, init, runtime (what `envc build` reports its progress in)."""

    __slots__ = ("header", "stages", "sections")
    _defaults = {"sections": ()}


RECORDS = {cls.__name__: cls for cls in (Header, InlineFile, Mount, Raw, Installer, Helper, From, BaseDockerfile, User, Apt, CopyFrom, CondaCreate,
                                         Activate, Run, PipInstall, Copy, WriteFile, Env, Labels, Entrypoint, Cmd, Image)}


def to_json(image: Image) -> str:
    """The IR as JSON: each record an object whose "record" names its type; tuples become lists."""
    import json

    return json.dumps(_data(image), indent=2, ensure_ascii=False) + "\n"


def from_json(text: str) -> Image:
    """The Image to_json wrote."""
    import json

    return _record(json.loads(text))


def _data(value):
    if isinstance(value, Record):
        return {"record": type(value).__name__, **{name: _data(item) for name, item in value._asdict().items()}}
    if isinstance(value, tuple):
        return [_data(item) for item in value]
    return value


def _record(value):
    if isinstance(value, dict):
        fields = {name: _record(item) for name, item in value.items() if name != "record"}
        return RECORDS[value["record"]](**fields)
    if isinstance(value, list):
        return tuple(_record(item) for item in value)
    return value
