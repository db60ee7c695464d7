"""Read YAML into a Document, keeping the line and column of every node.

Keys are taken as written (never re-typed: `on:` stays "on"), duplicate keys are
errors (YAML would silently keep the last value), and size, depth and alias
expansion are bounded so hostile input fails fast instead of exhausting memory.
"""
from __future__ import annotations

import os

from envc.common.limits import MAX_SPEC_BYTES as MAX_BYTES
from envc.common.diagnostics import Location, SpecError, error
from envc.core.document import Document, display_name

# The first characters of the pattern PyYAML's pure-Python reader compiles over all of Unicode.
_READER_PATTERN = "[^\x09\x0A\x0D\x20-\x7E\x85"


def _import_pyyaml():
    """PyYAML, minus the 7 ms its pure-Python reader spends at import compiling one pattern over all
    of Unicode (a sixth of a cold compile). envc reads with libyaml (CSafeLoader), which never uses it;
    the pattern is compiled on first use instead, so the pure-Python reader still works without libyaml."""
    import sys

    if "yaml" in sys.modules:
        return sys.modules["yaml"]
    import re

    compile_now = re.compile

    def compile_later(pattern, flags=0):
        if isinstance(pattern, str) and pattern.startswith(_READER_PATTERN):
            return _LazyPattern(pattern, flags, compile_now)
        return compile_now(pattern, flags)

    re.compile = compile_later
    try:
        import yaml
    finally:
        re.compile = compile_now
    return yaml


class _LazyPattern:
    """A compiled pattern that compiles itself when first used."""

    def __init__(self, pattern: str, flags: int, compile_now):
        self._source, self._compiled = (pattern, flags, compile_now), None

    def __getattr__(self, name):
        if self._compiled is None:
            pattern, flags, compile_now = self._source
            self._compiled = compile_now(pattern, flags)
        return getattr(self._compiled, name)


yaml = _import_pyyaml()
MAX_NODES = 200_000
MAX_DEPTH = 64
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_text(path: str) -> str:
    """File text as UTF-8, or a located error (missing file, too large, bad encoding)."""
    name = display_name(path)
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except IsADirectoryError:
        raise SpecError([error(Location(name), "is a directory, expected a file")]) from None
    except OSError as exc:
        raise SpecError([error(Location(name), f"cannot read file: {exc.strerror}")]) from None
    return decode_text(data, name)


def decode_text(data: bytes, name: str) -> str:
    """data (at most MAX_BYTES + 1 bytes of the input named name) as text, or a located error."""
    if len(data) > MAX_BYTES:
        raise SpecError([error(Location(name), f"file is larger than {MAX_BYTES // (1024 * 1024)} MiB: not an environment spec")])
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # UTF-16 with its BOM (PowerShell 5's `>`), which conda, pip and YAML read
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise SpecError([error(Location(name), f"invalid UTF-16 at byte {exc.start}: save the file as UTF-8 text")]) from None
    try:
        text = data.decode("utf-8")  # and a leading BOM dropped: the utf-8-sig codec's import costs start-up time
        return text[1:] if text.startswith("\ufeff") else text
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line = before.count(b"\n") + 1
        col = exc.start - (before.rfind(b"\n") + 1) + 1
        raise SpecError([error(Location(name, line, col), "invalid UTF-8: save the file as UTF-8 text")]) from None


class NotAMapping(SpecError):
    """The input is YAML, or plain text, but not a mapping of keys: perhaps another format."""


def load_yaml(path, text: str | None = None) -> Document:
    """Parse one YAML file into a Document whose top level is a mapping."""
    path = os.fspath(path)
    name = display_name(path)
    if text is None:
        text = read_text(path)
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise SpecError([error(Location(name, line, 1), "contains a NUL byte: not a text file")])
    builder = _Builder(name)
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = builder.convert(loader, node, (), 0) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = Location(name, mark.line + 1, mark.column + 1) if mark else Location(name)
        problem = exc.problem or exc.context or "invalid YAML"
        if exc.problem and exc.context and exc.context_mark:
            problem += f" ({exc.context} at line {exc.context_mark.line + 1}, column {exc.context_mark.column + 1})"
        raise SpecError([error(where, f"invalid YAML: {problem}")]) from None
    except yaml.reader.ReaderError as exc:
        before = text[: exc.position]
        where = Location(name, before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1)
        raise SpecError([error(where, f"invalid YAML: character {exc.character!r} is not allowed in YAML: remove it")]) from None
    except yaml.YAMLError as exc:
        raise SpecError([error(Location(name), f"invalid YAML: {exc}")]) from None
    except RecursionError:
        raise SpecError([error(Location(name), f"nesting is deeper than {MAX_DEPTH} levels: not an environment spec")]) from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        what = "empty" if data is None else f"a {type(data).__name__}"
        raise NotAMapping([error(Location(name), f"expected a mapping of keys (name:, base:, ...), but the document is {what}")])
    return Document(data, path, builder.locations, builder.key_locations, builder.raw_scalars, errors=tuple(builder.errors))


class _Builder:
    """Turns composed YAML nodes into dicts/lists/scalars, recording locations."""

    def __init__(self, name: str):
        self.name = name
        self.locations: dict = {}
        self.key_locations: dict = {}
        self.raw_scalars: dict = {}
        self.errors: list = []
        self.nodes = 0
        self.expanded: dict = {}  # id(collection node) -> (value, node count): aliases reuse, never re-walk

    def where(self, node) -> Location:
        """Where the node's text starts: inside the quotes for a quoted scalar, so columns within it line up."""
        quoted = isinstance(node, yaml.ScalarNode) and node.style in ("'", '"')
        return Location(self.name, node.start_mark.line + 1, node.start_mark.column + 1 + quoted)

    def convert(self, loader, node, path: tuple, depth: int):
        if id(node) in self.expanded:  # an alias: count what it expands to, share the value
            value, size = self.expanded[id(node)]
            self._count(node, size)
            return value
        self._count(node, 1)
        before = self.nodes
        if depth > MAX_DEPTH:
            raise SpecError([error(self.where(node), f"nesting is deeper than {MAX_DEPTH} levels: not an environment spec")])
        self.locations[path] = self.where(node)
        if isinstance(node, yaml.MappingNode):
            value = self.mapping(loader, node, path, depth)
        elif isinstance(node, yaml.SequenceNode):
            value = [self.convert(loader, item, path + (i,), depth + 1) for i, item in enumerate(node.value)]
        else:
            value = loader.construct_object(node, deep=True)
            if not isinstance(value, str):
                self.raw_scalars[path] = node.value
            return value
        self.expanded[id(node)] = (value, self.nodes - before + 1)
        return value

    def _count(self, node, size: int) -> None:
        self.nodes += size
        if self.nodes > MAX_NODES:
            raise SpecError([error(self.where(node), f"more than {MAX_NODES} YAML nodes (alias expansion?): not an environment spec")])

    def mapping(self, loader, node, path: tuple, depth: int) -> dict:
        result: dict = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                self.errors.append(error(self.where(key_node), "merge keys (<<) are not supported: write the keys out"))
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.errors.append(error(self.where(key_node), "a key must be plain text, not a list or mapping"))
                continue
            key = key_node.value
            child = path + (key,)
            if key in result:
                first = self.key_locations[child]
                self.errors.append(error(self.where(key_node), f"duplicate key '{key}' (first at line {first.line}): YAML keeps only the last value, so one would be lost"))
                continue
            self.key_locations[child] = self.where(key_node)
            result[key] = self.convert(loader, value_node, child, depth + 1)
        return result
