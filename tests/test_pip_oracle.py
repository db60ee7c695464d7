"""pip's resolver as an oracle for what an envc image holds (issue 12).

For every case: write a spec and its requirements files into a temporary folder, `envc compile` it,
build the Dockerfile with buildah (as tests/test_e2e.py does), and read every distribution in the
environment's site-packages inside the image (`importlib.metadata`, `/opt/envc/env/bin/python`).
Then ask pip what it would install for the same files and options
(`pip install --dry-run --report OUT.json ...`) and require exactly the same names and versions.
A case pip refuses (a wrong hash, an unhashed dependency in hash-checking mode) must fail to build.

The oracle's pip. It runs in a fresh host venv of Python 3.11 that is a replica of the image's fresh
`/opt/envc/env`: the same pip and setuptools wheels (copied out of the base image's
/usr/share/python-wheels, the ones `python3 -m venv` seeds there), so the oracle is the very pip that
`installer: pip` runs. It resolves *into that replica* rather than with `--ignore-installed`: a
requirement the seeded pip/setuptools already satisfy (`pip>=9`, `setuptools>=40.8`) is then kept, as
pip and uv both keep it in the image, while `pip==23.3` is installed. The expected environment is the
seeds updated by the report's `install` list; pip/setuptools/wheel are compared only when pip's report
installs them (the venv brings them otherwise). pip runs with `--isolated` (the host's pip.conf,
PIP_FIND_LINKS and extra indexes must not leak in) and `--no-cache-dir`.

Indexes. tests/package_index.py writes small pure-Python wheels and PEP 503 indexes and serves each on
127.0.0.1 with a free port. buildah's chroot isolation shares the host network, so a RUN step reaches
the same URL: the URLs are written into the requirements files (or the spec's `pip.index_url`) and
reach the build only through what envc emits.

Real files (tests/realworld, `"oracle": true` in its manifest) resolve from PyPI on both sides. Each
build gets a fresh path for the file (`n<nonce>/owner__repo/...`), so no layer cached by an earlier run
is reused, and the oracle resolves right after that build. Exact equality, no tolerance.

Speed: every (case, installer) selected in this session is built up front in a thread pool (builds are
mostly waiting on the network and on buildah's commit); each test then waits for its own result.
`ENVC_ORACLE_JOBS` sets the pool size (default 4).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import engine
import package_index as pi
from test_e2e import write_spec

pytestmark = pytest.mark.e2e

BASE = engine.BASE_TAG
ENV_PYTHON = "/opt/envc/env/bin/python"
TAG_PREFIX = "localhost/envc-oracle"
REPO = Path(__file__).resolve().parent.parent
REALWORLD = REPO / "tests" / "realworld"
MANIFEST = REALWORLD / "manifest.json"
INSTALLERS = ["uv", "pip"]  # uv: the default (no `installer` key); pip: `pip: {installer: pip}`
SEED_NAMES = {"pip", "setuptools", "wheel"}
JOBS = int(os.environ.get("ENVC_ORACLE_JOBS", "4"))
JOB_TIMEOUT = 900

P = "envc-oracle-"  # every generated project's prefix: names that exist on no public index


def canon(name: str) -> str:
    return pi.normalize(name)


# ---------------------------------------------------------------------------------------------
# the generated packages and their indexes


def _index_dists() -> dict[str, list[pi.Dist]]:
    D = pi.Dist
    return {
        # index A (--index-url) and B (--extra-index-url): pip takes the best version across both.
        # `best`: 1.0 on A, 2.0 on B. `order`: 2.0 on A, 1.0 on B (uv's default first-index strategy
        # asks the extra index first). best 2.0 needs `only-a`, which only A has.
        "a": [D(P + "best", "1.0"), D(P + "order", "2.0"), D(P + "only-a", "1.0")],
        "b": [D(P + "best", "2.0", (P + "only-a",)), D(P + "order", "1.0")],
        # pre-releases: --pre is global in pip, so the dependency's beta is taken too
        "pre": [D(P + "pre", "1.0"), D(P + "pre", "2.0rc1", (P + "pre-dep>=1.0",)),
                D(P + "pre-dep", "1.0"), D(P + "pre-dep", "1.1b1")],
        # constraints, extras, markers, hashes
        "deps": [
            *(D(P + "core", v, (P + "util", f'{P}speedup>=1; extra == "fast"'), ("fast",)) for v in ("1.0", "1.1", "1.2")),
            D(P + "speedup", "1.0"), D(P + "speedup", "2.0"),
            D(P + "util", "1.0"), D(P + "util", "1.5"),
            D(P + "marked", "1.0", (f'{P}py2only; python_version < "3"',)),
            D(P + "py2only", "1.0"),
            D(P + "win", "1.0"),
        ],
        # the big file: 1,000 packages
        "big": [D(f"{P}big-{i:04d}", "1.0") for i in range(1000)],
    }


FIND_LINKS_DISTS = [
    pi.Dist(P + "fl", "1.0"),
    pi.Dist(P + "fl", "1.1", (P + "fl-dep>=1",)),
    pi.Dist(P + "fl-dep", "1.0"),
]


@dataclass
class Indexes:
    servers: dict[str, pi.Server]
    indexes: dict[str, pi.SimpleIndex]
    wheels_dir: Path  # a plain folder of wheels (for --find-links)

    def url(self, name: str) -> str:
        return self.servers[name].simple_url

    def sha(self, name: str, version: str, index: str = "deps") -> str:
        wheel = pi.Dist(name, version).filename
        return pi.sha256_of(self.indexes[index].root / "files" / wheel)


@pytest.fixture(scope="module")
def indexes(tmp_path_factory):
    root = tmp_path_factory.mktemp("indexes")
    built = {name: pi.build_index(root / name, dists) for name, dists in _index_dists().items()}
    servers = {name: pi.serve(index.root) for name, index in built.items()}
    wheels = root / "find-links-wheels"
    for d in FIND_LINKS_DISTS:
        pi.make_wheel(wheels, d.name, d.version, d.requires)
    try:
        yield Indexes(servers, built, wheels)
    finally:
        for server in servers.values():
            server.close()


# ---------------------------------------------------------------------------------------------
# cases


@dataclass
class Case:
    key: str
    pip: dict  # the spec's `pip:` section (without `installer`)
    oracle_args: list[str]  # what pip is given, relative to the case folder
    files: dict[str, str] = field(default_factory=dict)
    trees: dict[str, Path] = field(default_factory=dict)  # folder in the case -> folder to copy there
    fresh: bool = False  # PyPI: a new path per build (no cached layer); the oracle right after the build
    refusal: str | None = None  # pip must refuse; the build log must match this (case-insensitive)


def _lines(*lines: str) -> str:
    return "\n".join(lines) + "\n"


def _fake_hash(*parts) -> str:
    return pi.sha256_of("fake:".join(map(str, parts)).encode())


def case_index_choice_file(ix: Indexes) -> Case:
    req = _lines(f"--index-url {ix.url('a')}", f"--extra-index-url {ix.url('b')}", P + "best", P + "order")
    return Case("index-choice-file", {"requirements": ["requirements.txt"]}, ["-r", "requirements.txt"],
                {"requirements.txt": req})


def case_index_choice_spec(ix: Indexes) -> Case:
    pip = {"index_url": ix.url("a"), "extra_index_urls": [ix.url("b")], "packages": [P + "best", P + "order"]}
    return Case("index-choice-spec", pip,
                ["--index-url", ix.url("a"), "--extra-index-url", ix.url("b"), P + "best", P + "order"])


def case_pre_file(ix: Indexes) -> Case:
    req = _lines(f"--index-url {ix.url('pre')}", "--pre", P + "pre")
    return Case("pre-file", {"requirements": ["requirements.txt"]}, ["-r", "requirements.txt"],
                {"requirements.txt": req})


def case_pre_conda_list(ix: Indexes) -> Case:
    """A conda environment.yml's `pip:` list, as conda runs it: the lines written to a requirements
    file and `pip install -U -r FILE`. conda cannot run here, so the list is an envc requirements file."""
    req = _lines("--pre", f"--index-url {ix.url('pre')}", P + "pre")
    return Case("pre-conda-list", {"requirements": ["conda-pip-list.txt"]}, ["-U", "-r", "conda-pip-list.txt"],
                {"conda-pip-list.txt": req})


def case_pip_only_forms(ix: Indexes) -> Case:
    """Forms pip reads and uv 0.13.9 reads otherwise, as the user wrote them: a comment ending in `\\` (pip never
    continues it), two options on one line (uv drops `--pre --index-url URL` and installs from PyPI), a `\\`
    continuation before a marker and `-rFILE` (uv fails on both). envc writes the files as pip reads them."""
    req = _lines("# the options follow \\", f"--pre --index-url {ix.url('pre')}", P + "pre \\", '    ; python_version >= "3"',
                 "-rmore.txt")
    return Case("pip-only-forms", {"requirements": ["requirements.txt"]}, ["-r", "requirements.txt"],
                {"requirements.txt": req, "more.txt": _lines(P + "pre-dep")})


def case_curated_minimal(ix: Indexes) -> Case:
    """The pip part of the curated minimal inference environment (issue 13), the only curated one whose pins
    install on the offline base's Python 3.11: its conda `pip:` list, run as conda runs it (see above)."""
    import yaml

    spec = yaml.safe_load((REPO / "compiler" / "curated" / "azureml-minimal-ubuntu22.04-py311-cpu-inference"
                           / "envc.yml").read_text(encoding="utf-8"))
    lines = next(item["pip"] for item in spec["conda"]["dependencies"] if isinstance(item, dict))
    file = f"n{uuid.uuid4().hex[:12]}/conda-pip-list.txt"  # a fresh path: no layer an earlier run cached
    return Case("curated-minimal", {"requirements": [file]}, ["-U", "-r", file], {file: _lines(*lines)}, fresh=True)


