"""The init wrapper (envc-init) and conda activation (envc-activate), run by real shells on the host.

No container: the scripts are written to a temp dir with their image paths pointed there, and
run with dash (Debian's /bin/sh, the reference), plus bash and busybox sh where asked. What is
checked is what a process would see: exit status, stderr, and the exact environment of the
command (``env -0``), compared with a control run of the same shell.

- Wrapper: local rank from each launcher variable and their precedence; ranks other than 0 give
  up after ENVC_SETUP_TIMEOUT seconds (default 3600, checked with a fake ``date``; 0 = forever)
  with a message naming the variable; bad values are refused.
- Activation: conda's order (env_vars.d sorted, then conda-meta/state, names upper-cased,
  "***unset***" left out, then activate.d/*.sh sorted), exact values (spaces, quotes, $, `,
  backslashes, newlines, \\u escapes), bash-only scripts, the no-bash and no-awk fallbacks,
  and the wrapper sourcing it before setup, run and the command.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from envc.common import image_paths as paths
from envc.core.init_wrapper import (
    ACTIVATE, LOCAL_RANK_VARIABLES, SETUP_TIMEOUT_DEFAULT, SETUP_TIMEOUT_EXIT, WRAPPER,
)

DASH = shutil.which("dash")
BASH = shutil.which("bash")
BUSYBOX = shutil.which("busybox")
ENV = shutil.which("env")
HOST_PATH = "/usr/local/bin:/usr/bin:/bin"
# Variables of the launchers the wrapper knows, and their job ids: never inherited from the host
# (the tests may themselves run under Slurm or mpirun).
LAUNCHER_VARIABLES = (*LOCAL_RANK_VARIABLES, "TORCHELASTIC_RUN_ID", "PMIX_NAMESPACE", "OMPI_MCA_ess_base_jobid",
                      "SLURM_JOB_ID", "ENVC_SETUP_TIMEOUT", "CONDA_PREFIX", "ENVC_ACTIVATED")

pytestmark = pytest.mark.skipif(DASH is None, reason="dash (Debian's /bin/sh) is the reference shell")


def shells() -> list:
    """dash always; bash (RHEL's /bin/sh) and busybox sh (Alpine's) when the host has them."""
    found = [pytest.param([DASH], id="dash")]
    if BASH:
        found.append(pytest.param([BASH, "--posix"], id="bash"))
    if BUSYBOX:
        found.append(pytest.param([BUSYBOX, "sh"], id="busybox-sh"))
    return found


def parse_env(stdout: bytes) -> dict[str, str]:
    return dict(entry.decode("utf-8", "surrogateescape").split("=", 1) for entry in stdout.split(b"\0") if entry)


# ---------------------------------------------------------------------------------------------
# the wrapper


class Image:
    """The wrapper and its scripts under ``root``, as lowering lays them out under /opt/envc."""

    def __init__(self, root: Path, setup: str | None = "touch \"$SETUP_RAN\"\n", run: str | None = None,
                 activate: bool = False):
        self.root = root
        self.init = root / "init"
        self.init.mkdir(parents=True)
        text = WRAPPER
        for image_path, here in ((paths.SETUP_SCRIPT, self.init / "setup.sh"), (paths.RUN_SCRIPT, self.init / "run.sh"),
                                 (paths.ACTIVATE, root / "envc-activate")):
            assert image_path in text, image_path
            text = text.replace(image_path, str(here))
        self.wrapper = root / "envc-init"
        self.wrapper.write_text(text)
        self.wrapper.chmod(0o755)
        if setup is not None:
            (self.init / "setup.sh").write_text(setup)
        if run is not None:
            (self.init / "run.sh").write_text(run)
        if activate:
            (root / "envc-activate").write_text(ACTIVATE)
        self.marker = root / "marker"
        self.setup_ran = root / "setup-ran"

    def env(self, **variables: str) -> dict[str, str]:
        base = {k: v for k, v in os.environ.items() if k not in LAUNCHER_VARIABLES}
        base.update(PATH=HOST_PATH, ENVC_SETUP_MARKER=str(self.marker), ENVC_LAUNCH_ID="test", SETUP_RAN=str(self.setup_ran))
        base.update(variables)
        return base

    def argv(self, *command: str, shell: list[str] | None = None) -> list[str]:
        return [*(shell or [DASH]), str(self.wrapper), *(command or ("echo", "command ran"))]

    def run(self, *command: str, timeout: float = 30, shell: list[str] | None = None, **variables: str):
        return subprocess.run(self.argv(*command, shell=shell), env=self.env(**variables), capture_output=True, text=True,
                              timeout=timeout)

    def done(self) -> None:
        """What rank 0 leaves when init.setup succeeded."""
        Path(f"{self.marker}.test.done").touch()


def test_wrapper_is_posix_sh():
    assert WRAPPER.startswith("#!/bin/sh\n")
    for path in (paths.ACTIVATE, paths.SETUP_SCRIPT, paths.RUN_SCRIPT, paths.SETUP_MARKER):
        assert path in WRAPPER
    subprocess.run([DASH, "-n"], input=WRAPPER, text=True, check=True)
    subprocess.run([DASH, "-n"], input=ACTIVATE, text=True, check=True)


def test_no_launcher_variable_is_local_rank_0(tmp_path):
    image = Image(tmp_path)
    proc = image.run()
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "command ran\n", "")
    assert image.setup_ran.exists()


@pytest.mark.parametrize("variable", LOCAL_RANK_VARIABLES)
def test_local_rank_0_from_each_launcher_runs_setup(tmp_path, variable):
    image = Image(tmp_path)
    image.done()  # a stale marker: rank 0 must not trust it
    proc = image.run(**{variable: "0"})
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "command ran\n", "")
    assert image.setup_ran.exists()


@pytest.mark.parametrize("variable", LOCAL_RANK_VARIABLES)
def test_other_local_rank_from_each_launcher_waits_for_setup(tmp_path, variable):
    image = Image(tmp_path)
    image.done()
    proc = image.run(**{variable: "1"})
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "command ran\n", "")
    assert not image.setup_ran.exists()


@pytest.mark.parametrize("variable", LOCAL_RANK_VARIABLES)
def test_other_local_rank_from_each_launcher_times_out(tmp_path, variable):
    image = Image(tmp_path)
    proc = image.run(**{variable: "3", "ENVC_SETUP_TIMEOUT": "1", "PATH": fake_clock(tmp_path, [1000, 1002])})
    assert proc.returncode == SETUP_TIMEOUT_EXIT, proc.stderr
    assert "local rank 3 gave up after ENVC_SETUP_TIMEOUT=1 seconds" in proc.stderr
    assert proc.stdout == ""
    assert not image.setup_ran.exists()


@pytest.mark.parametrize("inner, outer", list(zip(LOCAL_RANK_VARIABLES, LOCAL_RANK_VARIABLES[1:])))
def test_local_rank_variable_precedence(tmp_path, inner, outer):
    """The innermost launcher wins: e.g. MPI_LOCALRANKID=2 over the SLURM_LOCALID=0 an sbatch
    script's mpiexec inherits. Empty counts as unset."""
    image = Image(tmp_path)
    image.done()
    proc = image.run(**{inner: "1", outer: "0"})
    assert proc.returncode == 0 and not image.setup_ran.exists(), f"{outer}=0 won over {inner}=1"
    proc = image.run(**{inner: "0", outer: "1"})
    assert proc.returncode == 0 and image.setup_ran.exists(), f"{outer}=1 won over {inner}=0"
    image.setup_ran.unlink()
    image.done()
    proc = image.run(**{inner: "", outer: "1"})
    assert proc.returncode == 0 and not image.setup_ran.exists(), f"empty {inner} was not skipped"


