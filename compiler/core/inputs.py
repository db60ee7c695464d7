"""Read and check every file a Spec names, once, before anything is lowered.

A conda.file is spliced in here (its packages become the Spec's), every FileRef is resolved
against the build context, requirements files are read with their includes, and a lock file is
read for the image's platform. What is read here is what the Dockerfile copies or inlines, and
what the content hash covers.
"""
from __future__ import annotations

import json
import os
import re

from envc.common.diagnostics import SpecError, error, warning
from envc.common.digest import sha256
from envc.common.paths import relative_to
from envc.common.records import Record
from envc.common.tools import UV_MIN_PYTHON, conda_tool
from envc.common.version import __version__
from envc.core.build_context import BuildContext
from envc.core.document import display_name
from envc.core.files import FileSet


class Inputs(Record):
    """Everything read from disk for one spec.

    spec: the Spec as the build sees it: conda.file spliced in, every FileRef's `relative` set.
    installer: what installs the pip packages: "uv" or "pip" (see _installer).
    files: ((relative path, sha256 digest), ...) of every file read, in path order.
    absent: relative paths whose absence the result depends on (an ignore file that is not there).
    listed: whether files were found by listing folders (a base Dockerfile's COPY of a folder or a glob).
    context: the build context, from the spec's folder ('.': the spec's folder).
    anchor: where the spec's folder sits among the files read ('.', or 'a/b' when files are read from '../..').
    links: (folder, (file, ...)) of each local --find-links folder, as paths from the spec's folder: the image COPYs them.
    base_dockerfile: the base Dockerfile's text, or None. lock: envc.formats.conda_lock.Lock, or None.
    requirement_files: (relative path, lines as the image gets them: RequirementsTree.written) of every requirements
        file read, in the order pip reads them.
    trees: {relative path of a requirements file named by the spec: every PipEntry it holds, includes in place}.
    pip_entries: every pip requirement and option the install reads, in order, located (lint's view).
    spec_hash: sha256 over envc's version, the spec as written and every file read.
    notes: warnings found on the way.
    """

    __slots__ = ("spec", "installer", "files", "absent", "listed", "context", "anchor", "links", "base_dockerfile", "lock", "requirement_files", "trees",
                 "pip_entries", "spec_hash", "notes")

    def read_files(self) -> tuple:
        """(absolute path, sha256 hex digest) of every referenced file, as read."""
        root = os.path.realpath(self.spec.root)
        return tuple((os.path.join(root, relative), digest.hex()) for relative, digest in self.files)

    def absent_files(self) -> tuple:
        """Absolute paths of the files whose absence the result depends on."""
        root = os.path.realpath(self.spec.root)
        return tuple(os.path.join(root, relative) for relative in self.absent)


def gather(spec) -> Inputs:
    """Inputs for a Spec, or SpecError with every problem in every file."""
    files = FileSet(spec.root)
    reader = _Reader(files)
    notes = list(spec.document.notes)
    base, base_dockerfile, base_context = spec.base, None, files.root
    if base.dockerfile is not None and base.context != ".":
        base_context, context_ref = files.folder(base.context_ref)
        base = base._replace(context_ref=context_ref)
    context = _build_context(files, base_context)
    if base.dockerfile is not None:
        path, dockerfile = files.file(base.dockerfile)
        base = base._replace(dockerfile=dockerfile)
        if path:
            base_dockerfile = context.check_dockerfile(path, dockerfile.where)
            if base_context:
                context.read_copied_files(base_dockerfile, path, base_context, base.context)
                context.warn_unapplied_ignore_files(path, base_context)
    conda, env, lock = spec.conda, spec.env, None
    if conda is not None and conda.file is not None:
        path, ref = files.file(conda.file)
        conda = conda._replace(file=ref)
        if path:
            conda, env, conda_notes = reader.splice_conda_file(path, conda, spec)
            notes += conda_notes
    if conda is not None and conda.lock is not None:
        path, ref = files.file(conda.lock)
        conda = conda._replace(lock=ref)
        if path:
            lock = reader.read_lock(path, spec)
            notes += lock.notes if lock else ()
    pip = spec.pip
    if conda is not None and len(conda.pip_lists) > 1 and conda_tool(base_image(spec, base_dockerfile)) == "conda":
        conda = conda._replace(pip_lists=conda.pip_lists[-1:])  # conda's pip: lists replace each other
    if conda is not None:
        conda = conda._replace(pip_lists=tuple(reader.pip_entries(entries) for entries in conda.pip_lists))
    if pip is not None:
        pip = pip._replace(requirements=tuple(reader.include(ref) for ref in pip.requirements))
    links = reader.links(context)
    init = spec.init
    if init is not None:
        init = init._replace(setup=_script(files, context, init.setup), run=_script(files, context, init.run))
    resolved = spec._replace(base=base, conda=conda, pip=pip, env=env, init=init)
    pip_entries = tuple(_pip_entries(resolved, reader, lock))
    installer, installer_problems, installer_notes = _installer(resolved, lock, pip_entries)
    channels = _channel_notes(resolved, base_dockerfile)
    problems = files.problems + reader.problems + installer_problems + [d for d in channels if d.severity == "error"]
    problems += _lock_problems(resolved, lock, pip_entries, base_dockerfile)
    problems += _unhashed_in_hash_mode(pip_entries) + _refused_constraints(pip_entries)
    if problems:
        raise SpecError(problems)
    anchor = _anchor(files)
    return Inputs(spec=resolved, files=files.sorted(), absent=tuple(files.absent), listed=files.listed,
                  context=relative_to(context.root, files.root), anchor=anchor, links=links, base_dockerfile=base_dockerfile,
                  lock=lock, requirement_files=tuple(reader.requirement_files.items()), trees=reader.trees,
                  pip_entries=pip_entries, spec_hash=spec_hash(spec.data, files.sorted(), anchor),
                  installer=installer, notes=tuple(notes + reader.notes + context.notes + channels + installer_notes))


