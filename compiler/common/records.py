"""Immutable records built by keyword, for the data passed between the pipeline's phases.

Plain classes with __slots__ rather than namedtuples or dataclasses: creating a namedtuple class
costs ~0.1 ms and importing dataclasses ~12 ms, and a cold compile creates some twenty record
classes within a ~40 ms budget. A record's fields are its class's __slots__, in order.
"""
from __future__ import annotations


class Record:
    """Subclasses declare __slots__ (the fields) and optionally _defaults {field: value}."""

    __slots__ = ()
    _defaults: dict = {}

    def __init__(self, **fields):
        setter, pop = object.__setattr__, fields.pop
        for name in self.__slots__:
            try:
                setter(self, name, pop(name))
            except KeyError:  # a default, or a missing field
                if name not in self._defaults:
                    raise TypeError(f"{type(self).__name__}() needs the field {name!r}") from None
                setter(self, name, self._defaults[name])
        if fields:
            raise TypeError(f"{type(self).__name__}() has no field {next(iter(fields))!r}")

    def __setattr__(self, name, value):
        raise AttributeError(f"{type(self).__name__} is immutable: use _replace({name}=...)")

    def __delattr__(self, name):
        raise AttributeError(f"{type(self).__name__} is immutable")

    def _values(self) -> tuple:
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other):
        return type(other) is type(self) and other._values() == self._values()

    def __hash__(self):
        return hash((type(self).__name__, self._values()))

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({fields})"

    def _replace(self, **changes):
        return type(self)(**{**self._asdict(), **changes})

    def _asdict(self) -> dict:
        return {name: getattr(self, name) for name in self.__slots__}
