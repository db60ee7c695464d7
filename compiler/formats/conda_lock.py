"""Conda lock files: an explicit list (@EXPLICIT) or conda-lock's unified conda-lock.yml.

Both become the explicit list conda and micromamba install with no solver; conda-lock's pip
packages become pinned, hashed requirement lines for the pip layer.
"""
from __future__ import annotations

import os
import re
from collections import namedtuple

from envc.common.diagnostics import Location, SpecError, error

PLATFORMS = {"linux/amd64": "linux-64", "linux/arm64": "linux-aarch64", "linux/arm64/v8": "linux-aarch64",
             "linux/ppc64le": "linux-ppc64le", "linux/s390x": "linux-s390x"}
_EXPLICIT = re.compile(r"^@EXPLICIT\s*$", re.M)


class Lock(namedtuple("Lock", "explicit pip_lines")):
    """explicit: lines of an @EXPLICIT file; pip_lines: `name @ url --hash=sha256:...` lines from conda-lock's pip packages."""

    __slots__ = ()


def read_lock(path: str, display: str, platform: str | None) -> Lock:
    """The lock at path for the image's platform (linux-64 unless base.platform says otherwise)."""
    if os.path.splitext(path)[1] in (".yml", ".yaml"):
        return _unified(path, PLATFORMS.get(platform or "linux/amd64", "linux-64"))
    with open(path, encoding="utf-8", errors="replace") as handle:
        text = handle.read()
    if not _EXPLICIT.search(text):
        raise SpecError([error(Location(display), "is not an explicit lock file (no @EXPLICIT line): create one with "
                                                  "`conda list --explicit --md5` or conda-lock")])
    return Lock(tuple(text.splitlines()), ())


def _unified(path: str, platform: str) -> Lock:
    from envc.core.yaml_source import load_yaml

    doc = load_yaml(path)
    packages = doc.data.get("package")
    if not isinstance(packages, list):
        raise SpecError([error(doc.at(()), "not a conda-lock file: expected a `package:` list (conda-lock's unified format)")])
    explicit, pip, problems, found = ["@EXPLICIT"], [], [], False
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
            explicit.append(f"{url}#{hashes['md5']}")
        elif package.get("manager") == "pip" and hashes.get("sha256"):
            pip.append(f"{package.get('name')} @ {url} --hash=sha256:{hashes['sha256']}")
        else:
            problems.append(error(where, "a locked package needs manager conda with an md5, or pip with a sha256"))
    if not found:
        problems.append(error(doc.at(()), f"locks no package for {platform} (the image's platform): lock it with `conda-lock -p {platform}`"))
    if problems:
        raise SpecError(problems)
    return Lock(tuple(explicit), tuple(pip))