def _build_context(files, base_context) -> BuildContext:
    """The folder the Dockerfile is built from: the spec's, or base.context when that is not inside it
    (Azure ML's build.path is the build context, and may be `../..` away)."""
    from envc.common.paths import is_inside

    if not base_context or is_inside(base_context, files.root):
        return BuildContext(files, files.root, "the spec's folder")
    return BuildContext(files, base_context, f"'{relative_to(base_context, files.root)}'")


def _anchor(files) -> str:
    """Where the spec's folder sits in the tree of every file read (which '..' paths may reach above
    it): 'a/b' when files reach two levels up, '.' when none leaves the spec's folder."""
    def ups(relative: str) -> int:
        parts = relative.split("/")
        return next((i for i, part in enumerate(parts) if part != ".."), len(parts))

    depth = max(map(ups, files.digests), default=0)
    return "/".join(files.root.split(os.sep)[len(files.root.split(os.sep)) - depth:]) if depth else "."


def _installer(spec, lock, pip_entries) -> tuple:
    """(the installer, problems, notes): uv unless the spec says pip, or the install needs what uv lacks
    (an interpreter older than uv supports, --prefer-binary, --use-feature, an editable VCS checkout):
    then pip, or errors where the spec asks for uv."""
    written = spec.pip.installer if spec.pip else None
    if written == "pip" or not pip_entries:
        return spec.installer, [], []
    needs = [(entry.where, _uv_lacks(entry)) for entry in pip_entries if _uv_lacks(entry)]
    old = python_generation(spec, lock) == "old"
    if written == "uv":
        problems = [error(where, f"uv cannot honour {what}: set pip.installer: pip") for where, what in needs]
        if old:
            problems.append(error(spec.at(("pip", "installer")), "uv installs into Python 3.8 or later, and this environment's "
                                                                 "Python is older: set pip.installer: pip (or leave it out: envc then picks pip)"))
        return "uv", problems, []
    if needs:
        where, what = needs[0]
        return "pip", [], [warning(where, f"envc installs with pip here: uv cannot honour {what}")]
    return ("pip" if old else "uv"), [], []


def _lock_problems(spec, lock, pip_entries, base_dockerfile) -> list:
    """What a lock cannot do: pip packages into an environment it gives no python, or sha256 hashes for the
    conda of Azure ML's bases (23.5 reads only md5; sha256 came with conda 24.9)."""
    if lock is None:
        return []
    problems = []
    if pip_entries and not lock.has_python:
        problems.append(error(spec.conda.lock.where, "the lock installs no python, but pip packages follow it: lock python "
                                                     "(and pip) too, or install the pip packages elsewhere"))
    if lock.sha256 and conda_tool(base_image(spec, base_dockerfile)) == "conda":
        problems += [error(where, "the conda of Azure ML's images (23.5) reads only md5 hashes in a lock (sha256 came with "
                                  "conda 24.9): write #<md5> (`conda list --explicit --md5`), or use a base without conda")
                     for where in lock.sha256]
    return problems


