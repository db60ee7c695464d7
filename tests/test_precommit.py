"""envc's hooks under the real pre-commit, installed from this checkout as a user would, and `envc diff`
(the envc-compile hook's command) on its own."""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import REPO, run_envc

GIT_IDENTITY = {"GIT_AUTHOR_NAME": "envc test", "GIT_AUTHOR_EMAIL": "test@envc.invalid",
                "GIT_COMMITTER_NAME": "envc test", "GIT_COMMITTER_EMAIL": "test@envc.invalid"}
DIGEST = "@sha256:" + "a" * 64
SPEC = f"name: ok\nbase: {{image: 'ubuntu:22.04{DIGEST}'}}\npip:\n  requirements: [requirements.txt]\n"


def git(cwd, *args, env=None):
    done = subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True,
                          env={**os.environ, **GIT_IDENTITY, **(env or {})})
    return done.stdout.strip()


@pytest.fixture(scope="module")
def envc_repo(tmp_path_factory):
    """This checkout as pre-commit fetches it: a clone with the working tree committed on top (untracked files
    included), as `pre-commit try-repo` does for uncommitted changes. Made once, so that pre-commit installs
    the hooks' environment once for the module: (repository path, revision)."""
    shadow = tmp_path_factory.mktemp("envc-repo") / "repo"
    git(REPO.parent, "clone", "-q", str(REPO), str(shadow))
    git_dir = shadow / ".git"
    git(REPO, "add", "-A", env={"GIT_INDEX_FILE": str(git_dir / "index"), "GIT_OBJECT_DIRECTORY": str(git_dir / "objects")})
    git(shadow, "commit", "-q", "--allow-empty", "--no-verify", "-m", "the working tree")
    return str(shadow), git(shadow, "rev-parse", "HEAD")


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture
def project(tmp_path):
    """A user's repository, to run envc's hooks in."""
    folder = tmp_path / "project"
    folder.mkdir()
    git(folder, "init", "-q")
    return folder


def pre_commit(folder, home, *args):
    env = {**os.environ, **GIT_IDENTITY, "PRE_COMMIT_HOME": str(home), "XDG_CACHE_HOME": str(home / "xdg")}
    tool = shutil.which("pre-commit", path=str(Path(sys.executable).parent)) or "pre-commit"
    return subprocess.run([tool, *args], cwd=folder, capture_output=True, text=True, env=env)


def try_repo(folder, home, envc_repo, *args):
    """`pre-commit try-repo`: envc's hooks from this checkout, on what is staged (--all-files: on everything)."""
    return pre_commit(folder, home, "try-repo", envc_repo[0], "--ref", envc_repo[1], *args)


def compile_here(folder, spec, dockerfile):
    """The Dockerfile a user commits: written by this checkout's envc."""
    subprocess.run([sys.executable, "-m", "envc", "compile", spec, "-o", dockerfile], cwd=folder, check=True)


def readme_config(envc_repo, write=False):
    """The .pre-commit-config.yaml of the README's pre-commit section, pointing at this checkout."""
    section = REPO.joinpath("README.md").read_text().split("\n## pre-commit\n", 1)[1].split("\n## ", 1)[0]
    config = re.search(r"```yaml\n(.*?)```", section, re.S).group(1)
    config = config.replace("<this repository's URL>", envc_repo[0]).replace("<a commit or tag>", envc_repo[1])
    if write:
        assert "    # args: [--write]" in config
        config = config.replace("    # args: [--write]", "    args: [--write]")
    return config


def hook_lines(output):
    """{hook name: Passed | Failed | Skipped} from pre-commit's summary lines."""
    return {m.group(1): m.group(2) for m in re.finditer(r"^(envc \w+)\.+(?:\(.*\))?(Passed|Failed|Skipped)$", output, re.M)}


