"""Answers for unchanged inputs, without parsing YAML: a content-addressed cache of successful runs.

An entry is keyed on envc's own code, the working folder (messages show paths relative to it),
and the spec's path and bytes. It lists every file the run read, with its real path and sha256;
any changed byte, or a path that now resolves somewhere else, is a miss. It also lists the files
the run looked for and did not find (a .dockerignore): creating one is a miss. Only successes are
cached: a failure may depend on a file that does not exist yet. A result that depends on a folder's
listing (a base Dockerfile's COPY of a folder or a glob) is not stored at all. Stored under
$XDG_CACHE_HOME/envc (default ~/.cache/envc); `--no-cache` bypasses it.

Kept to os, marshal and sha256 (envc.common.digest): this module is the pre-commit fast path (json,
hashlib, and functools with the collections it imports, would add a quarter of an interpreter start).
"""

import marshal
import os
import sys

from envc.common.digest import file_digest, sha256
from envc.common.limits import MAX_SPEC_BYTES

_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the envc package: compiler/


def read_spec(spec: str):
    """The spec's bytes for a cache key, or None when it cannot or should not be cached."""
    try:
        with open(spec, "rb") as handle:
            content = handle.read(MAX_SPEC_BYTES + 1)
    except OSError:
        return None
    return content if len(content) <= MAX_SPEC_BYTES else None


def directory() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "envc")


_FINGERPRINTS: dict = {}  # package -> fingerprint, taken once per process: a compile both looks up and stores


def _code_fingerprint(package: str) -> bytes:
    """envc's own files (sizes and mtimes): an upgrade or an edit of envc invalidates everything."""
    if package not in _FINGERPRINTS:
        _FINGERPRINTS[package] = _fingerprint(package)
    return _FINGERPRINTS[package]


def _fingerprint(package: str) -> bytes:
    """Not the curated specs: a run reads them as specs, so their bytes are in the entry's key or inputs already."""
    digest = sha256()
    roots = [package] + [os.path.join(os.path.dirname(package), d) for d in ("schemas", "grammar")]
    for root in roots:
        for folder, dirs, files in os.walk(root):
            dirs[:] = sorted(d for d in dirs if d not in ("__pycache__", "curated"))
            for name in sorted(files):
                stat = os.stat(os.path.join(folder, name))
                digest.update(f"{folder}/{name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.digest()


def _entry_path(spec: str, spec_bytes: bytes) -> str:
    key = sha256(_code_fingerprint(_PACKAGE) + sys.version.encode() + b"\0" + os.getcwd().encode() + b"\0"
                         + os.path.abspath(spec).encode() + b"\0" + spec_bytes).hexdigest()
    return os.path.join(directory(), key[:2], key + ".marshal")  # marshal: per Python version, hence the key


def lookup(spec: str):
    """The stored result for spec ({"warnings": [...], "dockerfile": text or absent}), or None."""
    spec_bytes = read_spec(spec)
    if spec_bytes is None:
        return None
    try:
        entry_path = _entry_path(spec, spec_bytes)
        with open(entry_path, "rb") as handle:
            entry = marshal.load(handle)
        for path, real, digest in entry["inputs"]:
            if os.path.realpath(path) != real or file_digest(path).hex() != digest:
                return None
        if any(os.path.lexists(path) for path in entry["absent"]):
            return None
        return entry
    except (OSError, ValueError, KeyError, TypeError, EOFError):
        return None


def store(spec: str, spec_bytes: bytes, inputs, warnings, dockerfile=None, absent=()) -> None:
    """Remember a success. spec_bytes: the spec as read before the run; inputs: (absolute path,
    sha256 hex digest) of every other file the run read, as it read them, so a file edited meanwhile misses;
    absent: files the run looked for and did not find (a .dockerignore), so creating one misses."""
    try:
        entry_path = _entry_path(spec, spec_bytes)
        entry = {"inputs": [[path, os.path.realpath(path), digest] for path, digest in inputs],
                 "absent": list(absent), "warnings": list(warnings)}
        if dockerfile is None:
            previous = lookup(spec)
            if previous and "dockerfile" in previous:
                return  # a compile's entry already answers checks too
        else:
            entry["dockerfile"] = dockerfile
        os.makedirs(os.path.dirname(entry_path), exist_ok=True)
        temporary = f"{entry_path}.{os.getpid()}.tmp"
        with open(temporary, "wb") as handle:
            marshal.dump(entry, handle)
        os.replace(temporary, entry_path)
    except OSError:
        pass  # a read-only or full cache folder only costs speed
