"""End to end: envc spec -> `envc compile` -> `buildah bud` -> `podman run`; assert what arrived.

Every image is built FROM the offline base ``localhost/envc-test-base:bookworm`` (see
``tests/engine.py`` and ``scripts/make-test-base-image.sh``); pip reaches PyPI and apt the Debian
mirror through the host network during RUN steps. Layers are cached in the persistent engine
storage, so a warm run rebuilds almost nothing (the cache test builds fresh layers on purpose).

Skipped only when the engine is missing and CI is not set; with CI set, a missing engine is a
failure, never a silent skip (the `engine_env` fixture in conftest.py).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import yaml

import engine

pytestmark = pytest.mark.e2e

BASE = engine.BASE_TAG  # localhost/envc-test-base:bookworm
VENV = "/opt/envc/env"
WRAPPER = "/opt/envc/bin/envc-init"
TAG_PREFIX = "localhost/envc-e2e"


# ---------------------------------------------------------------------------------------------
# helpers


def write_spec(folder: Path, spec: dict, files: dict[str, str] | None = None) -> Path:
    """Write ``spec`` as envc.yml (plus ``files``, relative to it) into ``folder``.

    The spec is dumped from Python data so the dict *is* the expected value of every field.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for relative, text in (files or {}).items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    text = yaml.safe_dump(spec, allow_unicode=True, sort_keys=False, width=10_000)
    assert yaml.safe_load(text) == spec  # the YAML says exactly what the test expects
    path = folder / "envc.yml"
    path.write_text(text, encoding="utf-8")
    return path


def compile_spec(spec_path: Path) -> Path:
    """`envc compile SPEC -o Dockerfile` in a subprocess, as a user runs it; the Dockerfile path."""
    out = spec_path.parent / "Dockerfile"
    proc = subprocess.run(
        [sys.executable, "-m", "envc", "compile", str(spec_path), "-o", str(out)],
        capture_output=True, text=True, cwd=spec_path.parent,
    )
    assert proc.returncode == 0, f"envc compile failed ({proc.returncode}):\n{proc.stderr}"
    return out


