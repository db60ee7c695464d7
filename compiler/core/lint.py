"""`envc lint`: problems a valid spec can still have, found before a 20-minute build does.

Errors: the same package pinned to versions conda and pip cannot both satisfy; one package
listed twice with different versions (two pythons); with --locked, anything that is not
reproducible (a base without a digest, a conda package without an exact version and
build, a pip requirement without `==` and a hash). Warnings: unpinned packages, a base
image without a digest, a package installed by both conda and pip.
"""
from __future__ import annotations

import re
from collections import namedtuple

from envc.common.diagnostics import Diagnostic, error, warning


class Package(namedtuple("Package", "name written pin specifier where hashed marker", defaults=(False, False))):
    """name: normalized (lowercase, runs of -_. as one -). pin: the exact version when there is one
    (conda =1.2 is not exact: it means 1.2.*). specifier: PEP 440 specifier equivalent to the
    constraint, when there is one. where: Location. marker: an environment marker (may not apply
    to this image).
    """

    __slots__ = ()


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lint(inputs, locked: bool = False) -> list:
    """Diagnostics for checked Inputs (from envc.core.pipeline.check)."""
    spec = inputs.spec
    conda = [] if inputs.lock else [_conda_package(p) for p in spec.conda.packages] if spec.conda else []
    pip = [p for p in map(_pip_package, inputs.pip_entries) if p]
    found = _duplicates(conda, "conda") + _duplicates(pip, "pip") + _across(conda, pip)
    found += _unpinned(conda, pip, locked) + _base(spec, locked)
    return sorted(set(found))


def _conda_package(package) -> Package:
    version = package.spec.get("version")
    pin = version[2:] if version and version.startswith("==") and not re.search(r"[*,|<>!]", version[2:]) else None
    if version and package.spec.get("build") and version.startswith("=") and not version.startswith("==") and "*" not in version:
        pin = version.lstrip("=")  # name=1.2=build: conda drops the implied .*
    return Package(normalize(package.spec.name), package.text, pin, _conda_to_pep440(version), package.where,
                   hashed=bool(pin and package.spec.get("build")))


def _conda_to_pep440(version):
    """conda's version constraint as a PEP 440 specifier, or None when it has no equivalent here."""
    if not version or "|" in version:
        return None
    if version.startswith("=") and not version.startswith("=="):
        body = version[1:]
        return f"=={body}" if body.endswith("*") else f"=={body}.*"
    if version[0].isdigit():
        return f"=={version}"
    return version


def _pip_package(entry):
    """A pip requirement that names a package (not a URL or an option), as lint compares them."""
    if entry.kind != "requirement":
        return None
    from envc.common.package_specs import SpecSyntaxError, parse_pip_line

    line = entry.line
    if line is None:  # conda-lock's pip packages, written by envc.formats.conda_lock
        try:
            line = parse_pip_line(entry.value)
        except SpecSyntaxError:
            return None
    if line.kind != "requirement" or not line.name:
        return None
    from packaging.requirements import Requirement

    requirement = Requirement(line.value)
    pins = [requirement.url] if requirement.url else [  # a URL names one exact file
        s.version for s in requirement.specifier if s.operator in ("==", "===") and "*" not in s.version]
    return Package(normalize(requirement.name), line.value, pins[0] if pins else None, str(requirement.specifier) or None,
                   entry.where, hashed=bool(line.hashes), marker=requirement.marker is not None)


def _duplicates(packages, tool) -> list:
    found, first = [], {}
    for package in packages:
        earlier = first.setdefault(package.name, package)
        if earlier is not package and earlier.specifier != package.specifier:
            what = "two python versions" if package.name == "python" else f"'{package.name}' twice"
            found.append(error(package.where, f"{what} in {tool}: '{earlier.written}' (at {earlier.where}) and '{package.written}'; keep one"))
    return found


def _across(conda, pip) -> list:
    """The same package from conda and pip: an error when no version satisfies both."""
    found = []
    by_name = {p.name: p for p in conda}
    for package in pip:
        other = by_name.get(package.name)
        if other is None or package.marker:
            continue
        if _conflict(other, package):
            found.append(error(package.where, f"'{package.written}' conflicts with conda's '{other.written}' (at {other.where}): "
                                              "no version satisfies both; align them or drop one"))
            found.append(error(other.where, f"'{other.written}' conflicts with pip's '{package.written}' (at {package.where})"))
        else:
            found.append(warning(package.where, f"'{package.name}' is installed by conda (at {other.where}) and again by pip: "
                                                 "pip's copy replaces conda's; list it once"))
    return found


def _conflict(a: Package, b: Package) -> bool:
    """Decidable cases only: one side pins an exact version the other side's constraint excludes."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import InvalidVersion, Version

    for pinned, other in ((a, b), (b, a)):
        if pinned.pin and other.specifier:
            try:
                return not SpecifierSet(other.specifier).contains(Version(pinned.pin), prereleases=True)
            except (InvalidSpecifier, InvalidVersion):
                return False
    return False


def _unpinned(conda, pip, locked: bool) -> list:
    found = []
    for package in conda:
        if locked and not package.hashed:
            found.append(error(package.where, f"--locked: '{package.written}' is not an exact version and build "
                                              "(name==1.2.3=build), or use conda.lock"))
        elif not package.specifier and package.name != "pip":
            found.append(warning(package.where, f"'{package.written}' is not pinned: the solver picks a version at build time"))
    for package in pip:
        if locked and not (package.pin and package.hashed):
            found.append(error(package.where, f"--locked: '{package.written}' needs == and --hash (in a requirements file; "
                                              "`pip-compile --generate-hashes` or `uv pip compile --generate-hashes` writes one)"))
        elif not package.pin:
            found.append(warning(package.where, f"'{package.written}' is not pinned with ==: a rebuild may install another version"))
    return found


def _base(spec, locked: bool) -> list:
    image = spec.base.image
    if image is None or "@sha256:" in image:
        return []  # a base Dockerfile's FROM lines are the user's Dockerfile
    message = f"base image '{image}' has no @sha256 digest: its tag can move"
    return [error(spec.base.image_where, f"--locked: {message}")] if locked else [warning(spec.base.image_where, message)]


def as_json(diagnostics) -> str:
    import json

    return json.dumps([{"file": d.location.file, "line": d.location.line, "col": d.location.col,
                        "severity": d.severity, "message": d.message} for d in diagnostics], indent=2)


def has_errors(diagnostics) -> bool:
    return any(isinstance(d, Diagnostic) and d.severity == "error" for d in diagnostics)
