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
from envc.common.package_specs import URL_CREDENTIALS, conda_token, url_secret_parameter
from envc.common.quoting import unrepresentable

# Docker's Linux architectures (containerd's names, platforms/database.go normalizeArch) -> conda's subdir for
# them (conda/base/constants.py PLATFORMS). Every amd64 or arm64 variant (amd64/v3, arm64/v8) is the same subdir;
# of arm's, only v6 and v7 have one. Any other platform (linux/mips64le, linux/arm/v5) has no conda packages.
SUBDIRS = {"amd64": "linux-64", "arm64": "linux-aarch64", "ppc64le": "linux-ppc64le", "s390x": "linux-s390x",
           "riscv64": "linux-riscv64", "arm/v7": "linux-armv7l", "arm/v6": "linux-armv6l", "386": "linux-32", "ppc64": "linux-ppc64"}
_ALIASES = {"x86_64": "amd64", "aarch64": "arm64", "i386": "386", "arm": "arm/v7", "arm/7": "arm/v7",
            "armhf": "arm/v7", "arm/6": "arm/v6", "armel": "arm/v6"}  # as containerd normalizes them
PACKAGE_SUFFIXES = (".conda", ".tar.bz2")
_LINE_BREAK = re.compile(r"\r\n|[\r\n]")  # as Python's universal newlines, which conda reads the file with
_HEX = re.compile(r"[0-9a-f]+")
_PIP = re.compile(r"# pip (?P<requirement>\S.*)$")  # conda-lock's render of a pip package
_CONDA_CREDENTIALS = ("a URL with credentials would write them into the Dockerfile: remove `user:password@` (conda-lock "
                      "--strip-auth); envc passes conda no credentials, so the channel must be readable without them")
_CONDA_TOKEN = ("an anaconda.org token (/t/TOKEN/) would be written into the Dockerfile: remove it (conda-lock "
                "--strip-auth); envc passes conda no credentials, so the channel must be readable without them")
_QUERY_SECRET = ("a URL whose query holds a signature, token or key would write it into the Dockerfile: lock from a "
                 "channel or index readable without it (conda-lock --strip-auth cannot remove a query)")
_PIP_CREDENTIALS = ("a URL with credentials would write them into the Dockerfile: remove `user:password@` (conda-lock "
                    "--strip-auth) and pass them as a build secret (pip.netrc_secret, a .netrc file) instead")


# The subdir folder of a package URL (…/CHANNEL/SUBDIR/NAME-VERSION-BUILD.conda), for conda's platforms
_OTHER_SUBDIR = re.compile(r"/((?:linux|osx|win|zos|freebsd|emscripten|wasi)-[a-z0-9]+|noarch)/[^/]+$")


def conda_platform(platform: str | None):
    """The conda subdir (linux-64, linux-aarch64, ...) of a base.platform (linux/amd64 when not given), read as
    Docker reads it (linux/aarch64 and linux/arm64/v8 alike), or None when conda has none."""
    system, _, arch = (platform or "linux/amd64").partition("/")  # the schema allows only os/arch[/variant]
    key = arch if arch.startswith("arm/") else arch.partition("/")[0]  # only arm's variant picks another subdir
    return SUBDIRS.get(_ALIASES.get(key, key)) if system == "linux" else None


def no_subdir(platform: str, where: Location, needs: str):
    """The error at base.platform when a lock or a selector needs the image's conda subdir and there is none:
    installing another platform's packages would fail in the image, or worse, not fail."""
    listed = ", ".join(f"linux/{arch}" for arch in list(SUBDIRS)[:-1]) + f" and linux/{list(SUBDIRS)[-1]}"
    return error(where, f"'{platform}' has no conda subdir, and {needs} needs one: conda packages are built for {listed} "
                        "only; build the image for one of those")


# What `conda-lock install` installs by default (--dev is its default; extras only with -e NAME).
INSTALLED_CATEGORIES = ("main", "dev")


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


def read_lock(path: str, display: str, subdir: str = "linux-64") -> Lock:
    """The lock at path for the image's conda subdir (conda_platform of base.platform)."""
    if os.path.splitext(path)[1] in (".yml", ".yaml"):
        return _unified(path, subdir)
    with open(path, encoding="utf-8", errors="replace") as handle:
        text = handle.read()
    return read_explicit(text, display, subdir)


