"""Read and check every file a spec references, once, before anything is emitted.

Files must be inside the spec's folder (the build context). What is read here is
what the Dockerfile copies or inlines, and what the content hash covers.
"""
from __future__ import annotations

import os
import posixpath
from collections import namedtuple

from envc.cache import file_digest, sha256
from envc.diagnostics import Location, SpecError, error, warning
from envc.document import Document, display_name
from envc.paths import read_bytes, relative_to, resolve_inside
from envc.requirements import PER_REQUIREMENT_OPTIONS, PipLine, parse_line, read_requirements, strip_comment

CONTEXT_DIR = "/opt/envc/context"  # where referenced files are copied, keeping their relative layout
LOCK_PIP_FILE = ".envc/conda-lock-pip.txt"  # conda-lock's pip packages, written like a requirements file
OPTION_FLAGS = {"index_url": "--index-url", "extra_index_url": "--extra-index-url", "find_links": "--find-links",
                "trusted_host": "--trusted-host", "no_binary": "--no-binary", "only_binary": "--only-binary",
                "use_feature": "--use-feature", "include": "-r", "constraint": "-c"}
UV_UNSUPPORTED_FLAGS = {"--prefer-binary"}  # and --use-feature, which names pip's own features
# At the build context's root, what an engine leaves out of it: Docker reads .dockerignore; podman and
# buildah read .containerignore, or .dockerignore when there is none.
IGNORE_FILE, CONTAINER_IGNORE_FILE = ".dockerignore", ".containerignore"


class Inputs(namedtuple("Inputs", "doc base_dockerfile conda_lock pip_args requirement_files scripts files requirements "
                                   "absent listed")):
    """Everything read from disk for one spec.

    doc: conda.file already spliced in as conda.channels / conda.dependencies.
    base_dockerfile: the base Dockerfile's text, or None. conda_lock: envc.condalock.Lock, or None.
    pip_args: `pip install` arguments in order, grouped as an option and its value.
    requirement_files: (relative path, text) of requirements trees, written out in the pip layer.
    scripts: init key -> relative path.
    files: (relative path, sha256 digest) of every file read: the content hash covers them.
    requirements: every pip requirement line (requirements.PipLine, kind requirement or url), located.
    absent: relative paths whose absence the result depends on (an ignore file that is not there).
    listed: whether files were found by listing folders (a base Dockerfile's COPY of a folder or a glob).
    """

    __slots__ = ()

    def read_files(self) -> tuple:
        """(absolute path, sha256 hex digest) of every referenced file, as read."""
        root = os.path.realpath(self.doc.root)
        return tuple((os.path.join(root, relative), digest.hex()) for relative, digest in self.files)

    def absent_files(self) -> tuple:
        """Absolute paths of the files whose absence the result depends on."""
        root = os.path.realpath(self.doc.root)
        return tuple(os.path.join(root, relative) for relative in self.absent)


def gather(doc: Document) -> Inputs:
    """Inputs for a schema-valid doc, or SpecError with every problem in every file."""
    reader = _Reader(doc)
    data = doc.data
    base_dockerfile = None
    if "dockerfile" in data.get("base", {}):
        path = reader.file(("base", "dockerfile"))
        if path:
            base_dockerfile = reader.check_dockerfile(path, ("base", "dockerfile"))
            reader.read_copied_files(base_dockerfile, path, data["base"].get("context", "."))
            reader.warn_unapplied_ignore_files(path, data["base"].get("context", "."))
    conda = data.get("conda", {})
    pip_base = doc.root
    if "file" in conda:
        path = reader.file(("conda", "file"))
        if path:
            doc, pip_base = reader.splice_conda_file(path), os.path.dirname(path)
    lock = None
    if "lock" in conda:
        path = reader.file(("conda", "lock"))
        lock = reader.read_lock(path, data.get("base", {}).get("platform")) if path else None
    reader.check_conda_specs(doc)
    args = reader.pip_args(doc, pip_base)
    if lock and lock.pip_lines:
        args += reader.generated_requirements(LOCK_PIP_FILE, lock.pip_lines)
    scripts = {}
    for key in ("setup", "run"):
        if key in data.get("init", {}) and reader.file(("init", key)):
            scripts[key] = data["init"][key]
            reader.check_in_context(("init", key))
    if reader.problems:
        raise SpecError(reader.problems)
    requirement_files = tuple((relative, reader.generated.get(relative) or reader.requirement_texts[relative])
                              for relative in reader.requirement_files)
    return Inputs(doc._replace(notes=doc.notes + tuple(reader.notes)), base_dockerfile, lock, tuple(args), requirement_files,
                  scripts, tuple(sorted(reader.files.items())), tuple(reader.requirements), tuple(reader.absent), reader.listed)