def _unhashed_in_hash_mode(pip_entries) -> list:
    """Requirements without a hash in an install that one --hash or --require-hashes (in a constraints file too, as
    pip's install command counts them) puts in hash-checking mode, where pip (HashMissing) and uv (--require-hashes)
    refuse any requirement without one, and an editable or version-control requirement even with one (pip's
    VcsHashUnsupported): the build would fail. Constraints, conda-lock's own install (a step of its own) and lines
    with a marker (pip drops those whose marker is false in the image first) are not checked."""
    mode = next((entry for entry in pip_entries if entry.kind == "flag" and entry.value == "--require-hashes"), None) \
        or next((entry for entry in pip_entries if entry.line is not None and entry.line.hashes), None)
    if mode is None:
        return []
    why = f"{'--require-hashes' if mode.kind == 'flag' else '--hash'} at {mode.where}"
    problems = []
    for entry in pip_entries:
        if entry.constrains or ";" in entry.value or entry.line is None and entry.kind != "editable":
            continue
        if entry.kind == "editable" or re.match(r"(?:[^@]*@\s*)?(?:git|hg|svn|bzr)\+", entry.value, re.I):
            unhashable = "an editable install" if entry.kind == "editable" else "a version control checkout"
            written = f"-e {entry.value}" if entry.kind == "editable" else entry.value
            problems.append(error(entry.where, f"'{written}' cannot be hash-checked ({unhashable} is no single file to "
                                               f"hash), and the install is in hash-checking mode ({why}), where pip and uv "
                                               "refuse it: install a released version (==, with its --hash) or a wheel or "
                                               "sdist URL with its --hash instead"))
        elif entry.kind in ("requirement", "url") and not entry.line.hashes \
                and not re.search(r"#(?:sha256|sha384|sha512)=", entry.value):
            problems.append(error(entry.where, f"'{entry.value}' has no hash, but the install is in hash-checking mode ({why}), "
                                               "where pip and uv refuse a requirement without one: pin it with == and give it "
                                               "a --hash in a requirements file (`pip-compile --generate-hashes` writes one)"))
    return problems


def _refused_constraints(pip_entries) -> list:
    """Constraint lines pip refuses (its resolver's check_invalid_constraint_type: the install fails): an editable,
    one with extras, one without a name (a wheel's file name gives one)."""
    problems = []
    for entry in pip_entries:
        if not entry.constrains or entry.kind not in ("requirement", "url", "editable"):
            continue
        if entry.kind == "editable":
            refused, fix = "Editable requirements are not allowed as constraints", "constrain it by name and version instead"
        elif entry.kind == "url" and not entry.line.name:
            refused, fix = "Unnamed requirements are not allowed as constraints", "write it as NAME @ URL"
        elif entry.kind == "requirement" and re.match(r"\s*[A-Za-z0-9][A-Za-z0-9._-]*\s*\[\s*[A-Za-z0-9]", entry.line.value):
            refused, fix = "Constraints cannot have extras", "leave the [extras] out (the requirement names them)"
        else:
            continue
        problems.append(error(entry.where, f"pip refuses this line of a constraints file (\"{refused}\"), so the install "
                                           f"would fail: {fix}, or move it to a requirements file (-r)"))
    return problems


def _uv_lacks(entry):
    """What uv cannot do that this pip entry asks for, or None."""
    if entry.kind == "use_feature":
        return f"'--use-feature={entry.value}' (a pip feature)"
    if entry.kind == "flag" and entry.value == "--prefer-binary":
        return "'--prefer-binary'"
    if entry.kind == "editable":
        git = entry.value.lower().startswith("git+")
        return f"'-e {entry.value}' (an editable VCS checkout{f'; NAME @ {entry.value} would do for uv' if git else ''})"
    if entry.kind in ("requirement", "url") and re.search(r"(?:^|@\s*)(?:hg|svn|bzr)\+", entry.value, re.I):
        return f"'{entry.value}' (uv clones git only)"
    if entry.line and entry.line.options:
        return f"'{entry.line.options[0][0]}' on a requirement line (uv reads only --hash there)"
    if entry.constrains and entry.kind == "url":
        return f"'{entry.value}' in a constraints file (uv allows no URL without NAME @ there)"
    if entry.constrains and entry.kind in ("index_url", "extra_index_url", "find_links", "trusted_host", "flag", "include"):
        from envc.formats.requirements import written_line

        reads = "its -r files as constraints too" if entry.kind == "include" else "only its requirements"
        return f"'{written_line(entry)}' in a constraints file (uv reads {reads})"
    return None