@pytest.mark.parametrize("shell", shells())
def test_timeout_gives_up_with_a_message_naming_the_variable(tmp_path, shell):
    image = Image(tmp_path)
    start = time.monotonic()
    proc = image.run(shell=shell, LOCAL_RANK="2", ENVC_SETUP_TIMEOUT="1")
    elapsed = time.monotonic() - start
    assert proc.returncode == SETUP_TIMEOUT_EXIT
    assert proc.stderr == (
        "envc-init: local rank 2 gave up after ENVC_SETUP_TIMEOUT=1 seconds: init.setup on local rank 0 neither "
        "finished nor failed (killed, or hung?). Set ENVC_SETUP_TIMEOUT to wait longer (0 = forever).\n"
    )
    assert proc.stdout == ""
    assert 1 <= elapsed < 4, elapsed  # whole seconds: at least the timeout, at most a second and a poll more


def test_setup_finishing_within_the_timeout_releases_the_rank(tmp_path):
    image = Image(tmp_path)
    threading.Timer(0.5, image.done).start()
    proc = image.run(LOCAL_RANK="1", ENVC_SETUP_TIMEOUT="5")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "command ran\n", "")


def test_setup_failure_still_stops_the_rank_at_once(tmp_path):
    image = Image(tmp_path)
    Path(f"{image.marker}.test.failed").touch()
    proc = image.run(LOCAL_RANK="1", ENVC_SETUP_TIMEOUT="0", timeout=5)
    assert (proc.returncode, proc.stdout, proc.stderr) == (1, "", "envc-init: init.setup failed on local rank 0\n")


