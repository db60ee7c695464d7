"""Reader of conda environment.yml files (name, channels, dependencies with a pip: list, variables).

Files written for conda-lock are read too: its keys are ignored with a warning, as conda ignores
every section it does not know, and its `# [linux64]` selectors are applied for the image's platform.
"""
from __future__ import annotations

import re

from envc.common.diagnostics import Location, SpecError, closest, error, warning
from envc.common.image_paths import PREFIX
from envc.common.paths import stem
from envc.core.document import Document, environment_name, remap

CONDA_KEYS = {"name", "channels", "dependencies", "variables", "prefix"}
USED_KEYS = CONDA_KEYS - {"prefix"}  # the keys that change what envc builds
# conda-lock's keys (conda_lock/src_parser/environment_yaml.py) and why envc, like conda, ignores each.
CONDA_LOCK_KEYS = {
    "platforms": "conda-lock's list of platforms to lock for: envc ignores it, as conda does, and builds for {platform}",
    "allow-pypi-requests": "conda-lock's switch for resolving pip packages on PyPI: envc ignores it, as conda does; "
                           "pip installs from PyPI unless the pip: list names an index (- --index-url URL)",
    "pip-repositories": "conda-lock's extra pip indexes: envc ignores them, as conda does, so pip does not search them: "
                        "add `- --extra-index-url URL` to the pip: list instead",
    "category": "conda-lock's category of these dependencies: envc ignores it, as conda does, and installs every dependency",
}
# conda-lock's selectors: one name from this table, per platform (conda_lock/src_parser/selectors.py).
SELECTORS = {
    "linux-64": {"linux64", "unix", "linux"},
    "linux-aarch64": {"aarch64", "unix", "linux"},
    "linux-ppc64le": {"ppc64le", "unix", "linux"},
    "linux-s390x": {"s390x", "unix", "linux"},
    # conda-lock has no row for the other Linux subdirs (it cannot lock them): the names of its table that hold there.
    **{platform: {"unix", "linux"} for platform in ("linux-32", "linux-armv6l", "linux-armv7l", "linux-ppc64", "linux-riscv64")},
    "osx-64": {"osx64", "osx", "unix"},
    "osx-arm64": {"arm64", "osx", "unix"},
    "win-64": {"win", "win64"},
}
SELECTOR_NAMES = set().union(*SELECTORS.values())
# conda-build's platform names (define-metadata.html#preprocessing-selectors) and those true on each platform.
PLATFORM_NAMES = {"linux", "linux32", "linux64", "unix", "osx", "osx64", "arm64", "win", "win32", "win64", "x86",
                  "x86_64", "aarch64", "ppc64le", "s390x", "armv6l", "armv7l", "arm", "ppc64", "riscv64"}
TRUE_NAMES = {
    "linux-64": {"linux", "linux64", "unix", "x86", "x86_64"},
    "linux-aarch64": {"linux", "unix", "aarch64"},
    "linux-ppc64le": {"linux", "unix", "ppc64le"},
    "linux-s390x": {"linux", "unix", "s390x"},
    "linux-32": {"linux", "linux32", "unix", "x86"},
    "linux-armv6l": {"linux", "unix", "arm", "armv6l"},
    "linux-armv7l": {"linux", "unix", "arm", "armv7l"},
    "linux-ppc64": {"linux", "unix", "ppc64"},
    "linux-riscv64": {"linux", "unix", "riscv64"},
}
# What conda's YAML 1.2 reader (ruamel.yaml, resolver.py's (1, 2) implicit resolvers) reads as other than a string:
# a plain `yes`, `on` or `12:30:00`, which PyYAML (YAML 1.1) reads as a boolean or a number, is a string to conda;
# a plain `0o17` or `1e3`, which PyYAML reads as strings, are numbers to conda (and `1_000` to both). ruamel tries
# these resolvers only on a value whose first character is one they list (so `_1` stays a string).
YAML12_NOT_STRING = (r"(?=[-+0-9.~nNtTfF])(?:~|null|Null|NULL|true|True|TRUE|false|False|FALSE"
                      r"|[-+]?0b[0-1_]+|[-+]?0o?[0-7_]+|[-+]?[0-9_]+|[-+]?0x[0-9a-fA-F_]+"
                      r"|[-+]?[0-9][0-9_]*\.[0-9_]*(?:[eE][-+]?[0-9]+)?|[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+"
                      r"|[-+]?\.[0-9_]+(?:[eE][-+][0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))")  # compiled when used (re caches it)