def case_find_links(variant: str):
    """--no-index plus a folder of wheels next to the requirements file that names it."""

    def make(ix: Indexes) -> Case:
        if variant == "space":  # top file, `--find-links ./wheels`
            files = {"requirements.txt": _lines("--no-index", "--find-links ./wheels", P + "fl")}
            return Case(f"find-links-{variant}", {"requirements": ["requirements.txt"]},
                        ["-r", "requirements.txt"], files, {"wheels": ix.wheels_dir})
        if variant == "short-nested":  # `-f wheels` in an included file in a subfolder
            files = {"requirements.txt": _lines("-r reqs/more.txt"),
                     "reqs/more.txt": _lines("--no-index", "-f wheels", P + "fl")}
            return Case(f"find-links-{variant}", {"requirements": ["requirements.txt"]},
                        ["-r", "requirements.txt"], files, {"reqs/wheels": ix.wheels_dir})
        if variant == "equals":  # `--find-links=./wheels` in a file the spec names in a subfolder
            files = {"reqs/requirements.txt": _lines("--find-links=./wheels", "--no-index", P + "fl")}
            return Case(f"find-links-{variant}", {"requirements": ["reqs/requirements.txt"]},
                        ["-r", "reqs/requirements.txt"], files, {"reqs/wheels": ix.wheels_dir})
        raise AssertionError(variant)

    return make