def test_timeout_0_waits_forever(tmp_path):
    image = Image(tmp_path)
    waiting = subprocess.Popen(image.argv(), env=image.env(LOCAL_RANK="1", ENVC_SETUP_TIMEOUT="0"),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(2.5)  # past the 1-2 s a timeout of 1 would have given
        assert waiting.poll() is None, waiting.communicate()
        image.done()
        stdout, stderr = waiting.communicate(timeout=10)
    finally:
        waiting.kill()
    assert (waiting.returncode, stdout, stderr) == (0, "command ran\n", "")


def fake_clock(root: Path, seconds: list[int]) -> str:
    """A PATH whose `date` answers ``seconds`` one call after the other; returns the PATH."""
    bin_dir = root / "fake-bin"
    bin_dir.mkdir()
    (root / "clock").write_text("".join(f"{s}\n" for s in seconds))
    (root / "calls").write_text("0\n")
    date = bin_dir / "date"
    date.write_text(
        "#!/bin/sh\n"
        f'n=$(($(cat "{root}/calls") + 1)); echo "$n" > "{root}/calls"\n'
        f'sed -n "${{n}}p" "{root}/clock"\n'
    )
    date.chmod(0o755)
    return f"{bin_dir}:{HOST_PATH}"


@pytest.mark.parametrize("value, seconds", [(None, SETUP_TIMEOUT_DEFAULT), ("", SETUP_TIMEOUT_DEFAULT),
                                            ("08", 8), ("0010", 10), ("86400", 86400)])
def test_timeout_value_and_default(tmp_path, value, seconds):
    """The clock is read when waiting starts, then on each poll; the rank gives up on the first
    poll *past* start + timeout, never before it. Unset or empty = the default (an hour);
    leading zeros are decimal, not octal (08 would be an arithmetic error in sh)."""
    image = Image(tmp_path)
    path = fake_clock(tmp_path, [1000, 1000 + seconds - 1, 1000 + seconds, 1000 + seconds + 1, 10**12])
    variables = {"LOCAL_RANK": "1", "PATH": path}
    if value is not None:
        variables["ENVC_SETUP_TIMEOUT"] = value
    proc = image.run(**variables)
    assert proc.returncode == SETUP_TIMEOUT_EXIT, proc.stderr
    assert f"ENVC_SETUP_TIMEOUT={seconds} seconds" in proc.stderr
    assert (tmp_path / "calls").read_text() == "4\n"  # start, then 3 polls: gave up at start + timeout + 1


@pytest.mark.parametrize("value", ["abc", "-1", "1.5", " 5", "5 ", "1e3", "0x10", "1000000000", "9" * 30])
@pytest.mark.parametrize("rank", ["0", "1"])
def test_bad_timeout_is_refused_on_every_rank(tmp_path, value, rank):
    image = Image(tmp_path)
    proc = image.run(LOCAL_RANK=rank, ENVC_SETUP_TIMEOUT=value, timeout=5)
    assert proc.returncode == 2
    assert proc.stderr == (
        "envc-init: ENVC_SETUP_TIMEOUT must be a whole number of seconds below 10^9 (0 = wait forever), "
        f"not '{value}'\n"
    )
    assert proc.stdout == "" and not image.setup_ran.exists()


def test_timeout_is_not_read_without_a_setup_script(tmp_path):
    image = Image(tmp_path, setup=None)
    proc = image.run(LOCAL_RANK="1", ENVC_SETUP_TIMEOUT="abc", timeout=5)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "command ran\n", "")


