"""The typed, immutable Spec, built once from a validated Document.

Every package string is parsed here, once, into records that keep their location (conda
MatchSpecs, pip entries); defaults come from the schema. Lowering, lint and the exporters read
these records and never the raw data again. Paths are FileRefs: what was written and where,
resolved against the build context by envc.core.inputs, which also splices a conda.file in.
"""
from __future__ import annotations

import os

from envc.common.diagnostics import error, warning
from envc.common.records import Record
from envc.common.schema import default
from envc.core.document import Document
from envc.formats.requirements import PER_REQUIREMENT_OPTIONS, PipEntry, parse_line, remote_include, strip_comment

class Spec(Record):
    """An environment spec, section by section; a section the spec leaves out is None
    (env and labels: empty). document: where every key and value came from (its data is the
    spec as written, which the content hash covers)."""

    __slots__ = ("name", "description", "base", "system", "python", "conda", "pip", "env", "init", "labels", "document")

    @property
    def root(self) -> str:
        """The spec's folder: relative paths resolve from it, and it is the build context."""
        return self.document.root

    @property
    def data(self) -> dict:
        return self.document.data

    @property
    def installer(self) -> str:
        """What installs the pip packages: pip.installer, or the schema's default."""
        return self.pip and self.pip.installer or default("pip", "installer")

    def at(self, path: tuple):
        return self.document.at(path)

    def key_at(self, path: tuple):
        return self.document.key_at(path)


class FileRef(Record):
    """A file (or folder) the spec names. written: as written; folder: the host folder it is relative
    to (the spec's, or a conda file's); at: its path in the document. relative: its path from the
    spec's folder (the build context), once envc.core.inputs has found it there, else None."""

    __slots__ = ("written", "folder", "at", "where", "relative")
    _defaults = {"relative": None}


class Credential(Record):
    """A registry credential by reference: kind 'env' (a variable's name) or 'secret' (a build secret's id)."""

    __slots__ = ("kind", "name")


class Registry(Record):
    __slots__ = ("address", "username", "password")


class Base(Record):
    """image: the FROM reference (the schema's default when neither image nor dockerfile is given),
    or None with a dockerfile; image_where: where it was written (the spec's top when defaulted);
    user: the USER the base image runs as, when the spec says it;
    context: base.context as written ('.' by default) and its FileRef (None when not given)."""

    __slots__ = ("image", "image_where", "dockerfile", "context", "context_ref", "platform", "user", "registry")

    @property
    def pulled_from(self) -> str:
        """image as engines pull it: under base.registry's address unless it already names it."""
        address = self.registry.address if self.registry else None
        return self.image if not address or self.image.startswith(address + "/") else f"{address}/{self.image}"


class System(Record):
    __slots__ = ("apt",)


class Python(Record):
    __slots__ = ("user_managed", "interpreter")


class CondaPackage(Record):
    """text: as written; spec: its envc.common.package_specs.MatchSpec; where: its Location."""

    __slots__ = ("text", "spec", "where")


class Conda(Record):
    """packages: the conda packages in order; pip_lists: the entries of each of the dependencies' {pip: [...]}
    lists (conda adds the package `pip` for an empty one too, and installs only the last);
    file / lock: FileRefs, or None; with a file, envc.core.inputs fills the rest from it.
    virtual_packages: (name, version) pairs the solve assumes (conda's CONDA_OVERRIDE_<NAME>).
    micromamba_image: where micromamba comes from on bases without conda (micromamba_where: where it was set)."""

    __slots__ = ("channels", "packages", "pip_lists", "file", "lock", "virtual_packages", "micromamba_image", "micromamba_where")

    @property
    def pip(self) -> tuple:
        """Every entry of the pip: lists, in order."""
        return tuple(entry for entries in self.pip_lists for entry in entries)


class Pip(Record):
    """packages: PipEntries of pip.packages; requirements: FileRefs of pip.requirements; installer: as
    written, or None (then Spec.installer is the schema's default)."""

    __slots__ = ("packages", "requirements", "index_url", "extra_index_urls", "installer", "netrc_secret")


