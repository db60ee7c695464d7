"""Conda lock files: an explicit list (@EXPLICIT) or conda-lock's unified conda-lock.yml.

Both become the explicit list conda and micromamba install with no solver; conda-lock's pip
packages become pinned, hashed requirement lines for the pip layer.

Every line of an explicit list is checked as conda 23.5 (conda/misc.py `explicit`) and micromamba
2.0.5 (PackageInfo::from_url) read it, so a line one of them would refuse, or install without the
check its hash asks for, is a located error here rather than a failure (or a silent gap) at build time.
"""
from __future__ import annotations

import os
import re
from collections import namedtuple

from envc.common.diagnostics import Location, SpecError, error, warning

PLATFORMS = {"linux/amd64": "linux-64", "linux/arm64": "linux-aarch64", "linux/arm64/v8": "linux-aarch64",
             "linux/ppc64le": "linux-ppc64le", "linux/s390x": "linux-s390x"}
PACKAGE_SUFFIXES = (".conda", ".tar.bz2")
_LINE_BREAK = re.compile(r"\r\n|[\r\n]")  # as Python's universal newlines, which conda reads the file with
_HEX = re.compile(r"[0-9a-f]+")
_PIP = re.compile(r"# pip (?P<requirement>\S.*)$")  # conda-lock's render of a pip package


def conda_platform(platform: str | None) -> str:
    """The conda platform (linux-64, linux-aarch64, ...) of a base.platform (linux/amd64 when not given)."""
    return PLATFORMS.get(platform or "linux/amd64", "linux-64")


class Lock(namedtuple("Lock", "explicit pip_lines pip_where unhashed sha256 python notes",
                      defaults=((), (), (), None, ()))):
    """A lock read for one platform.

    explicit: lines of the @EXPLICIT list conda/micromamba install.
    pip_lines: `name @ url --hash=sha256:...` requirement lines (conda-lock's pip packages); pip_where: their Locations.
    unhashed: Locations of package lines without a hash (installed unchecked: `--locked` refuses them).
    sha256: Locations of package lines hashed with sha256 (conda before 24.9 reads only md5).
    python: Location of the python package, or None when the lock installs no python.
    notes: warnings.
    """

    __slots__ = ()

    @property
    def has_python(self) -> bool:
        return self.python is not None


def read_lock(path: str, display: str, platform: str | None) -> Lock:
    """The lock at path for the image's platform (linux-64 unless base.platform says otherwise)."""
    if os.path.splitext(path)[1] in (".yml", ".yaml"):
        return _unified(path, conda_platform(platform))
    with open(path, encoding="utf-8", errors="replace") as handle:
        text = handle.read()
    return read_explicit(text, display)


def read_explicit(text: str, display: str) -> Lock:
    """An explicit list: `@EXPLICIT`, comments, blank lines and one package URL a line, each checked;
    conda-lock's `# pip NAME @ URL#sha256=HEX` lines become pip requirement lines."""
    lines = _LINE_BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    if not any(line.strip() == "@EXPLICIT" for line in lines):
        raise SpecError([error(Location(display), "is not an explicit lock file (no @EXPLICIT line): create one with "
                                                  "`conda list --explicit --md5` or conda-lock")])
    problems, notes, pip, pip_where, unhashed, sha256, python = [], [], [], [], [], [], None
    explicit = False
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        where = Location(display, number, len(raw) - len(raw.lstrip()) + 1)
        if not line:
            continue
        if line.startswith("#"):
            found = _PIP.match(line)
            if found and " @ " in line:
                requirement = _pip_line(found.group("requirement"), where._replace(col=where.col + found.start("requirement")), problems)
                if requirement:
                    pip.append(requirement)
                    pip_where.append(where)
            elif re.match(r"#\s*pip\b", line):
                notes.append(warning(where, "not read as a pip package: conda-lock writes them as `# pip NAME @ URL#sha256=HEX`"))
            continue
        if line == "@EXPLICIT":
            explicit = True
            continue
        if not explicit:
            problems.append(error(where, "a line before @EXPLICIT: conda reads package URLs only after it; move @EXPLICIT up"))
            continue
        package = _package(line, where, problems)
        if package is None:
            continue
        name, hashed = package
        if hashed is None:
            unhashed.append(where)
        elif hashed == "sha256":
            sha256.append(where)
        if name == "python" and python is None:
            python = where
    if problems:
        raise SpecError(problems)
    return Lock(tuple(lines), tuple(pip), tuple(pip_where), tuple(unhashed), tuple(sha256), python, tuple(notes))