# ---------------------------------------------------------------------------------------------
# conda activation


def write(root: Path, files: dict[str, str | bytes]) -> None:
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())


class Prefix:
    """A hand-made conda-style prefix plus envc-activate, and a way to see what activation does."""

    def __init__(self, root: Path, files: dict[str, str | bytes] = None):
        self.root = root
        self.prefix = root / "prefix"
        (self.prefix / "conda-meta").mkdir(parents=True)
        write(self.prefix, files or {})
        self.activate = root / "envc-activate"
        self.activate.write_text(ACTIVATE)
        self.empty = root / "empty-prefix"
        (self.empty / "conda-meta").mkdir(parents=True)

    def source(self, shell=None, path=HOST_PATH, prefix=None, before="", **variables: str):
        """`. envc-activate` then `env -0` in ``shell``; (environment, stderr, stdout before env)."""
        env = {"PATH": path, "HOME": "/home/someone", "KEEP": "kept", "REMOVE_ME": "base value", **variables}
        env["CONDA_PREFIX"] = str(self.prefix if prefix is None else prefix)
        script = before + f'. "$1"; echo "status=$?"; exec "{ENV}" -0'
        proc = subprocess.run([*(shell or [DASH]), "-c", script, "sh", str(self.activate)], env=env, capture_output=True,
                              timeout=30)
        head, sep, tail = proc.stdout.partition(b"status=0\n")
        assert proc.returncode == 0 and sep, proc
        return parse_env(tail), proc.stderr.decode(), head.decode()

    def added(self, shell=None, **kwargs) -> tuple[dict[str, str | None], str, str]:
        """What activation changed, against the same shell activating an empty prefix:
        {name: new value, or None when removed}; ENVC_ACTIVATED is left out (checked apart)."""
        control, control_err, _ = self.source(shell, prefix=self.empty, **kwargs)
        assert control_err == ""
        activated, stderr, stdout = self.source(shell, **kwargs)
        assert activated.pop("ENVC_ACTIVATED") == str(self.prefix)
        assert control.pop("ENVC_ACTIVATED") == str(self.empty)
        del activated["CONDA_PREFIX"], control["CONDA_PREFIX"]
        diff = {k: activated.get(k) for k in set(activated) | set(control) if activated.get(k) != control.get(k)}
        return diff, stderr, stdout