FIND_LINKS_VARIANTS = ["space", "short-nested", "equals"]


def case_constraints_extras_markers(ix: Indexes) -> Case:
    req = _lines(
        f"--index-url {ix.url('deps')}",
        "-c constraints.txt",
        f"{P}core[fast]",
        f'{P}marked ; python_version >= "3.8"',
        f'{P}win ; sys_platform == "win32"',
    )
    constraints = _lines(f"{P}core==1.1", f"{P}speedup<2", f"{P}util<1.5")
    return Case("constraints-extras-markers", {"requirements": ["requirements.txt"]}, ["-r", "requirements.txt"],
                {"requirements.txt": req, "constraints.txt": constraints})


def case_hashes(ix: Indexes) -> Case:
    """pip's hash-checking mode: every requirement pinned with `==` and `--hash`; the real hash is
    not always the first one given."""
    req = _lines(
        f"--index-url {ix.url('deps')}",
        f"{P}core[fast]==1.2 \\",
        f"    --hash=sha256:{_fake_hash('core')} \\",
        f"    --hash=sha256:{ix.sha(P + 'core', '1.2')}",
        f"{P}speedup==2.0 --hash=sha256:{ix.sha(P + 'speedup', '2.0')}",
        f"{P}util==1.5 \\",
        f"    --hash=sha256:{ix.sha(P + 'util', '1.5')} \\",
        f"    --hash=sha256:{_fake_hash('util')}",
        f'{P}marked==1.0 ; python_version >= "3.8" \\',
        f"    --hash=sha256:{ix.sha(P + 'marked', '1.0')}",
    )
    return Case("hashes", {"requirements": ["requirements.txt"]}, ["-r", "requirements.txt"],
                {"requirements.txt": req})


def case_hash_mismatch(ix: Indexes) -> Case:
    req = _lines(f"--index-url {ix.url('deps')}", f"{P}util==1.5 --hash=sha256:{_fake_hash('mismatch')}")
    return Case("hash-mismatch", {"requirements": ["requirements.txt"]}, ["-r", "requirements.txt"],
                {"requirements.txt": req}, refusal=r"hash")