class _Reader:
    def __init__(self, doc: Document):
        self.doc = doc
        self.root = os.path.realpath(doc.root)
        self.problems: list = []
        self.files: dict = {}  # relative path -> sha256 digest
        self.requirement_texts: dict = {}  # relative path -> text, for the files inlined in the pip layer
        self.requirement_files: list = []
        self.generated: dict = {}
        self.requirements: list = []
        self.notes: list = []
        self.absent: list = []
        self.listed = False
        self._ignores = None  # see ignore_files()

    def file(self, at: tuple, base: str | None = None, written: str | None = None) -> str | None:
        """The resolved path of the file at `at` (relative to base, default the spec's folder), now read."""
        written = written if written is not None else _get(self.doc.data, at)
        target, problem = resolve_inside(os.path.join(base or self.doc.root, written), self.root, written)
        if problem:
            self.problems.append(error(self.doc.at(at), problem))
            return None
        self.files[relative_to(target, self.root)] = file_digest(target)
        return target

    def check_dockerfile(self, path: str, at: tuple) -> str:
        from envc.basedockerfile import escape_directives, from_images

        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
        where = display_name(path)
        for number, escape in escape_directives(text):
            if escape != "\\":
                self.problems.append(error(Location(where, number, 1), "escape directives other than \\ are not supported: the compiled Dockerfile uses \\ for line continuations"))
        if not from_images(text):
            self.problems.append(error(self.doc.at(at), "the base Dockerfile has no FROM instruction"))
        return text

    def read_copied_files(self, text: str, dockerfile: str, context: str) -> None:
        """Every build-context file the base Dockerfile's COPY/ADD reads, for the content hash.

        Sources are checked where Docker would fail late (nothing matches) or differently from the
        rebased Dockerfile ('..'); a source built from $ARGs cannot be known here and is skipped.
        """
        import glob

        from envc.basedockerfile import context_copies, rebase_source, source_problem

        if context != "." and not self.folder(("base", "context")):
            return
        where = display_name(dockerfile)
        for _, _, copy in context_copies(text):
            for source in copy.context_sources:
                problem = source_problem(source)
                if problem is None and "$" not in source:
                    pattern = rebase_source(source, context).rstrip("/") or "."
                    matches = sorted(map(os.path.normpath, glob.glob(glob.escape(self.root) + "/" + pattern, include_hidden=True)))
                    self.listed = self.listed or glob.has_magic(pattern) or any(map(os.path.isdir, matches))
                    found = [self.context_files(match) for match in matches]
                    left_out = next((name for name, _ in self.ignore_files() if all(name in gone for _, gone in found)), None)
                    if not matches:
                        problem = (f"{copy.keyword} source '{source}' is not in the build context "
                                   f"('{context}'): {'no file matches it' if glob.has_magic(source) else 'no such file or folder'}")
                    elif left_out:
                        line, rule = found[0][1][left_out]
                        problem = (f"{copy.keyword} source '{source}' is left out of the build context by {left_out}:{line} "
                                   f"('{rule}'): the build would fail; add '!{rebase_source(source, context)}' to it")
                    for files, _ in found:
                        problem = problem or self.copied(files, source)
                if problem:
                    self.problems.append(error(Location(where, copy.line, 1), problem))

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
        """Read files as COPY reads them; the problem when one is outside the spec's folder."""
        for file in files:
            target, problem = resolve_inside(file, self.root, written)
            if problem:
                return problem
            self.files[relative_to(target, self.root)] = file_digest(target)
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
            self.absent.append(name)
            return None
        from envc.dockerignore import DockerIgnore

        content = read_bytes(path)
        self.files[name] = sha256(content).digest()
        ignore = DockerIgnore(content.decode("utf-8", "replace"))
        where = display_name(path)
        self.problems.extend(error(Location(where, line, 1), message) for line, message in ignore.problems)
        self.notes.extend(warning(Location(where, line, 1), message) for line, message in ignore.warnings)
        return ignore

    def check_in_context(self, at: tuple) -> None:
        """A file envc's Dockerfile COPYs must not be left out of any engine's build context."""
        written = _get(self.doc.data, at)
        path = posixpath.normpath(written)
        for name, ignore in self.ignore_files():
            excluded = ignore and ignore.excluded_by(path)
            if excluded:
                line, rule = excluded
                self.problems.append(error(self.doc.at(at), f"'{written}' is left out of the build context by {name}:{line} "
                                                            f"('{rule}'), so the image's COPY of it would fail: add '!{path}' to {name}"))
                return

    def warn_unapplied_ignore_files(self, dockerfile: str, context: str) -> None:
        """Ignore files the base Dockerfile was built with that the compiled build will not read."""
        unapplied = [(os.path.join(self.root, context, name), name) for name in (IGNORE_FILE, CONTAINER_IGNORE_FILE)
                     if context != "."]
        unapplied.append((dockerfile + IGNORE_FILE, IGNORE_FILE))  # BuildKit's per-Dockerfile ignore file
        prefix = posixpath.normpath(context)
        for path, name in unapplied:
            if os.path.isfile(path):
                how = f"copy these patterns to ./{name}" + (f", each prefixed with '{prefix}/'" if prefix != "." else "")
                self.notes.append(warning(Location(display_name(path), 1, 1), "not applied: envc's Dockerfile is built from "
                                                                              f"the spec's folder, whose ignore files engines read: {how}"))

    def folder(self, at: tuple) -> str | None:
        written = _get(self.doc.data, at)
        target, problem = resolve_inside(os.path.join(self.doc.root, written), self.root, written, folder=True)
        if problem:
            self.problems.append(error(self.doc.at(at), problem))
        return target

    def splice_conda_file(self, path: str) -> Document:
        """The spec with the conda file's channels, dependencies and variables in place of conda.file."""
        from envc.importers import from_conda
        from envc.validate import check_schema
        from envc.yamlsource import load_yaml

        try:
            conda_doc = from_conda(load_yaml(path))
            check_schema(conda_doc)
        except SpecError as exc:
            self.problems.extend(exc.diagnostics)
            return self.doc
        data = dict(self.doc.data)
        data["conda"] = conda_doc.data["conda"]
        locations = {k: v for k, v in self.doc.locations.items() if k[:2] != ("conda", "file")}
        locations.update({k: v for k, v in conda_doc.locations.items() if k[:1] == ("conda",) and k != ("conda",)})
        for name, value in conda_doc.data.get("env", {}).items():
            if name in data.get("env", {}) and data["env"][name] != value:
                self.problems.append(error(conda_doc.at(("env", name)), f"variable '{name}' is also set in the spec's env with a different value: keep one"))
        if conda_doc.data.get("env"):
            data["env"] = {**conda_doc.data["env"], **data.get("env", {})}
            locations.update({k: v for k, v in conda_doc.locations.items() if k[:1] == ("env",) and k not in self.doc.locations})
        return self.doc._replace(data=data, locations=locations, notes=self.doc.notes + conda_doc.notes)

    def read_lock(self, path: str, platform):
        from envc.condalock import read_lock

        try:
            return read_lock(path, display_name(path), platform)
        except SpecError as exc:
            self.problems.extend(exc.diagnostics)
            return None

    def generated_requirements(self, relative: str, lines) -> list:
        """A requirements file envc writes itself (conda-lock's pip packages), installed like the user's."""
        from envc.requirements import PipLine as Line

        self.requirement_files.append(relative)
        self.generated[relative] = "\n".join(lines) + "\n"  # not a file the user has: not in self.files
        self.requirements.extend(Line("requirement", line, self.doc.at(("conda", "lock"))) for line in lines)
        return [("-r", f"{CONTEXT_DIR}/{relative}")]

    def check_conda_specs(self, doc: Document) -> None:
        """Every conda dependency string is a MatchSpec conda accepts (grammar/conda_matchspec.lark)."""
        from envc.specs import SpecSyntaxError, parse_matchspec

        for i, item in enumerate(doc.data.get("conda", {}).get("dependencies", [])):
            if isinstance(item, str):
                try:
                    parse_matchspec(item)
                except SpecSyntaxError as exc:
                    self.problems.append(exc.at(doc.at(("conda", "dependencies", i))))

    def pip_args(self, doc: Document, conda_pip_base: str) -> list:
        """Arguments for the one `pip install` of the pip stage, checked line by line."""
        self.doc = doc
        pip = doc.data.get("pip", {})
        args = []
        if "index_url" in pip:
            args.append(("--index-url", pip["index_url"]))
        for url in pip.get("extra_index_urls", []):
            args.append(("--extra-index-url", url))
        for i, item in enumerate(doc.data.get("conda", {}).get("dependencies", [])):
            if isinstance(item, dict):
                for j, text in enumerate(item.get("pip", [])):
                    args += self.line_args(("conda", "dependencies", i, "pip", j), text, conda_pip_base, options=True)
        for j, text in enumerate(pip.get("packages", [])):
            args += self.line_args(("pip", "packages", j), text, doc.root, options=False)
        for j, written in enumerate(pip.get("requirements", [])):
            args += self.include(("pip", "requirements", j), written, doc.root)
        return args

    def line_args(self, at: tuple, text: str, base: str, options: bool) -> list:
        where = self.doc.at(at)
        parsed = parse_line(strip_comment(text), where)
        args = []
        for item in parsed:
            if not isinstance(item, PipLine):
                self.problems.append(item)
            elif item.kind in ("requirement", "url"):
                self.requirements.append(item)
                if " --" in item.value:
                    self.problems.append(error(where, f"{', '.join(PER_REQUIREMENT_OPTIONS)} work only inside a requirements file: move this line to one"))
                args.append((item.value,))
            elif not options:
                self.problems.append(error(where, "pip options are not package specs: use pip.index_url / pip.extra_index_urls, or a requirements file"))
            elif item.kind in ("include", "constraint"):
                args += self.include(at, item.value, base, flag=OPTION_FLAGS[item.kind])
            elif installer(self.doc) == "uv" and (item.kind == "use_feature" or item.value in UV_UNSUPPORTED_FLAGS):
                self.problems.append(error(where, "uv has no equivalent of this pip option: set pip.installer: pip, or drop the option"))
            elif item.kind == "flag":
                args.append((item.value,))
            else:
                args.append((OPTION_FLAGS[item.kind], item.value))
        return args

    def include(self, at: tuple, written: str, base: str, flag: str = "-r") -> list:
        path = self.file(at, base, written)
        if path is None:
            return []
        tree = read_requirements(path, self.root, display_name)
        self.problems.extend(tree.problems)
        self.requirements.extend(line for line in tree.lines if line.kind in ("requirement", "url"))
        for relative, file in tree.files:
            content = read_bytes(file)
            self.files[relative], self.requirement_texts[relative] = sha256(content).digest(), content.decode("utf-8", "replace")
            if relative not in self.requirement_files:
                self.requirement_files.append(relative)
        return [(flag, f"{CONTEXT_DIR}/{relative_to(path, self.root)}")]


def installer(doc: Document) -> str:
    """pip.installer, or the schema's default for it."""
    from envc.validate import schema

    default = schema()["properties"]["pip"]["properties"]["installer"]["default"]
    return doc.data.get("pip", {}).get("installer", default)


def _files_under(folder: str, pruned) -> list:
    """Every file below folder, as COPY takes them: symlinked folders are not entered, nor those pruned(path) leaves out."""
    found = []
    for parent, folders, names in os.walk(folder):
        folders[:] = [name for name in folders if not pruned(os.path.join(parent, name))]
        found += [os.path.join(parent, name) for name in names]
    return sorted(found, key=lambda path: path.split(os.sep))


def _get(data, path):
    for step in path:
        data = data[step]
    return data
