"""conda-lock's environment.yml parser as an oracle for envc's conda stage (issue 12).

No conda channel is reachable here, so the conda stage is checked statically. Every conda environment file
of the goldens (environment.yml inputs, and the conda files envc specs, Azure ML v2 YAMLs and saved v1
folders reference), of tests/realworld (kind conda with expect compile, and the conda files of the v2
YAMLs and v1 folders that compile), of ../shared/corpus/azureml-examples, and of tests/data/conda_oracle
(synthetic: forms the real files use seldom) is compiled by envc in-process, as its spec names it (on
Azure ML's default image that is conda) and once more from a spec `conda: {file: ...}` on
ubuntu:22.04 for linux/arm64 (micromamba, and the linux-aarch64 selectors). What the Dockerfile asks
for is then compared, entry by entry, with what conda-lock 4.0.3 reads from the user's file for the
image's platform (linux-64 unless the base names another).

How the Dockerfile is read. The official parser (PyPI `dockerfile`, BuildKit's) gives each RUN; shlex
splits its shell text. The environment.yml envc writes during the build is the `printf '%s\\n' LINE...
> /tmp/envc-environment.yml` in the conda RUN, read by conda-lock like the user's; the conda command is
the `conda env create` / `micromamba create` after it (its `-c` channels too). The pip install's
arguments are read a group per line, as envc lays them out (the lines between the RUN's start and end),
and must be the words the official parse gives; requirements files named there are the printf'd files
of the same RUN.

What is compared (any difference fails, naming the file and the entry):
- conda dependencies, in order: conda-lock's VersionedDependency of each (name, version constraint, build
  string, `chan::` prefix; all fields but the category), and conda's canonical MatchSpec string of each
  (it keeps the subdir of `chan/subdir::` that VersionedDependency drops). Both sides are read by
  conda-lock, so `python=3.10` and `python 3.10.*` are the same entry.
- channels, in order: on a conda base exactly the user's, `nodefaults` included; on a micromamba base
  the user's without `nodefaults`, and `-c conda-forge` on its command line only when that leaves none.
- pip: the user's `pip:` list, line by line, against the argument groups of the pip install RUN (envc
  moves the list to its pip layer). A requirement as conda-lock reads it (name, extras, version, markers,
  URL, hash) and as written; pip options and `-e` lines as pip reads them; a `-r`/`-c` file by the lines
  envc writes for it (and for the files it includes).

Where conda-lock is not conda, the difference is accounted for here or in tests/conda_oracle_reader.py,
each with the place in conda-lock's source: `nodefaults` (removed by conda-lock), the `pip` it appends
even when listed, selectors it drops on every platform, pip lines it cannot read or skips (options,
`-e`), pip lines whose marker is false on the platform (dropped by conda-lock, decided by pip in the
image), and the `category:` key. Nothing else is loosened.

conda-lock is heavy (~60 distributions, ~135 MB), so it is kept out of the project's venv: a venv of its
own at $ENVC_E2E_CACHE/conda-lock-venv (tests/engine.py cache_dir), made on first use (~25-35 s),
runs tests/conda_oracle_reader.py over all files (one process per core). Without network the tests
are skipped with the reason, except in CI (CI=true), where that fails.

Known envc mismatches go in tests/data/conda_oracle/known_mismatches.json, as
`{"CASE ID": {"bug": "what envc does wrong", "mismatches": [the exact problem strings]}}`: such a case must
show exactly those mismatches (it is then reported as xfail with the bug), and fails once it shows others
or none (fixed: remove it from the list). There are none today.
"""
from __future__ import annotations

import itertools
import json
import os
import posixpath
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import dockerfile
import pytest
import yaml

import engine
from conftest import CORPUS, GOLDEN, REPO, golden_input

