"""The files a spec reads: resolved inside the spec's folder, hashed, and recorded once.

What is recorded here is exactly what the content hash covers, what the result cache checks,
and what a registry snapshot copies.
"""
from __future__ import annotations

import os

from envc.common.diagnostics import error
from envc.common.digest import file_digest
from envc.common.paths import relative_to, resolve_inside


class FileSet:
    """Every file read for one spec: relative path (from the spec's folder) -> sha256 digest.

    problems: located errors for files that cannot be used. absent: relative paths whose absence
    the result depends on. listed: whether files were found by listing folders (a base Dockerfile's
    COPY of a folder or a glob), which the result cache cannot track.
    """

    def __init__(self, root: str):
        self.root = os.path.realpath(root)
        self.digests: dict = {}
        self.problems: list = []
        self.absent: list = []
        self.listed = False

    def file(self, ref):
        """ref (an envc.core.spec.FileRef) resolved, read and recorded: (its resolved path, ref with relative
        set), or (None, ref) after recording why it cannot be used."""
        target, problem = resolve_inside(os.path.join(ref.folder, ref.written), self.root, ref.written)
        if problem:
            self.problems.append(error(ref.where, problem))
            return None, ref
        relative = self.record(target)
        return target, ref._replace(relative=relative)

    def folder(self, ref):
        """Like file(), for a folder: nothing is read, nothing recorded."""
        target, problem = resolve_inside(os.path.join(ref.folder, ref.written), self.root, ref.written, folder=True)
        if problem:
            self.problems.append(error(ref.where, problem))
            return None, ref
        return target, ref._replace(relative=relative_to(target, self.root))

    def record(self, path: str, digest: bytes | None = None) -> str:
        """Record a resolved path inside the spec's folder, hashing it unless its digest is known; its relative path."""
        relative = relative_to(path, self.root)
        self.digests[relative] = digest if digest is not None else file_digest(path)
        return relative

    def sorted(self) -> tuple:
        """((relative path, digest), ...) in path order: the content hash's order."""
        return tuple(sorted(self.digests.items()))
