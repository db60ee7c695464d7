"""Reader of pip requirements files, and of the pip lines of conda's `pip:` lists and envc's pip.packages.

Each requirement or option becomes a located PipEntry; anything pip would reject, or that could
not work in an image build (a local path never copied in, credentials in a URL that would be
copied in), is a located error instead of a build failing twenty minutes later.
"""
from __future__ import annotations

import os
import posixpath
import re

from envc.common.diagnostics import Location, SpecError, error, warning
from envc.common.package_specs import URL_CREDENTIALS, SpecSyntaxError, option_takes_value, parse_pip_line, placeholder_problem, url_secret_parameter
from envc.common.paths import stem
from envc.common.records import Record
from envc.core.document import Document, display_name, environment_name

# Long option names (as envc.common.package_specs reports them) -> the PipEntry kind; options without a value are "flag"s.
OPTION_KINDS = {
    "--index-url": "index_url", "--extra-index-url": "extra_index_url", "--find-links": "find_links",
    "--trusted-host": "trusted_host", "--no-binary": "no_binary", "--only-binary": "only_binary",
    "--use-feature": "use_feature",
}
# PipEntry kind -> how pip spells it on a command line or in a requirements file (the reverse of the above).
ENTRY_OPTIONS = {**{kind: option for option, kind in OPTION_KINDS.items()}, "include": "-r", "constraint": "-c", "editable": "-e"}
VCS_SCHEMES = ("git+", "hg+", "svn+", "bzr+")  # what pip clones for `-e URL`
_BARE_VCS = ("git:", "hg:", "svn:", "bzr:")  # `-e git://…`: pip's parse_editable makes it git+git://…
PER_REQUIREMENT_OPTIONS = ("--hash", "--config-settings", "--global-option")
_COMMENT = re.compile(r"(^|\s+)#.*$")


class PipEntry(Record):
    """One requirement or option of a pip list or requirements file (an option line may give several).

    kind: 'requirement', 'url', 'include' (-r), 'constraint' (-c), 'flag', or an option kind above.
    value: the requirement line as written, the option's value, the flag, or the included file as written.
    where: its Location. line: the parsed RequirementLine (name, hashes) of a requirement or url.
    file: for include and constraint entries of a spec's lists, the envc.core.spec.FileRef they name.
    constrains: read from a -c constraints file (or a -c inside one; a -r inside one reads requirements, as in
        pip): pip honours its options there, uv does not.
    """

    __slots__ = ("kind", "value", "where", "line", "file", "constrains")
    _defaults = {"line": None, "file": None, "constrains": False}


def strip_comment(line: str) -> str:
    """A line without its comment (# at the start or after a blank), as pip reads it."""
    return _COMMENT.sub("", line).strip()


def logical_lines(text: str, file: str):
    """(Location, text) per logical line: continuations joined, comments dropped, as pip's join_lines does
    (a comment line never continues, even when it ends in a backslash, and it ends a continuation)."""
    pending, start = "", None
    for number, raw in enumerate(text.splitlines(), 1):
        if start is None:
            start, indent = number, len(raw) - len(raw.lstrip())
        if _COMMENT.match(raw):
            raw = " " + raw
        elif raw.endswith("\\"):
            pending += raw.strip("\\")
            continue
        line = _COMMENT.sub("", pending + raw).strip()
        if line:
            yield Location(file, start, indent + 1), line
        pending, start = "", None
    if start is not None and _COMMENT.sub("", pending).strip():
        yield Location(file, start, indent + 1), _COMMENT.sub("", pending).strip()