_SELECTOR = re.compile(r"#.*\[([^\[\]]+)\][^()]*$")  # conda-lock's pattern, on the comment alone
_LINE_BREAK = re.compile(r"\r\n|[\r\n\x85\u2028\u2029]")  # the line breaks YAML counts


class PlatformNeeded(SpecError):
    """A platform selector in a file read for an image whose platform has no conda subdir (platform None):
    located at the selector; envc's spec reader reports it at base.platform, the value to change."""

    def __init__(self, where: Location, condition: str):
        self.selector = f"the selector [{condition}] at {where}"
        super().__init__([error(where, f"selector [{condition}] needs the image's conda platform, and it has none")])


def from_conda(doc: Document, platform: str | None = "linux-64", text: str | None = None) -> Document:
    """A conda environment.yml: name/channels/dependencies (with pip:), variables -> env.

    platform: the conda platform the image runs (linux-64, linux-aarch64, ...), for selectors; None when
    it has none (linux/mips64le), so a platform selector is PlatformNeeded.
    text: the file's text when the caller has it (else it is read again from doc.path).

    Unknown top-level keys: conda drops them with a warning ("EnvironmentSectionNotValid ... will be
    ignored") and so does envc, with a located warning, so files written for conda-lock and other tools
    compile. The exception is a key that looks like a misspelling of a key envc uses (`dependancies`,
    `chanels`, `variable`): ignoring it would build a different environment than the one the author
    wrote down, silently, so that is an error with a did-you-mean. A misspelling of a key that is
    ignored anyway (`prefx`, `platfroms`) stays a warning: ignoring it changes nothing.
    """
    problems, notes = [], []
    for key in doc.data:
        if key in CONDA_KEYS:
            continue
        where = doc.key_at((key,))
        if key in CONDA_LOCK_KEYS:
            builds_for = platform or "the image's platform"
            message = f"'{key}' is {CONDA_LOCK_KEYS[key].format(platform=builds_for)}"
            if key == "platforms" and isinstance(doc.data[key], list) and platform and platform not in doc.data[key]:
                message += f", which the list does not name: check that the file is meant for {platform}"
            notes.append(warning(where, message))
            continue
        match = closest(key.lower(), CONDA_KEYS | set(CONDA_LOCK_KEYS))
        if match in USED_KEYS:
            problems.append(error(where, f"unknown key '{key}' in a conda environment file (did you mean '{match}'?): conda would "
                                         "ignore it and build a different environment, so envc refuses it: correct the key"))
        else:
            hint = f" (did you mean '{match}'? envc ignores that too)" if match else ""
            notes.append(warning(where, f"unknown key '{key}' in a conda environment file{hint}: ignored, as conda ignores it"))
    if problems:
        raise SpecError(problems)
    if "prefix" in doc.data:
        notes.append(warning(doc.key_at(("prefix",)), f"'prefix' is ignored: envc installs the environment at {PREFIX} inside the image"))
    doc = _apply_selectors(doc, platform, text, notes)
    conda = {k: doc.data[k] for k in ("channels", "dependencies") if k in doc.data}
    if "dependencies" in conda:
        conda["dependencies"] = _dependencies(doc, notes)
    data = {"name": environment_name(doc.data.get("name"), stem(doc.path)), "conda": conda}
    moves = {("name",): ("name",), ("channels",): ("conda", "channels"), ("dependencies",): ("conda", "dependencies")}
    numbers = []  # reported with the file's other errors (a schema error elsewhere) rather than alone
    if "variables" in doc.data:
        data["env"] = _variables(doc, moves, notes, text, numbers)
        moves[("variables",)] = ("env",)
    moved = remap(doc, data, moves, tuple(sorted(notes)))
    return moved._replace(errors=moved.errors + tuple(numbers)) if numbers else moved


