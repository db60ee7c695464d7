"""load -> validate -> spec -> inputs -> lower -> emit, as one call per spec."""
from __future__ import annotations

import os

from envc.common.diagnostics import SpecError
from envc.common.records import Record
from envc.core.inputs import Inputs, gather
from envc.core.spec import build_spec
from envc.core.validate import check_schema
from envc.formats.detect import load


class Compiled(Record):
    """dockerfile: the text. warnings: Diagnostics of severity "warning". image: the envc.core.ir.Image the
    text was rendered from. inputs: the checked envc.core.inputs.Inputs (the Spec, every file read).
    context: the folder the Dockerfile is built from (the spec's, a saved Azure ML folder's or a registry snapshot's;
    base.context when it lies outside it)."""

    __slots__ = ("dockerfile", "warnings", "image", "inputs", "context")


def check(path, text: str | None = None) -> Inputs:
    """Validate a spec and every file it references: its Inputs, or SpecError with every problem at once.
    text: the spec's content when it does not come from path (see envc.formats.detect.load)."""
    doc = load(path, text)
    try:
        check_schema(doc)
    except SpecError as exc:
        reported = {d.location for d in exc.diagnostics}
        extra = tuple(d for d in _later_problems(doc) if d.location not in reported)
        raise SpecError(exc.diagnostics + extra) from None
    spec, problems = build_spec(doc)
    try:
        inputs = gather(spec)
    except SpecError as exc:
        raise SpecError(tuple(problems) + exc.diagnostics) from None
    if problems:
        raise SpecError(problems)
    return inputs


def _later_problems(doc) -> tuple:
    """Problems in package strings and referenced files, reported alongside schema errors so users see
    everything at once. The document failed the schema, so parts of it may have the wrong shape:
    whatever cannot be checked that way is left to the schema errors already reported."""
    try:
        spec, problems = build_spec(doc)
        try:
            gather(spec)
        except SpecError as exc:
            return tuple(problems) + exc.diagnostics
        return tuple(problems)
    except (TypeError, AttributeError, KeyError, ValueError, IndexError):
        return ()


def compile_spec(path, text: str | None = None) -> Compiled:
    from envc.core.emit import render
    from envc.core.lower import lower

    inputs = check(path, text)
    image = lower(inputs)
    return Compiled(dockerfile=render(image), warnings=inputs.notes, image=image, inputs=inputs,
                    context=os.path.realpath(os.path.join(inputs.spec.root, inputs.context)))