def test_hooks_pass_a_valid_spec_and_stop_an_invalid_one(project, home, envc_repo):
    (project / "envc.yml").write_text(SPEC)
    (project / "requirements.txt").write_text("requests==2.31.0\n")
    compile_here(project, "envc.yml", "Dockerfile")
    git(project, "add", "-A")
    passed = try_repo(project, home, envc_repo, "--all-files")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert hook_lines(passed.stdout) == {"envc check": "Passed", "envc lint": "Passed", "envc compile": "Passed"}, passed.stdout

    (project / "sub").mkdir()
    (project / "sub" / "envc.yml").write_text("name: bad\nconda:\n  dependancies: [python=3.10]\n")
    git(project, "add", "-A")
    failed = try_repo(project, home, envc_repo, "--all-files")
    assert failed.returncode == 1
    assert hook_lines(failed.stdout) == {"envc check": "Failed", "envc lint": "Failed", "envc compile": "Failed"}
    assert "sub/envc.yml:3:3: error: unknown key 'dependancies' in 'conda' (did you mean 'dependencies'?)" in failed.stdout


def test_spec_names_and_kinds(project, home, envc_repo):
    """env.yml and NAME.envc.yml are specs too; an env.yml holding a conda environment is read as one (conda's
    keys, conda's errors); environment.yml is not taken by default. (`pre-commit run` with the README's
    configuration: try-repo installs the hooks afresh on every call, `run` once per PRE_COMMIT_HOME.)"""
    (project / ".pre-commit-config.yaml").write_text(readme_config(envc_repo))
    (project / "env.yml").write_text("name: conda-env\nchannels: [conda-forge]\ndependencies: [python=3.11, numpy=1.26]\n")
    (project / "envs").mkdir()
    (project / "envs" / "train.envc.yml").write_text(f"name: train\nbase: {{image: 'ubuntu:22.04{DIGEST}'}}\n")
    (project / "envs" / "serve.envc.yaml").write_text(f"name: serve\nbase: {{image: 'ubuntu:22.04{DIGEST}'}}\n")
    (project / "other").mkdir()
    (project / "other" / "environment.yml").write_text("name: x\ndependancies: [python]\n")  # not a spec name: skipped
    for spec, dockerfile in [("env.yml", "Dockerfile"), ("envs/train.envc.yml", "envs/train.Dockerfile"),
                             ("envs/serve.envc.yaml", "envs/serve.Dockerfile")]:
        compile_here(project, spec, dockerfile)
    git(project, "add", "-A")
    passed = pre_commit(project, home, "run", "--all-files", "--verbose")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "env.yml:1:1: warning: the default base image" in passed.stdout  # linted as the conda file it is:
    assert "write an envc spec (`envc import env.yml -o envc.yml`)" in passed.stdout  # it has no base.image to set

    (project / "env.yml").write_text("name: conda-env\nchannels: [conda-forge]\ndependancies: [python=3.11]\n")
    git(project, "add", "-A")
    failed = pre_commit(project, home, "run", "--all-files")
    assert failed.returncode == 1
    assert "env.yml:3:1: error: unknown key 'dependancies' in a conda environment file (did you mean 'dependencies'?)" \
        in failed.stdout


def test_stale_dockerfile_after_an_edit_to_a_requirements_file_only(project, home, envc_repo):
    (project / "envc.yml").write_text(SPEC)
    (project / "requirements.txt").write_text("requests==2.31.0\n")
    compile_here(project, "envc.yml", "Dockerfile")
    git(project, "add", "-A")
    git(project, "commit", "-q", "--no-verify", "-m", "spec and its Dockerfile")

    (project / "requirements.txt").write_text("requests==2.32.0\n")
    git(project, "add", "requirements.txt")  # the spec is not part of this commit
    failed = try_repo(project, home, envc_repo)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert hook_lines(failed.stdout) == {"envc check": "Skipped", "envc lint": "Skipped", "envc compile": "Failed"}
    assert "--- a/Dockerfile\n+++ b/Dockerfile\n" in failed.stdout
    assert re.search(r"^-\s+requests==2\.31\.0 \\$", failed.stdout, re.M) and re.search(r"^\+\s+requests==2\.32\.0 \\$", failed.stdout, re.M)
    assert "Dockerfile: out of date with envc.yml: run `envc diff --write envc.yml` to rewrite it" in failed.stdout