def _package(line: str, where: Location, problems: list):
    """(package name, 'md5' / 'sha256' / None) of a package URL line, or None with the problem appended."""
    def problem(offset: int, message: str) -> None:
        problems.append(error(where._replace(col=where.col + offset), message))

    gap = re.search(r"\s+", line)
    token = line[:gap.start()] if gap else line
    scheme = re.match(r"([A-Za-z][A-Za-z0-9+.-]*)://", token)
    if scheme is None:
        if "/" in token or "\\" in token or token.endswith(PACKAGE_SUFFIXES):
            problem(0, f"'{token}' is a path: the image build cannot read files on this machine; write the package's "
                       "https:// URL (from its channel), as `conda list --explicit` and conda-lock do")
        else:
            problem(0, f"'{line}' is not a package URL: an explicit lock lists one https://…/NAME-VERSION-BUILD.conda "
                       "(or .tar.bz2) URL a line, optionally followed by #MD5; recreate it with `conda list --explicit --md5` or conda-lock")
        return None
    if gap:
        rest = line[gap.end():]
        if rest.startswith("#"):
            problem(gap.end(), "a comment after a package URL: conda cannot parse the line (ParseError); put the comment on a line of its own")
        else:
            problem(gap.end(), f"'{rest}' after the package URL: an explicit lock has one package URL a line")
        return None
    if scheme.group(1).lower() not in ("https", "http"):
        problem(0, f"a {scheme.group(1)}:// URL cannot be fetched by the image build: write the package's https:// URL")
        return None
    url, hashed, fragment = line.partition("#")
    host = url[scheme.end():].split("/", 1)[0]
    if "@" in host:
        problem(scheme.end(), "a URL with credentials would write them into the Dockerfile: remove `user:password@` "
                              "(conda-lock --strip-auth)")
        return None
    filename = url.rsplit("/", 1)[-1]
    offset = len(url) - len(filename)
    if not filename.endswith(PACKAGE_SUFFIXES):
        problem(offset, f"'{filename}' is not a conda package file: the URL must end in .conda or .tar.bz2")
        return None
    parts = filename[: -len(".conda") if filename.endswith(".conda") else -len(".tar.bz2")].rsplit("-", 2)
    if len(parts) != 3 or not all(parts):
        problem(offset, f"'{filename}' is not NAME-VERSION-BUILD.conda (or .tar.bz2), the file name of a conda package")
        return None
    if not hashed:
        return parts[0], None
    return parts[0], _hash(fragment, lambda message: problem(len(url), message))


def _hash(fragment: str, problem):
    """'md5' or 'sha256' for a valid URL fragment, else None with the problem reported."""
    if len(fragment) == 32 and _HEX.fullmatch(fragment):
        return "md5"
    if len(fragment) == 64 and _HEX.fullmatch(fragment):
        return "sha256"
    if fragment.startswith("sha256:") and len(fragment) == 71 and _HEX.fullmatch(fragment[7:]):
        return "sha256"
    found = re.fullmatch(r"(?:(md5|sha256)[=:])?([0-9a-f]+)", fragment, re.I)
    if found and len(found.group(2)) in (32, 64):
        prefix, digits = fragment[:found.start(2)].lower(), found.group(2).lower()
        if prefix == "sha256:" and len(digits) == 64:
            problem(f"'#{fragment}' has uppercase letters, which conda and micromamba cannot parse: write #{prefix}{digits}")
            return None
        if not prefix:
            problem(f"'#{fragment}' has uppercase hex digits, which conda cannot parse: write #{digits}")
            return None
        problem(f"'#{fragment}': conda reads only the bare hash after '#' (this line is a ParseError in conda, and "
                f"micromamba installs the package unchecked): write #{digits}")
        return None
    if not fragment:
        problem("an empty hash after '#': write the package's md5 (`conda list --explicit --md5`) or remove the '#'")
    else:
        problem(f"'#{fragment}' is not a hash: expected #<32 hex md5>, #<64 hex sha256> or #sha256:<64 hex> "
                "(recreate the line with `conda list --explicit --md5` or conda-lock)")
    return None


