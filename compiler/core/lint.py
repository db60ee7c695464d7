"""`envc lint`: problems a valid spec can still have, found before a 20-minute build does.

Errors: the same package constrained by conda and pip to versions no one version satisfies;
one package listed twice where no version satisfies both entries (two pythons); with --locked,
anything that is not reproducible (a base without a digest, a conda package without an exact
version and build, a pip requirement without `==` and a hash). Warnings: unpinned packages, a
base image without a digest, a package installed by both conda and pip, a package listed twice
that one version satisfies (pip and conda combine the two).

A pip requirement counts only where its marker can hold in the image (see _Image): one
that never applies (`; sys_platform == "win32"`) is not installed, and two entries are listed
twice only if their markers can hold at once.
"""
from __future__ import annotations

import re
from collections import namedtuple

from envc.common.diagnostics import Diagnostic, error, warning


class Package(namedtuple("Package", "name written pin specifier where hashed marker build", defaults=(False, None, None))):
    """name: normalized (lowercase, runs of -_. as one -). pin: the exact version (a pip URL: the URL)
    when there is one (conda =1.2 is not exact: it means 1.2.*). specifier: PEP 440 specifier
    equivalent to the constraint, when there is one ('|' between conda's alternatives). where:
    Location. marker: the requirement's packaging Marker, or None. build: conda's build string.
    """

    __slots__ = ()


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def lint(inputs, locked: bool = False) -> list:
    """Diagnostics for checked Inputs (from envc.core.pipeline.check)."""
    spec = inputs.spec
    conda = [] if inputs.lock else [_conda_package(p) for p in spec.conda.packages] if spec.conda else []
    pip = [p for p in map(_pip_package, inputs.pip_entries) if p]
    image = _Image(conda, pip)
    pip = [p for p in pip if image.together(p)]  # the others are never installed here
    found = _duplicates(conda, "conda", image) + _duplicates(pip, "pip", image) + _across(conda, pip)
    found += _unpinned(conda, pip, locked) + _base(spec, locked) + _helper_images(inputs, locked)
    if locked and inputs.lock:
        found += [error(where, "--locked: this package has no hash, so it is installed unchecked: recreate the lock with "
                               "`conda list --explicit --md5` or conda-lock") for where in inputs.lock.unhashed]
    if locked:
        found += [error(entry.where, "--locked: a remote include can change without the spec changing: download it next to "
                                     "the spec") for entry in inputs.pip_entries if entry.kind in ("include", "constraint")
                  and "://" in entry.value]
    return sorted(set(found))


def _conda_package(package) -> Package:
    version = package.spec.get("version")
    pin = version[2:] if version and version.startswith("==") and not re.search(r"[*,|<>!]", version[2:]) else None
    if version and package.spec.get("build") and version.startswith("=") and not version.startswith("==") and "*" not in version:
        pin = version.lstrip("=")  # name=1.2=build: conda drops the implied .*
    build = package.spec.get("build")
    return Package(normalize(package.spec.name), package.text, pin, f"=={pin}" if pin else _conda_to_pep440(version),
                   package.where, hashed=bool(pin and build), build=build)


def _conda_to_pep440(version):
    """conda's version constraint as a PEP 440 specifier ('|' kept between alternatives), or None."""
    if not version or "(" in version:
        return None
    if "|" in version:
        return "|".join(_conda_to_pep440(alternative) or "" for alternative in version.split("|"))
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
                   entry.where, hashed=bool(line.hashes), marker=requirement.marker)


def _duplicates(packages, tool, image) -> list:
    """A package listed twice (each pair whose markers can hold at once): an error when no version
    satisfies both entries, else a warning, since pip and conda install one version satisfying both."""
    found, seen = [], {}
    for package in packages:
        earlier = seen.setdefault(package.name, [])
        others = [e for e in earlier if (e.specifier, e.build, e.pin) != (package.specifier, package.build, package.pin)
                  and image.together(e, package)]
        earlier.append(package)
        verdicts = [(other, _compatible(other, package)) for other in others]
        for other in [other for other, ok in verdicts if ok is False]:
            both = f"'{other.written}' (at {other.where}) and '{package.written}'; keep one"
            found.append(error(package.where, f"two python versions in {tool}: {both}" if package.name == "python" else
                               f"'{package.name}' listed twice in {tool} and no version satisfies both: {both}"))
        if verdicts and not any(ok is False for _, ok in verdicts):
            other, ok = verdicts[0]  # None: envc cannot tell (a URL against a version, a build glob)
            how = f"; {tool} installs a version satisfying both: " if ok else ": "
            found.append(warning(package.where, f"'{package.name}' listed twice in {tool}{how}'{other.written}' (at {other.where}) "
                                                f"and '{package.written}'; list it once"))
    return found


