"""conda-lock's environment.yml parser, run in its own venv for tests/test_conda_oracle.py.

Reads a JSON request on stdin and writes a JSON list of results, one per job, on stdout:

    {"mapping": "EMPTY.json", "jobs": [{"kind": "env", "path": "environment.yml", "platform": "linux-64"},
                                      {"kind": "requirement", "line": "requests==2.31"}]}

`env`: conda-lock 4.0.3's `parse_environment_file(path, [platform], mapping_url)`
(conda_lock/src_parser/environment_yaml.py) over the file, with the two places where conda-lock cannot
stand in for conda accounted for in the text it is given, each reported:

- Selectors conda-lock drops everywhere. `filter_platform_selectors` (conda_lock/src_parser/selectors.py)
  keeps a `# [x]` line only when `x` is one name of its table for the platform, so `# [not win]`,
  `# [linux and x86_64]` or `# [py<38]` leave the line out on every platform. Such a line of the
  dependencies (the one conda-lock drops on all six of its platforms; the channels it never filters) is
  decided here as conda-build decides a selector, over
  conda-build's platform names (conda_build/metadata.py `ns_cfg`): true -> the selector comment is
  removed, so conda-lock keeps the line; false -> the line is removed. An expression over anything else
  (`py<38`) cannot be decided for an environment file: conda reads these comments as plain YAML
  comments (conda/env/env.py `from_yaml`: yaml, no preprocessing) and installs the line, so it is kept.
- pip lines conda-lock cannot read. environment_yaml.py hands every pip line to `parse_python_requirement`
  (src_parser/pyproject_toml.py), which raises InvalidRequirement on pip's options (`--index-url URL`,
  `-r FILE`, `--pre`), plain paths and URLs with a comment, and so refuses the whole file. conda writes the
  pip list to a requirements file for `pip install -r` (conda/env/installers/pip.py), where these are
  legal. Each such line is taken out of the text conda-lock reads and reported as written, in order, so
  the test reads it as pip does. `-e` lines conda-lock skips itself (with a warning); they are reported too.

`requirement`: `parse_python_requirement(line, manager="pip")`, the function conda-lock reads pip lines with.

Stdlib, PyYAML and conda-lock only: this runs with the conda-lock venv's interpreter.
"""
from __future__ import annotations

import ast
import json
import logging
import pathlib
import re
import sys
import tempfile

import yaml
from conda_lock._vendor.conda.models.match_spec import MatchSpec
from conda_lock.src_parser.environment_yaml import parse_environment_file
from conda_lock.src_parser.markers import evaluate_marker
from conda_lock.src_parser.pyproject_toml import parse_python_requirement
from conda_lock.src_parser.selectors import filter_platform_selectors

# The platforms of filter_platform_selectors' table (conda_lock/src_parser/selectors.py, platform_sel).
CONDA_LOCK_PLATFORMS = ("linux-64", "linux-aarch64", "linux-ppc64le", "osx-64", "osx-arm64", "win-64")
# filter_platform_selectors' pattern (conda_lock/src_parser/selectors.py, sel_pat), to read the condition.
SELECTOR = re.compile(r"(.+?)\s*(#.*)\[([^\[\]]+)\](?(2)[^\(\)]*)$")
EDITABLE = re.compile(r"^-e .*$")  # conda_lock/src_parser/environment_yaml.py: skipped with a warning
NON_X86 = ("armv6l", "armv7l", "arm64", "aarch64", "ppc64", "ppc64le", "s390x")  # conda_build's non_x86_machines


def conda_build_names(platform: str) -> dict:
    """conda-build's selector names and their values on platform (conda_build/metadata.py ns_cfg)."""
    names = dict(linux=platform.startswith("linux-"), linux32=platform == "linux-32", linux64=platform == "linux-64",
                 arm=platform.startswith("linux-arm"), osx=platform.startswith("osx-"),
                 unix=platform.startswith(("linux-", "osx-")), win=platform.startswith("win-"),
                 win32=platform == "win-32", win64=platform == "win-64", x86=platform.endswith(("-32", "-64")),
                 x86_64=platform.endswith("-64"))
    names.update({machine: platform.endswith("-" + machine) for machine in NON_X86})
    return names


def evaluate(condition: str, platform: str):
    """True/False for an and/or/not expression of conda-build's platform names, None for anything else."""
    names = conda_build_names(platform)
    try:
        tree = ast.parse(condition.strip(), mode="eval").body
    except SyntaxError:
        return None

    def value(node):
        if isinstance(node, ast.Name) and node.id in names:
            return names[node.id]
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            inner = value(node.operand)
            return None if inner is None else not inner
        if isinstance(node, ast.BoolOp):
            values = [value(v) for v in node.values]
            if None in values:
                return None
            return all(values) if isinstance(node.op, ast.And) else any(values)
        return None

    return value(tree)


def dependency_lines(text: str) -> range:
    """The (0-based) lines of the `dependencies:` list: the only part conda-lock filters with selectors
    (parse_environment_file reads `channels` from the unfiltered text)."""
    root = yaml.compose(text)
    for key, value in root.value if isinstance(root, yaml.MappingNode) else ():
        if key.value == "dependencies":
            return range(value.start_mark.line, value.end_mark.line + 1)
    return range(0)


def account_selectors(text: str, platform: str) -> tuple[str, list]:
    """text with each line conda-lock would drop on every platform decided as conda-build does (see above)."""
    lines, decided, dependencies = [], [], dependency_lines(text)
    for number, line in enumerate(text.splitlines(), 1):
        found = SELECTOR.match(line)
        everywhere = (found is not None and number - 1 in dependencies and not line.lstrip().startswith("#")
                      and not any(list(filter_platform_selectors(line, platform=p)) for p in CONDA_LOCK_PLATFORMS))
        if not everywhere:
            lines.append(line)
            continue
        condition = found.group(3)
        verdict = evaluate(condition, platform)
        decided.append({"line": number, "text": line, "condition": condition,
                        "verdict": {True: "kept", False: "dropped", None: "kept (not a platform expression)"}[verdict]})
        if verdict is False:
            continue
        lines.append(found.group(1))  # the line without its selector comment: conda-lock keeps it
    return "\n".join(lines) + "\n", decided