def test_the_readme_configuration_and_its_fix_mode(project, home, envc_repo):
    """The README's .pre-commit-config.yaml as a user commits it: a stale Dockerfile fails with the diff; with the
    documented `args: [--write]` the hook rewrites it (and fails, so the rewrite can be added); then it passes."""
    (project / "envc.yml").write_text(SPEC)
    (project / "requirements.txt").write_text("requests==2.31.0\n")
    compile_here(project, "envc.yml", "Dockerfile")
    (project / ".pre-commit-config.yaml").write_text(readme_config(envc_repo))
    git(project, "add", "-A")
    assert pre_commit(project, home, "run").returncode == 0
    git(project, "commit", "-q", "--no-verify", "-m", "start")
    committed = (project / "Dockerfile").read_text()

    (project / "requirements.txt").write_text("requests==2.32.0\n")
    git(project, "add", "-A")
    stale = pre_commit(project, home, "run")
    assert stale.returncode == 1 and "+++ b/Dockerfile" in stale.stdout and "envc diff --write" in stale.stdout
    assert (project / "Dockerfile").read_text() == committed  # without --write nothing is written

    (project / ".pre-commit-config.yaml").write_text(readme_config(envc_repo, write=True))
    git(project, "add", "-A")
    fixed = pre_commit(project, home, "run")
    assert fixed.returncode == 1, fixed.stdout + fixed.stderr
    assert "Dockerfile: rewritten from envc.yml" in fixed.stdout
    assert "requests==2.32.0" in (project / "Dockerfile").read_text()
    git(project, "add", "-A")
    again = pre_commit(project, home, "run")
    assert again.returncode == 0, again.stdout + again.stderr
    assert hook_lines(again.stdout)["envc compile"] == "Passed"


# `envc diff` itself, in-process (fast).

def test_diff_names_the_dockerfile_of_each_spec(tmp_path, capsys):
    git(tmp_path, "init", "-q")
    for spec in ("envc.yml", "a/env.yaml", "b/train.envc.yml", "b/serve.envc.yaml", "c/envc.yml", "c/other.yml"):
        (tmp_path / spec).parent.mkdir(exist_ok=True)
        (tmp_path / spec).write_text(f"name: {Path(spec).name.split('.')[0]}\n")
    git(tmp_path, "add", "-A")
    code, out, err = run_envc(["diff", "--write"], tmp_path, capsys)
    assert code == 1, err
    assert sorted(err.splitlines()) == ["Dockerfile: written from envc.yml", "a/Dockerfile: written from a/env.yaml",
                                        "b/serve.Dockerfile: written from b/serve.envc.yaml",
                                        "b/train.Dockerfile: written from b/train.envc.yml",
                                        "c/Dockerfile: written from c/envc.yml"]  # c/other.yml: not a spec name
    assert out.count("--- /dev/null\n") == 5
    assert run_envc(["diff"], tmp_path, capsys)[:2] == (0, "")

    code, out, err = run_envc(["diff", "--specs", "c/*.yml", "--dockerfile", "docker/{stem}.Dockerfile"], tmp_path, capsys)
    assert code == 1 and "+++ b/c/docker/envc.Dockerfile" in out and "+++ b/c/docker/other.Dockerfile" in out
    assert "c/docker/other.Dockerfile: missing for c/other.yml: run `envc diff --write --dockerfile " \
           "'docker/{stem}.Dockerfile' c/other.yml` to write it" in err

    (tmp_path / "b" / "envc.yml").write_text("name: clash\n")
    code, _, err = run_envc(["diff", "b/envc.yml", "b/train.envc.yml", "--dockerfile", "Dockerfile"], tmp_path, capsys)
    assert code == 2 and "b/Dockerfile: error: both b/envc.yml and b/train.envc.yml would compile to it" in err