TRICKY_JSON = r"""{
  "SPACES": "  a  b c ",
  "QUOTES": "it's \"quoted\" 'twice'",
  "DOLLAR": "$HOME ${HOME} $(id) `id` \\$HOME",
  "BACKSLASH": "a\\b\\n\\",
  "NEWLINE": "line 1\nline 2\n",
  "CONTROL": "tab\there\rcr\bbs\ffeed",
  "UNICODE": "\u00e9\u4E2D\ud83d\ude00 é",
  "SLASH": "\/opt\/x",
  "EMPTY": "",
  "lower_name": "upper-cased",
  "GLOB": "* ?",
  "OPTION": "-n",
  "EQUALS": "a=b=c"
}"""
TRICKY = {
    "SPACES": "  a  b c ",
    "QUOTES": "it's \"quoted\" 'twice'",
    "DOLLAR": "$HOME ${HOME} $(id) `id` \\$HOME",
    "BACKSLASH": "a\\b\\n\\",
    "NEWLINE": "line 1\nline 2\n",
    "CONTROL": "tab\there\rcr\bbs\ffeed",
    "UNICODE": "é中😀 é",
    "SLASH": "/opt/x",
    "EMPTY": "",
    "LOWER_NAME": "upper-cased",
    "GLOB": "* ?",
    "OPTION": "-n",
    "EQUALS": "a=b=c",
}
CONDA_STYLE = {
    # env_vars.d: every file, sorted by path in byte order ("." < "1" < "9" < "a"), later wins
    "etc/conda/env_vars.d/.hidden.json": '{"HIDDEN": "read too", "ORDER": "hidden"}',
    "etc/conda/env_vars.d/10-late.json": '{"ORDER": "10-late"}',
    "etc/conda/env_vars.d/9-early.json": '{"ORDER": "9-early", "dup": "lower case, earlier"}',
    "etc/conda/env_vars.d/a-tricky.json": TRICKY_JSON,
    "etc/conda/env_vars.d/b.json": """
        {"OVERRIDDEN": "by package b", "DUP": "upper case, later",
         "PKG_UNSET": "***unset***", "KEEP": "***unset***", "STATE_UNSETS": "package value",
         "JAVA_HOME": "/prefix/lib/jvm", "T": true, "F": false, "NULL": null, "INT": 42, "FLOAT": -1.5e3}
    """,
    "etc/conda/env_vars.d/no-extension": '{"NO_EXTENSION": "read: conda reads every file here"}',
    # conda-meta/state: env_vars override the packages'; other keys (any JSON) are ignored
    "conda-meta/state": json.dumps({"env_vars": {"OVERRIDDEN": "by state", "STATE_ONLY": "s p a c e",
                                                 "STATE_UNSETS": "***unset***"},
                                    "other": [1, {"env_vars": {"NOT_THIS": "x"}}, None]}),
    # activate.d: *.sh only, sorted, after every variable above is exported, with no arguments
    "etc/conda/activate.d/0-first.sh": 'export ACT_ORDER="${ACT_ORDER}0 " SAW_ORDER="$ORDER" SAW_STATE="$OVERRIDDEN"\n'
                                       'export ARGS_SEEN="$#"\n',
    "etc/conda/activate.d/10-second.sh": 'export ACT_ORDER="${ACT_ORDER}10 "\nunset REMOVE_ME\n'
                                         'echo "chatter on stdout"\nfalse\n',
    "etc/conda/activate.d/9-third.sh": "export ACT_ORDER=\"${ACT_ORDER}9\" SCRIPT_QUOTES=\"it's \\\"q\\\" \\$x\"\n"
                                       'NOT_EXPORTED=1\nset -- clobbered\n',
    "etc/conda/activate.d/ignored.csh": "setenv CSH 1\n",
    "etc/conda/activate.d/ignored.sh.bak": "export BAK=1\n",
    "etc/conda/activate.d/dir.sh/inner.sh": "export DIR=1\n",
    "etc/conda/deactivate.d/x.sh": "export DEACTIVATE=1\n",
}
CONDA_STYLE_ADDED = {
    **TRICKY,
    "HIDDEN": "read too",
    "ORDER": "9-early",
    "DUP": "upper case, later",
    "OVERRIDDEN": "by state",
    "JAVA_HOME": "/prefix/lib/jvm",
    "T": "True", "F": "False", "NULL": "", "INT": "42", "FLOAT": "-1.5e3",
    "NO_EXTENSION": "read: conda reads every file here",
    "STATE_ONLY": "s p a c e",
    "ACT_ORDER": "0 10 9",
    "SAW_ORDER": "9-early",
    "SAW_STATE": "by state",
    "ARGS_SEEN": "0",
    "SCRIPT_QUOTES": "it's \"q\" $x",
    "REMOVE_ME": None,
}


@pytest.mark.parametrize("shell", shells())
def test_activation_exact_environment(tmp_path, shell):
    """With bash in the image (activate.d sourced by bash) and whatever shell sources envc-activate."""
    diff, stderr, stdout = Prefix(tmp_path, CONDA_STYLE).added(shell)
    assert diff == CONDA_STYLE_ADDED
    assert stdout == ""  # the scripts' stdout went to stderr
    assert stderr == "chatter on stdout\n"