def read_explicit(text: str, display: str, subdir: str = "linux-64") -> Lock:
    """An explicit list: `@EXPLICIT`, comments, blank lines and one package URL a line, each checked;
    conda-lock's `# pip NAME @ URL#sha256=HEX` lines become pip requirement lines. A list made for
    another platform than subdir (the image's) is an error: conda installs it without a check, and its
    binaries would not run in the image."""
    lines = _LINE_BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    if not any(line.strip() == "@EXPLICIT" for line in lines):
        raise SpecError([error(Location(display), "is not an explicit lock file (no @EXPLICIT line): create one with "
                                                  "`conda list --explicit --md5` or conda-lock")])
    problems, notes, pip, pip_where, unhashed, sha256, python, foreign = [], [], [], [], [], [], None, []
    explicit, continued = False, set()
    for number, raw in enumerate(lines, 1):
        line = raw.strip()
        where = Location(display, number, len(raw) - len(raw.lstrip()) + 1)
        unwritable = _unwritable(raw, _PIP_CREDENTIALS if _PIP.match(line) else _CONDA_CREDENTIALS)
        if unwritable:
            problems.append(error(where._replace(col=unwritable[0] + 1), unwritable[1]))
            continue
        if not line:
            continue
        if line.startswith("#"):
            found = _PIP.match(line)
            if found and " @ " in line:
                written, joined = _continued(found.group("requirement"), lines[number:number + 1])
                if joined:
                    continued.add(number + 1)
                requirement = _pip_line(written, where._replace(col=where.col + found.start("requirement")), problems)
                if requirement:
                    pip.append(requirement)
                    pip_where.append(where)
            elif number in continued:
                continue
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
        other = _OTHER_SUBDIR.search(line.partition("#")[0])
        if other and other.group(1) not in (subdir, "noarch") and not foreign:
            foreign.append(error(where._replace(col=where.col + other.start(1)), f"a package for {other.group(1)} in a lock for an "
                                 f"image whose conda platform is {subdir}: conda would install it unchecked and it would not "
                                 f"run there; create the lock on {subdir} (`conda-lock -p {subdir}`, or `conda list "
                                 f"--explicit --md5` there), or build for {other.group(1)} (base.platform in an envc spec)"))
        if hashed is None:
            unhashed.append(where)
        elif hashed == "sha256":
            sha256.append(where)
        if name == "python" and python is None:
            python = where
    if problems or foreign:
        raise SpecError(problems + foreign)
    return Lock(tuple(lines), tuple(pip), tuple(pip_where), tuple(unhashed), tuple(sha256), python, tuple(notes))


def _unwritable(text: str, credentials: str):
    """(offset, message) of what in a lock's line or value must not reach the Dockerfile, or None: a URL's
    `user:password@`, in a conda one an anaconda.org token, or a secret query parameter (first, so no message
    echoes the secret), or a control character, which no Dockerfile line can carry."""
    found = URL_CREDENTIALS.search(text)
    if found:
        return found.start() + found.group().index("://") + 3, credentials
    token = conda_token(text) if credentials is _CONDA_CREDENTIALS else None
    if token:
        return token.end() - len(token.group().rpartition("/t/")[2]), _CONDA_TOKEN
    secret = url_secret_parameter(text)
    if secret:
        return secret.end() - len(re.split(r"[?&]", secret.group())[-1]), _QUERY_SECRET  # at the parameter's name
    bad = unrepresentable(text)
    if bad is not None:
        return text.index(bad), f"control character {bad!r}: a lock is written into the Dockerfile line by line; remove it"
    return None


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


def _continued(requirement: str, following: list) -> tuple:
    """(the requirement, whether the next line was joined to it): a `# pip NAME @ URL \\` line with the
    `# pip --hash=sha256:HEX` line after it, as conda-lock before 1.0 wrote a pip package (`conda-lock install`
    hands both to pip, whose -r file joins them)."""
    nxt = re.fullmatch(r"# pip\s+(--hash\S*)", following[0].strip()) if following and requirement.endswith("\\") else None
    if nxt is None:
        return requirement, False
    return f"{requirement[:-1].rstrip()} {nxt.group(1)}", True


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


def _pip_name(name) -> bool:
    """Whether name is a project name alone (PEP 508), so `NAME @ URL` is one requirement and nothing more."""
    from envc.common.package_specs import SIMPLE_REQUIREMENT

    found = SIMPLE_REQUIREMENT.fullmatch(name) if isinstance(name, str) else None
    return found is not None and found["name"] == name


