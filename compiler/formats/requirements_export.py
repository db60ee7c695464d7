"""Writer of requirements files: a Spec's pip lines, in the order pip reads them."""
from __future__ import annotations

from envc.common.diagnostics import SpecError, error
from envc.formats.requirements import ENTRY_OPTIONS

CONDA_PACKAGES_PIP_NEEDS = {"python", "pip"}  # the interpreter and installer a requirements file assumes


def pip_lines(spec, relocate) -> list:
    """Every pip line of the spec in install order: index options, conda's pip lists, pip.packages, -r files.
    relocate: a path relative to the spec's folder -> the same file seen from the exported file's folder."""
    lines = [f"--index-url {spec.pip.index_url}"] if spec.pip and spec.pip.index_url else []
    lines += [f"--extra-index-url {url}" for url in (spec.pip.extra_index_urls if spec.pip else ())]
    for entry in (spec.conda.pip if spec.conda else ()) + (spec.pip.packages if spec.pip else ()):
        if entry.kind in ("requirement", "url", "flag"):
            lines.append(entry.value)
        elif entry.file is not None:
            lines.append(f"{ENTRY_OPTIONS[entry.kind]} {relocate(entry.file.relative)}")
        else:
            lines.append(f"{ENTRY_OPTIONS[entry.kind]} {entry.value}")
    lines += [f"-r {relocate(ref.relative)}" for ref in (spec.pip.requirements if spec.pip else ())]
    return lines


def requirements_text(spec, relocate) -> str:
    """The requirements file; conda packages (other than python and pip) cannot be held: an error at the first."""
    conda = spec.conda
    others = [package for package in (conda.packages if conda else ()) if package.spec.name.lower() not in CONDA_PACKAGES_PIP_NEEDS]
    if others or conda and conda.lock:
        where = others[0].where if others else conda.lock.where
        raise SpecError([error(where, "a requirements file cannot hold conda packages: export --to conda")])
    header = f"# Exported by envc from environment '{spec.name}'.\n"
    return header + "".join(line + "\n" for line in pip_lines(spec, relocate))