def _dependencies(doc: Document, notes: list):
    """The dependencies as conda reads them: an empty `dependencies:` or `- pip:` is an empty list
    (conda/env/env.py: `data.get("dependencies") or []`, and an empty pip list is deleted, pip itself kept)."""
    dependencies = doc.data["dependencies"]
    if dependencies is None:
        notes.append(warning(doc.key_at(("dependencies",)), "'dependencies' is empty: there is nothing to install (conda would create an empty environment)"))
        return []
    if not isinstance(dependencies, list):
        return dependencies
    read, problems = [], []
    for i, item in enumerate(dependencies):
        for key in item if isinstance(item, dict) else ():
            if key != "pip":
                problems.append(error(doc.key_at(("dependencies", i, key)), _not_an_installer(key)))
        if isinstance(item, str) and "#" in item and not item.lstrip().startswith("#"):
            item = _without_comment(doc, i, item, notes)
        if isinstance(item, str) and ":" in item and "::" not in item:
            item = _without_namespace(doc, i, item, notes)
        if isinstance(item, dict) and "pip" in item and item["pip"] is None:
            notes.append(warning(doc.key_at(("dependencies", i, "pip")), "'pip:' lists nothing: conda installs pip and no pip packages"))
            item = {**item, "pip": []}
        read.append(item)
    if problems:
        raise SpecError(problems)
    return read


# `bioconda:bcftools=1.20` (nf-core/modules): one colon, before the name, outside brackets and URLs. Compiled
# only for a spec with a colon (re caches it): compiling costs every conda file's start-up ~0.2 ms.
_NAMESPACE = r"\s*(?P<namespace>[A-Za-z0-9_.\-/]+):(?!:)(?P<spec>[A-Za-z0-9_][^:\[]*(?:\[.*)?)$"


def _without_namespace(doc: Document, i: int, item: str, notes: list) -> str:
    """A package written `channel:name` (one colon) as conda reads it: the part before the colon is a namespace,
    which conda ignores (conda/models/match_spec.py, _parse_spec_str: `spec_str.rsplit(":", 2)`), not a channel.
    Any other colon (a URL, a version) is left to the spec's parser."""
    found = re.match(_NAMESPACE, item)
    if found is None:
        return item
    notes.append(warning(doc.at(("dependencies", i)), f"conda reads '{found['namespace']}:' as a namespace, which it ignores, "
                                                      f"and installs '{found['spec'].strip()}' from the file's channels: "
                                                      f"write '{found['namespace']}::{found['spec'].strip()}' to take it "
                                                      f"from that channel"))
    return found["spec"].strip()


def _without_comment(doc: Document, i: int, item: str, notes: list) -> str:
    """A package spec with a `#` inside it (`numpy=1.26#pinned`: YAML needs a blank before a comment) as conda
    reads it: conda's MatchSpec drops everything from the first '#' (conda/models/match_spec.py, _parse_spec_str)."""
    spec, comment = item.split("#", 1)
    notes.append(warning(doc.at(("dependencies", i)), f"'#{comment}' is a comment to conda, which reads this package as "
                                                      f"'{spec.strip()}': put a blank before '#' to make it a YAML comment"))
    return spec.strip()


def _not_an_installer(key) -> str:
    """Why a `- KEY: [...]` dependency other than pip: is refused, in the author's terms."""
    if isinstance(key, str) and key.startswith("sel("):
        return (f"'{key}' is micromamba's selector, which conda refuses (it reads the key as an installer): write the "
                "package as a plain item with a `# [linux]` selector comment, which envc applies for the image's platform")
    return (f"'{key}:' is not a pip: list: conda hands such a list to an installer plugin named '{key}'; envc installs conda "
            "packages as plain items of dependencies and pip packages in a pip: list: move these there")