def _pip_line(text: str, where: Location, problems: list):
    """`NAME @ URL#sha256=HEX` (conda-lock's explicit render) as the requirement line `NAME @ URL --hash=sha256:HEX`."""
    from envc.common.package_specs import SpecSyntaxError, parse_pip_line

    url, hashed, digest = text.rpartition("#sha256=") if "#sha256=" in text else (text, "", "")
    if hashed and not (len(digest) == 64 and _HEX.fullmatch(digest)):
        problems.append(error(where._replace(col=where.col + len(url) + 1),
                              f"'sha256={digest}' is not a sha256 (64 lowercase hex digits): recreate the lock with conda-lock"))
        return None
    requirement = f"{url} --hash=sha256:{digest}" if hashed else url
    try:
        line = parse_pip_line(requirement)
    except SpecSyntaxError as exc:
        problems.append(exc.at(where))
        return None
    if line.kind != "requirement" or not re.search(r" @ [A-Za-z][A-Za-z0-9+.-]*://", line.value):
        problems.append(error(where, "a `# pip` line must be `NAME @ URL#sha256=HEX`, as conda-lock writes it"))
        return None
    return requirement


def _unified(path: str, platform: str) -> Lock:
    from envc.core.yaml_source import load_yaml

    doc = load_yaml(path)
    packages = doc.data.get("package")
    if not isinstance(packages, list):
        raise SpecError([error(doc.at(()), "not a conda-lock file: expected a `package:` list (conda-lock's unified format)")])
    explicit, pip, pip_where, problems, found, python = ["@EXPLICIT"], [], [], [], False, None
    for i, package in enumerate(packages):
        where = doc.at(("package", i))
        if not isinstance(package, dict) or package.get("platform") != platform:
            continue
        found = True
        if package.get("optional"):
            continue  # conda-lock's optional categories are not installed by default either
        url, hashes = package.get("url"), package.get("hash") or {}
        if not isinstance(url, str) or not isinstance(hashes, dict) or not url.startswith("https://"):
            problems.append(error(where, "a locked package needs an https url and a hash"))
        elif package.get("manager") == "conda" and hashes.get("md5"):
            if not (isinstance(hashes["md5"], str) and len(hashes["md5"]) == 32 and _HEX.fullmatch(hashes["md5"])):
                problems.append(error(doc.at(("package", i, "hash", "md5")), "an md5 is 32 lowercase hex digits: recreate the lock with conda-lock"))
                continue
            explicit.append(f"{url}#{hashes['md5']}")
            if package.get("name") == "python" and python is None:
                python = where
        elif package.get("manager") == "pip" and hashes.get("sha256"):
            if not (isinstance(hashes["sha256"], str) and len(hashes["sha256"]) == 64 and _HEX.fullmatch(hashes["sha256"])):
                problems.append(error(doc.at(("package", i, "hash", "sha256")), "a sha256 is 64 lowercase hex digits: recreate the lock with conda-lock"))
                continue
            pip.append(f"{package.get('name')} @ {url} --hash=sha256:{hashes['sha256']}")
            pip_where.append(where)
        else:
            problems.append(error(where, "a locked package needs manager conda with an md5, or pip with a sha256"))
    if not found:
        problems.append(error(doc.at(()), f"locks no package for {platform} (the image's platform): lock it with `conda-lock -p {platform}`"))
    if problems:
        raise SpecError(problems)
    return Lock(tuple(explicit), tuple(pip), tuple(pip_where), (), (), python)