def parse_line(text: str, where: Location) -> list:
    """PipEntries for one logical line (an option line may hold several), and Diagnostics: errors where
    pip or the build would fail, warnings where pip ignores part of the line. The grammar is
    grammar/pip_requirement_line.lark."""
    found = URL_CREDENTIALS.search(text)
    ssh = re.search(r"ssh://([^/@\s]*@)?", text) if "ssh://" in text else None
    if ssh and ":" not in (ssh.group(1) or ""):  # a user name alone (git@) is no secret: the missing key is the problem
        return [error(where, "an ssh:// URL needs an SSH key, which the image build does not have: write the https:// URL "
                             "(a private repository's credentials go in a build secret: pip.netrc_secret)")]
    if found:  # checked first, so no message below can echo the secret
        return [error(where, "credentials in a URL would be written into the image: pass them as a build secret (pip.netrc_secret) instead")]
    if url_secret_parameter(text):
        return [error(where, "a URL whose query holds a signature, token or key (an Azure SAS, a presigned URL) would write it "
                             "into the image: serve the file from an index or URL readable without it, or with credentials in a "
                             "build secret (pip.netrc_secret)")]
    placeholder = placeholder_problem(text, pip=True)
    if placeholder:
        return [error(where, placeholder)]
    tabbed = _option_after_a_tab(text)
    if tabbed is not None:
        return [error(where._replace(col=where.col + tabbed), f"pip parts a requirement from its options only at spaces: after a "
                                                              f"tab, '{text[tabbed + 1:].split()[0]}' is read as part of the "
                                                              "requirement, which pip refuses (Invalid requirement): put a space there")]
    text, ignored = _without_ignored_words(text)
    notes = [warning(where, f"pip ignores {' '.join(repr(word) for word in ignored)} here (on a line of options a requirement is "
                            "not read): put each requirement on a line of its own to install it")] if ignored else []
    if text.endswith(";") and "://" not in text:  # `numpy==1.22.0;`: pip reads an empty marker as none, uv refuses it
        text = text[:-1].rstrip()
    try:
        line = parse_pip_line(text)
    except SpecSyntaxError as exc:
        return [exc.at(where)]
    if line.kind == "path":
        return [error(where, f"'{line.value}' is a local path, which envc does not copy into the image: install a released "
                             "package or a URL, or COPY it in a base Dockerfile")]
    if line.kind == "editable" and not line.value.lower().startswith(VCS_SCHEMES + _BARE_VCS):  # pip adds git+ to git:
        if "://" in line.value:
            return [error(where, f"'-e {line.value}': pip installs an editable only from a local project or a version control "
                                 "URL (git+https://…), and refuses this one: drop -e to install the archive")]
        return [error(where, f"'-e {line.value}' installs a local source tree, which envc does not copy into the image: install "
                             "a released package or a URL, or COPY the tree in a base Dockerfile")]
    if line.kind == "url" and line.value.lower().startswith(_BARE_VCS):
        scheme = line.value.split(":", 1)[0]
        return [error(where, f"pip reads '{line.value}' as no requirement (Invalid requirement: it takes '{scheme}:' only "
                             f"after -e): write NAME @ {scheme}+{line.value}, or better NAME @ {scheme}+https://…")]
    if line.kind in ("requirement", "url"):
        notes += [warning(where, f"pip ignores '{name} {value}' after a requirement (it reads index options only on a line of "
                                 "their own), so this requirement comes from the other indexes: put it on a line of its own to use it")
                  for name, value in line.options if name in ("--index-url", "--extra-index-url")]
        return [PipEntry(kind=line.kind, value=text, where=where, line=line), *notes, *_in_the_image(line.value, where)]
    parsed = [PipEntry(kind=line.kind, value=line.value, where=where)] if line.kind != "options" else []
    for name, value in line.options:
        if OPTION_KINDS.get(name) == "find_links" and any(entry.kind == "find_links" for entry in parsed):
            notes.append(warning(where, f"pip reads only the first --find-links of a line and ignores '{value}': put it on a "
                                        "line of its own to use it"))
            continue
        if value is None:
            parsed.append(PipEntry(kind="flag", value=name, where=where))
        else:
            parsed.append(PipEntry(kind=OPTION_KINDS[name], value=value, where=where))
            notes += _in_the_image(value, where)
    return parsed + notes


def _option_after_a_tab(text: str):
    """The offset of a tab (or other blank but a space) before an option in a requirement's part of the line, or None:
    pip's break_args_options splits the line at spaces only, and the requirement runs to the first ' -'."""
    if text.startswith("-"):
        return None
    found = re.search(r"[^\S ]-", text.split(" -", 1)[0])
    return found.start() if found else None


def _in_the_image(value: str, where: Location) -> list:
    """A warning for a file: URL: pip reads it in the image, where only what the base image holds is."""
    url = value.split("@", 1)[1].strip() if "@" in value and "://" not in value.split("@", 1)[0] else value
    if not url.lower().startswith("file:"):
        return []
    return [warning(where, f"'{url.split(';')[0].strip()}' is read inside the image when it is built, not on this machine: it "
                           "must be there already (from the base image); envc copies only relative paths next to the file")]


def _without_ignored_words(text: str) -> tuple:
    """(the line, without the words pip ignores; those words). On a line of options pip's option parser
    reads the options and their values and drops every other word: `--pre torch -f URL` installs no
    torch, and `-r URL [--no-deps]` reads URL."""
    if not text.startswith("-"):
        return text, []
    ignored, value_next = [], False
    for word in re.finditer(r"""(?:'[^']*'|"(?:[^"\\]|\\.)*"|\\.|[^\s'"\\])+""", text):  # words as pip's shlex splits them
        if value_next:
            value_next = False
        elif word.group().startswith("-"):  # -rfile and --opt=value carry their value; unknown options are the grammar's
            value_next = option_takes_value(word.group()) is True
        else:
            ignored.append(word)
    if not ignored:
        return text, []
    for word in reversed(ignored):
        text = text[:word.start()] + text[word.end():]
    return " ".join(text.split()), [word.group() for word in ignored]