def _variables(doc: Document, moves: dict, notes: list, text: str | None, numbers: list):
    """`variables:` as conda sets them when the environment is activated: names upper-cased (conda's
    envvars_force_uppercase, on by default; micromamba too), PATH left out (conda's RESERVED_ENV_VARS: it
    would replace the image's PATH, `$PATH` never expanded). Two names that are one upper-cased is an error; a
    value PyYAML reads as a string and conda as a number is appended to numbers."""
    variables = doc.data["variables"]
    if not isinstance(variables, dict):
        return variables
    kept, problems = {}, []
    for name, value in variables.items():
        where = doc.key_at(("variables", name))
        upper = name.upper() if isinstance(name, str) else name
        if upper == "PATH":
            notes.append(warning(where, f"'{name}' is left out, as conda leaves it out: a conda environment cannot set PATH (its "
                                        "value would replace the image's PATH, `$PATH` unexpanded); the environment's bin "
                                        "folder is already first on PATH"))
            continue
        if upper in kept:
            first = next(other for other in variables if isinstance(other, str) and other.upper() == upper)
            problems.append(error(where, f"'{name}' and '{first}' are one variable, {upper}: conda upper-cases variable names; "
                                         "keep one"))
            continue
        if upper != name:
            notes.append(warning(where, f"'{name}' is set as {upper}: conda upper-cases variable names"))
            moves[("variables", name)] = ("env", upper)
        raw = doc.raw_scalars.get(("variables", name))
        if isinstance(value, str) and re.fullmatch(YAML12_NOT_STRING, value) and _plain(doc, ("variables", name), text):
            numbers.append(error(doc.at(("variables", name)), f"'{value}' is a number to conda, which reads the file as YAML "
                                                               f"1.2: quote it (\"{value}\") to keep it exactly as written"))
            continue
        kept[upper] = raw if not isinstance(value, str) and isinstance(raw, str) and raw and not re.fullmatch(YAML12_NOT_STRING, raw) else value
    if problems:
        raise SpecError(problems)
    return kept


def _plain(doc: Document, path, text: str | None) -> bool:
    """Whether the value at path is written unquoted and untagged: only such a scalar can be a number in YAML.
    (A quoted string is located at its first character, after the quote.)"""
    if text is None:
        from envc.core.yaml_source import read_text

        text = read_text(doc.path)
    where = doc.at(path)
    lines = _LINE_BREAK.split(text)
    line = lines[where.line - 1] if 0 < where.line <= len(lines) else ""
    at, before = line[where.col - 1:where.col], line[where.col - 2:where.col - 1] if where.col > 1 else ""
    return bool(at) and at not in "'\"!|>" and before not in ("'", '"')


def _apply_selectors(doc: Document, platform: str, text, notes: list) -> Document:
    """doc without the channels, dependencies and pip lines whose `# [selector]` comment leaves them out on platform.

    conda and micromamba read these comments as plain YAML comments and install every line on every
    platform; conda-lock keeps a line when the bracket holds one name of its table for the platform
    and drops it otherwise (`# [not win]` and `# [linux and x86_64]` everywhere). envc applies the
    table as conda-lock does; other expressions over platform names it evaluates as conda-build
    would (what the author meant, where conda-lock would drop the line); anything else (`# [py<38]`)
    cannot be decided here, so the line is installed, as conda installs it. Both are warnings.
    """
    items = []  # (path, value) of every list item a selector can apply to; conda-lock filters no channel
    for key in ("dependencies",):
        if isinstance(doc.data.get(key), list):
            for i, item in enumerate(doc.data[key]):
                items.append(((key, i), item))
                pip = item.get("pip") if isinstance(item, dict) else None
                items += [((key, i, "pip", j), line) for j, line in enumerate(pip)] if isinstance(pip, list) else []
    if not items:
        return doc
    if text is None:
        from envc.core.yaml_source import read_text

        try:
            text = read_text(doc.path)
        except (SpecError, OSError):
            return doc
    if "[" not in text:  # no selector anywhere: the common case, answered without splitting the file
        return doc
    lines = _LINE_BREAK.split(text)
    dropped = set()
    for path, item in items:
        where = doc.at(path)
        if path not in doc.locations or not 0 < where.line <= len(lines):
            continue
        line = lines[where.line - 1]
        comment = _comment(line, where.col - 1)
        found = _SELECTOR.match(line, comment) if comment is not None else None
        if found is None:
            continue
        at = Location(where.file, where.line, comment + 1)
        condition = found.group(1)
        if isinstance(item, dict):
            notes.append(warning(at, f"selector [{condition}] on the pip: entry is not applied: put it on each pip line"))
            continue
        keep = _keep(at, f"'{item}'", condition, platform, notes)
        if not keep:
            dropped.add(path)
    for path, item in items:  # a pip: list whose every line is left out goes too (conda-lock adds no pip then)
        if len(path) == 2 and isinstance(item, dict) and isinstance(item.get("pip"), list) and item["pip"] \
                and all(path + ("pip", j) in dropped for j in range(len(item["pip"]))):
            dropped.add(path)
    return _without(doc, dropped) if dropped else doc


