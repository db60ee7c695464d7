"""Referenced files must live inside the spec's folder: that folder is the build context.

Plain os.path on strings: pathlib (with the urllib.parse and ipaddress it imports) costs
3 ms of every cold start, whose whole budget is about 40 ms.
"""
from __future__ import annotations

import os
import stat


def resolve_inside(path: str, root: str, written: str, folder: bool = False):
    """(resolved path, None) for an existing file (or folder) inside root, else (None, reason).

    root must already be resolved (os.path.realpath).
    """
    resolved = os.path.realpath(path)
    if not is_inside(resolved, root):
        what = "a path" if ".." in written.split("/") or os.path.isabs(written) else "a symlink pointing"
        return None, f"'{written}' is {what} outside the spec's folder, which is the build context: move the file next to the spec"
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


def is_inside(path: str, root: str) -> bool:
    """Whether the resolved path is root or below it (both resolved)."""
    return path == root or path.startswith(root if root.endswith(os.sep) else root + os.sep)


def relative_to(path: str, root: str) -> str:
    """path (inside root, both resolved) relative to root, with / separators as Dockerfiles write them."""
    return path[len(root):].lstrip(os.sep).replace(os.sep, "/") or "."


def read_bytes(path: str) -> bytes:
    with open(path, "rb") as handle:
        return handle.read()


def stem(path: str) -> str:
    """The file name without its last suffix (environment.yml -> environment)."""
    return os.path.splitext(os.path.basename(path))[0]