class RequirementsTree(Record):
    """A requirements file and everything it pulls in: the entries, the files, the problems.

    entries: every PipEntry of the file and of the files it includes, in pip's reading order.
    files: (posix path relative to the spec's folder, resolved path), in include order.
    written: (that relative path, lines) per file: its requirements and options one per line, as pip reads them
        (continuations joined, comments dropped, each option of an option line on its own, in its long form), which
        is what the image gets: uv reads a file so written as pip reads the original (not `--pre --index-url URL`
        on one line, a `\\` continuation before a marker, or `-rbase.txt`).
    links: (resolved folder, Location) of each local folder a --find-links line names (relative to its file).
    notes: warnings (what pip ignores, what the installer fetches itself).
    """

    __slots__ = ("entries", "files", "written", "problems", "links", "notes")


def read_requirements(path: str, root: str, chain=(), relative: str | None = None, constraint: bool = False) -> RequirementsTree:
    """Parse a requirements file, following -r/-c includes (relative to the including file).

    path and root (the spec's folder) are resolved paths; files are named by their path from root, an
    included one by the path its -r names (not where a symlink leads), so it is written where pip looks.
    constraint: the file is read by a -c, so its entries constrain; as in pip, a -r inside it reads requirements.
    """
    from envc.common.paths import relative_to, resolve
    from envc.common.quoting import unrepresentable
    from envc.core.yaml_source import read_text

    lines, files, problems, links, notes = [], [(relative or relative_to(path, root), path)], [], [], []
    try:
        text = read_text(path)  # UTF-8, or UTF-16 with a BOM, as pip decodes it
    except SpecError as exc:
        return RequirementsTree(entries=(), files=tuple(files), written=(), problems=tuple(exc.diagnostics), links=(), notes=())
    for number, raw in enumerate(text.splitlines(), 1):
        bad = unrepresentable(raw)
        if bad is not None:
            where = Location(display_name(path), number, raw.index(bad) + 1)
            problems.append(error(where, f"control character {bad!r}: a requirements file is written into the Dockerfile line by line; remove it"))
    own, written = [], []
    for where, line in logical_lines(text, display_name(path)):
        for item in parse_line(line, where):
            if not isinstance(item, PipEntry):
                (problems if item.severity == "error" else notes).append(item)
                continue
            lines.append(item._replace(constrains=True) if constraint else item)
            own.append(written_line(item))
            if item.kind in ("find_links", "include", "constraint") and "://" not in item.value and os.path.isabs(item.value):
                problems.append(error(where, f"'{item.value}' is an absolute path, which the image does not have: write it "
                                             "relative to this file (envc writes what it names at that place in the image)"))
                continue
            if item.kind == "find_links" and "://" not in item.value:
                folder, problem = resolve(os.path.join(os.path.dirname(path), item.value), item.value, folder=True)
                problems.extend([error(where, problem)] if problem else [])
                links.extend([(folder, where)] if folder else [])
            if item.kind not in ("include", "constraint"):
                continue
            if "://" in item.value:
                notes.append(remote_include(where))
                continue
            target, problem = resolve(os.path.join(os.path.dirname(path), item.value), item.value)
            if problem:
                problems.append(error(where, problem))
            elif target in chain + (path,):
                problems.append(error(where, f"'{item.value}' includes itself through a -r/-c loop"))
            else:
                named = posixpath.normpath(posixpath.join(posixpath.dirname(files[0][0]), item.value))
                nested = read_requirements(target, root, chain + (path,), named, item.kind == "constraint")
                lines.extend(nested.entries)
                files.extend(f for f in nested.files if f not in files)
                written.extend(nested.written)
                problems.extend(nested.problems)
                links.extend(nested.links)
                notes.extend(nested.notes)
    return RequirementsTree(entries=tuple(lines), files=tuple(files), written=((files[0][0], tuple(own)), *written),
                            problems=tuple(problems), links=tuple(links), notes=tuple(notes))


def written_line(entry: PipEntry) -> str:
    """The line of a requirements file that pip and uv both read as entry (an included file's path normalized:
    pip opens `sub/../base.txt` without `sub`, uv does not)."""
    if entry.kind in ("requirement", "url", "flag"):
        return entry.value
    value = posixpath.normpath(entry.value) if entry.kind in ("include", "constraint") and "://" not in entry.value else entry.value
    if any(c in value for c in " \t'\""):  # pip (shlex) and uv split an option's words as a shell does
        from envc.common.quoting import shell_word

        value = shell_word(value)
    return f"{ENTRY_OPTIONS[entry.kind]} {value}"


def remote_include(where: Location):
    """A -r/-c of a URL: passed on, as pip does; the installer fetches it when the image is built."""
    return warning(where, "a remote include is fetched by the installer when the image is built: its content is not part "
                          "of the content hash, so a change there rebuilds nothing (download it next to the spec to pin it)")


def from_requirements(path: str) -> Document:
    """A requirements.txt given as the spec: a pip-only environment installing that file."""
    name = display_name(path)
    if not os.path.isfile(path):
        raise SpecError([error(Location(name), "no such file")])
    data = {"name": environment_name(None, stem(path)), "pip": {"requirements": [os.path.basename(path)]}}
    return Document(data, path, {(): Location(name)}, {}, {})