CONDA_LOCK = "conda-lock==4.0.3"
READER = Path(__file__).resolve().parent / "conda_oracle_reader.py"
DATA = Path(__file__).resolve().parent / "data" / "conda_oracle"
KNOWN = json.loads((DATA / "known_mismatches.json").read_text())
REALWORLD = REPO / "tests" / "realworld"
ENV_FILE = "/tmp/envc-environment.yml"  # envc.common.image_paths.CONDA_ENVIRONMENT_FILE, as the README names it
ITEM = "      "  # the indent of a continued RUN's items: one argument group per line (README, "pip layer")
PLATFORMS = {"linux/amd64": "linux-64", "linux/arm64": "linux-aarch64", "linux/arm64/v8": "linux-aarch64",
             "linux/ppc64le": "linux-ppc64le"}
TIMES = {}
# conda-lock's reading of the conda dependency `pip` (conda_common.py, conda_spec_to_versioned_dep), without category.
PIP = {"name": "pip", "manager": "conda", "extras": [], "markers": None, "version": "", "build": None,
       "conda_channel": None, "hash": None}
# pip's requirements-file options (pip/_internal/req/req_file.py SUPPORTED_OPTIONS, SUPPORTED_OPTIONS_REQ) that
# take a value, and the short spellings of them (pip/_internal/cli/cmdoptions.py).
PIP_VALUE_OPTIONS = {"--index-url", "--extra-index-url", "--constraint", "--requirement", "--editable", "--find-links",
                     "--trusted-host", "--only-binary", "--no-binary", "--use-feature", "--config-settings",
                     "--global-option", "--hash"}
PIP_SHORT = {"-i": "--index-url", "-c": "--constraint", "-r": "--requirement", "-e": "--editable", "-f": "--find-links"}


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


# ---------------------------------------------------------------------------------------------
# the files


def _azureml_v2_conda_file(spec: Path):
    data = yaml.safe_load(spec.read_text())
    return (spec.parent / data["conda_file"]).resolve() if isinstance(data, dict) and data.get("conda_file") else None


def _azureml_v1_conda_file(saved: Path):
    """The conda file of a folder Azure ML's Environment.save_to_directory wrote, unless it is user-managed."""
    python = json.loads(saved.read_text()).get("python") or {}
    return None if python.get("userManagedDependencies") else saved.parent / "conda_dependencies.yml"


def _golden_cases() -> list:
    """(id, spec, conda file, its tree) of each golden that compiles with a conda environment file."""
    cases = []
    for case in sorted(p for p in GOLDEN.iterdir() if p.is_dir() and (p / "Dockerfile").exists()):
        spec = golden_input(case)
        conda = None
        if spec.name == "environment.yml":
            conda = spec
        elif spec.name == "envc.yml":
            file = (yaml.safe_load(spec.read_text()).get("conda") or {}).get("file")
            conda = spec.parent / file if file else None
        elif spec.name == "azureml-environment.yml":
            conda = _azureml_v2_conda_file(spec)
        elif spec.name == "azureml_environment.json":
            conda = _azureml_v1_conda_file(spec)
        if conda is not None:
            cases.append((f"golden/{case.name}", spec, conda, case))
    return cases


def _realworld_cases() -> list:
    cases = []
    for entry in json.loads((REALWORLD / "manifest.json").read_text()):
        if entry["expect"] != "compile":
            continue
        path, root = REALWORLD / entry["path"], REALWORLD / entry["path"].split("/")[0]
        if entry["kind"] == "conda":
            cases.append((f"realworld/{entry['path']}", path, path, root))
        elif entry["kind"] == "azureml-v2" and _azureml_v2_conda_file(path):
            cases.append((f"realworld/{entry['path']}", path, _azureml_v2_conda_file(path), root))
        elif entry["kind"] == "azureml-v1" and _azureml_v1_conda_file(path):
            cases.append((f"realworld/{entry['path']}", path, _azureml_v1_conda_file(path), root))
    return cases


def _is_conda_file(data) -> bool:
    """A conda environment file, not MLflow's python_env.yaml (python, build_dependencies, dependencies)."""
    mlflow = isinstance(data, dict) and "python" in data and set(data) <= {"python", "build_dependencies", "dependencies"}
    return isinstance(data, dict) and "dependencies" in data and not mlflow