def _across(conda, pip) -> list:
    """The same package from conda and pip: an error when no version satisfies both."""
    found = []
    by_name = {p.name: p for p in conda}
    for package in pip:
        other = by_name.get(package.name)
        if other is None:
            continue
        if _compatible(other, package) is False:
            found.append(error(package.where, f"'{package.written}' conflicts with conda's '{other.written}' (at {other.where}): "
                                              "no version satisfies both; align them or drop one"))
            found.append(error(other.where, f"'{other.written}' conflicts with pip's '{package.written}' (at {package.where})"))
        else:
            found.append(warning(package.where, f"'{package.name}' is installed by conda (at {other.where}) and again by pip: "
                                                 "pip's copy replaces conda's; list it once"))
    return found


def _compatible(a: Package, b: Package):
    """True when one version satisfies both a and b, False when none does, None when envc cannot tell
    (a URL against a version, a build glob, a version that is not PEP 440)."""
    if a.build and b.build and a.build != b.build:
        return None if "*" in a.build + b.build else False
    url_a, url_b = (p.pin if p.pin and not p.specifier else None for p in (a, b))
    if url_a and url_b:
        return url_a == url_b
    if url_a or url_b:
        return None if a.specifier or b.specifier else True
    return _satisfiable([s for s in (a.specifier, b.specifier) if s])


def _satisfiable(specifiers):
    """Whether one version satisfies every specifier (PEP 440; '|' separates conda's alternatives),
    or None when one is not PEP 440. pip's prerelease rule: prereleases only when a specifier names one.

    Not a solver: a finite set of candidates (_candidates) that holds a satisfying version whenever
    there is one, and each candidate is checked with packaging's SpecifierSet.contains.
    """
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.version import InvalidVersion

    try:
        choices = [[SpecifierSet(alternative) for alternative in s.split("|")] for s in specifiers]
        candidates = _candidates([clause.version for alternatives in choices for each in alternatives for clause in each])
    except (InvalidSpecifier, InvalidVersion):
        return None
    pre = any(each.prereleases for alternatives in choices for each in alternatives)
    return any(all(any(each.contains(version, prereleases=pre) for each in alternatives) for alternatives in choices)
               for version in candidates)


def _candidates(texts) -> set:
    """Versions that hit every piece of what a set of specifiers written with these version texts admits.

    Each clause admits an interval of versions, or all but one (!=): ==V.* and ~=V admit [V, B),
    B being V's release with a part bumped (1.2 -> 1.3, 2). So what a set admits is a union of
    intervals whose ends are the texts and their bumps; a nonempty one holds its lower end, or (an
    open end) the end's release padded past every text's length then .1 (1.2 -> 1.2.0.1: above 1.2,
    below anything longer written above it), or, unbounded below, 0. So the candidates are "0" and
    each text, each of its release prefixes as written and bumped, and its padded .1. Outside this:
    a version strictly between a prerelease and its release (>1.0rc1,<1.0), and === on a non-version.
    """
    from packaging.version import Version

    versions = [Version(text[:-2] if text.endswith(".*") else text) for text in ["0", *texts]]
    longest = max(len(v.release) for v in versions)
    found = set(versions)
    for version in versions:
        epoch, release = f"{version.epoch}!", version.release
        for i, part in enumerate(release):
            found.update(Version(epoch + ".".join(map(str, release[:i] + (last,)))) for last in (part, part + 1))
        found.add(Version(epoch + ".".join(map(str, release + (0,) * (longest - len(release)) + (1,)))))
    return found


_LINUX = {"implementation_name": "cpython", "platform_python_implementation": "CPython", "os_name": "posix",
          "sys_platform": "linux", "platform_system": "Linux", "platform_release": "6.8.0", "platform_version": "#1 SMP"}