def test_diff_applies_with_git_apply_and_reports_errors(tmp_path, capsys, monkeypatch):
    git(tmp_path, "init", "-q")
    (tmp_path / "envc.yml").write_text("name: demo\npip:\n  packages: [requests]\n")
    assert run_envc(["diff", "--write", "envc.yml"], tmp_path, capsys)[0] == 1
    (tmp_path / "Dockerfile").write_text((tmp_path / "Dockerfile").read_text().rstrip("\n") + "\n# hand edit")  # no final newline
    git(tmp_path, "add", "-A")
    code, out, err = run_envc(["diff"], tmp_path, capsys)
    assert code == 1 and out.endswith("-# hand edit\n\\ No newline at end of file\n")
    subprocess.run(["git", "apply"], input=out, text=True, cwd=tmp_path, check=True)
    assert run_envc(["diff"], tmp_path, capsys)[:2] == (0, "")

    (tmp_path / "envc.yml").write_text("name: demo\npip:\n  pakages: [requests]\n")
    code, out, err = run_envc(["diff"], tmp_path, capsys)
    assert code == 2 and out == "" and err.startswith("envc.yml:3:3: error: unknown key 'pakages'")
    assert run_envc(["diff", "missing.yml"], tmp_path, capsys)[::2] == (2, "missing.yml: error: no such file\n")
    assert run_envc(["diff", "envc.yml", "--specs", "*.yml"], tmp_path, capsys)[0] == 2
    outside = tmp_path / "outside"  # git looks no higher than tmp_path: not in a repository
    outside.mkdir()
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))
    code, _, err = run_envc(["diff"], outside, capsys)
    assert code == 2 and "git cannot list the tracked specs here" in err


def test_hook_patterns_and_spec_globs_agree():
    """The hooks' files: pattern (envc-check, envc-lint) and the names envc diff (envc-compile) looks for."""
    from envc.services.dockerfiles import SPEC_GLOBS

    hooks = {hook["id"]: hook for hook in yaml.safe_load(REPO.joinpath(".pre-commit-hooks.yaml").read_text())}
    assert set(hooks) == {"envc-check", "envc-lint", "envc-compile"}
    assert hooks["envc-check"]["files"] == hooks["envc-lint"]["files"]
    assert hooks["envc-compile"]["entry"] == "envc diff" and hooks["envc-compile"]["always_run"] is True
    assert hooks["envc-compile"]["pass_filenames"] is False
    pattern = re.compile(hooks["envc-check"]["files"])
    names = ["envc.yml", "envc.yaml", "env.yml", "env.yaml", "a/envc.yml", "a/b/env.yaml", "train.envc.yml",
             "a/serve.envc.yaml", "environment.yml", "myenv.yml", "envc.yml.bak", "a/xenvc.yml", "conda.yml", "envc.json"]
    import fnmatch
    by_glob = {n for n in names if any(fnmatch.fnmatchcase(n.rsplit("/", 1)[-1], g) for g in SPEC_GLOBS)}
    assert {n for n in names if pattern.search(n)} == by_glob == set(names[:8])


def test_the_hook_imports_what_check_imports(tmp_path):
    """With every Dockerfile current the hook's run imports what `envc check` does (no argparse, no difflib, no
    subprocess) plus envc.services.dockerfiles; a stale one brings in difflib."""
    git(tmp_path, "init", "-q")
    (tmp_path / "envc.yml").write_text("name: demo\npip:\n  packages: [requests]\n")
    git(tmp_path, "add", "-A")
    probe = ("import sys\nfrom envc.frontends.cli import main\ncode = main(sys.argv[1:])\n"
             "sys.stdout.flush()\nprint('\\nMODULES', code, ' '.join(sorted(sys.modules)))")

    def modules(*argv):
        done = subprocess.run([sys.executable, "-c", probe, *argv], cwd=tmp_path, capture_output=True, text=True)
        code, names = done.stdout.rsplit("MODULES ", 1)[1].split(" ", 1)
        return int(code), set(names.split())

    code, stale = modules("diff", "--write")
    assert code == 1 and "difflib" in stale
    assert modules("check", "envc.yml")[0] == 0
    _, check = modules("check", "envc.yml")
    code, current = modules("diff")
    assert code == 0
    assert current - check == {"envc.services.dockerfiles"}
    assert not {"argparse", "difflib", "subprocess"} & current
