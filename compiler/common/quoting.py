"""All escaping for the Dockerfile, in one place.

Three contexts reach the output: Dockerfile words (ENV and LABEL values, which
BuildKit lexes with `$` expansion), shell words (RUN, run by /bin/sh -c), and exec
form (JSON arrays). Validation rejects what none of them can carry (line breaks,
control characters); these functions refuse it too, as a last line of defence.
"""
from __future__ import annotations

import json

# Sets, not regexes: compiling the two patterns cost 0.5–1 ms of every cold start.
_UNREPRESENTABLE = frozenset([chr(c) for c in range(0x20) if c != 0x09] + ["\x7f", "\x85", "\u2028", "\u2029"])
_SHELL_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_@%+=:,./-")
_SHELL_RESERVED = {"if", "then", "else", "elif", "fi", "do", "done", "case", "esac", "while", "until", "for", "in", "function", "select", "time"}


def unrepresentable(value: str):
    """The first character no Dockerfile context can carry exactly (a line break, a control character), or None."""
    if _UNREPRESENTABLE.isdisjoint(value):
        return None
    return next(c for c in value if c in _UNREPRESENTABLE)


def _check(value: str) -> str:
    if unrepresentable(value) is not None:
        raise ValueError(f"cannot be written into a Dockerfile exactly: {value!r}")
    return value


def dockerfile_word(value: str) -> str:
    """A value for ENV/LABEL that BuildKit reads back unchanged (no $ expansion, quotes kept)."""
    _check(value)
    if "'" not in value:
        return f"'{value}'"
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
    return f'"{escaped}"'


def shell_word(value: str) -> str:
    """A single POSIX shell word: `requests>=2.31` stays an argument, never a redirect."""
    _check(value)
    if value and _SHELL_SAFE.issuperset(value) and value not in _SHELL_RESERVED:
        return value
    return "'" + value.replace("'", "'\"'\"'") + "'"


def exec_form(values) -> str:
    """A JSON array for ENTRYPOINT/CMD; ASCII escapes keep it on one line whatever the text."""
    return json.dumps([str(v) for v in values])
