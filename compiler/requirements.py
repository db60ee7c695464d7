"""pip requirement lines, as pip reads them from requirements files and conda's `pip:` lists.

Each line becomes a PipLine; anything pip would reject, or that could not work in an
image build (a local path never copied in, credentials in a URL that would be copied
in), is a located error instead of a build failing twenty minutes later.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from envc.diagnostics import Location, did_you_mean, error

# Options pip accepts on their own line in a requirements file -> the PipLine kind.
VALUE_OPTIONS = {
    "-r": "include", "--requirement": "include",
    "-c": "constraint", "--constraint": "constraint",
    "-e": "editable", "--editable": "editable",
    "-i": "index_url", "--index-url": "index_url",
    "--extra-index-url": "extra_index_url",
    "-f": "find_links", "--find-links": "find_links",
    "--trusted-host": "trusted_host",
    "--no-binary": "no_binary", "--only-binary": "only_binary",
    "--use-feature": "use_feature",
}
FLAG_OPTIONS = {"--no-index", "--pre", "--prefer-binary", "--require-hashes"}
PER_REQUIREMENT_OPTIONS = ("--hash", "--config-settings", "--global-option")
URL_KINDS = {"index_url", "extra_index_url", "find_links"}
_COMMENT = re.compile(r"(^|\s+)#.*$")
_OPTION = re.compile(r"(-[A-Za-z]|--[A-Za-z][A-Za-z0-9-]*)(?:\s*=\s*|\s+|$)(.*)$")
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://", re.I)
_VCS = re.compile(r"^(git|hg|svn|bzr)\+", re.I)
_CREDENTIALS = re.compile(r"[a-z][a-z0-9+.-]*://[^/@\s]+@", re.I)


@dataclass(frozen=True)
class PipLine:
    """One logical line. kind: 'requirement', 'url', 'flag', or an option kind above."""

    kind: str
    value: str
    location: Location


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
    """A PipLine for one logical line, or the Diagnostics explaining why pip or the build would fail."""
    if text.startswith("-"):
        return _parse_option(text, where)
    requirement, _, options = text.partition(" --")
    requirement = requirement.strip()
    if options and not ("--" + options).startswith(PER_REQUIREMENT_OPTIONS):
        return [error(where, f"unknown option '--{options.split()[0]}' after a requirement (pip allows {', '.join(PER_REQUIREMENT_OPTIONS)} there)")]
    if _CREDENTIALS.search(requirement):
        return [error(where, "credentials in a requirement URL would be written into the image: pass them as a build secret instead")]
    if _URL.match(requirement) or _VCS.match(requirement):
        return [PipLine("url", text, where)]
    if requirement.startswith((".", "/", "~")) or requirement.endswith((".whl", ".tar.gz", ".zip")):
        return [error(where, f"'{requirement}' is a local path, which is not copied into the image: install a released package or a URL instead")]
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        Requirement(requirement)
    except InvalidRequirement as exc:
        message, col = _explain_invalid(str(exc))
        at = Location(where.file, where.line, where.col + col)
        return [error(at, f"invalid requirement '{requirement}': {message}")]
    return [PipLine("requirement", text, where)]


def _parse_option(text: str, where: Location) -> list:
    match = _OPTION.match(text)
    name, value = (match.group(1), match.group(2).strip()) if match else (text.split()[0], "")
    if name in FLAG_OPTIONS:
        return [PipLine("flag", name, where)] if not value else [error(where, f"option '{name}' takes no value")]
    kind = VALUE_OPTIONS.get(name)
    if kind is None:
        return [error(where, f"unknown pip option '{name}'{did_you_mean(name, list(VALUE_OPTIONS) + list(FLAG_OPTIONS))}")]
    if not value:
        return [error(where, f"option '{name}' needs a value")]
    if kind in URL_KINDS and _CREDENTIALS.match(value):
        return [error(where, f"credentials in {name} would be written into the image: pass them as a build secret instead")]
    if kind == "editable":
        return [error(where, "editable installs (-e) need a source tree that is not copied into the image: install the package by name or URL")]
    return [PipLine(kind, value, where)]


def _explain_invalid(message: str):
    """packaging's first message line, and the caret's column inside the requirement (0-based)."""
    lines = message.splitlines()
    caret = next((line.index("^") for line in lines[1:] if "^" in line), None)
    if caret is None or len(lines) < 2:
        return lines[0].rstrip("."), 0
    indent = len(lines[1]) - len(lines[1].lstrip())
    return lines[0].rstrip("."), max(0, caret - indent)


@dataclass(frozen=True)
class RequirementsFile:
    """A requirements file and everything it pulls in: the lines, the files to copy, the problems."""

    lines: tuple
    files: tuple  # (posix path relative to the spec's folder, Path), in include order; inlined in the pip layer
    problems: tuple


def read_requirements(path: Path, root: Path, display, chain=()) -> RequirementsFile:
    """Parse a requirements file, following -r/-c includes (relative to the including file)."""
    from envc.paths import resolve_inside

    from envc.quoting import unrepresentable

    lines, files, problems = [], [(path.relative_to(root).as_posix(), path)], []
    text = path.read_text(encoding="utf-8", errors="replace")
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
            target, problem = resolve_inside(path.parent / item.value, root, item.value)
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
