"""The build context: the spec's folder as an engine sends it, after its ignore files.

What the compiled Dockerfile COPYs from it (init scripts, a base Dockerfile's COPY/ADD sources)
must be there, or the build fails late; every file those instructions read is part of the
content hash. Docker reads .dockerignore; podman and buildah read .containerignore, or
.dockerignore when there is none.
"""
from __future__ import annotations

import os

from envc.common.diagnostics import Location, error, warning
from envc.common.digest import sha256
from envc.common.paths import read_bytes, relative_to, resolve_inside
from envc.common.quoting import unrepresentable
from envc.core.document import display_name

IGNORE_FILE, CONTAINER_IGNORE_FILE = ".dockerignore", ".containerignore"  # at the build context's root


class BuildContext:
    """The build context as engines see it: root (resolved), named `name` in messages. Files read are
    recorded in `files` (an envc.core.files.FileSet)."""

    def __init__(self, files, root: str, name: str):
        self.files = files
        self.root = root
        self.name = name
        self.notes: list = []
        self._ignores = None  # see ignore_files()

    def check_dockerfile(self, path: str, where) -> str:
        """The base Dockerfile's text; problems with what envc cannot carry over are recorded."""
        from envc.core.base_dockerfile import built_on, escape_directives

        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
        shown = display_name(path)
        for number, escape in escape_directives(text):
            if escape != "\\":
                self.files.problems.append(error(Location(shown, number, 1), "escape directives other than \\ are not supported: "
                                                                             "the compiled Dockerfile uses \\ for line continuations"))
        if not built_on(text):
            self.files.problems.append(error(where, "the base Dockerfile has no FROM instruction"))
        return text

    def read_copied_files(self, text: str, dockerfile: str, base_context: str, written: str) -> None:
        """Every build-context file the base Dockerfile's COPY/ADD reads, for the content hash.

        base_context: the resolved folder its sources are relative to (written as `written`). Sources
        are checked where Docker would fail late (nothing matches) or differently from the rebased
        Dockerfile ('..'); a source built from $ARGs cannot be known here and is skipped.
        """
        import glob

        from envc.core.base_dockerfile import context_copies, rebase_source, source_problem

        where = display_name(dockerfile)
        offset = relative_to(base_context, self.root)
        for _, _, copy in context_copies(text):
            for source in copy.context_sources:
                problem = source_problem(source)
                if problem is None and "$" not in source:
                    pattern = rebase_source(source, offset).rstrip("/") or "."
                    matches = sorted(map(os.path.normpath, glob.glob(glob.escape(self.root) + "/" + pattern, include_hidden=True)))
                    self.files.listed = self.files.listed or glob.has_magic(pattern) or any(map(os.path.isdir, matches))
                    found = [self.context_files(match) for match in matches]
                    left_out = next((name for name, _ in self.ignore_files() if all(name in gone for _, gone in found)), None)
                    if not matches:
                        problem = (f"{copy.keyword} source '{source}' is not in the build context "
                                   f"('{written}'): {'no file matches it' if glob.has_magic(source) else 'no such file or folder'}")
                    elif left_out:
                        line, rule = found[0][1][left_out]
                        problem = (f"{copy.keyword} source '{source}' is left out of the build context by {left_out}:{line} "
                                   f"('{rule}'): the build would fail; add '!{rebase_source(source, offset)}' to it")
                    for files, _ in found:
                        problem = problem or self.copied(files, source)
                if problem:
                    self.files.problems.append(error(Location(where, copy.line, 1), problem))

    def context_files(self, path: str):
        """(the files at path, a file or a folder's, that some engine's build context holds;
        ignore file name -> (line, pattern) for each ignore file that leaves path out altogether)."""
        ignores = [ignore for _, ignore in self.ignore_files()]

        def excluded(candidate: str, ignore) -> bool:
            relative = relative_to(candidate, self.root)
            return ignore is not None and relative != "." and ignore.excluded_by(relative) is not None

        def excluded_by_all(candidate: str) -> bool:
            return all(excluded(candidate, ignore) for ignore in ignores)

        def prunable(folder: str) -> bool:  # nothing inside comes back: the walk need not enter it
            relative = relative_to(folder, self.root)
            return all(excluded(folder, ignore) and not ignore.may_reinclude(relative) for ignore in ignores)
        if os.path.isdir(path):
            candidates = _files_under(path, prunable)
        else:
            candidates = [path]
        left_out = {name: ignore.excluded_by(relative_to(path, self.root)) for name, ignore in self.ignore_files()
                    if excluded(path, ignore) and all(excluded(file, ignore) for file in candidates)}
        return [file for file in candidates if not excluded_by_all(file)], left_out

    def copied(self, files, written: str):
        """Read files as COPY reads them; the problem when one is outside the build context."""
        for file in files:
            target, problem = resolve_inside(file, self.root, written, context=self.name)
            if problem:
                return problem
            self.files.record(target)
        return None

    def ignore_files(self) -> list:
        """[(name, DockerIgnore or None)]: what Docker leaves out of the build context, then, when there is a
        .containerignore, what podman and buildah leave out. Read once: they are inputs too."""
        if self._ignores is None:
            docker, container = self.read_ignore_file(IGNORE_FILE), self.read_ignore_file(CONTAINER_IGNORE_FILE)
            self._ignores = [(IGNORE_FILE, docker)] + ([(CONTAINER_IGNORE_FILE, container)] if container else [])
        return self._ignores

    def read_ignore_file(self, name: str):
        path = os.path.join(self.root, name)
        if not os.path.isfile(path):
            self.files.absent.append(relative_to(path, self.files.root))  # the context may be base.context, not the spec's folder
            return None
        from envc.core.dockerignore import DockerIgnore

        content = read_bytes(path)
        self.files.record(path, sha256(content).digest())
        ignore = DockerIgnore(content.decode("utf-8", "replace"))
        shown = display_name(path)
        self.files.problems.extend(error(Location(shown, line, 1), message) for line, message in ignore.problems)
        self.notes.extend(warning(Location(shown, line, 1), message) for line, message in ignore.warnings)
        return ignore

    def copy_folder(self, folder: str, written: str, where) -> tuple:
        """The files of a folder the image COPYs whole (a --find-links folder of archives; pip does not look
        into its subfolders), read and recorded: their resolved paths, or () after recording why not."""
        from envc.common.paths import is_inside

        if not is_inside(folder, self.root):
            self.files.problems.append(error(where, f"the --find-links folder '{written}' is outside the build context ({self.name}), "
                                                    "so the image's COPY cannot read its archives: move it into that folder"))
            return ()
        self.files.listed = True  # a new file there changes the build: not something the result cache tracks
        found = sorted(os.path.join(folder, name) for name in os.listdir(folder) if os.path.isfile(os.path.join(folder, name)))
        for path in found:
            self.files.record(os.path.realpath(path))
            bad = unrepresentable(os.path.basename(path))
            if bad is not None:
                self.files.problems.append(error(where, f"'{relative_to(path, self.root)}' in the --find-links folder '{written}' "
                                                        f"has {bad!r} in its name, which no Dockerfile COPY can carry: rename it"))
                continue
            excluded = self._excluded(path)
            if excluded:
                name, line, rule = excluded
                self.files.problems.append(error(where, f"'{relative_to(path, self.root)}' is left out of the build context by "
                                                        f"{name}:{line} ('{rule}'), so the image's COPY of it would fail: add "
                                                        f"'!{relative_to(path, self.root)}' to {name}"))
        return tuple(found)

    def _excluded(self, path: str):
        """(ignore file, line, pattern) of the first ignore file leaving path out of the context, or None."""
        relative = relative_to(path, self.root)
        for name, ignore in self.ignore_files():
            found = ignore and ignore.excluded_by(relative)
            if found:
                return (name, *found)
        return None

    def check_copied(self, ref, path: str) -> None:
        """A file envc's Dockerfile COPYs (an envc.core.spec.FileRef, resolved at path) must not be left out of
        any engine's build context."""
        path = relative_to(path, self.root)
        for name, ignore in self.ignore_files():
            excluded = ignore and ignore.excluded_by(path)
            if excluded:
                line, rule = excluded
                self.files.problems.append(error(ref.where, f"'{ref.written}' is left out of the build context by {name}:{line} "
                                                            f"('{rule}'), so the image's COPY of it would fail: add '!{path}' to {name}"))
                return

    def warn_unapplied_ignore_files(self, dockerfile: str, base_context: str) -> None:
        """Ignore files the base Dockerfile was built with that the compiled build will not read."""
        unapplied = [(os.path.join(base_context, name), name) for name in (IGNORE_FILE, CONTAINER_IGNORE_FILE)
                     if base_context != self.root]
        unapplied.append((dockerfile + IGNORE_FILE, IGNORE_FILE))  # BuildKit's per-Dockerfile ignore file
        prefix = relative_to(base_context, self.root)
        for path, name in unapplied:
            if not os.path.isfile(path):
                self.files.absent.append(relative_to(path, self.files.root))  # creating one later adds the warning
            else:
                how = f"copy these patterns to ./{name}" + (f", each prefixed with '{prefix}/'" if prefix != "." else "")
                self.notes.append(warning(Location(display_name(path), 1, 1), "not applied: envc's Dockerfile is built from "
                                                                              f"{self.name}, whose ignore files engines read: {how}"))


def _files_under(folder: str, pruned) -> list:
    """Every file below folder, as COPY takes them: symlinked folders are not entered, nor those pruned(path) leaves out."""
    found = []
    for parent, folders, names in os.walk(folder):
        folders[:] = [name for name in folders if not pruned(os.path.join(parent, name))]
        found += [os.path.join(parent, name) for name in names]
    return sorted(found, key=lambda path: path.split(os.sep))