def _unified(path: str, platform: str) -> Lock:
    from envc.core.yaml_source import load_yaml

    doc = load_yaml(path)
    packages = doc.data.get("package")
    if not isinstance(packages, list):
        raise SpecError([error(doc.at(()), "not a conda-lock file: expected a `package:` list (conda-lock's unified format)")])
    explicit, pip, pip_where, problems, found, python = ["@EXPLICIT"], [], [], [], False, None
    installed, extras, seen = set(), {}, set()
    for i, package in enumerate(packages):
        where = doc.at(("package", i))
        if not isinstance(package, dict) or package.get("platform") != platform:
            continue
        found = True
        category = package.get("category", "main")
        if category not in INSTALLED_CATEGORIES:
            extras.setdefault(str(category), set()).add(package.get("name"))
            continue
        installed.add(package.get("name"))
        if isinstance(package.get("hash"), str):  # once for the file: every package of such a lock has it
            raise SpecError([error(doc.at(("package", i, "hash")), "a hash written as one string ('md5:…') is the form of "
                                   "conda-lock's pre-release locks, which conda-lock itself no longer reads (it expects md5: "
                                   "and sha256: keys): recreate the lock with a current conda-lock")])
        line = _locked_line(package, lambda *key: doc.at(("package", i, *key)), problems)
        if line is None or line in seen:  # conda-lock writes a package once per category it is in
            continue
        seen.add(line)
        if package["manager"] == "pip":
            pip.append(line)
            pip_where.append(where)
            continue
        explicit.append(line)
        if package.get("name") == "python" and python is None:
            python = where
    if not found:
        problems.append(error(doc.at(()), f"locks no package for {platform} (the image's platform): lock it with `conda-lock -p {platform}`"))
    if problems:
        raise SpecError(problems)
    return Lock(tuple(explicit), tuple(pip), tuple(pip_where), (), (), python, _extras_left_out(doc, extras, installed))


def _extras_left_out(doc, extras: dict, installed: set) -> tuple:
    """A warning naming the extra categories (`conda-lock -e NAME`) whose packages are not installed, or none."""
    left_out = {category: names - installed for category, names in extras.items() if names - installed}
    if not left_out:
        return ()
    count = len(set().union(*left_out.values()))
    return (warning(doc.at(()), f"{count} package{'s' if count > 1 else ''} of the extra categor"
                                f"{'ies' if len(left_out) > 1 else 'y'} {', '.join(sorted(left_out))} "
                                f"{'are' if count > 1 else 'is'} left out, as `conda-lock install` leaves them out unless "
                                "asked with -e NAME (main and dev are installed): lock them as main or dev to install them"),)


def _locked_line(package: dict, at, problems: list):
    """The explicit-list line of a conda-lock.yml conda package, or the requirement line of a pip one, or None
    with the problem appended; at(*keys) locates the package's values. Every value written is checked."""
    url, hashes, manager = package.get("url"), package.get("hash") or {}, package.get("manager")
    source = package.get("source") if isinstance(package.get("source"), dict) else {}
    if manager == "pip" and source.get("type") == "url" and isinstance(url, str) and not url.startswith("https://"):
        problems.append(error(at("url"), f"'{package.get('name')}' is locked from {url.split(':', 1)[0]}, which conda-lock installs "
                                         "unhashed; envc installs a lock's pip packages hash-checked, which cannot include it: "
                                         "list it in pip.packages instead (name @ url, the commit in the url pins it)"))
        return None
    if not isinstance(url, str) or not isinstance(hashes, dict) or not url.startswith("https://"):
        problems.append(error(at(), "a locked package needs an https url and a hash"))
        return None
    unwritable = _unwritable(url, _PIP_CREDENTIALS if manager == "pip" else _CONDA_CREDENTIALS)
    if unwritable:
        problems.append(error(at("url")._replace(col=at("url").col + unwritable[0]), unwritable[1]))
        return None
    if manager == "conda" and hashes.get("md5"):
        if not (isinstance(hashes["md5"], str) and len(hashes["md5"]) == 32 and _HEX.fullmatch(hashes["md5"])):
            problems.append(error(at("hash", "md5"), "an md5 is 32 lowercase hex digits: recreate the lock with conda-lock"))
            return None
        return f"{url}#{hashes['md5']}"
    if manager == "pip" and hashes.get("sha256"):
        if not (isinstance(hashes["sha256"], str) and len(hashes["sha256"]) == 64 and _HEX.fullmatch(hashes["sha256"])):
            problems.append(error(at("hash", "sha256"), "a sha256 is 64 lowercase hex digits: recreate the lock with conda-lock"))
            return None
        if not _pip_name(package.get("name")):
            problems.append(error(at("name"), f"'{package.get('name')}' is not a pip package name: conda-lock writes the "
                                              "project's name alone; recreate the lock with conda-lock"))
            return None
        return f"{package['name']} @ {url} --hash=sha256:{hashes['sha256']}"
    problems.append(error(at(), "a locked package needs manager conda with an md5, or pip with a sha256"))
    return None
