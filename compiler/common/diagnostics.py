"""One Diagnostic type for every problem envc reports, located in a source file."""
from __future__ import annotations

from collections import namedtuple


class Location(namedtuple("Location", "file line col", defaults=(1, 1))):
    """1-based line and column in a file, as editors and compilers count them (ordered as tuples)."""

    __slots__ = ()

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


class Diagnostic(namedtuple("Diagnostic", "location message severity", defaults=("error",))):
    """Sorted by location, then message: the order users read them in."""

    __slots__ = ()

    def __str__(self) -> str:
        """One line whatever the message quotes: control characters are shown escaped."""
        message = "".join(c if c.isprintable() else repr(c)[1:-1] for c in self.message)
        return f"{self.location}: {self.severity}: {message}"


class SpecError(Exception):
    """Raised with every diagnostic found, so users fix all problems in one pass."""

    def __init__(self, diagnostics):
        self.diagnostics = tuple(sorted(set(diagnostics)))
        super().__init__("\n".join(map(str, self.diagnostics)))


def error(location: Location, message: str) -> Diagnostic:
    return Diagnostic(location, message)


def warning(location: Location, message: str) -> Diagnostic:
    return Diagnostic(location, message, "warning")


def closest(word: str, choices):
    """The choice closest to word, or None when none is close."""
    import difflib

    match = difflib.get_close_matches(word, sorted(choices), n=1, cutoff=0.6)
    return match[0] if match else None


def did_you_mean(word: str, choices) -> str:
    """A ' (did you mean 'x'?)' suffix when a close match exists, else ''."""
    match = closest(word, choices)
    return f" (did you mean '{match}'?)" if match else ""
