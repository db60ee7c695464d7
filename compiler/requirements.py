"""pip requirement lines, as pip reads them from requirements files and conda's `pip:` lists.

Each line becomes a PipLine; anything pip would reject, or that could not work in an
image build (a local path never copied in, credentials in a URL that would be copied
in), is a located error instead of a build failing twenty minutes later.
"""
from __future__ import annotations

import os
import re
from collections import namedtuple

from envc.diagnostics import Location, error

# Long option names (as envc.specs reports them) -> the PipLine kind; options without a value are "flag"s.
OPTION_KINDS = {
    "--index-url": "index_url", "--extra-index-url": "extra_index_url", "--find-links": "find_links",
    "--trusted-host": "trusted_host", "--no-binary": "no_binary", "--only-binary": "only_binary",
    "--use-feature": "use_feature",
}
PER_REQUIREMENT_OPTIONS = ("--hash", "--config-settings", "--global-option")
_COMMENT = re.compile(r"(^|\s+)#.*$")
_CREDENTIALS = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/@\s]+@")  # no re.I: its compile costs start-up time


class PipLine(namedtuple("PipLine", "kind value location")):
    """One logical line. kind: 'requirement', 'url', 'flag', or an option kind above."""

    __slots__ = ()


def strip_comment(line: str) -> str:
    """A line without its comment (# at the start or after a blank), as pip reads it."""
    return _COMMENT.sub("", line).strip()


def logical_lines(text: str, file: str):
    """(Location, text) per logical line: continuations joined, comments dropped, as pip does."""
    pending, start = "", None
    for number, raw in enumerate(text.splitlines(), 1):
        if start is None:
            start, indent = number, len(raw) - len(raw.lstrip())
        if raw.endswith("\\"):
            pending += raw[:-1]
            continue
        line = _COMMENT.sub("", pending + raw).strip()
        if line:
            yield Location(file, start, indent + 1), line
        pending, start = "", None
    if start is not None and _COMMENT.sub("", pending).strip():
        yield Location(file, start, indent + 1), _COMMENT.sub("", pending).strip()


def parse_line(text: str, where: Location) -> list:
    """PipLines for one logical line (an option line may hold several), or the Diagnostics
    explaining why pip or the build would fail. The grammar is grammar/pip_requirement_line.lark."""
    from envc.specs import SpecSyntaxError, parse_pip_line

    if _CREDENTIALS.search(text):  # checked first, so no message below can echo the secret
        return [error(where, "credentials in a URL would be written into the image: pass them as a build secret (pip.netrc_secret) instead")]
    try:
        line = parse_pip_line(text)
    except SpecSyntaxError as exc:
        return [exc.at(where)]
    if line.kind == "path":
        return [error(where, f"'{line.value}' is a local path, which is not copied into the image: install a released package or a URL instead")]
    if line.kind == "editable":
        return [error(where, "editable installs (-e) need a source tree that is not copied into the image: install the package by name or URL")]
    if line.kind in ("requirement", "url"):
        return [PipLine(line.kind, text, where)]
    parsed = [PipLine(line.kind, line.value, where)] if line.kind != "options" else []
    for name, value in line.options:
        parsed.append(PipLine("flag", name, where) if value is None else PipLine(OPTION_KINDS[name], value, where))
    return parsed


class RequirementsFile(namedtuple("RequirementsFile", "lines files problems")):
    """A requirements file and everything it pulls in: the lines, the files to copy, the problems.

    files: (posix path relative to the spec's folder, resolved path), in include order; inlined in the pip layer.
    """

    __slots__ = ()


def read_requirements(path: str, root: str, display, chain=()) -> RequirementsFile:
    """Parse a requirements file, following -r/-c includes (relative to the including file).

    path and root are resolved paths, path inside root.
    """
    from envc.paths import relative_to, resolve_inside
    from envc.quoting import unrepresentable

    lines, files, problems = [], [(relative_to(path, root), path)], []
    with open(path, encoding="utf-8", errors="replace") as handle:
        text = handle.read()
    for number, raw in enumerate(text.splitlines(), 1):
        bad = unrepresentable(raw)
        if bad is not None:
            where = Location(display(path), number, raw.index(bad) + 1)
            problems.append(error(where, f"control character {bad!r}: a requirements file is written into the Dockerfile line by line; remove it"))
    for where, line in logical_lines(text, display(path)):
        for item in parse_line(line, where):
            if not isinstance(item, PipLine):
                problems.append(item)
                continue
            lines.append(item)
            if item.kind not in ("include", "constraint"):
                continue
            target, problem = resolve_inside(os.path.join(os.path.dirname(path), item.value), root, item.value)
            if problem:
                problems.append(error(where, problem))
            elif target in chain + (path,):
                problems.append(error(where, f"'{item.value}' includes itself through a -r/-c loop"))
            else:
                nested = read_requirements(target, root, display, chain + (path,))
                lines.extend(nested.lines)
                files.extend(f for f in nested.files if f not in files)
                problems.extend(nested.problems)
    return RequirementsFile(tuple(lines), tuple(files), tuple(problems))