def _channel_notes(spec, base_dockerfile) -> list:
    """Where micromamba (on bases without conda) would search other channels than conda does for the same
    file: conda adds 'defaults' unless the channels say 'nodefaults'; micromamba never does."""
    from envc.common.tools import MICROMAMBA_DEFAULT_CHANNELS

    conda = spec.conda
    if conda is None or conda.lock is not None or not (conda.packages or conda.pip) or conda_tool(base_image(spec, base_dockerfile)) != "micromamba":
        return []
    channels = [channel for channel in conda.channels if channel != "nodefaults"]
    where = spec.at(("conda", "channels")) if conda.channels else spec.at(("conda",))
    if "nodefaults" in conda.channels and not channels:
        return [error(where, "'nodefaults' alone leaves no channel to install from (conda would find no package): list a channel")]
    if "nodefaults" in conda.channels or "defaults" in channels:
        return []
    searched = ", ".join(channels or MICROMAMBA_DEFAULT_CHANNELS)
    return [warning(where, f"on this base envc installs with micromamba, which searches only {searched}; conda would also "
                           "search 'defaults': add 'nodefaults' to the channels to say so, or 'defaults' to search it")]


def base_image(spec, base_dockerfile) -> str:
    """The image the environment is built on, as named (lowering prefixes a registry address); '' when its base
    Dockerfile could not be read."""
    if base_dockerfile is None:
        return spec.base.image or ""
    from envc.core.base_dockerfile import built_on

    return built_on(base_dockerfile)


def spec_hash(data: dict, files: tuple, anchor: str = ".") -> str:
    """sha256 over envc's version, the spec's data (key order, comments, whitespace and its own path
    do not matter) and every file it reads (their paths relative to the spec, and their bytes); and, when
    files are read from above the spec's folder, the names of the folders between (the anchor), since the
    image's paths then hold them."""
    digest = sha256(__version__.encode() + b"\0")
    digest.update(json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode())
    for relative, file_digest in files:
        digest.update(b"\0" + relative.encode() + b"\0" + file_digest)
    if anchor != ".":
        digest.update(b"\0anchor\0" + anchor.encode())
    return digest.hexdigest()


def _script(files, context, ref):
    """An init script: read, and checked against the build context and its ignore files (the image COPYs it)."""
    if ref is None:
        return None
    path, resolved = files.file(ref, context.root, context.name)
    if path:
        context.check_copied(ref, path)
    return resolved


def _pip_entries(spec, reader, lock) -> list:
    """Every requirement and option the pip install reads, in order: conda's pip lists, pip.packages,
    the requirements files (includes in place), conda-lock's pip packages."""
    from envc.formats.requirements import PipEntry

    found = []
    for entry in (spec.conda.pip if spec.conda else ()) + (spec.pip.packages if spec.pip else ()):
        included = entry.kind in ("include", "constraint") and entry.file and entry.file.relative
        found += reader.trees.get(entry.file.relative, ()) if included else [entry]
    for ref in spec.pip.requirements if spec.pip else ():
        found += reader.trees.get(ref.relative, ())
    if lock:
        wheres = lock.pip_where or (spec.conda.lock.where,) * len(lock.pip_lines)
        found += [PipEntry(kind="requirement", value=line, where=where) for line, where in zip(lock.pip_lines, wheres)]
    return found


