"""The files a spec reads: resolved, hashed, and recorded once, by their path from the spec's folder.

Files envc reads and writes into the Dockerfile (conda files, requirements, locks) may be anywhere
('..' included), as Azure ML allows; what the image COPYs must be inside the build context. What is
recorded here is exactly what the content hash covers, what the result cache checks, and what a
registry snapshot copies.
"""
from __future__ import annotations

import os

from envc.common.diagnostics import error
from envc.common.digest import file_digest
from envc.common.paths import relative_to, resolve, resolve_inside


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

    def file(self, ref, context: str | None = None, context_name: str = ""):
        """ref (an envc.core.spec.FileRef) resolved, read and recorded: (its resolved path, ref with relative
        set), or (None, ref) after recording why it cannot be used. context: the resolved build context,
        for a file the image COPYs (it must be inside), named context_name in messages."""
        path = os.path.join(ref.folder, ref.written)
        if context is None:
            target, problem = resolve(path, ref.written)
        else:
            target, problem = resolve_inside(path, context, ref.written, context=context_name)
        if problem:
            self.problems.append(error(ref.where, problem))
            return None, ref
        relative = self.record(target)
        return target, ref._replace(relative=relative)

    def folder(self, ref):
        """Like file(), for a folder: nothing is read, nothing recorded."""
        target, problem = resolve(os.path.join(ref.folder, ref.written), ref.written, folder=True)
        if problem:
            self.problems.append(error(ref.where, problem))
            return None, ref
        return target, ref._replace(relative=relative_to(target, self.root))

    def record(self, path: str, digest: bytes | None = None) -> str:
        """Record a resolved path, hashing it unless its digest is known; its path from the spec's folder."""
        relative = relative_to(path, self.root)
        self.digests[relative] = digest if digest is not None else file_digest(path)
        return relative

    def sorted(self) -> tuple:
        """((relative path, digest), ...) in path order: the content hash's order."""
        return tuple(sorted(self.digests.items()))