def build(spec_path: Path, tag: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    """Compile and build (context = the spec's folder); fail with the Dockerfile and log."""
    dockerfile = compile_spec(spec_path)
    proc = engine.build(dockerfile, spec_path.parent, tag, env)
    assert proc.returncode == 0, (
        f"buildah bud failed ({proc.returncode}) on the Dockerfile envc emitted:\n"
        f"{dockerfile.read_text(encoding='utf-8')}\n--- stdout (tail)\n{proc.stdout[-4000:]}"
        f"\n--- stderr (tail)\n{proc.stderr[-4000:]}"
    )
    return proc


def run(tag: str, argv: list[str], env: dict[str, str], extra: list[str] = (), timeout: float = 180):
    return engine.run(tag, argv, env, list(extra), timeout=timeout)


def run_ok(tag: str, argv: list[str], env: dict[str, str], extra: list[str] = ()) -> str:
    proc = run(tag, argv, env, extra)
    assert proc.returncode == 0, f"{argv} exited {proc.returncode}:\n{proc.stderr}\n{proc.stdout}"
    return proc.stdout


def steps(build_output: str) -> list[tuple[str, bool]]:
    """(instruction, was a cache hit) per `STEP i/n:` of a `buildah bud --layers` log."""
    blocks = re.split(r"^STEP \d+/\d+: ", build_output, flags=re.M)[1:]
    return [(b.split("\n", 1)[0], "--> Using cache " in b) for b in blocks]


def rmi(tags: list[str], env: dict[str, str]) -> None:
    """Best-effort removal of images only this module made (keeps the storage from growing)."""
    subprocess.run(["buildah", "rmi", *tags], env={**os.environ, **env}, capture_output=True)


# ---------------------------------------------------------------------------------------------
# 1. pip packages


PIP_PACKAGES = ["six==1.16.0", "idna>=3.4,<4", "packaging==23.2", 'colorama==0.4.6; python_version >= "3.8"']
PIP_FILES = {
    "requirements.txt": (
        "# the top file: a constraint, an include in a subfolder, and a pin\n"
        "-c constraints.txt\n"
        "-r reqs/base.txt\n"
        "iniconfig==2.0.0\n"
    ),
    "constraints.txt": "tomli==2.0.1\n",
    "reqs/base.txt": "tomli  # unpinned here: the constraint file pins it\n",
}
PIP_EXPECTED = {"six": "1.16.0", "packaging": "23.2", "colorama": "0.4.6", "iniconfig": "2.0.0", "tomli": "2.0.1"}


@pytest.fixture(scope="module")
def pip_image(engine_env, tmp_path_factory):
    folder = tmp_path_factory.mktemp("pip")
    spec = {
        "name": "e2e-pip",
        "base": {"image": BASE},
        "pip": {"packages": PIP_PACKAGES, "requirements": ["requirements.txt"]},
    }
    tag = f"{TAG_PREFIX}-pip:test"
    build(write_spec(folder, spec, PIP_FILES), tag, engine_env)
    return tag, folder


PROBE_PACKAGES = r"""
import importlib, importlib.metadata as md, json, sys
names = ["six", "idna", "packaging", "colorama", "iniconfig", "tomli"]
for name in names:
    importlib.import_module(name)
print(json.dumps({"executable": sys.executable, "prefix": sys.prefix,
                  "versions": {n: md.version(n) for n in names}}))
"""


def test_pip_packages_importable_at_pinned_versions(pip_image, engine_env):
    from packaging.specifiers import SpecifierSet

    tag, _ = pip_image
    # `python` from PATH, as the image's users get it: the venv's interpreter.
    got = json.loads(run_ok(tag, ["python", "-c", PROBE_PACKAGES], engine_env))
    assert got["prefix"] == VENV
    assert got["executable"].startswith(VENV + "/bin/")
    versions = got["versions"]
    assert {k: versions[k] for k in PIP_EXPECTED} == PIP_EXPECTED
    assert versions["idna"] in SpecifierSet(">=3.4,<4"), versions["idna"]


def test_pip_specifier_was_not_a_shell_redirect(pip_image, engine_env):
    """`idna>=3.4,<4` unquoted would redirect to a file `=3.4,` (and read from `4`)."""
    tag, folder = pip_image
    config = engine.inspect(tag, engine_env)["OCIv1"]["config"]
    workdir = config.get("WorkingDir") or "/"
    listing = run_ok(tag, ["sh", "-c", 'ls -1A "$1" / /opt/envc', "sh", workdir],
                     engine_env, ["--entrypoint", ""])
    assert "context" not in listing.split("/opt/envc:", 1)[1].split()  # requirements files do not stay in the image
    names = {line.strip() for line in listing.splitlines() if line.strip() and not line.endswith(":")}
    stray = sorted(n for n in names if n.startswith("=") or set(n) & set("<>,") or n in ("4", "3"))
    assert not stray, f"files created by a shell redirect in the build: {stray}"
    host_stray = sorted(p.name for p in folder.iterdir() if p.name.startswith("=") or set(p.name) & set("<>,"))
    assert not host_stray, host_stray
    history = " ".join(h.get("created_by", "") for h in engine.inspect(tag, engine_env)["OCIv1"]["history"])
    assert "'idna>=3.4,<4'" in history  # quoted as one shell word in the RUN


def test_pip_requirements_include_named_with_a_dollar(engine_env, tmp_path):
    """pip reads `-r $weird.txt` literally (it expands only ${VAR}); the image must get that file.

    Correct behaviour is either a located error from envc or a build that installs the package:
    never a Dockerfile whose COPY expands `$weird` to nothing and fails to build.
    """
    files = {"requirements.txt": "-r $weird.txt\n", "$weird.txt": "six==1.16.0\n"}
    spec = {"name": "e2e-pip-dollar", "base": {"image": BASE}, "pip": {"requirements": ["requirements.txt"]}}
    spec_path = write_spec(tmp_path, spec, files)
    proc = subprocess.run([sys.executable, "-m", "envc", "compile", str(spec_path), "-o", str(tmp_path / "Dockerfile")],
                          capture_output=True, text=True, cwd=tmp_path)
    if proc.returncode == 2:  # refused: must say where
        assert re.search(r"requirements\.txt:1:\d+: error: ", proc.stderr), proc.stderr
        return
    assert proc.returncode == 0, proc.stderr
    tag = f"{TAG_PREFIX}-pip-dollar:test"
    built = engine.build(tmp_path / "Dockerfile", tmp_path, tag, engine_env)
    assert built.returncode == 0, (
        "envc emitted a Dockerfile that cannot build (COPY sources are not escaped):\n"
        + (tmp_path / "Dockerfile").read_text(encoding="utf-8") + "\n" + built.stderr[-2000:]
    )
    out = run_ok(tag, ["python", "-c", "import six; print(six.__version__)"], engine_env)
    assert out.strip() == "1.16.0"


# ---------------------------------------------------------------------------------------------
# 2. ENV and LABEL values, exactly


TRICKY = {
    "DOUBLE_QUOTES": 'a "double" quote',
    "SINGLE_QUOTE": "it's",
    "BOTH_QUOTES": "it's \"both\"",
    "DOLLAR_HOME": "$HOME",
    "DOLLAR_BRACES": "${USER}",
    "DOLLAR_DEFAULT": "${HOME:-x}",
    "COMMAND_SUBST": "$(whoami)",
    "BACKTICKS": "`id`",
    "BACKSLASHES": "C:\\temp\\new",
    "TRAILING_BACKSLASH": "ends with \\",
    "ONLY_BACKSLASH": "\\",
    "BACKSLASH_DOLLAR": "\\$HOME",
    "QUOTE_AND_TRAILING_BACKSLASH": "it's $HOME \\",
    "EQUALS": "a=b c==d =",
    "SPACES": "  padded  ",
    "EMPTY": "",
    "UNICODE": "naïve café ✓ 日本語",
    "HASH": "# not a comment",
    "SEMICOLON": "a; echo pwned",
    "AND_AND": "true && echo pwned",
    "PIPE": "a | cat",
    "REDIRECT": "a > /tmp/pwned",
    "HEREDOC": "<<EOF",
    "TAB": "a\tb",
    "PERCENT": "100%",
    "EVERYTHING": " it's \"all\" $HOME ${USER} $(whoami) `id` a=b # ; && | > <<EOF ü \\",
}
LABEL_PREFIX = "org.envc.e2e."


def _label_key(name: str) -> str:
    return LABEL_PREFIX + name.lower().replace("_", "-")


@pytest.fixture(scope="module")
def env_image(engine_env, tmp_path_factory):
    folder = tmp_path_factory.mktemp("env")
    spec = {
        "name": "e2e-env",
        "base": {"image": BASE},
        "env": dict(TRICKY),
        "labels": {_label_key(k): v for k, v in TRICKY.items()},
    }
    tag = f"{TAG_PREFIX}-env:test"
    build(write_spec(folder, spec), tag, engine_env)
    return tag


ENVIRON_JSON = "import os,json;print(json.dumps(dict(os.environ)))"


@pytest.fixture(scope="module")
def container_environ(env_image, engine_env) -> dict:
    """The environment a process in the running container sees (one container for every name)."""
    return json.loads(run_ok(env_image, ["python3", "-c", ENVIRON_JSON], engine_env, ["--entrypoint", ""]))


@pytest.mark.parametrize("name", sorted(TRICKY))
def test_env_value_arrives_exactly(container_environ, name):
    assert name in container_environ, f"{name} missing from the container's environment"
    assert container_environ[name] == TRICKY[name]


def test_env_in_image_config_exactly(env_image, engine_env):
    config_env = engine.inspect(env_image, engine_env)["OCIv1"]["config"]["Env"]
    pairs = dict(item.split("=", 1) for item in config_env)
    assert {k: pairs.get(k) for k in TRICKY} == TRICKY


def test_label_values_arrive_exactly(env_image, engine_env):
    labels = engine.inspect(env_image, engine_env)["OCIv1"]["config"].get("Labels") or {}
    expected = {_label_key(k): v for k, v in TRICKY.items()}
    assert {k: labels.get(k) for k in expected} == expected


def test_no_value_was_executed_at_build_time(env_image, engine_env):
    """`> /tmp/pwned` and friends must be inert text, not something the build ran."""
    out = run_ok(env_image, ["sh", "-c", "ls -1A /tmp /"], engine_env, ["--entrypoint", ""])
    assert "pwned" not in out
    assert "EOF" not in out


# ---------------------------------------------------------------------------------------------
# 3. init scripts: setup once per node, run in every process, then the command


SETUP_SH = """\
#!/bin/sh
# init.setup: runs once per node. Slow on purpose so that waiting ranks really wait.
set -e
if [ -n "${ENVC_TEST_FAIL_SETUP:-}" ]; then
  echo "setup: failing on purpose" >&2
  exit 3
fi
if [ -n "${ENVC_TEST_KILL_WRAPPER:-}" ]; then
  # As the OOM killer or a node preemption would: the wrapper (our parent) dies outright,
  # before it can mark setup as failed.
  echo "setup: killing the wrapper (pid $PPID) with SIGKILL" >&2
  kill -9 "$PPID"
  exit 0
fi
mkdir -p /tmp/envc-test
echo "setup ran (pid $$)" >> /tmp/envc-test/setup.log
sleep 1
echo "prepared by setup #$(wc -l < /tmp/envc-test/setup.log)" > /tmp/envc-test/prepared.txt
"""
RUN_SH = """\
# init.run: sourced in every process before the command.
export ENVC_TEST_RUN_VAR="exported by run.sh: it's \\$HOME"
mkdir -p /tmp/envc-test
echo "run ran" >> /tmp/envc-test/run.log
"""
RUN_VAR = "exported by run.sh: it's $HOME"
# One line: the spec language refuses line breaks in command arguments.
COMMAND_CODE = (
    "import json, os, sys; r = lambda p: open(p).read(); print(json.dumps({"
    "'rank': os.environ.get('OMPI_COMM_WORLD_LOCAL_RANK', os.environ.get('LOCAL_RANK', '-')), "
    "'run_var': os.environ.get('ENVC_TEST_RUN_VAR'), "
    "'tricky': os.environ.get('TRICKY'), "
    "'prepared': r('/tmp/envc-test/prepared.txt').strip(), "
    "'setup_runs': len(r('/tmp/envc-test/setup.log').splitlines()), "
    "'args': sys.argv[1:]}), flush=True)"
)
INIT_TRICKY = "it's \"q\" $HOME `id` \\"


def init_spec(name: str, apt: list[str] | None = None) -> dict:
    spec = {"name": name, "base": {"image": BASE}}
    if apt:
        spec["system"] = {"apt": apt}
    spec["env"] = {"TRICKY": INIT_TRICKY}
    spec["init"] = {
        "setup": "scripts/setup.sh",
        "run": "scripts/run.sh",
        "command": ["python3", "-c", COMMAND_CODE, "a b", "$HOME"],
    }
    return spec


INIT_FILES = {"scripts/setup.sh": SETUP_SH, "scripts/run.sh": RUN_SH}


@pytest.fixture(scope="module")
def init_image(engine_env, tmp_path_factory):
    tag = f"{TAG_PREFIX}-init:test"
    build(write_spec(tmp_path_factory.mktemp("init"), init_spec("e2e-init"), INIT_FILES), tag, engine_env)
    return tag


def _records(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def test_init_default_run(init_image, engine_env):
    """`podman run IMAGE`: the wrapper runs setup, sources run, then execs the command."""
    config = engine.inspect(init_image, engine_env)["OCIv1"]["config"]
    assert config["Entrypoint"] == [WRAPPER]
    proc = run(init_image, [], engine_env)
    assert proc.returncode == 0, proc.stderr
    [record] = _records(proc.stdout)
    assert record == {
        "rank": "-",
        "run_var": RUN_VAR,
        "tricky": INIT_TRICKY,
        "prepared": "prepared by setup #1",
        "setup_runs": 1,
        "args": ["a b", "$HOME"],
    }


def test_init_setup_failure_stops_the_command(init_image, engine_env):
    proc = run(init_image, [], engine_env, ["-e", "ENVC_TEST_FAIL_SETUP=1"])
    assert proc.returncode != 0
    assert proc.returncode == 3  # the wrapper passes setup's own status on
    assert "setup: failing on purpose" in proc.stderr
    assert _records(proc.stdout) == []


# Launches of 4 concurrent "ranks" in one container, torchrun style (LOCAL_RANK): ranks 3..1
# start before rank 0. $0 is the wrapper, $1 the plan (one word per launch: ok | fail = with
# init.setup failing), the rest the image's command.
SIMULATED_RANKS = r"""
wrapper=$0; plan=$1; shift
round=0
for mode in $plan; do
  round=$((round + 1))
  if [ "$mode" = fail ]; then export ENVC_TEST_FAIL_SETUP=1; else unset ENVC_TEST_FAIL_SETUP; fi
  echo "ROUND $round"
  # Each round is its own launcher process (as a second mpirun or docker exec would be).
  sh -c '
    wrapper=$1; shift; pids=""
    for i in 3 2 1 0; do
      LOCAL_RANK=$i "$wrapper" "$@" > /tmp/rank.$i.out 2> /tmp/rank.$i.err &
      pids="$pids $i:$!"
    done
    for entry in $pids; do
      wait "${entry#*:}"; echo "EXIT ${entry%%:*} $?"
    done' launcher "$wrapper" "$@"
  cat /tmp/rank.*.out
  cat /tmp/rank.*.err >&2
  echo "SETUP_RUNS $(cat /tmp/envc-test/setup.log 2>/dev/null | wc -l)"
  echo "RUN_RUNS $(cat /tmp/envc-test/run.log 2>/dev/null | wc -l)"
  echo "PREPARED $(cat /tmp/envc-test/prepared.txt 2>/dev/null)"
done
"""


def _launches(stdout: str) -> list[dict]:
    """One summary per launch of SIMULATED_RANKS (or of MPIRUN)."""
    launches = []
    for chunk in re.split(r"^ROUND \d+\n", stdout, flags=re.M)[1:]:
        launches.append({
            "exits": {m[1]: int(m[2]) for m in re.finditer(r"^EXIT (\S+) (\d+)$", chunk, re.M)},
            "setup_runs": int(re.search(r"^SETUP_RUNS (\d+)$", chunk, re.M)[1]),
            "run_runs": int(re.search(r"^RUN_RUNS (\d+)$", chunk, re.M)[1]),
            "prepared": re.search(r"^PREPARED ?(.*)$", chunk, re.M)[1],
            "records": _records(chunk),
        })
    return launches


def _command(tag, env) -> list[str]:
    return engine.inspect(tag, env)["OCIv1"]["config"]["Cmd"]


def simulate_ranks(tag, env, plan: str) -> tuple[subprocess.CompletedProcess, list[dict]]:
    argv = ["sh", "-c", SIMULATED_RANKS, WRAPPER, plan, *_command(tag, env)]
    proc = run(tag, argv, env, ["--entrypoint", ""], timeout=120)
    assert proc.returncode == 0, proc.stderr
    launches = _launches(proc.stdout)
    assert len(launches) == len(plan.split()), proc.stdout
    return proc, launches


def test_init_local_rank_simulated(init_image, engine_env):
    """Setup exactly once for 4 LOCAL_RANK processes; every rank waits for it and sees run's export."""
    proc, [launch] = simulate_ranks(init_image, engine_env, "ok")
    assert launch["exits"] == {"0": 0, "1": 0, "2": 0, "3": 0}, proc.stderr
    assert launch["setup_runs"] == 1
    assert launch["run_runs"] == 4
    assert sorted(r["rank"] for r in launch["records"]) == ["0", "1", "2", "3"]
    for record in launch["records"]:
        assert record["run_var"] == RUN_VAR
        assert record["prepared"] == "prepared by setup #1"  # waited for setup to finish
        assert record["setup_runs"] == 1
        assert record["args"] == ["a b", "$HOME"]


def test_init_local_rank_setup_failure_stops_every_rank(init_image, engine_env):
    proc, [launch] = simulate_ranks(init_image, engine_env, "fail")
    assert set(launch["exits"]) == {"0", "1", "2", "3"}
    assert launch["exits"]["0"] == 3
    assert all(code != 0 for code in launch["exits"].values()), launch["exits"]
    assert launch["records"] == []
    assert proc.stderr.count("init.setup failed on local rank 0") == 3


def test_init_second_launch_in_same_container_waits_for_its_setup(init_image, engine_env):
    """A second launch in the same container (docker restart, a second mpirun / docker exec).

    Whether setup re-runs or is skipped the second time is the wrapper's choice; what must hold
    either way is that no rank starts its command on a half-done setup: all ranks of a launch
    see the setup state the launch ends with.
    """
    _, launches = simulate_ranks(init_image, engine_env, "ok ok")
    second = launches[1]
    assert second["exits"] == {"0": 0, "1": 0, "2": 0, "3": 0}
    seen = {r["rank"]: r["prepared"] for r in second["records"]}
    assert seen == dict.fromkeys(["0", "1", "2", "3"], second["prepared"]), (
        f"ranks saw {seen} while setup left {second['prepared']!r}: ranks other than 0 "
        "did not wait for this launch's setup (stale marker from the previous launch)"
    )


def test_init_setup_failure_does_not_poison_the_next_launch(init_image, engine_env):
    """Setup failed once (e.g. a flaky download); the next launch's setup succeeds: all ranks run."""
    proc, launches = simulate_ranks(init_image, engine_env, "fail ok")
    assert launches[0]["exits"]["0"] == 3
    second = launches[1]
    assert second["exits"] == {"0": 0, "1": 0, "2": 0, "3": 0}, (
        f"{second['exits']}: ranks other than 0 failed on the previous launch's failure marker\n"
        + proc.stderr
    )
    assert sorted(r["rank"] for r in second["records"]) == ["0", "1", "2", "3"]


@pytest.fixture(scope="module")
def mpi_image(engine_env, tmp_path_factory):
    """The init spec plus Debian's openmpi-bin (about 8 s of apt on a cold cache)."""
    tag = f"{TAG_PREFIX}-mpi:test"
    spec = init_spec("e2e-mpi", apt=["openmpi-bin"])
    build(write_spec(tmp_path_factory.mktemp("mpi"), spec, INIT_FILES), tag, engine_env)
    return tag


MPIRUN = r"""
mpirun --allow-run-as-root --oversubscribe -np 4 "$0" "$@"
status=$?
echo "EXIT mpirun $status"
echo "SETUP_RUNS $(cat /tmp/envc-test/setup.log 2>/dev/null | wc -l)"
echo "RUN_RUNS $(cat /tmp/envc-test/run.log 2>/dev/null | wc -l)"
exit $status
"""


def test_init_mpirun_4_ranks(mpi_image, engine_env):
    """Real launcher: OMPI_COMM_WORLD_LOCAL_RANK picks the one rank that runs setup."""
    argv = ["sh", "-c", MPIRUN, WRAPPER, *_command(mpi_image, engine_env)]
    proc = run(mpi_image, argv, engine_env, ["--entrypoint", ""], timeout=120)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    assert re.search(r"^SETUP_RUNS 1$", proc.stdout, re.M), proc.stdout
    assert re.search(r"^RUN_RUNS 4$", proc.stdout, re.M), proc.stdout
    records = _records(proc.stdout)
    assert sorted(r["rank"] for r in records) == ["0", "1", "2", "3"], proc.stdout
    for record in records:
        assert record["run_var"] == RUN_VAR
        assert record["tricky"] == INIT_TRICKY
        assert record["prepared"] == "prepared by setup #1"
        assert record["setup_runs"] == 1
        assert record["args"] == ["a b", "$HOME"]


def test_init_mpirun_setup_failure(mpi_image, engine_env):
    argv = ["sh", "-c", MPIRUN, WRAPPER, *_command(mpi_image, engine_env)]
    proc = run(mpi_image, argv, engine_env, ["--entrypoint", "", "-e", "ENVC_TEST_FAIL_SETUP=1"], timeout=120)
    assert proc.returncode != 0
    assert _records(proc.stdout) == []
    assert "setup: failing on purpose" in proc.stderr


# Each rank is the wrapper under a shell that reports how it ended: "EXIT rank status start end".
# The shell also stands for a launcher that does not tear the job down when one process dies
# (srun without --kill-on-bad-exit, a fault-tolerant launcher): plain mpirun would kill the other
# ranks as soon as rank 0's wrapper died, and they would never wait at all.
MPIRUN_EACH_RANK = r"""
mpirun --allow-run-as-root --oversubscribe -np 4 sh -c '
  start=$(date +%s.%N)
  "$0" "$@"
  status=$?
  echo "EXIT $OMPI_COMM_WORLD_LOCAL_RANK $status $start $(date +%s.%N)"' "$0" "$@"
echo "EXIT mpirun $? 0 0"
"""
SETUP_TIMEOUT = 3


def test_init_mpirun_rank_0_killed_during_setup(mpi_image, engine_env):
    """Rank 0's wrapper is SIGKILLed inside init.setup, so no marker ever says done or failed: the
    other ranks give up after ENVC_SETUP_TIMEOUT seconds, non-zero, naming the variable."""
    argv = ["sh", "-c", MPIRUN_EACH_RANK, WRAPPER, *_command(mpi_image, engine_env)]
    extra = ["--entrypoint", "", "-e", "ENVC_TEST_KILL_WRAPPER=1", "-e", f"ENVC_SETUP_TIMEOUT={SETUP_TIMEOUT}"]
    proc = run(mpi_image, argv, engine_env, extra, timeout=120)
    assert proc.returncode == 0, proc.stderr + proc.stdout
    ends = {m[1]: (int(m[2]), float(m[4]) - float(m[3]))
            for m in re.finditer(r"^EXIT (\S+) (\d+) (\S+) (\S+)$", proc.stdout, re.M)}
    assert set(ends) == {"0", "1", "2", "3", "mpirun"}, proc.stdout
    assert ends["0"][0] == 128 + 9, ends  # rank 0's wrapper died of SIGKILL
    assert "setup: killing the wrapper" in proc.stderr
    for rank in "123":
        status, seconds = ends[rank]
        assert status == 124, (rank, ends, proc.stderr)
        assert SETUP_TIMEOUT <= seconds < SETUP_TIMEOUT + 5, (rank, ends)
    assert proc.stderr.count(f"gave up after ENVC_SETUP_TIMEOUT={SETUP_TIMEOUT} seconds") == 3, proc.stderr
    assert "init.setup on local rank 0 neither finished nor failed" in proc.stderr
    assert _records(proc.stdout) == []  # no rank ran the command


# ---------------------------------------------------------------------------------------------
# 4. user-managed interpreter


@pytest.fixture(scope="module")
def user_managed_image(engine_env, tmp_path_factory):
    spec = {
        "name": "e2e-user-managed",
        "base": {"image": BASE},
        "python": {"user_managed": True, "interpreter": "/usr/bin/python3"},
        "init": {"command": ["python3", "-c", "import sys;print(sys.executable)"]},
    }
    tag = f"{TAG_PREFIX}-user-managed:test"
    build(write_spec(tmp_path_factory.mktemp("user-managed"), spec), tag, engine_env)
    return tag


def test_user_managed_interpreter(user_managed_image, engine_env):
    assert run_ok(user_managed_image, [], engine_env).strip() == "/usr/bin/python3"
    probe = ("import json, os, shutil, sys; print(json.dumps([sys.executable, shutil.which('python3'), "
             "os.path.exists('/opt/envc/env'), os.environ.get('VIRTUAL_ENV'), os.environ.get('CONDA_PREFIX')]))")
    got = json.loads(run_ok(user_managed_image, ["python3", "-c", probe], engine_env, ["--entrypoint", ""]))
    assert got == ["/usr/bin/python3", "/usr/bin/python3", False, None, None]
    history = " ".join(h.get("created_by", "") for h in engine.inspect(user_managed_image, engine_env)["OCIv1"]["history"])
    assert "pip install" not in history and "venv" not in history


# ---------------------------------------------------------------------------------------------
# 5. cache order: a pip-only change re-runs only the pip layer


def test_pip_only_change_reruns_only_the_pip_layer(engine_env, tmp_path):
    # A fresh comment in the requirements file gives this run's COPY and pip layers a cache key
    # no earlier run produced, so "not cached" below is about this change, not a cold cache.
    nonce = uuid.uuid4().hex
    files = {"requirements.txt": f"# run {nonce}\nsix==1.16.0\n"}
    spec = {"name": "e2e-cache", "base": {"image": BASE}, "pip": {"packages": ["packaging==23.2"], "requirements": ["requirements.txt"]}}
    tag_a, tag_b = f"{TAG_PREFIX}-cache-a:{nonce[:12]}", f"{TAG_PREFIX}-cache-b:{nonce[:12]}"
    try:
        build(write_spec(tmp_path / "a", spec, files), tag_a, engine_env)
        spec["pip"]["packages"].append("idna==3.6")
        second = build(write_spec(tmp_path / "b", spec, files), tag_b, engine_env)

        by_kind = {}
        for instruction, cached in steps(second.stdout):
            if instruction.startswith("RUN python3 -m venv"):
                by_kind["venv"] = cached
            elif instruction.startswith("COPY"):
                by_kind["copy"] = cached  # requirements are written inside the pip layer: no COPY expected
            elif instruction.startswith("RUN") and " pip install " in instruction and "uv==" not in instruction:
                by_kind["pip"] = cached
        assert by_kind == {"venv": True, "pip": False}, second.stdout
        out = run_ok(tag_b, ["python", "-c", "import idna, six, packaging; print(idna.__version__)"], engine_env)
        assert out.strip() == "3.6"
    finally:
        rmi([tag_a, tag_b], engine_env)


# ---------------------------------------------------------------------------------------------
# 6. an Azure ML CLI v2 environment built from a Docker build context


def test_azureml_v2_build_context_copies_arrive(engine_env, tmp_path):
    """The context's Dockerfile COPYs relative to build.path; envc rebases the sources onto the
    YAML's folder, so the image built from that folder holds the context's files,
    with the tags as labels."""
    context = tmp_path / "context"
    (context / "docker").mkdir(parents=True)
    (context / "app").mkdir()
    (context / "docker" / "Dockerfile").write_text(f"FROM {BASE}\nCOPY app/ /opt/app/\n")
    (context / "app" / "main.py").write_text("print('from the context')\n")
    spec = tmp_path / "azureml-environment.yml"
    spec.write_text("$schema: https://azuremlschemas.azureedge.net/latest/environment.schema.json\n"
                    "name: e2e-azureml-v2\nversion: 2\nbuild: {path: ./context/, dockerfile_path: docker/Dockerfile}\n"
                    "tags: {cuda: 11.10}\n")
    tag = f"{TAG_PREFIX}-azureml-v2:test"
    build(spec, tag, engine_env)
    assert run_ok(tag, ["python3", "/opt/app/main.py"], engine_env, ["--entrypoint", ""]) == "from the context\n"
    labels = engine.inspect(tag, engine_env)["OCIv1"]["config"]["Labels"]
    assert labels["cuda"] == "11.10" and labels["org.opencontainers.image.version"] == "2"
    rmi([tag], engine_env)


# ---------------------------------------------------------------------------------------------
# 7. a base that ends as another user; envc's own scripts as the image holds them


def test_a_base_that_ends_as_another_user_installs_as_root_and_gives_the_image_back(engine_env, tmp_path):
    """apt and /opt/envc need root; the image then runs as the base's user, as it did."""
    files = {"base.Dockerfile": f"FROM {BASE}\nRUN useradd --create-home app\nUSER app\n"}
    spec = {"name": "e2e-user", "base": {"dockerfile": "base.Dockerfile"}, "pip": {"packages": ["six==1.16.0"]},
            "init": {"command": ["sh", "-c", "id -un; python -c 'import six; print(six.__version__)'"]}}
    tag = f"{TAG_PREFIX}-user:test"
    try:
        build(write_spec(tmp_path, spec, files), tag, engine_env)
        assert run_ok(tag, [], engine_env).split() == ["app", "1.16.0"]
    finally:
        rmi([tag], engine_env)


def test_envc_scripts_reach_the_image_byte_for_byte_and_activate_a_conda_style_prefix(engine_env, tmp_path):
    """The activation script and the wrapper, written by the emitted RUN printf, are the exact text
    envc holds; sourced in the image, envc-activate runs a prefix's env_vars.d and activate.d."""
    from envc.common import image_paths as paths
    from envc.core import ir
    from envc.core.emit import render
    from envc.core.init_wrapper import ACTIVATE, WRAPPER

    header = ir.Header(version="t", name="t", spec_hash="0" * 64, directives=(), needs_context=False, context=".", registry=None)
    prefix = "/opt/fake-env"
    setup = ir.Run(commands=(("mkdir", "-p", f"{prefix}/etc/conda/activate.d", f"{prefix}/etc/conda/env_vars.d"),
                             ("sh", "-c", f"printf '%s\\n' '{{\"GDAL_DATA\": \"a b $x\"}}' > {prefix}/etc/conda/env_vars.d/gdal.json"),
                             ("sh", "-c", f"printf '%s\\n' 'export JAVA_HOME=/opt/jdk' > {prefix}/etc/conda/activate.d/java.sh")))
    image = ir.Image(header=header, stages=(
        ir.From(image=BASE, platform=None), setup,
        ir.WriteFile(file=ir.InlineFile(path=paths.ACTIVATE, lines=tuple(ACTIVATE.splitlines())), mode="0644"),
        ir.WriteFile(file=ir.InlineFile(path=paths.WRAPPER, lines=tuple(WRAPPER.splitlines())), mode="0755"),
        ir.Env(variables=(("CONDA_PREFIX", prefix),)), ir.Entrypoint(command=(paths.WRAPPER,))))
    (tmp_path / "Dockerfile").write_text(render(image))
    tag = f"{TAG_PREFIX}-scripts:test"
    try:
        proc = engine.build(tmp_path / "Dockerfile", tmp_path, tag, engine_env)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert run_ok(tag, ["cat", paths.ACTIVATE], engine_env, ["--entrypoint", ""]) == ACTIVATE
        assert run_ok(tag, ["cat", paths.WRAPPER], engine_env, ["--entrypoint", ""]) == WRAPPER
        got = run_ok(tag, ["sh", "-c", 'printf "%s|%s" "$GDAL_DATA" "$JAVA_HOME"'], engine_env)
        assert got == "a b $x|/opt/jdk"
    finally:
        rmi([tag], engine_env)