def case_hash_unhashed_dependency(ix: Indexes) -> Case:
    """One hashed requirement turns on hash-checking mode for all: pip refuses the unpinned,
    unhashed dependency (`util`) that `core` brings."""
    req = _lines(f"--index-url {ix.url('deps')}", f"{P}core==1.0 --hash=sha256:{ix.sha(P + 'core', '1.0')}")
    return Case("hash-unhashed-dependency", {"requirements": ["requirements.txt"]}, ["-r", "requirements.txt"],
                {"requirements.txt": req}, refusal=r"hash")


BIG_PACKAGES = 1000


def case_big_file(ix: Indexes) -> Case:
    """5,000 physical lines: 1,000 pins, each with 4 `--hash` continuation lines, one of them real."""
    lines = []
    for i in range(BIG_PACKAGES):
        name = f"{P}big-{i:04d}"
        real = ix.sha(name, "1.0", "big")
        hashes = [_fake_hash("big", i, j) for j in range(3)]
        hashes.insert(i % 4, real)
        lines.append(f"{name}==1.0 \\")
        lines += [f"    --hash=sha256:{h}" + (" \\" if j < 3 else "") for j, h in enumerate(hashes)]
    assert len(lines) == 5 * BIG_PACKAGES
    text = _lines(*lines)
    assert len(text.encode()) > 128 * 1024  # more than one shell argument can hold
    return Case("big-file", {"index_url": ix.url("big"), "requirements": ["big-requirements.txt"]},
                ["--index-url", ix.url("big"), "-r", "big-requirements.txt"], {"big-requirements.txt": text})


CASES = {
    "index-choice-file": case_index_choice_file,
    "index-choice-spec": case_index_choice_spec,
    "pre-file": case_pre_file,
    "pre-conda-list": case_pre_conda_list,
    "pip-only-forms": case_pip_only_forms,
    **{f"find-links-{v}": case_find_links(v) for v in FIND_LINKS_VARIANTS},
    "constraints-extras-markers": case_constraints_extras_markers,
    "hashes": case_hashes,
    "hash-mismatch": case_hash_mismatch,
    "hash-unhashed-dependency": case_hash_unhashed_dependency,
    "big-file": case_big_file,
    "curated-minimal": case_curated_minimal,
}


def _real_files() -> tuple[list[str], str]:
    """The manifest's `"oracle": true` files, and why there are none (for the test that checks)."""
    if not MANIFEST.exists():
        return [], f"{MANIFEST} is missing"
    try:
        entries = json.loads(MANIFEST.read_text(encoding="utf-8"))
        return sorted(e["path"] for e in entries if e.get("oracle")), ""
    except (ValueError, KeyError, TypeError) as exc:
        return [], f"{MANIFEST} cannot be read: {exc}"


REAL_FILES, REAL_FILES_PROBLEM = _real_files()


def case_real(path: str) -> Case:
    nonce = "n" + uuid.uuid4().hex[:12]
    owner_repo = path.split("/", 1)[0]
    rel = f"{nonce}/{path}"
    return Case(f"real-{path}", {"requirements": [rel]}, ["-r", rel],
                trees={f"{nonce}/{owner_repo}": REALWORLD / owner_repo}, fresh=True)


def make_case(key: str, ix: Indexes) -> Case:
    if key.startswith("real:"):
        return case_real(key[len("real:"):])
    return CASES[key](ix)


# ---------------------------------------------------------------------------------------------
# the oracle's venv: a replica of the image's fresh /opt/envc/env


@dataclass
class OracleVenv:
    python: Path
    seeds: dict[str, str]  # canonical name -> version the fresh venv holds


def _seed_wheels(env: dict[str, str], dest: Path) -> list[Path]:
    """The pip/setuptools wheels `python3 -m venv` seeds in the base image."""
    proc = subprocess.run(
        ["podman", "run", "--rm", "--pull=never", "--network=none", "--entrypoint", "", BASE,
         "tar", "-C", "/usr/share/python-wheels", "-cf", "-", "."],
        env={**os.environ, **env}, capture_output=True, check=True,
    )
    dest.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(proc.stdout)) as tar:
        members = [m for m in tar.getmembers() if m.isfile() and m.name.endswith(".whl")]
        tar.extractall(dest, members=members)
    return sorted(dest.rglob("*.whl"))


