"""Host paths: files a spec reads (anywhere, as Azure ML allows) and what the image COPYs (inside the
build context only).

Plain os.path on strings: pathlib (with the urllib.parse and ipaddress it imports) costs
3 ms of every cold start, whose whole budget is about 40 ms.
"""
from __future__ import annotations

import os
import stat


def resolve(path: str, written: str, folder: bool = False):
    """(resolved path, None) for an existing file (or folder), else (None, reason)."""
    resolved = os.path.realpath(path)
    try:
        mode = os.stat(resolved).st_mode
    except (FileNotFoundError, NotADirectoryError):
        return None, f"no such {'folder' if folder else 'file'} '{written}'"
    except OSError as exc:  # a symlink loop, a name too long, unreadable
        return None, f"'{written}' cannot be used: {exc.strerror or exc}"
    if folder and not stat.S_ISDIR(mode):
        return None, f"'{written}' is not a folder"
    if not folder and not stat.S_ISREG(mode):
        return None, f"'{written}' is not a file"
    return resolved, None


def resolve_inside(path: str, root: str, written: str, folder: bool = False, context: str = "the spec's folder"):
    """resolve(), for what the image COPYs: it must be inside root (resolved), the build context."""
    resolved, problem = resolve(path, written, folder)
    if problem or is_inside(resolved, root):
        return resolved, problem
    what = "is a symlink pointing" if _inside_but_for_a_symlink(path, root) else "is"
    return None, (f"'{written}' {what} outside the build context ({context}), so the image's COPY cannot read it: "
                  "move it into that folder")


def _inside_but_for_a_symlink(path: str, root: str) -> bool:
    """Whether path, read as written, is inside root, so that only a symlink on the way takes it out: the file
    itself (its folder resolved), or a folder on the way (the path taken literally)."""
    absolute = os.path.abspath(path)
    as_named = os.path.join(os.path.realpath(os.path.dirname(absolute)), os.path.basename(absolute))
    return is_inside(as_named, root) or is_inside(os.path.normpath(absolute), root)


def is_inside(path: str, root: str) -> bool:
    """Whether the resolved path is root or below it (both resolved)."""
    return path == root or path.startswith(root if root.endswith(os.sep) else root + os.sep)


def relative_to(path: str, root: str) -> str:
    """path relative to root (both resolved; '../' where path is outside), with / separators as Dockerfiles write them."""
    if is_inside(path, root):
        return path[len(root):].lstrip(os.sep).replace(os.sep, "/") or "."
    return os.path.relpath(path, root).replace(os.sep, "/")


def read_bytes(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def stem(path: str) -> str:
    """The file name without its last suffix (environment.yml -> environment)."""
    return os.path.splitext(os.path.basename(path))[0]