def _keep(at: Location, what: str, condition: str, platform: str, notes: list) -> bool:
    """Whether the line with this selector is installed on platform (warnings appended to notes)."""
    if platform is None and (condition in SELECTOR_NAMES or _evaluate(condition, set()) is not None):
        raise PlatformNeeded(at, condition)
    if condition in SELECTOR_NAMES:  # conda-lock's own form
        if condition in SELECTORS.get(platform, ()):
            return True
        notes.append(warning(at, f"{what} is left out: its selector [{condition}] does not match {platform} "
                                 "(conda-lock's selectors; conda itself would install it everywhere)"))
        return False
    value = _evaluate(condition, TRUE_NAMES.get(platform, set()))
    if value is None:
        notes.append(warning(at, f"selector [{condition}] is not a platform selector: envc installs {what}, as conda does "
                                 "(conda-lock would leave it out on every platform): remove the package or the comment"))
        return True
    verdict = "installs" if value else "leaves out"
    notes.append(warning(at, f"selector [{condition}] is not a single name conda-lock reads, such as [linux64] or [unix] (conda-lock "
                             f"leaves the line out on every platform; conda ignores selectors): envc evaluates it as conda-build "
                             f"does and {verdict} {what} on {platform}"))
    return value


def _evaluate(condition: str, true_names: set):
    """True/False for an expression of platform names with and/or/not and parentheses, None for anything else."""
    tokens = re.findall(r"\w+|\S", condition)
    if not tokens or any(t not in PLATFORM_NAMES and t not in ("and", "or", "not", "(", ")") for t in tokens):
        return None
    position = 0

    def peek():
        return tokens[position] if position < len(tokens) else None

    def take():
        nonlocal position
        position += 1
        return tokens[position - 1]

    def either():
        value = both()
        while peek() == "or":
            take()
            value = both() or value
        return value

    def both():
        value = negation()
        while peek() == "and":
            take()
            value = negation() and value
        return value

    def negation():
        if peek() == "not":
            take()
            return not negation()
        token = take() if peek() is not None else None
        if token == "(":
            value = either()
            if peek() != ")":
                raise ValueError
            take()
            return value
        if token in PLATFORM_NAMES:
            return token in true_names
        raise ValueError

    try:
        value = either()
    except ValueError:
        return None
    return value if position == len(tokens) else None


def _comment(line: str, start: int):
    """Index of the `#` of the YAML comment after the scalar starting at start (0-based), or None."""
    if 0 < start <= len(line) and line[start - 1] in "'\"":  # a quoted scalar: its text ends at the closing quote
        quote, i = line[start - 1], start
        while i < len(line):
            if quote == "'" and line[i] == "'" and line[i + 1:i + 2] == "'":
                i += 2
            elif quote == '"' and line[i] == "\\":
                i += 2
            elif line[i] == quote:
                break
            else:
                i += 1
        start = i + 1
    found = re.search(r"(?:^|\s)#", line[start:])
    return None if found is None else start + found.end() - 1


def _without(doc: Document, dropped: set) -> Document:
    """doc without the list items at the dropped paths: later items move up, and their locations with them."""
    from bisect import bisect_left

    by_list = {}  # path of a list -> the sorted indexes dropped from it
    for path in sorted(dropped):
        by_list.setdefault(path[:-1], []).append(path[-1])

    def renumber(path):
        out = []
        for n, step in enumerate(path):
            if isinstance(step, int) and not isinstance(step, bool) and path[:n] in by_list:
                if path[:n + 1] in dropped:
                    return None
                step -= bisect_left(by_list[path[:n]], step)
            out.append(step)
        return tuple(out)

    def table(old):
        new = {}
        for path, value in old.items():
            path = renumber(path)
            if path is not None:
                new[path] = value
        return new

    def copy(value, path):
        if isinstance(value, list):
            return [copy(v, path + (i,)) for i, v in enumerate(value) if path + (i,) not in dropped]
        if isinstance(value, dict):
            return {k: copy(v, path + (k,)) for k, v in value.items()}
        return value

    return doc._replace(data=copy(doc.data, ()), locations=table(doc.locations), key_locations=table(doc.key_locations),
                        raw_scalars=table(doc.raw_scalars))