class _Reader:
    """Reads what the spec's conda and pip sections name: a conda file, a lock, requirements trees."""

    def __init__(self, files):
        self.files = files
        self.problems: list = []
        self.requirement_files: dict = {}  # relative path -> lines, in the order pip reads them
        self.written_from: dict = {}  # relative path -> the file read for it
        self.trees: dict = {}  # relative path of an included file -> the PipEntries it holds (includes in place)
        self.link_folders: dict = {}  # resolved --find-links folder -> (as written, Location), in the order met
        self.notes: list = []

    def splice_conda_file(self, path: str, conda, spec) -> tuple:
        """(the conda file's Conda section, the env merged with its variables, its notes)."""
        from envc.core.spec import conda_section
        from envc.core.validate import check_schema
        from envc.core.yaml_source import load_yaml
        from envc.formats.conda_env import PlatformNeeded, from_conda
        from envc.formats.conda_lock import conda_platform, no_subdir

        try:
            conda_doc = from_conda(load_yaml(path), conda_platform(spec.base.platform))
            check_schema(conda_doc)
        except PlatformNeeded as exc:
            self.problems.append(no_subdir(spec.base.platform, spec.document.at(("base", "platform")), exc.selector))
            return conda, spec.env, ()
        except SpecError as exc:
            self.problems.extend(exc.diagnostics)
            return conda, spec.env, ()
        section, variables, found = conda_section(conda_doc)
        self.problems += [d for d in found if d.severity == "error"]
        self.notes += [d for d in found if d.severity != "error"]
        env = dict(spec.env)
        for name, value in variables:
            if name in env and env[name] != value:
                self.problems.append(error(conda_doc.at(("env", name)), f"variable '{name}' is also set in the spec's env with a different value: keep one"))
        merged = tuple({**dict(variables), **env}.items())
        return (section._replace(file=conda.file, virtual_packages=conda.virtual_packages, micromamba_image=conda.micromamba_image,
                                 micromamba_where=conda.micromamba_where), merged, conda_doc.notes)

    def read_lock(self, path: str, spec):
        """The lock for the image's conda subdir; with none (linux/mips64le), an error at base.platform."""
        from envc.formats.conda_lock import conda_platform, no_subdir, read_lock

        subdir = conda_platform(spec.base.platform)
        if subdir is None:
            self.problems.append(no_subdir(spec.base.platform, spec.document.at(("base", "platform")), "conda.lock"))
            return None
        try:
            return read_lock(path, display_name(path), subdir)
        except SpecError as exc:
            self.problems.extend(exc.diagnostics)
            return None

    def pip_entries(self, entries) -> tuple:
        """entries with each -r/-c file resolved and read, and each local --find-links folder resolved."""
        resolved = []
        for entry in entries:
            if entry.kind == "find_links" and entry.file:
                folder, ref = self.files.folder(entry.file)
                if folder:
                    self.link_folders.setdefault(folder, (entry.value, entry.where))
                entry = entry._replace(file=ref)
            elif entry.file:
                entry = entry._replace(file=self.include(entry.file))
            resolved.append(entry)
        return tuple(resolved)

    def links(self, context) -> tuple:
        """(folder, (file, ...)) of every local --find-links folder, as paths from the spec's folder, read."""
        from envc.common.paths import relative_to

        found = []
        for folder, (written, where) in self.link_folders.items():
            paths = context.copy_folder(folder, written, where)
            found.append((relative_to(folder, self.files.root), tuple(relative_to(path, self.files.root) for path in paths)))
        return tuple(found)

    def include(self, ref):
        """A requirements file (an envc.core.spec.FileRef) and everything it includes, read and recorded; ref resolved."""
        from envc.common.paths import read_bytes, relative_to
        from envc.formats.requirements import read_requirements

        path, resolved = self.files.file(ref)
        if path is None:
            return resolved
        tree = read_requirements(path, self.files.root)
        self.problems.extend(tree.problems)
        self.notes.extend(tree.notes)
        self.trees[resolved.relative] = tree.entries
        for folder, where in tree.links:
            self.link_folders.setdefault(folder, (relative_to(folder, self.files.root), where))
        for relative, file in tree.files:
            self.files.record(file, sha256(read_bytes(file)).digest())
            other = self.written_from.setdefault(relative, file)
            if other != file:  # a symlinked folder and '..': two files pip reads, one place in the image
                self.problems.append(error(ref.where, f"'{relative}' names two files, {relative_to(other, self.files.root)} and "
                                                      f"{relative_to(file, self.files.root)} (through a symlink): pip reads both, "
                                                      "but the image has one place for them: rename one"))
        for relative, lines in tree.written:
            self.requirement_files.setdefault(relative, lines)
        return resolved


def python_generation(spec, lock):
    """'new' when the environment's Python is one uv installs into (3.8 or later), 'old' when it is older,
    None when the spec does not say (a base image's python3, an unpinned or ranged conda python)."""
    import re

    if lock is not None:
        found = re.search(r"/python-(\d+)\.(\d+)\.", "\n".join(lock.explicit))
        version = found and (int(found[1]), int(found[2]))
    else:
        python = next((p for p in spec.conda.packages if p.spec.name == "python"), None) if spec.conda else None
        version = python and _pinned_minor(python.spec.get("version") or "")
    if not version:
        return None
    return "new" if version >= UV_MIN_PYTHON else "old"


def _pinned_minor(version: str):
    """(major, minor) a conda python version pins (=3.7, 3.7.*, ==3.7.12, 3.7), or its lower bound when
    that alone decides (>=3.8), else None."""
    import re

    exact = re.fullmatch(r"(?:==?)?(\d+)\.(\d+)(?:\.[\d*]+)*(?:\.\*)?", version)
    if exact:
        return int(exact[1]), int(exact[2])
    lower = re.fullmatch(r">=?(\d+)\.(\d+)(?:\.\d+)*", version)
    if lower and (int(lower[1]), int(lower[2])) >= UV_MIN_PYTHON:
        return int(lower[1]), int(lower[2])
    return None