def pip_items(text: str, platform: str) -> tuple[list, int]:
    """((line number, pip line, which pip: mapping) of each pip line conda-lock's selector filter keeps on
    platform, how many `pip:` mappings the dependencies hold)."""
    root, data, lines = yaml.compose(text), yaml.safe_load(text), text.splitlines()
    items, mappings = [], 0
    if not isinstance(root, yaml.MappingNode) or not isinstance(data, dict):
        return items, mappings
    nodes = dict((key.value, value) for key, value in root.value)
    for node, dep in zip(getattr(nodes.get("dependencies"), "value", ()), data.get("dependencies") or ()):
        if not isinstance(dep, dict) or "pip" not in dep:
            continue
        mappings += 1
        if not isinstance(dep["pip"], list):
            continue
        pip_node = next(value for key, value in node.value if key.value == "pip")
        for item, line in zip(pip_node.value, dep["pip"]):
            number = item.start_mark.line
            if list(filter_platform_selectors(lines[number], platform=platform)):
                items.append((number, line, mappings - 1))
    return items, mappings


def read_env(path: str, platform: str, mapping: str) -> dict:
    text = pathlib.Path(path).read_text()
    text, decided = account_selectors(text, platform)
    lines = text.splitlines()
    pip_lines, unreadable = [], set()
    items, pip_keys = pip_items(text, platform)
    for number, line, which in items:
        if not isinstance(line, str):
            raise ValueError(f"pip line {number + 1} is not a string: {line!r}")
        if EDITABLE.match(line):
            pip_lines.append({"kind": "editable", "line": line, "mapping": which})
            continue
        try:
            dep = parse_python_requirement(line, manager="pip", mapping_url=mapping)
        except Exception as exc:  # InvalidRequirement and the like: conda-lock would refuse the whole file
            stripped = lines[number].strip()
            if not stripped.startswith("-") or yaml.safe_load(stripped) != [line]:
                raise ValueError(f"pip line {number + 1} shares its line with other YAML: {lines[number]!r}") from None
            unreadable.add(number)
            pip_lines.append({"kind": "unreadable", "line": line, "mapping": which,
                              "why": f"{type(exc).__name__}: {exc}".splitlines()[0]})
            continue
        pip_lines.append({"kind": "requirement", "line": line, "mapping": which, "dep": dep.model_dump(mode="json"),
                          "kept": evaluate_marker(dep.markers, platform)})
    # The pip: mappings conda-lock reads before any line is taken out (taking out every line of one would
    # leave `pip: null`, for which conda-lock appends no `pip`).
    before = yaml.safe_load("\n".join(filter_platform_selectors(text, platform=platform))) or {}
    mappings = sum(isinstance(x, dict) and x.get("pip") is not None for x in before.get("dependencies") or [])
    given = "\n".join(line for number, line in enumerate(lines) if number not in unreadable) + "\n"
    with tempfile.TemporaryDirectory() as folder:
        file = pathlib.Path(folder) / pathlib.Path(path).name
        file.write_text(given)
        spec = parse_environment_file(file, [platform], mapping_url=mapping)
        # The channels as conda-lock's own yaml.safe_load reads them, before it removes 'nodefaults'.
        raw_channels = (yaml.safe_load(given) or {}).get("channels") or []
        # How many conda dependencies are the file's own strings: conda-lock appends one conda `pip` per
        # pip: mapping after them (environment_yaml.py, "ensure pip is in target env").
        filtered = yaml.safe_load("\n".join(filter_platform_selectors(given, platform=platform)))
    deps = spec.dependencies[platform]
    conda = [d.model_dump(mode="json") for d in deps if d.manager == "conda"]
    pip = [d.model_dump(mode="json") for d in deps if d.manager == "pip"]
    own = [x for x in filtered.get("dependencies") or [] if isinstance(x, str)]
    expected_pip = [item["dep"] for item in pip_lines if item["kind"] == "requirement" and item["kept"]]
    if pip != expected_pip:  # this reader's line-by-line view must be conda-lock's own
        raise AssertionError(f"conda-lock's pip list {pip} is not the reader's {expected_pip}")
    return {"channels": [c.model_dump(mode="json") for c in spec.channels], "raw_channels": raw_channels,
            "conda": conda, "own": len(own), "pip_mappings": mappings, "pip_keys": pip_keys, "pip": pip,
            # conda's own canonical form of each of the file's conda specs (the MatchSpec conda-lock reads them
            # with, conda_lock/src_parser/conda_common.py): it keeps what VersionedDependency drops, such as
            # the subdir of `conda-forge/linux-64::numpy`.
            "matchspecs": [str(MatchSpec(spec)) for spec in own], "pip_lines": pip_lines, "selectors": decided}


def main() -> None:
    logging.disable(logging.CRITICAL)  # filter_platform_selectors logs every line it drops
    request = json.load(sys.stdin)
    results = []
    for job in request["jobs"]:
        try:
            if job["kind"] == "env":
                result = read_env(job["path"], job["platform"], request["mapping"])
            else:
                result = {"dep": parse_python_requirement(job["line"], manager="pip", mapping_url=request["mapping"])
                          .model_dump(mode="json")}
        except Exception as exc:
            result = {"error": f"{type(exc).__name__}: {exc}"}
        results.append(result)
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
