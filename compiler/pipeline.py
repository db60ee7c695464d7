"""load -> validate -> gather inputs -> lower -> emit, as one call per spec."""
from __future__ import annotations

import os
from collections import namedtuple

from envc.diagnostics import SpecError
from envc.importers import load
from envc.inputs import gather
from envc.validate import check_schema


class Compiled(namedtuple("Compiled", "dockerfile warnings image spec inputs context")):
    """warnings: Diagnostics of severity "warning". image: the envc.ir.Image the text was rendered from.
    context: the folder the Dockerfile is built from (the spec's; a saved Azure ML folder; a registry snapshot).
    spec: the spec's data as validated (e.g. registry credential references for `envc build`).
    inputs: the envc.inputs.Inputs compiled (every file read, for the result cache).
    """

    __slots__ = ()


def check(path):
    """Validate a spec and every file it references; returns (Inputs, original data)."""
    doc = load(path)
    try:
        check_schema(doc)
    except SpecError as exc:
        reported = {d.location for d in exc.diagnostics}
        extra = tuple(d for d in _file_problems(doc) if d.location not in reported)
        raise SpecError(exc.diagnostics + extra) from None
    return gather(doc), doc.data


def _file_problems(doc) -> tuple:
    """Problems in referenced files, reported alongside schema errors so users see everything at once.

    The document failed the schema, so parts of it may have the wrong shape: whatever
    cannot be checked that way is left to the schema errors already reported.
    """
    try:
        gather(doc)
    except SpecError as exc:
        return exc.diagnostics
    except (TypeError, AttributeError, KeyError, ValueError):
        pass
    return ()


def compile_spec(path) -> Compiled:
    from envc.emit import render
    from envc.lower import lower

    inputs, original = check(path)
    image = lower(inputs, original)
    return Compiled(render(image), inputs.doc.notes, image, inputs.doc.data, inputs, os.path.realpath(inputs.doc.root))
