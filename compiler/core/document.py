"""The loaded form of any input: plain data plus where every node came from."""
from __future__ import annotations

import os
import re
from collections import namedtuple
from functools import lru_cache

from envc.common.diagnostics import Location
from envc.common.paths import is_inside

Path_ = tuple  # a path into the data: keys and list indexes, e.g. ("conda", "dependencies", 2)


class Document(namedtuple("Document", "data path locations key_locations raw_scalars notes errors",
                           defaults=((), ()))):
    """Data shaped like an envc spec, with the source location of each value and key.

    Importers build one from conda files, requirements files and so on, pointing the
    locations at *their* files, so every later stage reports problems where the user
    can fix them.

    path: the file that defines the environment (a str); relative paths resolve from its folder.
    locations, key_locations: Path_ -> Location of the value node / of the mapping key.
    raw_scalars: Path_ -> source text of non-string scalars.
    notes: warnings found while loading (e.g. an ignored conda `prefix`).
    errors: errors found while loading that still left a usable shape (duplicate keys).
    """

    __slots__ = ()

    @property
    def root(self) -> str:
        """The spec's folder: relative paths resolve from it, and it is the build context."""
        return os.path.dirname(self.path) or "."

    def at(self, path: Path_) -> Location:
        """Location of the value at path, or of its nearest located ancestor."""
        path = tuple(path)
        while path not in self.locations and path:
            path = path[:-1]
        found = self.locations.get(path)
        return found if found is not None else Location(display_name(self.path))

    def key_at(self, path: Path_) -> Location:
        """Location of the key that introduces path (falls back to the value)."""
        return self.key_locations.get(tuple(path)) or self.at(path)


def display_name(path) -> str:
    """Paths in messages as the user typed them, relative to the working folder when inside it."""
    return _display_name(os.fspath(path), os.getcwd())


@lru_cache(maxsize=1024)
def _display_name(path: str, cwd: str) -> str:
    resolved, folder = os.path.realpath(path), os.path.realpath(cwd)
    if not is_inside(resolved, folder):
        return path
    return os.path.relpath(resolved, folder)


def environment_name(raw, fallback: str) -> str:
    """A valid envc name from another format's name (conda, Azure ML) or a file name: lowercase, safe characters."""
    text = raw if isinstance(raw, str) and raw.strip() else fallback
    name = re.sub(r"[^a-z0-9._-]+", "-", text.strip().lower()).strip("-._")
    return name[:128] or "env"


def remap(doc: Document, data: dict, moves: dict, notes: tuple = ()) -> Document:
    """A Document holding data, whose locations follow values moved from old paths (in doc) to new ones.

    moves: old path prefix -> new path prefix; the first matching prefix wins.
    """
    def move(table):
        moved = {}
        for old_path, location in table.items():
            for old, new in moves.items():
                if old_path[: len(old)] == old:
                    moved[new + old_path[len(old):]] = location
                    break
        moved.setdefault((), doc.at(()))
        return moved

    return Document(data, doc.path, move(doc.locations), move(doc.key_locations), move(doc.raw_scalars), doc.notes + notes, doc.errors)