def _corpus_cases() -> list:
    """Every conda file of the corpus, and every Azure ML v2 YAML there that references one (its image
    decides between conda and micromamba)."""
    if not CORPUS.is_dir():
        return []
    cases = []
    for path in sorted(p for p in CORPUS.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file()):
        text = path.read_text()
        if "azuremlschemas" in text:
            if _azureml_v2_conda_file(path):
                cases.append((f"corpus/{path.relative_to(CORPUS)}", path, _azureml_v2_conda_file(path), CORPUS))
        elif _is_conda_file(yaml.safe_load(text)):
            cases.append((f"corpus/{path.relative_to(CORPUS)}", path, path, CORPUS))
    return cases


def _micromamba_cases(cases: list) -> list:
    """Each conda file once more, on a base without conda (so micromamba installs: the other channel rule)
    for linux/arm64 (the selectors of linux-aarch64): a spec `conda: {file: ...}` next to it, in a copy of
    its tree (None: written by the oracle fixture)."""
    seen, variants = set(), []
    for key, _, conda_file, root in cases:
        if conda_file.resolve() not in seen:
            seen.add(conda_file.resolve())
            variants.append((f"{key}@micromamba-arm64", None, conda_file, root))
    return variants


# Synthetic files for the forms the real ones use seldom (selectors conda-lock does not read, build strings,
# `chan/subdir::`, bracket specs, nodefaults between channels, pip options, markers and URLs, nested -r).
SYNTHETIC = [(f"data/{p.parent.name}", p, p, p.parent) for p in sorted(DATA.glob("*/environment.yml"))]
FILE_CASES = _golden_cases() + _realworld_cases() + _corpus_cases() + SYNTHETIC  # (id, spec, conda file, its tree)
CASES = FILE_CASES + _micromamba_cases(FILE_CASES)
MICROMAMBA_BASE = {"image": "docker.io/library/ubuntu:22.04", "platform": "linux/arm64"}


# ---------------------------------------------------------------------------------------------
# conda-lock in its own venv


@pytest.fixture(scope="session")
def conda_lock_python() -> Path:
    """The python of a venv holding conda-lock (made once, under the e2e cache)."""
    venv = engine.cache_dir() / "conda-lock-venv"
    marker = venv / "envc-installed.txt"  # written last: a half-made venv is made again
    python = venv / "bin" / "python"
    if marker.exists() and marker.read_text() == CONDA_LOCK and python.exists():
        TIMES["install"] = None
        return python
    start = time.monotonic()
    shutil.rmtree(venv, ignore_errors=True)
    venv.parent.mkdir(parents=True, exist_ok=True)
    steps = [[sys.executable, "-m", "venv", str(venv)],
             [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", CONDA_LOCK]]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, timeout=1800)
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-5:])
            message = f"cannot install {CONDA_LOCK} into {venv} ({' '.join(step[-3:])}): {tail}"
            if in_ci():
                pytest.fail(f"CI is set but {message}", pytrace=False)
            pytest.skip(f"the conda oracle needs {CONDA_LOCK} from PyPI: {message} (with CI=true this fails instead)")
    marker.write_text(CONDA_LOCK)
    TIMES["install"] = time.monotonic() - start
    return python