class Init(Record):
    __slots__ = ("setup", "run", "command")


def build_spec(doc: Document) -> tuple:
    """(Spec, problems) for a schema-valid document: problems are the package strings conda or pip
    would reject, located; the Spec leaves those entries out so later checks can still run. Warnings
    (what pip ignores) join the document's notes."""
    builder = _Builder(doc)
    spec = builder.spec()
    return spec._replace(document=doc._replace(notes=doc.notes + tuple(builder.notes))), builder.problems


def conda_section(doc: Document) -> tuple:
    """(Conda, env pairs, problems) of a schema-valid conda file read as a spec (envc.formats.conda_env)."""
    builder = _Builder(doc)
    return builder.conda(), _pairs(doc.data.get("env", {})), builder.problems + builder.notes


class _Builder:
    def __init__(self, doc: Document):
        self.doc = doc
        self.data = doc.data
        self.problems: list = []
        self.notes: list = []

    def spec(self) -> Spec:
        data = self.data
        pip = self.pip() if "pip" in data else None
        return Spec(
            name=data["name"], description=data.get("description"), base=self.base(), system=self.system(),
            python=self.python(), conda=self.conda() if "conda" in data else None, pip=pip,
            env=_pairs(data.get("env", {})), init=self.init(), labels=_pairs(data.get("labels", {})), document=self.doc)

    def file(self, at: tuple, folder: str | None = None, written: str | None = None) -> FileRef:
        node = self.data
        for step in at:
            node = node[step]
        return FileRef(written=node if written is None else written, folder=folder or self.doc.root, at=at,
                       where=self.doc.at(at))

    def base(self) -> Base:
        base = self.data.get("base", {})
        registry = None
        if "registry" in base:
            section = base["registry"]
            registry = Registry(address=section["address"], username=_credential(section.get("username")),
                                password=_credential(section.get("password")))
        dockerfile = self.file(("base", "dockerfile")) if "dockerfile" in base else None
        image = None if dockerfile else base.get("image", default("base", "image"))
        return Base(image=image, image_where=self.doc.at(("base", "image") if "image" in base else ()),
                    dockerfile=dockerfile, context=base.get("context", "."),
                    context_ref=self.file(("base", "context")) if "context" in base else None,
                    platform=base.get("platform"), user=base.get("user"), registry=registry)

    def system(self):
        system = self.data.get("system")
        return System(apt=tuple(system.get("apt", ()))) if system is not None else None

    def python(self):
        python = self.data.get("python")
        if python is None:
            return None
        return Python(user_managed=python.get("user_managed", default("python", "user_managed")),
                      interpreter=python.get("interpreter"))

    def conda(self) -> Conda:
        from envc.common.package_specs import SpecSyntaxError, parse_matchspec, placeholder_problem

        conda = self.data["conda"]
        packages, pip_lists = [], []
        for i, item in enumerate(conda.get("dependencies", ())):
            at = ("conda", "dependencies", i)
            if isinstance(item, str):
                try:
                    packages.append(CondaPackage(text=item, spec=parse_matchspec(item), where=self.doc.at(at)))
                except SpecSyntaxError as exc:
                    placeholder = placeholder_problem(item) or _package_url_problem(item)
                    self.problems.append(error(self.doc.at(at), placeholder) if placeholder else exc.at(self.doc.at(at)))
                continue
            folder = os.path.dirname(self.doc.path) or "."  # a conda file's pip lines are relative to it
            if pip_lists:
                self.notes.append(warning(self.doc.at(at), "a second pip: list: conda installs only the last one (its lists "
                                                           "replace each other), micromamba all of them: merge them into one"))
            pip_lists.append(tuple(entry for j, text in enumerate(item.get("pip", ()))
                                   for entry in self.pip_line(at + ("pip", j), text, folder, options=True)))
        return Conda(channels=tuple(conda.get("channels", ())), packages=tuple(packages), pip_lists=tuple(pip_lists),
                     file=self.file(("conda", "file")) if "file" in conda else None,
                     lock=self.file(("conda", "lock")) if "lock" in conda else None,
                     virtual_packages=tuple(sorted(conda.get("virtual_packages", {}).items())),
                     micromamba_image=conda.get("micromamba_image", default("conda", "micromamba_image")),
                     micromamba_where=self.doc.at(("conda", "micromamba_image")) if "micromamba_image" in conda else self.doc.key_at(("conda",)))

    def pip(self) -> Pip:
        pip = self.data["pip"]
        packages = []
        for j, text in enumerate(pip.get("packages", ())):
            packages += self.pip_line(("pip", "packages", j), text, self.doc.root, options=False)
        return Pip(packages=tuple(packages),
                   requirements=tuple(self.file(("pip", "requirements", j)) for j in range(len(pip.get("requirements", ())))),
                   index_url=pip.get("index_url"), extra_index_urls=tuple(pip.get("extra_index_urls", ())),
                   installer=pip.get("installer"), netrc_secret=pip.get("netrc_secret"))

    def pip_line(self, at: tuple, text: str, folder: str, options: bool) -> list:
        """The entries of one pip line of a list; options (and -r/-c) only where pip reads them (a conda pip list)."""
        where = self.doc.at(at)
        line = strip_comment(text)
        if options and not line.strip():  # conda writes its pip list to a requirements file, where pip skips these
            self.notes.append(warning(where, "a blank or comment-only pip entry installs nothing (conda hands the list to "
                                             "pip as a requirements file): ignored"))
            return []
        entries = []
        for item in parse_line(line, where):
            if not isinstance(item, PipEntry):
                (self.problems if item.severity == "error" else self.notes).append(item)
            elif item.kind in ("requirement", "url"):
                if " --" in item.value and options:  # conda would hand the list to pip as a requirements file
                    self.problems.append(error(where, f"{', '.join(PER_REQUIREMENT_OPTIONS)} on a pip: line are not supported: envc installs "
                                                      "this list on pip's command line, where they cannot go; move the line to a "
                                                      "requirements file and list it here as `-r FILE`"))
                elif " --" in item.value:
                    self.problems.append(error(where, f"{', '.join(PER_REQUIREMENT_OPTIONS)} work only inside a requirements file: move this line to one"))
                entries.append(item)
            elif not options:
                self.problems.append(error(where, "pip options are not package specs: use pip.index_url / pip.extra_index_urls, or a requirements file"))
            elif item.kind in ("include", "constraint", "find_links") and "://" in item.value:
                self.notes += [remote_include(where)] if item.kind != "find_links" else []
                entries.append(item)
            elif item.kind in ("include", "constraint", "find_links"):
                entries.append(item._replace(file=self.file(at, folder, item.value)))  # find_links: a local folder of archives
            else:
                entries.append(item)
        return entries

    def init(self):
        init = self.data.get("init")
        if init is None:
            return None
        return Init(setup=self.file(("init", "setup")) if "setup" in init else None,
                    run=self.file(("init", "run")) if "run" in init else None,
                    command=tuple(init["command"]) if "command" in init else None)


def _package_url_problem(text: str):
    """The message for a package file's URL in a dependencies list (conda reads it as that exact build), or None."""
    if "://" not in text or not text.split("#")[0].endswith((".conda", ".tar.bz2")):
        return None
    name = text.split("#")[0].rsplit("/", 1)[-1]
    return (f"'{name}' is a package file's URL, which envc does not take in dependencies: write it as a spec "
            "(channel::name=version=build), or list the URL in an explicit lock file (conda.lock) as conda's @EXPLICIT does")


def _credential(reference):
    if reference is None:
        return None
    (kind, name), = reference.items()
    return Credential(kind=kind, name=name)


def _pairs(mapping: dict) -> tuple:
    return tuple(mapping.items())