def no_bash_path(root: Path, without=("bash",)) -> str:
    """A PATH with the host's tools except ``without``."""
    bin_dir = root / "no-bash-bin"
    bin_dir.mkdir()
    for name in ("awk", "env", "cat", "sed", "date", "sleep", "touch", "rm", "tr", "cut", "mkdir"):
        if name not in without and shutil.which(name):
            (bin_dir / name).symlink_to(shutil.which(name))
    return str(bin_dir)


@pytest.mark.parametrize("shell", shells())
def test_activation_without_bash_sources_in_the_current_shell(tmp_path, shell):
    prefix = Prefix(tmp_path, CONDA_STYLE)
    diff, stderr, stdout = prefix.added(shell, path=no_bash_path(tmp_path))
    assert diff == CONDA_STYLE_ADDED
    assert (stdout, stderr) == ("", "chatter on stdout\n")


BASH_ONLY = {
    # the shape of conda-forge's compiler activation: `function`, local, ${BASH_SOURCE[0]}, [[ ]]
    "etc/conda/activate.d/activate-cc.sh": (
        "function _cc_activate() {\n"
        "  local name=$(basename \"${BASH_SOURCE[0]}\")\n"
        "  if [[ -x \"$CONDA_PREFIX/bin/cc\" || 1 == 1 ]]; then\n"
        "    export CONDA_BACKUP_CC=\"${CC:-}\" CC=\"$CONDA_PREFIX/bin/x86_64-conda-linux-gnu-cc\" CC_FROM=\"$name\"\n"
        "  fi\n"
        "}\n"
        "_cc_activate\n"
    ),
    "etc/conda/activate.d/z-posix.sh": 'export POSIX_RAN="yes, after ${CC_FROM:-no CC}"\n',
}


def test_bash_only_activation_script_runs_under_bash(tmp_path):
    prefix = Prefix(tmp_path, BASH_ONLY)
    diff, stderr, _ = prefix.added()
    assert diff == {"CONDA_BACKUP_CC": "", "CC": f"{prefix.prefix}/bin/x86_64-conda-linux-gnu-cc",
                    "CC_FROM": "activate-cc.sh", "POSIX_RAN": "yes, after activate-cc.sh"}
    assert stderr == ""


def test_bash_only_activation_script_without_bash_fails_alone(tmp_path):
    """dash cannot parse it (as under `conda activate` in dash): that script is lost, with the
    shell's own syntax error on stderr, but the shell and the other scripts go on."""
    diff, stderr, _ = Prefix(tmp_path, BASH_ONLY).added(path=no_bash_path(tmp_path))
    assert diff == {"POSIX_RAN": "yes, after no CC"}
    assert "activate-cc.sh" in stderr and "Syntax error" in stderr


def test_bash_env_of_the_image_is_not_run(tmp_path):
    write(tmp_path, {"bash_env.sh": 'export FROM_BASH_ENV=1\necho "bash_env ran"\n'})
    prefix = Prefix(tmp_path, BASH_ONLY)
    diff, stderr, _ = prefix.added(BASH_ENV=str(tmp_path / "bash_env.sh"))
    assert set(diff) == {"CONDA_BACKUP_CC", "CC", "CC_FROM", "POSIX_RAN"}
    assert stderr == ""


def test_a_script_calling_exit_keeps_what_came_before(tmp_path):
    prefix = Prefix(tmp_path, {"etc/conda/activate.d/a.sh": "export BEFORE_EXIT=1\nexit 3\n",
                               "etc/conda/activate.d/b.sh": "export NEVER=1\n"})
    diff, _, _ = prefix.added()
    assert diff == {"BEFORE_EXIT": "1"}


