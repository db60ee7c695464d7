"""Referenced files must live inside the spec's folder: that folder is the build context."""
from __future__ import annotations

from pathlib import Path


def resolve_inside(path: Path, root: Path, written: str, folder: bool = False):
    """(resolved Path, None) for an existing file (or folder) inside root, else (None, reason)."""
    try:
        return _resolve_inside(Path(path), root.resolve(), written, folder)
    except (OSError, RuntimeError) as exc:  # too long, a symlink loop, unreadable
        return None, f"'{written}' cannot be used: {getattr(exc, 'strerror', None) or exc}"


def _resolve_inside(path: Path, root: Path, written: str, folder: bool):
    resolved = path.resolve()
    if not resolved.is_relative_to(root):
        what = "a path" if ".." in Path(written).parts or Path(written).is_absolute() else "a symlink pointing"
        return None, f"'{written}' is {what} outside the spec's folder, which is the build context: move the file next to the spec"
    if not resolved.exists():
        return None, f"no such {'folder' if folder else 'file'} '{written}'"
    if folder and not resolved.is_dir():
        return None, f"'{written}' is not a folder"
    if not folder and not resolved.is_file():
        return None, f"'{written}' is not a file"
    return resolved, None
