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
from collections import namedtuple

_LITERAL_ESCAPES = set(".+()|{}$")  # regex characters that are plain in a pattern
# line: in the file; written: the pattern as written; matches: a predicate on paths; start: its text before any wildcard
Rule = namedtuple("Rule", "line written reinclude matches start")


class DockerIgnore:
    """The patterns of one .dockerignore, in order, and the problems that make Docker refuse it."""

    def __init__(self, text: str):
        self.rules: list = []  # Rule, in order
        self.problems: list = []  # (line number, message)
        self.warnings: list = []  # (line number, message): patterns engines read differently
        lines = text.removeprefix("\ufeff").split("\n")  # Go's line scanner: \n ends a line, a \r before it is dropped
        for number, line in enumerate((line.removesuffix("\r") for line in lines), 1):
            written = line.strip()
            if line.startswith("#") or not written:
                continue
            pattern = _clean(("!" if written.startswith("!") else "") + _from_context_root(written.removeprefix("!").strip()))
            reinclude, pattern = pattern.startswith("!"), pattern.removeprefix("!")
            try:
                self.rules.append(Rule(number, written, reinclude, _matcher(pattern), re.split(r"[*?\[\]\\]", pattern, maxsplit=1)[0]))
            except ValueError as refused:
                self.problems.append((number, f"'{written}' {refused}, and Docker refuses this .dockerignore"))
                continue
            if pattern.startswith("**") and pattern[2:] and not pattern.startswith("**/"):
                self.warnings.append((number, f"'{written}' is read two ways: Docker 23 and later leave out every path ending in "
                                              f"'{pattern[2:]}', older Docker and buildah only paths where it starts a name; "
                                              f"write '**/*{pattern[2:]}' or '**/{pattern[2:]}' to say which (envc reads it the second way)"))

    def may_reinclude(self, folder: str) -> bool:
        """Whether a `!` pattern could bring back something inside folder (relative, / separators), judged
        by the text before its first wildcard: if not, an excluded folder need not be walked."""
        inside = folder + "/"
        return any(rule.reinclude and (rule.start.startswith(inside) or inside.startswith(rule.start)) for rule in self.rules)

    def excluded_by(self, path: str):
        """(line, pattern as written) of the rule that leaves path out of the build context, or None.

        path: relative to the context, with / separators.
        """
        parents = path.split("/")[:-1]
        candidates = [path] + ["/".join(parents[:i]) for i in range(1, len(parents) + 1)]
        excluding = None
        for rule in self.rules:
            if rule.reinclude != (excluding is not None):
                continue  # a pattern can only change the answer it opposes
            if any(rule.matches(candidate) for candidate in candidates):
                excluding = None if rule.reinclude else (rule.line, rule.written)
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


_STAR, _FOLDERS, _REST = "[^/]*", "(?:.*/)?", ".*"  # the parts of a pattern's regex that match any length


def _matcher(pattern: str):
    """A predicate on context-relative paths, with Docker's shortcuts for patterns without wildcards;
    ValueError saying why Docker would refuse the pattern."""
    if not pattern:
        raise ValueError("excludes nothing: a '!' needs a pattern after it")
    if (len(pattern) - len(pattern.rstrip("\\"))) % 2:
        raise ValueError("ends in a \\ that escapes nothing")  # Go's filepath.Match refuses it
    kind, parts = _parts(pattern)
    if kind == "exact":
        return pattern.__eq__
    if kind == "prefix":
        return lambda path: path.startswith(pattern[:-2])
    if kind == "suffix":
        suffix = pattern[2:]
        return lambda path: path.endswith(suffix) or suffix[:1] == "/" and path == suffix[1:]
    try:
        regex = _compile(f"^{''.join(parts)}\\Z")  # compiled even when unused: an invalid pattern is refused
    except re.error:
        raise ValueError("is not a valid pattern") from None
    if sum(part in (_STAR, _FOLDERS, _REST) for part in parts) <= 2:
        return regex.match  # backtracking is at most quadratic
    return _without_backtracking(parts) or regex.match


def _parts(pattern: str):
    """How Docker compares the pattern ("exact", "prefix", "suffix" or "regex"), and its regex in parts."""
    parts, kind, i, token = [], "exact", 0, 0
    while i < len(pattern):
        char, i = pattern[i], i + 1
        if char == "*" and pattern[i:i + 1] == "*":
            slash = pattern[i + 1:i + 2] == "/"
            i += 1 + slash
            if i >= len(pattern):
                kind, parts = ("prefix", parts) if kind == "exact" else ("regex", parts + [_REST])
            else:
                kind, parts = "regex", parts + [_FOLDERS]
            if token == 0 and (slash or i >= len(pattern)):
                kind = "suffix"  # Docker 23+ compares a leading **x as a suffix too: see DockerIgnore.warnings
        elif char == "*":
            kind, parts = "regex", parts + [_STAR]
        elif char == "?":
            kind, parts = "regex", parts + ["[^/]"]
        elif char in _LITERAL_ESCAPES:
            parts.append("\\" + char)
        elif char == "\\" and i < len(pattern):
            kind, parts, i = "regex", parts + ["\\" + pattern[i]], i + 1
        elif char == "\\":
            parts.append("\\\\")
        elif char in "[]":
            kind, parts = "regex", parts + [char]
        else:
            parts.append(char)
        token += 1
    return kind, parts


def _without_backtracking(parts: list):
    """A matcher that follows every way of matching at once, in time linear in the pattern's parts.

    Python's regexes backtrack: `*a*a*a*a*a*a*a*a*c` takes seconds on a 40-character name (Go's, which
    Docker uses, do not). None when a fixed run between wildcards is not a regex of its own (a
    class holding a wildcard, which Docker reads as a stray piece of regex).
    """
    steps, fixed = [], []
    for part in parts + [None]:
        if part in (_STAR, _FOLDERS, _REST, None) and fixed:
            try:
                steps.append(_compile("".join(fixed)).match)
            except re.error:
                return None
            fixed = []
        if part in (_STAR, _FOLDERS, _REST):
            steps.append(part)
        elif part is not None:
            fixed.append(part)

    def matches(path: str) -> bool:
        ends = {0}  # the positions in path up to which the parts so far can match
        for step in steps:
            if step == _STAR:  # [^/]*: on to the end of the name
                ends = _runs(path, ends, "/")
            elif step == _REST:  # .*: on to the end of the line, as a regex's . stops there
                ends = _runs(path, ends, "\n")
            elif step == _FOLDERS:  # (?:.*/)?: or just past any / before the end of the line
                ends |= {at + 1 for at in _runs(path, ends, "\n") if path[at:at + 1] == "/"}
            else:
                ends = {found.end() for found in map(lambda start: step(path, start), ends) if found}
            if not ends:
                return False
        return len(path) in ends
    return matches


def _compile(regex: str):
    """re.compile, without the FutureWarning Python prints for a class such as [[a] (a nested set one
    day): Go reads it as a class holding [, and so does Python today."""
    if "[" not in regex:
        return re.compile(regex)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return re.compile(regex)


def _runs(path: str, starts, stop: str) -> set:
    """Every position from each start up to the next stop character (or the end), in one pass."""
    reached, covered = set(), -1
    for start in sorted(starts):
        end = path.find(stop, start)
        end = len(path) if end < 0 else end
        reached.update(range(max(start, covered + 1), end + 1))
        covered = max(covered, end)
    return reached
