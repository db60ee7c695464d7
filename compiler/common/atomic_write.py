"""Write output files atomically: a reader sees the old file or the new one, never a torn one."""
from __future__ import annotations

import os


def write_atomic(path, text: str) -> None:
    """A temporary file beside path (same filesystem, so the rename is atomic), then os.replace.

    Named by hand rather than with tempfile, whose import costs more than the write (start-up
    matters here); O_EXCL still refuses to reuse a name another process holds.
    """
    path = os.fspath(path)
    folder, name = os.path.split(path)
    temp = os.path.join(folder, f".{name}.{os.getpid()}.{os.urandom(4).hex()}.envc-tmp")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        mode = os.stat(path).st_mode & 0o777 if os.path.exists(path) else 0o666 & ~_umask()
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except FileNotFoundError:  # already renamed
            pass
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