class _Image:
    """The marker environments (PEP 508) the image may have, given explicitly (never this process's):
    CPython on Linux x86_64 or aarch64, no extra or any extra a marker names, and each Python that
    conda's python pin allows, or 3.6-3.14 without one. The Pythons tried are 3.x.0 and the versions
    the markers and the pin write with their neighbours (_candidates), so each comparison goes both ways.
    """

    def __init__(self, conda, pip):
        self.answers = {}
        markers = [str(p.marker) for p in pip if p.marker is not None]
        if not markers:
            self.environments = []
            return
        pins = [p.specifier for p in conda if p.name == "python" and p.specifier]
        texts = [f"3.{minor}" for minor in range(6, 15)] + re.findall(r"\d+(?:\.\d+)+", " ".join(markers + pins))
        pythons = sorted({".".join(map(str, (*v.release, 0, 0)[:3])) for v in _candidates(texts)})
        pinned = [v for v in pythons if any(_allows(pin, v) for pin in pins)] if pins else pythons
        plausible = [v for v in pythons if _allows(">=3.6,<3.15", v)]
        extras = {""} | {name for m in markers if "extra" in m for name in re.findall(r'"([^"]*)"', m)}
        self.environments = [dict(_LINUX, python_version=".".join(python.split(".")[:2]), python_full_version=python,
                                  implementation_version=python, platform_machine=machine, extra=extra)
                             for python in [v for v in pinned if v in plausible] or pinned or plausible
                             for machine in ("x86_64", "aarch64") for extra in sorted(extras)]

    def together(self, *packages) -> bool:
        """Whether the packages' markers can all hold at once here (no marker: always)."""
        markers = tuple(p.marker for p in packages if p.marker is not None)
        key = tuple(map(str, markers))
        if key not in self.answers:
            self.answers[key] = not markers or any(all(_holds(m, env) for m in markers) for env in self.environments)
        return self.answers[key]


def _holds(marker, environment) -> bool:
    from packaging.markers import UndefinedComparison, UndefinedEnvironmentName

    try:
        return marker.evaluate(environment)
    except (UndefinedComparison, UndefinedEnvironmentName):
        return True  # cannot tell: it may hold


def _allows(specifier: str, version: str) -> bool:
    """Whether version satisfies specifier ('|': alternatives); True when envc cannot tell."""
    from packaging.specifiers import InvalidSpecifier, SpecifierSet

    try:
        return any(SpecifierSet(alternative).contains(version, prereleases=True) for alternative in specifier.split("|"))
    except InvalidSpecifier:
        return True


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
    if "image" not in spec.data.get("base", {}):
        from envc.formats.detect import input_kind

        how = ("set base.image to an image@sha256:DIGEST" if input_kind(spec.document.path) == "envc" else
               f"write an envc spec (`envc import {spec.document.path.rsplit('/', 1)[-1]} -o envc.yml`) and set base.image "
               "to an image@sha256:DIGEST there")
        message = f"the default base image '{image}' has no @sha256 digest (its tag can move): {how}"
    return [error(spec.base.image_where, f"--locked: {message}")] if locked else [warning(spec.base.image_where, message)]


def _helper_images(inputs, locked: bool) -> list:
    """The image micromamba is copied from is part of the build too: pinned by tag only, it can change."""
    from envc.common.tools import conda_tool
    from envc.core.inputs import base_image

    conda, base = inputs.spec.conda, inputs.spec.base
    image = base_image(inputs.spec, inputs.base_dockerfile)
    if conda is None or not (conda.packages or conda.pip or inputs.lock) or conda_tool(image) != "micromamba":
        return []
    if "@sha256:" in conda.micromamba_image:
        return []
    message = (f"micromamba comes from '{conda.micromamba_image}', pinned by tag only (its publisher rebuilds tags): set "
               "conda.micromamba_image to that image@sha256:DIGEST")
    return [error(conda.micromamba_where, f"--locked: {message}")] if locked else [warning(conda.micromamba_where, message)]


def as_json(diagnostics) -> str:
    import json

    return json.dumps([{"file": d.location.file, "line": d.location.line, "col": d.location.col,
                        "severity": d.severity, "message": d.message} for d in diagnostics], indent=2)


def has_errors(diagnostics) -> bool:
    return any(isinstance(d, Diagnostic) and d.severity == "error" for d in diagnostics)