def read_with_conda_lock(python: Path, jobs: list, folder: Path) -> list:
    """The reader's results for jobs, in order (split over one process per core: conda-lock takes ~20 ms a file)."""
    mapping = folder / "pypi-to-conda-mapping.json"
    mapping.write_text("{}")  # conda-lock's PyPI -> conda name mapping, local and empty: no download
    parts = max(1, min(os.cpu_count() or 1, 4, len(jobs)))
    chunks = [jobs[i::parts] for i in range(parts)]
    processes = [subprocess.Popen([str(python), str(READER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in chunks]
    outputs = [process.communicate(json.dumps({"mapping": str(mapping), "jobs": chunk}), timeout=1800)
               for process, chunk in zip(processes, chunks)]
    results = [None] * len(jobs)
    for i, (process, (out, err)) in enumerate(zip(processes, outputs)):
        assert process.returncode == 0, err
        results[i::parts] = json.loads(out)
    return results


# ---------------------------------------------------------------------------------------------
# reading the Dockerfile


def shell_words(text: str) -> list:
    """Words and operators (&&, ;, ||, >, >>) of a RUN's shell text."""
    lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    return list(lexer)


def simple_commands(words: list) -> list:
    commands, current = [], []
    for word in words:
        if word in ("&&", "||", ";", "{", "}"):
            if current:
                commands.append(current)
            current = []
        else:
            current.append(word)
    return commands + ([current] if current else [])


class Written:
    """What a compiled Dockerfile asks for: the files its RUNs printf, the conda command, the pip groups."""

    def __init__(self, text: str):
        self.text = text
        commands = dockerfile.parse_string(text)
        froms = [c for c in commands if c.cmd == "FROM"]
        flags = dict(f.split("=", 1) for f in froms[-1].flags if "=" in f)
        self.platform = PLATFORMS.get(flags.get("--platform"), "linux-64" if "--platform" not in flags else None)
        self.image = froms[-1].value[0]
        self.files, self.conda, self.pip_groups = {}, None, None
        for command in commands:
            if command.cmd != "RUN":
                continue
            words = shell_words(command.value[0])
            for simple in simple_commands(words):
                self._printf(simple)
                while simple and re.fullmatch(r"[A-Z_][A-Z0-9_]*=.*", simple[0]):  # CONDA_OVERRIDE_CUDA=... conda ...
                    simple = simple[1:]
                if simple[:3] == ["conda", "env", "create"] or simple[:2] == ["micromamba", "create"]:
                    assert self.conda is None, "two conda commands"
                    self.conda = simple
            groups = self._groups(command)
            if groups is not None:
                assert self.pip_groups is None, "two pip installs"
                flat = [w for g in groups for w in g]
                assert any(words[i:i + len(flat)] == flat for i in range(len(words))), \
                    "the argument lines are not the words the official parser reads"
                self.pip_groups = groups

    def _printf(self, words: list) -> None:
        if words[:2] != ["printf", "%s\\n"] or len(words) < 4 or words[-2] not in (">", ">>"):
            return
        lines, path = words[2:-2], words[-1]
        self.files[path] = (self.files.get(path, []) if words[-2] == ">>" else []) + lines

    def _groups(self, command):
        """The pip install's argument groups, one per line after the line that starts them (the installer's, or
        `set --` when the build chooses the installer), or None for a RUN that installs nothing with pip."""
        lines = self.text.splitlines()[command.start_line - 1:command.end_line]
        for i, line in enumerate(lines):
            starts = re.search(r"(/opt/envc/tools/bin/uv pip install|/opt/envc/env/bin/python -m pip install) .*\\$", line) \
                or line.endswith(" set -- \\")
            if starts and '"$@"' not in line:
                break
        else:
            return None
        groups = []
        for line in lines[i + 1:]:
            if not line.startswith(ITEM):
                break
            groups.append(shell_words(line[len(ITEM):].removesuffix(" \\")))
        return groups

    def channel_flags(self) -> list:
        return [self.conda[i + 1] for i, word in enumerate(self.conda) if word == "-c"]


# ---------------------------------------------------------------------------------------------
# the comparison


def _entry(dep: dict) -> dict:
    # conda-lock sets `category` from the file's nonstandard `category:` key (environment_yaml.py,
    # parse_environment_file); conda and envc ignore that key, so envc's file never has it.
    return {k: v for k, v in dep.items() if k != "category"}


def _with_nodefaults(read: dict) -> list:
    """The channels conda-lock read, with the 'nodefaults' it removed (environment_yaml.py:
    `channels.remove("nodefaults")`, "conda-lock will use --override-channels") put back where it was:
    conda reads it as a channel list entry, so envc must keep it for conda."""
    channels = [c["url"] for c in read["channels"]]
    raw = [str(c) for c in read["raw_channels"]]
    if "nodefaults" in raw:
        at = raw.index("nodefaults")  # list.remove: the first one only
        assert raw[:at] + raw[at + 1:] == channels, (raw, channels)
        channels.insert(at, "nodefaults")
    return channels


def pip_groups(line: str) -> list:
    """A pip line as pip reads it in a requirements file (pip/_internal/req/req_file.py): the comment (`#`
    at the start or after blanks) removed; `break_args_options` takes the words before the first `-word`
    as a requirement, the rest as options for optparse, where `--opt=value` is `--opt value` and words
    that are no option's value are left over and ignored (`opts, _ = parser.parse_args(...)`: so in
    `-r URL [--no-deps]` the `[--no-deps]` does nothing). One group per requirement or option, names spelled long."""
    line = re.sub(r"(^|\s+)#.*$", "", line).strip()
    tokens = line.split(" ")
    at = next((i for i, token in enumerate(tokens) if token.startswith("-")), len(tokens))
    requirement, options = " ".join(tokens[:at]).strip(), " ".join(tokens[at:])
    groups = [[requirement]] if requirement else []
    words = []
    for word in shlex.split(options):
        words += word.split("=", 1) if re.match(r"--[a-z-]+=", word) else [word]
    i = 0
    while i < len(words):
        name = PIP_SHORT.get(words[i], words[i])
        if name in PIP_VALUE_OPTIONS and i + 1 < len(words):
            groups.append([name, words[i + 1]])
            i += 2
            continue
        if name.startswith("-"):
            groups.append([name])
        i += 1
    return groups


def _same_file(written: Written, image_path: str, user_path: Path, seen=()) -> list:
    """Problems of the file envc writes at image_path for user_path (its lines), and of the files it includes."""
    if image_path not in written.files:
        return [f"{image_path} (for {user_path.name}) is not written in the pip RUN"]
    if not user_path.is_file():
        return [f"{user_path} does not exist"]
    lines = written.files[image_path]
    if lines != user_path.read_text().splitlines():
        return [f"{image_path}: envc writes {lines}, the file {user_path.name} holds {user_path.read_text().splitlines()}"]
    problems = []
    for line in lines:
        for group in pip_groups(line):
            if group[0] in ("--requirement", "--constraint") and "://" not in group[1]:
                image = posixpath.normpath(posixpath.join(posixpath.dirname(image_path), group[1]))
                if image not in seen:
                    problems += _same_file(written, image, (user_path.parent / group[1]).resolve(), (*seen, image_path))
    return problems


def compare(written: Written, user: dict, envc: dict, requirements: dict, conda_file: Path) -> list:
    """Every difference between what the Dockerfile asks for and conda-lock's reading of the user's file."""
    if written.conda is None:  # nothing to install: envc drops the stage (README, "Empty stages are dropped")
        if user["conda"] or user["pip_lines"] or user["pip_keys"]:
            return [f"no conda stage, but conda-lock reads {user['conda']} and pip lines {user['pip_lines']}"]
        return []
    assert ENV_FILE in written.files, f"no {ENV_FILE} is written"
    problems = []
    # channels
    user_channels, envc_channels = _with_nodefaults(user), _with_nodefaults(envc)
    tool = written.conda[0]
    if tool == "conda":
        expected = user_channels
        if written.channel_flags():
            problems.append(f"conda is given channels on its command line: {written.channel_flags()}")
    else:
        # micromamba reads no 'nodefaults' (it has no defaults) and has no channel of its own: envc names conda-forge
        expected = [c for c in user_channels if c != "nodefaults"]
        if not expected:
            expected, envc_channels = ["conda-forge"], envc_channels + written.channel_flags()
        elif written.channel_flags():
            problems.append(f"micromamba is given channels on its command line as well as in the file: "
                            f"{written.channel_flags()}")
    if envc_channels != expected:
        problems.append(f"channels: envc writes {envc_channels}, expected {expected} "
                        f"({tool}; conda-lock reads {user_channels})")
    # conda dependencies
    own, appended = user["conda"][:user["own"]], user["conda"][user["own"]:]
    assert all(dep["name"] == "pip" for dep in appended), appended  # environment_yaml.py: "ensure pip is in target env"
    expected = [_entry(dep) for dep in own]
    expected_specs = list(user["matchspecs"])
    # conda-lock appends `pip` after every pip: mapping its selectors leave (not null), even when the file lists
    # pip (environment_yaml.py, "ensure pip is in target env"); conda appends it once, and only when pip is not
    # listed (conda/env/env.py, Dependencies.parse).
    assert len(appended) <= user["pip_mappings"] <= user["pip_keys"], (appended, user["pip_mappings"], user["pip_keys"])
    if user["pip_mappings"] and "pip" not in {dep["name"] for dep in own}:
        expected.append(PIP)
        expected_specs.append("pip")
    got = [_entry(dep) for dep in envc["conda"]]
    written_lines = [json.loads(line[4:]) if line.startswith("  - ") else line for line in written.files[ENV_FILE]]
    written_deps = written_lines[written_lines.index("dependencies:") + 1:] if "dependencies:" in written_lines else []
    for i in range(max(len(got), len(expected))):
        mine = got[i] if i < len(got) else None
        theirs = expected[i] if i < len(expected) else None
        if mine != theirs:
            text = f"{written_deps[i]!r} = {mine}" if i < len(written_deps) else "no entry"
            problems.append(f"conda dependency {i + 1}: envc writes {text}, conda-lock reads {theirs}")
    if not problems and envc["matchspecs"] != expected_specs:
        problems.append(f"conda dependencies as conda's MatchSpec: envc {envc['matchspecs']}, the file {expected_specs}")
    # pip: the file's pip lines, each read as one group (a requirement) or as the groups pip reads in it
    # (options), against the install's argument groups, in order
    expected = []  # (the line's number and text, its kind, the group pip reads)
    # Several pip: lists. conda reads the dependencies' mappings into one dict (conda/env/env.py, Dependencies.parse:
    # `self.update(line)`), so a later `pip:` replaces an earlier one and only the last list is installed;
    # micromamba installs each (libmamba api/install.cpp, read_yaml_file: one pip spec per `pip` key), as
    # conda-lock reads them.
    pip_lines = user["pip_lines"]
    if tool == "conda":
        pip_lines = [item for item in pip_lines if item["mapping"] == user["pip_keys"] - 1]
    for n, item in enumerate(pip_lines, 1):
        where = f"pip line {n} {item['line']!r}"
        if item["kind"] == "requirement":
            expected.append((where, "requirement", (item["dep"], item["line"])))
        else:
            # `-e` lines (conda-lock skips them: environment_yaml.py) and lines conda-lock cannot read (see
            # tests/conda_oracle_reader.py): read as pip reads them.
            expected += [(where, "pip", group) for group in pip_groups(item["line"])]
    groups = written.pip_groups or []
    # Index options are a state, not a place: pip reads an --index-url line as "these indexes from now on" (dropping
    # the extra indexes of the lines before it), so envc may pass the indexes pip ends with once (README, "What uv is
    # told"). Compared as that state; every other group in order.
    theirs_indexes = _indexes_pip_ends_with([(where, group) for where, kind, group in expected if kind == "pip" and group[0] in INDEX_OPTIONS])
    expected = [item for item in expected if not (item[1] == "pip" and item[2][0] in INDEX_OPTIONS)]
    mine_indexes = [[PIP_SHORT.get(g[0], g[0]), *g[1:]] for g in groups if PIP_SHORT.get(g[0], g[0]) in INDEX_OPTIONS]
    groups = [g for g in groups if PIP_SHORT.get(g[0], g[0]) not in INDEX_OPTIONS]
    if mine_indexes != theirs_indexes:
        problems.append(f"pip: envc installs with the indexes {mine_indexes}, pip ends with {theirs_indexes}")
    if len(groups) != len(expected):
        lists = f"the last of {user['pip_keys']} pip: lists (conda installs only that one)" \
            if tool == "conda" and user["pip_keys"] > 1 else "the file's pip: list"
        problems.append(f"pip: envc installs {len(groups)} argument groups {groups}, pip reads {len(expected)} in "
                        f"{lists} {[item['line'] for item in pip_lines]}")
    for (where, kind, theirs), group in zip(expected, groups):
        if kind == "requirement":
            # Compared whether or not its marker holds on the platform: conda-lock drops a line whose marker
            # is false there (environment_yaml.py, evaluate_marker), pip decides it in the image, so the line
            # must reach pip with its marker.
            # And as written: conda hands pip the lines verbatim, in a requirements file (conda/env/installers/
            # pip.py), where conda-lock's reading canonicalises (`pkg===1.0` is version '==1.0' to it).
            dep, line = theirs
            mine = requirements[" ".join(group)]
            if mine.get("dep") != dep:
                problems.append(f"{where}: envc installs {' '.join(group)!r} = {mine}, conda-lock reads {dep}")
            elif " ".join(group) != re.sub(r"(^|\s+)#.*$", "", line).strip():
                problems.append(f"{where}: envc installs {' '.join(group)!r}, not the line as written")
            continue
        mine = [PIP_SHORT.get(group[0], group[0]), *group[1:]]
        if theirs[0] in ("--requirement", "--constraint") and "://" not in theirs[1]:
            if mine[0] != theirs[0] or len(mine) != 2:
                problems.append(f"{where}: envc installs {group}, pip reads {theirs}")
            else:
                user_file = (conda_file.parent / theirs[1]).resolve()
                problems += [f"{where}: {p}" for p in _same_file(written, mine[1], user_file)]
        elif mine != theirs:
            problems.append(f"{where}: envc installs {group}, pip reads {theirs}")
    return problems


INDEX_OPTIONS = ("--index-url", "--extra-index-url")


def _indexes_pip_ends_with(options) -> list:
    """The index option groups pip ends with after reading (line, [option, url]) in order (req_file.py,
    handle_option_line: a line's --index-url replaces the list, then its --extra-index-urls are added)."""
    urls = [None]
    for _, line in itertools.groupby(options, key=lambda item: item[0]):
        line = [group for _, group in line]
        index = next((url for option, url in reversed(line) if option == "--index-url"), None)
        urls = ([index] if index else urls) + [url for option, url in line if option == "--extra-index-url"]
    return ([["--index-url", urls[0]]] if urls[0] else []) + [["--extra-index-url", url] for url in urls[1:]]


# ---------------------------------------------------------------------------------------------
# the tests


@pytest.fixture(scope="module")
def oracle(conda_lock_python, tmp_path_factory):
    """{case id: (Written, conda-lock's reading of the user's file, of envc's file, of envc's pip lines)}."""
    from envc.core.pipeline import compile_spec

    start = time.monotonic()
    folder = tmp_path_factory.mktemp("conda-oracle")
    compiled, jobs, copies = {}, [], {}
    for n, (key, spec, conda_file, root) in enumerate(CASES):
        if spec is None:  # the micromamba variant: a spec next to the conda file, in a copy of its tree
            if root not in copies:
                copies[root] = folder / "trees" / str(len(copies))
                shutil.copytree(root, copies[root], symlinks=True)
            relative = conda_file.resolve().relative_to(root.resolve())
            spec = copies[root] / relative.parent / f"envc-oracle-{n}.yml"
            spec.write_text(json.dumps({"name": "oracle", "base": MICROMAMBA_BASE, "conda": {"file": relative.name}}))
        written = Written(compile_spec(str(spec)).dockerfile)
        envc_file = folder / f"{n}-environment.yml"
        envc_file.write_text("\n".join(written.files.get(ENV_FILE, [])) + "\n" if written.conda else "dependencies: []\n")
        compiled[key] = written
        jobs += [{"kind": "env", "path": str(conda_file), "platform": written.platform},
                 {"kind": "env", "path": str(envc_file), "platform": written.platform}]
    lines = sorted({" ".join(group) for written in compiled.values() for group in written.pip_groups or ()})
    TIMES["compile"] = time.monotonic() - start
    start = time.monotonic()
    jobs += [{"kind": "requirement", "line": line} for line in lines]
    results = read_with_conda_lock(conda_lock_python, jobs, folder)
    TIMES["conda-lock"] = time.monotonic() - start
    requirements = dict(zip(lines, results[len(jobs) - len(lines):]))
    return {key: (compiled[key], results[2 * n], results[2 * n + 1], requirements) for n, (key, *_) in enumerate(CASES)}


@pytest.mark.parametrize("key,spec,conda_file,root", CASES, ids=[case[0] for case in CASES])
def test_conda_stage_matches_conda_lock(key, spec, conda_file, root, oracle):
    written, user, envc, requirements = oracle[key]
    assert "error" not in user, f"conda-lock cannot read {conda_file}: {user['error']}"
    assert "error" not in envc, f"conda-lock cannot read the environment.yml envc writes: {envc['error']}"
    assert written.platform in ("linux-64", "linux-aarch64", "linux-ppc64le"), written.platform
    # README, "Which conda": Azure ML's images have conda, any other base gets micromamba.
    if written.conda:
        assert written.conda[0] == ("conda" if written.image.startswith("mcr.microsoft.com/azureml/") else "micromamba")
    problems = compare(written, user, envc, requirements, conda_file)
    if key in KNOWN:
        assert problems, f"{key} matches conda-lock now: remove it from {DATA / 'known_mismatches.json'}"
        assert problems == KNOWN[key]["mismatches"], "the known envc mismatch changed"
        pytest.xfail(f"known envc bug: {KNOWN[key]['bug']}")
    assert problems == []


def test_the_oracle_reads_every_conda_file(oracle, capsys):
    sources = {}
    for key, _, conda_file, _ in FILE_CASES:
        sources.setdefault(key.split("/")[0], set()).add(conda_file.resolve())
    counts = {source: len(files) for source, files in sources.items()}
    if not CORPUS.is_dir():
        pytest.fail(f"corpus not found at {CORPUS}: the tests need ../shared/corpus next to the checkout")
    assert counts["golden"] >= 6 and counts["realworld"] >= 34 and counts["corpus"] >= 88, counts
    tools = {}
    for written, *_ in oracle.values():
        tool = written.conda[0] if written.conda else "none"
        tools[tool] = tools.get(tool, 0) + 1
    assert tools.get("micromamba") and tools.get("conda"), tools  # both channel rules are exercised
    fallback = sum(bool(written.conda and written.channel_flags()) for written, *_ in oracle.values())
    assert fallback, "no micromamba case without channels (`-c conda-forge`)"
    selectors = sum(len(user.get("selectors", ())) for _, user, _, _ in oracle.values())
    options = sum(item["kind"] != "requirement" for _, user, _, _ in oracle.values() for item in user.get("pip_lines", ()))
    install = TIMES.get("install")
    with capsys.disabled():
        print(f"\nconda oracle: {len(CASES)} cases, {sum(counts.values())} conda files {counts}, "
              f"tools {tools} ({fallback} with -c conda-forge); "
              f"{selectors} selector lines decided as conda-build does, {options} pip lines read as pip does; "
              f"conda-lock install {'cached' if install is None else f'{install:.1f} s'}, compile {TIMES['compile']:.1f} s, "
              f"conda-lock read {TIMES['conda-lock']:.1f} s")
