"""What envc reads in a base Dockerfile: parser directives, FROM, and the files COPY/ADD take from
the build context, rebased.

The compiled Dockerfile is built with the spec's folder as its context. A base Dockerfile written
for another context (Azure ML v2's `build.path`, envc's `base.context`) has its COPY/ADD sources
rewritten to the same files seen from the spec's folder; and every file those instructions read is
part of the spec's content hash, so `envc build` never mistakes a changed file for a built image.

Only what the build context supplies is touched: `--from=` copies, ADD of URLs and heredocs read
nothing from it. An instruction is rewritten onto one line; the rest of the file stays as written.
"""
from __future__ import annotations

import json
import posixpath
import re
from collections import namedtuple

_DIRECTIVE = re.compile(r"^#\s*([a-z]+)\s*=", re.I)
_ESCAPE = re.compile(r"^#\s*escape\s*=\s*(\S*)\s*$", re.I)
_FROM = re.compile(r"^\s*FROM\s+(?:--\S+\s+)*(\S+)", re.I | re.M)
_INSTRUCTION = re.compile(r"^\s*(COPY|ADD)\s+", re.I)
_HEREDOC = re.compile(r"^\s*(?:RUN|COPY|ADD)\s.*?(?<!\S)<<(-?)([\"']?)([A-Za-z0-9_]+)\2", re.I)
_URL = re.compile(r"^(?:[a-z][a-z0-9+.-]*://|git@)", re.I)


def split_directives(text: str) -> tuple:
    """(parser directives, the rest): directives must stay the first lines of the compiled file."""
    lines = text.splitlines()
    directives = []
    while lines and _DIRECTIVE.match(lines[0]):
        directives.append(lines.pop(0))
    return tuple(directives), "\n".join(lines)


def escape_directives(text: str) -> list:
    """(line number, escape character) of each `# escape=` directive."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        if not _DIRECTIVE.match(line):
            break
        escape = _ESCAPE.match(line)
        if escape:
            found.append((number, escape.group(1)))
    return found


def global_args(text: str) -> tuple:
    """(the ARGs and comments before the first FROM, the rest). ARGs there are global: every FROM sees them, so
    they must stay first when envc puts a stage of its own before the base's (`FROM python:${VERSION}-slim`)."""
    first = re.search(r"^\s*FROM\s", text, re.I | re.M)
    return (text[:first.start()].strip("\n"), text[first.start():]) if first else ("", text)


def built_on(text: str) -> str:
    """The image of the last FROM, which envc's layers build on ('' when there is no FROM)."""
    froms = _FROM.findall(text)
    return froms[-1] if froms else ""


def final_user(text: str):
    """The USER the base Dockerfile's last stage ends with, or None (root, or not set in that stage)."""
    stage = re.split(r"^\s*FROM\s", text, flags=re.I | re.M)[-1]
    users = re.findall(r"^\s*USER\s+(\S+)", stage, re.I | re.M)
    return users[-1] if users and users[-1] not in ("root", "0", "root:root", "0:0") else None


def from_platform(text: str):
    """The --platform of the last FROM, or None."""
    froms = re.findall(r"^\s*FROM\s+((?:--\S+\s+)*)\S+", text, re.I | re.M)
    found = re.search(r"--platform=(\S+)", froms[-1]) if froms else None
    return found.group(1) if found else None


class Copy(namedtuple("Copy", "line keyword flags sources destination json_form")):
    """One COPY/ADD that reads from the build context. line: its first line (1-based); sources:
    as written, ADD's URLs included; json_form: written as a JSON array."""

    __slots__ = ()

    @property
    def context_sources(self) -> tuple:
        """The sources the build context supplies (not ADD's URLs)."""
        return tuple(s for s in self.sources if not _URL.match(s))

    def render(self, sources) -> str:
        words = [self.keyword, *self.flags]
        if self.json_form:
            return " ".join(words + [json.dumps([*sources, self.destination])])
        return " ".join(words + [*sources, self.destination])


def context_copies(text: str) -> list:
    """(first line index, last line index, Copy) for every COPY/ADD that reads the build context."""
    lines = text.splitlines()
    found, i = [], 0
    while i < len(lines):
        start, logical = i, lines[i]
        while logical.endswith("\\") and i + 1 < len(lines):  # continuation (the escape is always \)
            i += 1
            if not lines[i].lstrip().startswith("#"):
                logical = logical[:-1] + " " + lines[i]
        heredoc = _HEREDOC.match(logical)
        if heredoc:  # skip its body: those lines are content, not instructions
            end = heredoc.group(3)
            while i + 1 < len(lines) and (lines[i + 1].lstrip("\t") if heredoc.group(1) else lines[i + 1]) != end:
                i += 1
            i += 1
        else:
            copy = _parse(logical, start + 1)
            if copy:
                found.append((start, i, copy))
        i += 1
    return found


def _parse(logical: str, line: int):
    match = _INSTRUCTION.match(logical)
    if not match:
        return None
    keyword, rest = match.group(1), logical[match.end():].strip()
    flags = []
    while rest.startswith("--"):
        flag, _, rest = rest.partition(" ")
        flags.append(flag)
        rest = rest.strip()
    if any(flag.lower().startswith("--from=") for flag in flags):
        return None
    json_form = False
    if rest.startswith("["):
        try:
            words = json.loads(rest)
            json_form = isinstance(words, list) and all(isinstance(w, str) for w in words)
        except ValueError:
            pass
    if not json_form:
        words = rest.split()
    if len(words) < 2:
        return None  # Docker reports the missing destination itself
    copy = Copy(line, keyword, tuple(flags), tuple(words[:-1]), words[-1], json_form)
    return copy if copy.context_sources else None


def source_problem(source: str):
    """Why a COPY/ADD source cannot be rebased, or None."""
    if ".." in source.split("/"):
        return f"the source '{source}' uses '..': inside a build context it cannot leave the context, so write it relative to the context"
    return None


def rebase_source(source: str, context: str) -> str:
    """The source as seen from the spec's folder; URLs (ADD) stay as they are."""
    if _URL.match(source) or context in ("", "."):
        return source
    rebased = posixpath.normpath(posixpath.join(context, source.lstrip("/")))
    return rebased + "/" if source.endswith("/") and not rebased.endswith("/") else rebased


def rebase(text: str, context: str) -> str:
    """The base Dockerfile with every build-context source of COPY/ADD made relative to the spec's folder."""
    if context in ("", "."):
        return text
    lines = text.splitlines()
    for first, last, copy in reversed(context_copies(text)):
        lines[first:last + 1] = [copy.render([rebase_source(s, context) for s in copy.sources])]
    return "\n".join(lines)