def _clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["NO_PROXY"] = ",".join(filter(None, [env.get("NO_PROXY"), "127.0.0.1", "localhost"]))  # the local indexes
    return env


def make_oracle_venv(engine_env: dict[str, str], root: Path) -> OracleVenv:
    wheels = _seed_wheels(engine_env, root / "seed-wheels")
    pip_wheel = next(w for w in wheels if w.name.startswith("pip-"))
    venv = root / "oracle-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([str(python), f"{pip_wheel}/pip", "install", "--isolated", "--no-index", "--quiet",
                    *map(str, wheels)], check=True, env=_clean_env())
    seeds = {}
    for w in wheels:
        name, version = w.name.split("-")[:2]
        seeds[canon(name)] = version
    probe = subprocess.run([str(python), "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True)
    assert probe.stdout.strip() == "(3, 11)", f"the oracle needs CPython 3.11 (the image's), got {probe.stdout}"
    return OracleVenv(python, seeds)


@dataclass
class Oracle:
    ok: bool
    installs: dict[str, str]  # what pip's report installs (canonical name -> version)
    log: str
    when: float
    seconds: float = 0.0


def pip_oracle(venv: OracleVenv, folder: Path, args: list[str]) -> Oracle:
    report = folder / f"pip-report-{uuid.uuid4().hex[:8]}.json"
    cmd = [str(venv.python), "-m", "pip", "--isolated", "install", "--dry-run", "--no-cache-dir",
           "--disable-pip-version-check", "--progress-bar", "off", "--report", str(report), *args]
    if Path(engine.HOST_CA_BUNDLE).exists():
        cmd[4:4] = ["--cert", engine.HOST_CA_BUNDLE]
    when = time.time()
    proc = subprocess.run(cmd, cwd=folder, capture_output=True, text=True, env=_clean_env(), timeout=600)
    log = f"$ pip {' '.join(args)}\n{proc.stdout[-3000:]}{proc.stderr[-3000:]}"
    if proc.returncode != 0:
        return Oracle(False, {}, log, when)
    data = json.loads(report.read_text(encoding="utf-8"))
    installs = {canon(i["metadata"]["name"]): i["metadata"]["version"] for i in data["install"]}
    return Oracle(True, installs, log, when)


# ---------------------------------------------------------------------------------------------
# building a case and reading the image


PROBE = r"""
import importlib.metadata as md, json, sysconfig
paths = sorted({sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]})
print(json.dumps(sorted([d.metadata["Name"], d.version] for d in md.distributions(path=paths))))
"""


@dataclass
class Result:
    case: Case
    installer: str
    folder: Path
    compile_code: int = 0
    compile_err: str = ""
    dockerfile: str = ""
    build_code: int | None = None
    build_log: str = ""
    image: dict[str, str] | None = None
    image_duplicates: list[str] = field(default_factory=list)
    oracle: Oracle | None = None
    built_at: float = 0.0
    tag: str = ""
    timings: dict[str, float] = field(default_factory=dict)  # seconds per step, for timings.txt


def _tag(key: str, installer: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", key.lower()).strip("-")[:80]
    return f"{TAG_PREFIX}-{slug}-{installer}:test"


def prepare(case: Case, installer: str, root: Path) -> Result:
    """Write the case's folder and compile it in-process (main thread)."""
    slug = re.sub(r"[^a-z0-9]+", "-", case.key.lower()).strip("-")
    folder = root / f"{slug}-{installer}"
    folder.mkdir(parents=True)
    for relative, target in case.trees.items():
        shutil.copytree(target, folder / relative)
    pip = dict(case.pip)
    if installer == "pip":
        pip["installer"] = "pip"
    spec = {"name": f"oracle-{slug}"[:60].strip("-."), "base": {"image": BASE}, "pip": pip}
    spec_path = write_spec(folder, spec, case.files)
    result = Result(case, installer, folder, tag=_tag(case.key, installer))
    out, err = io.StringIO(), io.StringIO()
    from envc.frontends.cli import main

    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        result.compile_code = main(["compile", str(spec_path), "-o", str(folder / "Dockerfile")])
    result.compile_err = err.getvalue() + out.getvalue()
    if result.compile_code == 0:
        result.dockerfile = (folder / "Dockerfile").read_text(encoding="utf-8")
    return result


# buildah's shared storage, when another build or `rmi` (this run's, or another session's) changes it
# under a running build: an engine hiccup, not an answer about the Dockerfile, so the build is retried.
STORAGE_RACE = re.compile(r"(layer|image) not known|identifier is not a (layer|image)", re.I)


def execute(result: Result, venv: OracleVenv, engine_env: dict[str, str]) -> Result:
    """Build, read the image (worker thread); for a PyPI case, resolve the oracle right after the build."""
    case = result.case
    start = time.time()
    result.timings["started"] = start
    if result.compile_code == 0:
        for _attempt in range(3):
            proc = engine.build(result.folder / "Dockerfile", result.folder, result.tag, engine_env)
            result.build_code = proc.returncode
            result.build_log = proc.stdout + proc.stderr
            if not (proc.returncode == 125 and STORAGE_RACE.search(proc.stderr)):
                break
        result.built_at = time.time()
        result.timings["build"] = result.built_at - start
    if case.fresh:
        before = time.time()
        result.oracle = pip_oracle(venv, result.folder, case.oracle_args)
        result.timings["oracle"] = time.time() - before
    if result.build_code == 0:
        before = time.time()
        proc = engine.run(result.tag, [ENV_PYTHON, "-c", PROBE], engine_env, ["--entrypoint", ""], timeout=300)
        assert proc.returncode == 0, f"probe failed in {result.tag}: {proc.stderr}"
        image: dict[str, str] = {}
        for name, version in json.loads(proc.stdout):
            key = canon(name)
            if key in image:
                result.image_duplicates.append(f"{key} {image[key]} and {version}")
            image[key] = version
        result.image = image
        result.timings["probe"] = time.time() - before
    return result


def timed_oracle(venv: OracleVenv, folder: Path, args: list[str]) -> Oracle:
    before = time.time()
    oracle = pip_oracle(venv, folder, args)
    oracle.seconds = time.time() - before
    return oracle


class Lab:
    """Every selected (case, installer) built in a thread pool. A local-index case's oracle does not
    depend on the installer or on time: it runs once per case, concurrently with the builds. A PyPI
    case's oracle runs in its build job, right after the build."""

    def __init__(self, ix: Indexes, venv: OracleVenv, engine_env, root: Path):
        self.ix, self.venv, self.engine_env, self.root = ix, venv, engine_env, root
        self.pool = ThreadPoolExecutor(max_workers=JOBS, thread_name_prefix="oracle")
        self.builds: dict[tuple[str, str], Future] = {}
        self.cases: dict[str, Case] = {}
        self.oracles: dict[str, Future] = {}
        self.lock = threading.Lock()

    def submit(self, key: str, installer: str) -> None:
        with self.lock:
            if (key, installer) in self.builds:
                return
            try:
                case = self.cases.get(key) or make_case(key, self.ix)
                result = prepare(case, installer, self.root)
            except BaseException as exc:  # noqa: BLE001 - shown by the test that asks
                future: Future = Future()
                future.set_exception(exc)
                self.builds[(key, installer)] = future
                return
            if not case.fresh:
                self.cases[key] = case
                if key not in self.oracles:  # queued before the build: never waits behind it
                    self.oracles[key] = self.pool.submit(timed_oracle, self.venv, result.folder, case.oracle_args)
            self.builds[(key, installer)] = self.pool.submit(execute, result, self.venv, self.engine_env)

    def result(self, key: str, installer: str) -> Result:
        self.submit(key, installer)
        result = self.builds[(key, installer)].result(timeout=JOB_TIMEOUT)
        if key in self.oracles:
            result.oracle = self.oracles[key].result(timeout=JOB_TIMEOUT)
        return result

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        done = [f.result() for f in self.builds.values() if f.done() and not f.exception()]
        if done:
            t0 = min(r.timings.get("started", time.time()) for r in done)
            rows = [f"{r.timings.get('started', t0) - t0:6.1f} {r.timings.get('build', 0):6.1f} "
                    f"{r.timings.get('oracle', 0):6.1f} {r.timings.get('probe', 0):5.1f}  "
                    f"{r.case.key} [{r.installer}] build={r.build_code}" for r in done]
            rows += [f"{'':6} {'':6} {f.result().seconds:6.1f} {'':5}  {key} [oracle]"
                     for key, f in self.oracles.items() if f.done() and not f.exception()]
            (self.root / "timings.txt").write_text("start  build oracle probe\n" + "\n".join(sorted(rows)) + "\n")
        tags = [r.tag for r in done if r.build_code == 0]
        if tags:
            subprocess.run(["buildah", "rmi", *tags], env={**os.environ, **self.engine_env}, capture_output=True)


def _wanted(session) -> list[tuple[str, str]]:
    """(case key, installer) of every selected test in this module, biggest builds first."""
    wanted = []
    me = sys.modules[__name__]
    for item in session.items:
        if getattr(item, "module", None) is not me or not hasattr(item, "callspec"):
            continue
        params = item.callspec.params
        if "key" in params and "installer" in params:
            wanted.append((params["key"], params["installer"]))
    order = {"big-file": 0}
    return sorted(dict.fromkeys(wanted), key=lambda w: order.get(w[0], 1 if w[0].startswith("real:") else 2))


@pytest.fixture(scope="module")
def lab(request, engine_env, indexes, tmp_path_factory):
    root = tmp_path_factory.mktemp("oracle")
    venv = make_oracle_venv(engine_env, root)
    lab = Lab(indexes, venv, engine_env, root / "cases")
    (root / "cases").mkdir()
    for key, installer in _wanted(request.session):
        lab.submit(key, installer)
    try:
        yield lab
    finally:
        lab.close()


# ---------------------------------------------------------------------------------------------
# the comparison


def _fmt(versions: dict[str, str], most: int = 40) -> str:
    items = [f"{k}=={v}" for k, v in sorted(versions.items())]
    if len(items) > most:
        items = items[: most // 2] + [f"... {len(items) - most} more ..."] + items[-most // 2:]
    return ", ".join(items) or "(nothing)"


def _tail(log: str, chars: int = 3000, line_chars: int = 400) -> str:
    """The end of a build log, each line cut to ``line_chars`` (a RUN echoes the whole requirements file)."""
    lines = [ln if len(ln) <= line_chars else ln[:line_chars // 2] + f" [... {len(ln) - line_chars} chars ...] " + ln[-line_chars // 2:]
             for ln in log.splitlines()]
    return "\n".join(lines)[-chars:]


def _install_step(dockerfile: str) -> str:
    """The Dockerfile's pip install step, shortened for a message."""
    steps = re.split(r"\n(?=[A-Z]+ )", dockerfile)
    install = [s for s in steps if "pip install" in s and "uv==" not in s] or steps[-1:]
    text = "\n".join(install)
    return text if len(text) < 2500 else text[:1200] + f"\n  [... {len(text) - 2400} characters ...]\n" + text[-1200:]


def check(lab: Lab, key: str, installer: str) -> None:
    r = lab.result(key, installer)
    oracle = r.oracle
    where = f"[{key}, installer={installer}] folder {r.folder}"
    assert oracle is not None
    if r.compile_code != 0:
        wanted = _fmt(oracle.installs) if oracle.ok else "refuses: " + oracle.log[-1500:]
        pytest.fail(f"{where}: envc compile exited {r.compile_code}:\n{r.compile_err}\npip {wanted}", pytrace=False)
    if not oracle.ok:
        if r.build_code == 0:
            pytest.fail(f"{where}: pip refuses these requirements but the image built, holding "
                        f"{_fmt(_compared(r.image, {}, lab.venv.seeds)[0])}\n--- pip\n{oracle.log}\n"
                        f"--- install step\n{_install_step(r.dockerfile)}", pytrace=False)
        assert r.case.refusal, f"{where}: pip refused a case meant to install:\n{oracle.log}"
        assert re.search(r.case.refusal, r.build_log, re.I), (
            f"{where}: pip refuses and the build failed, but not for that reason (no /{r.case.refusal}/ in the log)"
            f"\n--- pip\n{oracle.log}\n--- build (tail)\n{_tail(r.build_log)}")
        return
    assert not r.case.refusal, f"{where}: pip was expected to refuse but would install {_fmt(oracle.installs)}"
    if r.build_code != 0:
        pytest.fail(f"{where}: pip installs {_fmt(oracle.installs)}; the build failed ({r.build_code}):\n"
                    f"--- install step\n{_install_step(r.dockerfile)}\n--- build (tail)\n{_tail(r.build_log)}",
                    pytrace=False)
    image, expected = _compared(r.image, oracle.installs, lab.venv.seeds)
    assert not r.image_duplicates, f"{where}: two versions of one distribution in the image: {r.image_duplicates}"
    if image != expected:
        only_pip = {k: v for k, v in expected.items() if k not in image}
        only_image = {k: v for k, v in image.items() if k not in expected}
        differ = {k: (expected[k], image[k]) for k in expected.keys() & image.keys() if expected[k] != image[k]}
        lines = [f"{where}: the image holds what pip would not install"]
        if differ:
            lines.append("  versions (pip -> image): " + ", ".join(f"{k} {a} -> {b}" for k, (a, b) in sorted(differ.items())))
        if only_pip:
            lines.append(f"  missing from the image: {_fmt(only_pip)}")
        if only_image:
            lines.append(f"  only in the image: {_fmt(only_image)}")
        lines.append(f"  pip: {_fmt(expected)}\n  image: {_fmt(image)}")
        if r.case.fresh:
            lines.append(f"  (oracle resolved {oracle.when - r.built_at:.1f} s after the build finished)")
        lines.append(f"--- install step\n{_install_step(r.dockerfile)}")
        warnings = [ln for ln in r.build_log.splitlines() if re.search(r"warn|ignor", ln, re.I)]
        if warnings:
            lines.append("--- build warnings\n" + "\n".join(warnings[-10:]))
        pytest.fail("\n".join(lines), pytrace=False)


def _compared(image: dict[str, str] | None, installs: dict[str, str], seeds: dict[str, str]):
    """(image, expected) restricted to what is compared: the seed distributions only when pip installs them."""
    expected = {**seeds, **installs}
    keep = lambda k: k not in SEED_NAMES or k in installs  # noqa: E731
    return ({k: v for k, v in (image or {}).items() if keep(k)}, {k: v for k, v in expected.items() if keep(k)})


# ---------------------------------------------------------------------------------------------
# the tests


def _params(*keys: str):
    return pytest.mark.parametrize(("key", "installer"), [(k, i) for k in keys for i in INSTALLERS],
                                   ids=[f"{k}-{i}" for k in keys for i in INSTALLERS])


@_params("index-choice-file")
def test_index_choice_requirements_file(lab, key, installer):
    """`--index-url A` + `--extra-index-url B` in the file: pip takes the best version across both."""
    check(lab, key, installer)


@_params("index-choice-spec")
def test_index_choice_spec_options(lab, key, installer):
    """The same through `pip.index_url` and `pip.extra_index_urls`."""
    check(lab, key, installer)


@_params("pre-file")
def test_pre_in_requirements_file(lab, key, installer):
    check(lab, key, installer)


@_params("pre-conda-list")
def test_pre_in_conda_style_pip_list(lab, key, installer):
    check(lab, key, installer)


@_params("pip-only-forms")
def test_forms_uv_reads_otherwise_install_what_pip_installs(lab, key, installer):
    check(lab, key, installer)


@_params(*(f"find-links-{v}" for v in FIND_LINKS_VARIANTS))
def test_find_links_folder_next_to_requirements(lab, key, installer):
    """`--no-index` and a folder of wheels: every distribution comes from that folder (the names exist
    on no index)."""
    check(lab, key, installer)


@_params("constraints-extras-markers")
def test_constraints_extras_markers(lab, key, installer):
    check(lab, key, installer)


@_params("hashes")
def test_hash_checking_mode(lab, key, installer):
    check(lab, key, installer)


@_params("hash-mismatch")
def test_wrong_hash_fails_the_build_as_pip_does(lab, key, installer):
    check(lab, key, installer)


@_params("hash-unhashed-dependency")
def test_unhashed_dependency_in_hash_mode_fails_as_pip_does(lab, key, installer):
    check(lab, key, installer)


@_params("big-file")
def test_big_hashed_requirements_file(lab, key, installer):
    """5,000 lines (over 128 KiB): must build, and install all 1,000 packages."""
    check(lab, key, installer)
    r = lab.result(key, installer)
    assert sum(k.startswith(P + "big-") for k in r.image) == BIG_PACKAGES


def test_realworld_oracle_files_listed():
    assert not REAL_FILES_PROBLEM, REAL_FILES_PROBLEM
    assert len(REAL_FILES) >= 10, f"only {len(REAL_FILES)} files marked oracle in {MANIFEST}"
    for path in REAL_FILES:
        assert (REALWORLD / path).is_file(), f"{MANIFEST} lists {path}, which is not in {REALWORLD}"


@_params("curated-minimal")
def test_curated_minimal_inference_pip_part_against_pypi(lab, key, installer):
    """Azure ML's minimal inference environment as envc ships it: its pip pins resolved from PyPI."""
    check(lab, key, installer)


@_params(*(f"real:{p}" for p in REAL_FILES))
def test_realworld_requirements_against_pypi(lab, key, installer):
    """A real requirements file, resolved from PyPI by the build and, right after, by pip."""
    check(lab, key, installer)