def test_activation_without_awk_warns_and_still_runs_the_scripts(tmp_path):
    prefix = Prefix(tmp_path, CONDA_STYLE)
    diff, stderr, _ = prefix.added(path=no_bash_path(tmp_path, without=("bash", "awk")))
    assert diff == {"ACT_ORDER": "0 10 9", "SAW_ORDER": "", "SAW_STATE": "", "ARGS_SEEN": "0",
                    "SCRIPT_QUOTES": "it's \"q\" $x", "REMOVE_ME": None}
    assert stderr == (f"envc-activate: no awk in the image: {prefix.prefix}/etc/conda/env_vars.d and conda-meta/state "
                      "not applied\nchatter on stdout\n")


def test_unset_value_leaves_an_existing_variable_alone(tmp_path):
    """conda leaves "***unset***" out of what it exports; it does not unset (KEEP stays)."""
    prefix = Prefix(tmp_path, {"etc/conda/env_vars.d/a.json": '{"KEEP": "***unset***", "keep": "***unset***"}'})
    environment, stderr, _ = prefix.source()
    assert environment["KEEP"] == "kept" and stderr == ""


def test_broken_and_odd_json_is_skipped_with_warnings(tmp_path):
    env_vars = "etc/conda/env_vars.d"
    prefix = Prefix(tmp_path, {
        f"{env_vars}/1-truncated.json": '{"LOST": "whole file", ',
        f"{env_vars}/2-not-object.json": '["A", "B"]',
        f"{env_vars}/3-trailing.json": '{"LOST2": "x"} {}',
        f"{env_vars}/4-empty.json": "",
        f"{env_vars}/5-bad-escape.json": '{"LOST3": "\\x41"}',
        f"{env_vars}/6-odd.json": '{"BAD-NAME": "x", "1ST": "x", "NESTED": {"a": [1]}, "LIST": [], '
                                  '"NUL": "a\\u0000b", "LONE": "\\ud800x", "GOOD": "kept"}',
        f"{env_vars}/7-bom.json": b'\xef\xbb\xbf{"LOST4": "x"}',
        f"{env_vars}/8-utf8-name.json": '{"CAF\u00c9": "x"}',
        "conda-meta/state": '{"env_vars": ["not", "an", "object"]}',
    })
    diff, stderr, _ = prefix.added()
    assert diff == {"LONE": "\ufffdx", "GOOD": "kept"}
    e = f"envc-activate: {prefix.prefix}/"
    assert stderr.splitlines() == [
        f"{e}{env_vars}/1-truncated.json: not valid JSON (expected a name at byte 25), ignored",
        f"{e}{env_vars}/2-not-object.json: not valid JSON (expected an object at byte 1), ignored",
        f"{e}{env_vars}/3-trailing.json: not valid JSON (unexpected data after the object at byte 16), ignored",
        f"{e}{env_vars}/4-empty.json: not valid JSON (expected an object at byte 1), ignored",
        f"{e}{env_vars}/5-bad-escape.json: not valid JSON (bad escape at byte 12), ignored",
        f"{e}{env_vars}/7-bom.json: not valid JSON (expected an object at byte 1), ignored",
        f"{e}conda-meta/state: not valid JSON (env_vars is not an object at byte 14), ignored",
        "envc-activate: variable BAD-NAME skipped: not a valid sh name",
        "envc-activate: variable 1ST skipped: not a valid sh name",
        "envc-activate: variable NESTED skipped: its value is an object or array",
        "envc-activate: variable LIST skipped: its value is an object or array",
        "envc-activate: variable NUL skipped: its value contains \\u0000",
        "envc-activate: variable CAF\u00c9 skipped: not a valid sh name",
    ]


def test_nothing_to_do(tmp_path):
    """No CONDA_PREFIX: nothing at all. A prefix with no etc/conda: only ENVC_ACTIVATED."""
    prefix = Prefix(tmp_path)
    plain, stderr, _ = prefix.source(prefix="")
    assert "ENVC_ACTIVATED" not in plain and stderr == ""
    diff, stderr, _ = prefix.added()
    assert diff == {} and stderr == ""


