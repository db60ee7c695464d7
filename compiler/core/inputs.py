"""Read and check every file a Spec names, once, before anything is lowered.

A conda.file is spliced in here (its packages become the Spec's), every FileRef is resolved
against the build context, requirements files are read with their includes, and a lock file is
read for the image's platform. What is read here is what the Dockerfile copies or inlines, and
what the content hash covers.
"""
from __future__ import annotations

import json
import os

from envc.common.diagnostics import SpecError, error
from envc.common.digest import sha256
from envc.common.records import Record
from envc.common.version import __version__
from envc.core.build_context import BuildContext
from envc.core.document import display_name
from envc.core.files import FileSet


class Inputs(Record):
    """Everything read from disk for one spec.

    spec: the Spec as the build sees it: conda.file spliced in, every FileRef's `relative` set.
    files: ((relative path, sha256 digest), ...) of every file read, in path order.
    absent: relative paths whose absence the result depends on (an ignore file that is not there).
    listed: whether files were found by listing folders (a base Dockerfile's COPY of a folder or a glob).
    base_dockerfile: the base Dockerfile's text, or None. lock: envc.formats.conda_lock.Lock, or None.
    requirement_files: (relative path, text) of every requirements file read, in the order pip reads them.
    pip_entries: every pip requirement and option the install reads, in order, located (lint's view).
    spec_hash: sha256 over envc's version, the spec as written and every file read.
    notes: warnings found on the way.
    """

    __slots__ = ("spec", "files", "absent", "listed", "base_dockerfile", "lock", "requirement_files", "pip_entries",
                 "spec_hash", "notes")

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
    context = BuildContext(files)
    reader = _Reader(files)
    notes = list(spec.document.notes)
    base, base_dockerfile = spec.base, None
    if base.dockerfile is not None:
        path, dockerfile = files.file(base.dockerfile)
        base = base._replace(dockerfile=dockerfile)
        if path:
            base_dockerfile = context.check_dockerfile(path, dockerfile.where)
            found = True
            if base.context != ".":
                found, context_ref = files.folder(base.context_ref)
                base = base._replace(context_ref=context_ref)
            if found:
                context.read_copied_files(base_dockerfile, path, base.context)
            context.warn_unapplied_ignore_files(path, base.context)
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
            lock = reader.read_lock(path, base.platform)
    pip = spec.pip
    if conda is not None:
        conda = conda._replace(pip=reader.pip_entries(conda.pip))
    if pip is not None:
        pip = pip._replace(requirements=tuple(reader.include(ref) for ref in pip.requirements))
    init = spec.init
    if init is not None:
        init = init._replace(setup=_script(files, context, init.setup), run=_script(files, context, init.run))
    problems = files.problems + reader.problems
    if problems:
        raise SpecError(problems)
    resolved = spec._replace(base=base, conda=conda, pip=pip, env=env, init=init)
    pip_entries = tuple(_pip_entries(resolved, reader, lock))
    return Inputs(spec=resolved, files=files.sorted(), absent=tuple(files.absent), listed=files.listed,
                  base_dockerfile=base_dockerfile, lock=lock, requirement_files=tuple(reader.requirement_files.items()),
                  pip_entries=pip_entries, spec_hash=spec_hash(spec.data, files.sorted()),
                  notes=tuple(notes + context.notes))


def spec_hash(data: dict, files: tuple) -> str:
    """sha256 over envc's version, the spec's data (key order, comments, whitespace and its own path
    do not matter) and every file it reads (their paths relative to the spec, and their bytes)."""
    digest = sha256(__version__.encode() + b"\0")
    digest.update(json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode())
    for relative, file_digest in files:
        digest.update(b"\0" + relative.encode() + b"\0" + file_digest)
    return digest.hexdigest()


def _script(files, context, ref):
    """An init script: read, and checked against the ignore files (the image COPYs it)."""
    if ref is None:
        return None
    path, resolved = files.file(ref)
    if path:
        context.check_copied(ref)
    return resolved


def _pip_entries(spec, reader, lock) -> list:
    """Every requirement and option the pip install reads, in order: conda's pip lists, pip.packages,
    the requirements files (includes in place), conda-lock's pip packages."""
    from envc.formats.requirements import PipEntry

    found = []
    for entry in (spec.conda.pip if spec.conda else ()) + (spec.pip.packages if spec.pip else ()):
        found += reader.trees.get(entry.file.relative, ()) if entry.file and entry.file.relative else [entry]
    for ref in spec.pip.requirements if spec.pip else ():
        found += reader.trees.get(ref.relative, ())
    if lock:
        where = spec.conda.lock.where
        found += [PipEntry(kind="requirement", value=line, where=where) for line in lock.pip_lines]
    return found


class _Reader:
    """Reads what the spec's conda and pip sections name: a conda file, a lock, requirements trees."""

    def __init__(self, files):
        self.files = files
        self.problems: list = []
        self.requirement_files: dict = {}  # relative path -> text, in the order pip reads them
        self.trees: dict = {}  # relative path of an included file -> the PipEntries it holds (includes in place)

    def splice_conda_file(self, path: str, conda, spec) -> tuple:
        """(the conda file's Conda section, the env merged with its variables, its notes)."""
        from envc.core.spec import conda_section
        from envc.core.validate import check_schema
        from envc.core.yaml_source import load_yaml
        from envc.formats.conda_env import from_conda

        try:
            conda_doc = from_conda(load_yaml(path))
            check_schema(conda_doc)
        except SpecError as exc:
            self.problems.extend(exc.diagnostics)
            return conda, spec.env, ()
        section, variables, problems = conda_section(conda_doc, spec.installer)
        self.problems += problems
        env = dict(spec.env)
        for name, value in variables:
            if name in env and env[name] != value:
                self.problems.append(error(conda_doc.at(("env", name)), f"variable '{name}' is also set in the spec's env with a different value: keep one"))
        merged = tuple({**dict(variables), **env}.items())
        return section._replace(file=conda.file), merged, conda_doc.notes

    def read_lock(self, path: str, platform):
        from envc.formats.conda_lock import read_lock

        try:
            return read_lock(path, display_name(path), platform)
        except SpecError as exc:
            self.problems.extend(exc.diagnostics)
            return None

    def pip_entries(self, entries) -> tuple:
        """entries with each -r/-c file resolved and read."""
        return tuple(entry._replace(file=self.include(entry.file)) if entry.file else entry for entry in entries)

    def include(self, ref):
        """A requirements file (an envc.core.spec.FileRef) and everything it includes, read and recorded; ref resolved."""
        from envc.common.paths import read_bytes
        from envc.formats.requirements import read_requirements

        path, resolved = self.files.file(ref)
        if path is None:
            return resolved
        tree = read_requirements(path, self.files.root)
        self.problems.extend(tree.problems)
        self.trees[resolved.relative] = tree.entries
        for relative, file in tree.files:
            content = read_bytes(file)
            self.files.record(file, sha256(content).digest())
            self.requirement_files.setdefault(relative, content.decode("utf-8", "replace"))
        return resolved
