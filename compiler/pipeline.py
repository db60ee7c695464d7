"""load -> validate -> gather inputs -> lower -> emit, as one call per spec."""
from __future__ import annotations

from dataclasses import dataclass

from envc.importers import load
from envc.inputs import gather
from envc.validate import check_schema


@dataclass(frozen=True)
class Compiled:
    dockerfile: str
    warnings: tuple  # Diagnostics of severity "warning"
    image: object  # the envc.ir.Image the text was rendered from


def check(path):
    """Validate a spec and every file it references; returns (Inputs, original data)."""
    doc = load(path)
    check_schema(doc)
    return gather(doc), doc.data


def compile_spec(path) -> Compiled:
    from envc.emit import render
    from envc.lower import lower

    inputs, original = check(path)
    image = lower(inputs, original)
    return Compiled(render(image), inputs.doc.notes, image)