def test_activation_runs_once_per_prefix(tmp_path):
    prefix = Prefix(tmp_path, {"etc/conda/activate.d/a.sh": 'export COUNT="${COUNT}x"\n'})
    environment, _, _ = prefix.source(before='. "$1"; ')
    assert environment["COUNT"] == "x"
    environment, _, _ = prefix.source(before='. "$1"; export CONDA_PREFIX="$CONDA_PREFIX/"; ')
    assert environment["COUNT"] == "xx"  # another prefix (spelling) activates again


@pytest.mark.parametrize("shell", shells())
@pytest.mark.parametrize("flags", ["", "-e", "-u", "-eu"])
def test_shell_options_and_arguments_survive(tmp_path, shell, flags):
    prefix = Prefix(tmp_path, CONDA_STYLE)
    before = f"set {flags} -- 'arg 1' '$2'; " if flags else "set -- 'arg 1' '$2'; "
    script = before + f'. "{prefix.activate}"; echo "$? [$-] $# [$1] [$2] [$ACT_ORDER]"; set | grep "^_envc" || :'
    proc = subprocess.run([*shell, "-c", script], env={"PATH": HOST_PATH, "CONDA_PREFIX": str(prefix.prefix)},
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    status, options, rest = proc.stdout.split(" ", 2)
    assert status == "0"
    assert ("e" in options, "u" in options) == ("e" in flags, "u" in flags)
    assert rest == "2 [arg 1] [$2] [0 10 9]\n"  # and no _envc* variable left behind


# ---------------------------------------------------------------------------------------------
# the wrapper sources the activation


def test_wrapper_activates_before_setup_run_and_command(tmp_path):
    image = Image(
        tmp_path,
        setup='echo "setup: $JAVA_HOME" > "$SETUP_RAN"\n',
        run='echo "run: $JAVA_HOME" >&2\nexport RUN_SAW="$JAVA_HOME" JAVA_HOME="$JAVA_HOME/overridden by run"\n',
        activate=True,
    )
    write(tmp_path / "prefix", {
        "conda-meta/history": "",
        "etc/conda/env_vars.d/openjdk.json": '{"JAVA_HOME": "/p/lib/jvm"}',
        # under the wrapper's set -e, with its command as positional parameters
        "etc/conda/activate.d/gdal.sh": 'export GDAL_DATA="$CONDA_PREFIX/share/gdal"\nfalse\nset -- clobbered\n',
    })
    prefix = str(tmp_path / "prefix")
    proc = subprocess.run(image.argv(ENV, "-0"), env=image.env(CONDA_PREFIX=prefix, LOCAL_RANK="0"), capture_output=True)
    assert proc.returncode == 0, proc.stderr
    environment = parse_env(proc.stdout)
    assert environment["JAVA_HOME"] == "/p/lib/jvm/overridden by run"
    assert environment["RUN_SAW"] == "/p/lib/jvm"
    assert environment["GDAL_DATA"] == f"{prefix}/share/gdal"
    assert environment["ENVC_ACTIVATED"] == prefix
    assert image.setup_ran.read_text() == "setup: /p/lib/jvm\n"
    assert proc.stderr.decode() == "run: /p/lib/jvm\n"


def test_wrapper_keeps_the_command_arguments(tmp_path):
    image = Image(tmp_path, setup=None, activate=True)
    write(tmp_path / "prefix", {"etc/conda/activate.d/a.sh": "set -- clobbered\nshift\n"})
    proc = subprocess.run(image.argv("printf", "[%s]", "a b", "$HOME", ""), capture_output=True, text=True,
                          env=image.env(CONDA_PREFIX=str(tmp_path / "prefix")))
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "[a b][$HOME][]", "")


def test_wrapper_without_activation_script(tmp_path):
    """envc-activate is absent in images without conda: the wrapper runs as before."""
    image = Image(tmp_path, setup=None)
    write(tmp_path / "prefix", {"etc/conda/env_vars.d/a.json": '{"NOT_SET": "x"}'})
    proc = subprocess.run(image.argv(ENV), capture_output=True, text=True, env=image.env(CONDA_PREFIX=str(tmp_path / "prefix")))
    assert proc.returncode == 0 and "NOT_SET" not in proc.stdout and "ENVC_ACTIVATED" not in proc.stdout
