"""The build context's .dockerignore: which files a build can COPY, decided as Docker decides.

Docker (moby/patternmatcher) reads one pattern per line. A line starting with `#` is a comment,
blanks around a pattern are dropped, `!` re-includes, and the pattern is cleaned like a path
with its leading `/` removed. A path is excluded when the last pattern matching it, or one of
its parent folders, is not a `!` pattern. `*` and `?` stay within a folder, `**` crosses them,
`[...]` is a class and `\\` escapes. Docker takes a few shortcuts (a pattern without wildcards
is compared as text; `**` at either end compares a prefix or a suffix) that decide some edge
cases: they are kept. tests/test_dockerignore.py holds this to what buildah and Docker copy.

Loaded only when the build context has one and the compiled Dockerfile copies from it.
"""
from __future__ import annotations

import posixpath
import re

_LITERAL_ESCAPES = set(".+()|{}$")  # regex characters that are plain in a pattern


class DockerIgnore:
    """The patterns of one .dockerignore, in order, and the problems that make Docker refuse it."""

    def __init__(self, text: str):
        self.rules: list = []  # (line number, pattern as written, re-includes, matcher)
        self.problems: list = []  # (line number, message)
        self.warnings: list = []  # (line number, message): patterns engines read differently
        lines = text.removeprefix("\ufeff").split("\n")  # Go's line scanner: \n ends a line, a \r before it is dropped
        for number, line in enumerate((line.removesuffix("\r") for line in lines), 1):
            written = line.strip()
            if line.startswith("#") or not written:
                continue
            pattern = _clean(("!" if written.startswith("!") else "") + _from_context_root(written.removeprefix("!").strip()))
            if pattern == "!":
                self.problems.append((number, f"'{written}' excludes nothing: a '!' needs a pattern after it, and Docker refuses this .dockerignore"))
                continue
            reinclude = pattern.startswith("!")
            rest = pattern.removeprefix("!").removeprefix("**")
            if pattern.removeprefix("!").startswith("**") and rest and not rest.startswith("/"):
                self.warnings.append((number, f"'{written}' is read two ways: Docker 23 and later leave out every path ending in "
                                              f"'{rest}', older Docker and buildah only paths where it starts a name; write "
                                              f"'**/*{rest}' or '**/{rest}' to say which (envc reads it the second way)"))
            try:
                self.rules.append((number, written, reinclude, _matcher(pattern.removeprefix("!"))))
            except re.error:
                self.problems.append((number, f"'{written}' is not a valid pattern: Docker refuses this .dockerignore"))

    @property
    def reincludes(self) -> bool:
        """Whether a `!` pattern may bring back files inside an excluded folder."""
        return any(reinclude for _, _, reinclude, _ in self.rules)

    def excluded_by(self, path: str):
        """(line, pattern as written) of the rule that leaves path out of the build context, or None.

        path: relative to the context, with / separators.
        """
        parents = path.split("/")[:-1]
        candidates = [path] + ["/".join(parents[:i]) for i in range(1, len(parents) + 1)]
        excluding = None
        for number, written, reinclude, matches in self.rules:
            if reinclude != (excluding is not None):
                continue  # a pattern can only change the answer it opposes
            if any(matches(candidate) for candidate in candidates):
                excluding = None if reinclude else (number, written)
        return excluding


def _from_context_root(pattern: str) -> str:
    """A pattern cleaned like a path, without a leading / (it means the context's root), as Docker reads it."""
    if not pattern:
        return pattern
    cleaned = _clean(pattern)
    return cleaned[1:] if len(cleaned) > 1 and cleaned.startswith("/") else cleaned


def _clean(pattern: str) -> str:
    """Go's filepath.Clean: like normpath, but a leading // is one /."""
    cleaned = posixpath.normpath(pattern)
    return cleaned[1:] if cleaned.startswith("//") else cleaned


def _matcher(pattern: str):
    """A predicate on context-relative paths, with Docker's shortcuts for patterns without wildcards."""
    regex, kind, i, token = "", "exact", 0, 0
    while i < len(pattern):
        char, i = pattern[i], i + 1
        if char == "*" and pattern[i:i + 1] == "*":
            slash = pattern[i + 1:i + 2] == "/"
            i += 1 + slash
            if i >= len(pattern):
                kind, regex = ("prefix", regex) if kind == "exact" else ("regex", regex + ".*")
            else:
                kind, regex = "regex", regex + "(?:.*/)?"
            if token == 0 and (slash or i >= len(pattern)):
                kind = "suffix"  # Docker 23+ compares a leading **x as a suffix too: see DockerIgnore.warnings
        elif char == "*":
            kind, regex = "regex", regex + "[^/]*"
        elif char == "?":
            kind, regex = "regex", regex + "[^/]"
        elif char in _LITERAL_ESCAPES:
            regex += "\\" + char
        elif char == "\\" and i < len(pattern):
            kind, regex, i = "regex", regex + "\\" + pattern[i], i + 1
        elif char == "\\":
            regex += "\\\\"
        elif char in "[]":
            kind, regex = "regex", regex + char
        else:
            regex += char
        token += 1
    if kind == "exact":
        return pattern.__eq__
    if kind == "prefix":
        return lambda path: path.startswith(pattern[:-2])
    if kind == "suffix":
        suffix = pattern[2:]
        return lambda path: path.endswith(suffix) or suffix[:1] == "/" and path == suffix[1:]
    return re.compile(f"^{regex}\\Z").match
