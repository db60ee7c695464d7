"""envc's hooks run under the real pre-commit, installed from this repository as a user would."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO


def git(cwd, *args):
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A user's repository, to run envc's hooks in."""
    folder = tmp_path_factory.mktemp("project")
    git(folder, "init", "-q")
    return folder


def run_hooks(folder, home):
    """`pre-commit try-repo`: envc's hooks from this checkout, uncommitted changes included."""
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "XDG_CACHE_HOME": str(home / "xdg")}
    pre_commit = shutil.which("pre-commit", path=str(Path(sys.executable).parent)) or "pre-commit"
    git(folder, "add", "-A")
    return subprocess.run([pre_commit, "try-repo", str(REPO), "--all-files"], cwd=folder, capture_output=True, text=True, env=env)


def test_hooks_pass_a_valid_spec_and_stop_an_invalid_one(project, tmp_path_factory):
    home = tmp_path_factory.mktemp("pre-commit-home")
    (project / "envc.yml").write_text("name: ok\nbase: {image: 'ubuntu:22.04@sha256:" + "a" * 64 + "'}\n")
    passed = run_hooks(project, home)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "envc check" in passed.stdout and "envc lint" in passed.stdout and "Failed" not in passed.stdout

    (project / "sub").mkdir()
    (project / "sub" / "envc.yml").write_text("name: bad\nconda:\n  dependancies: [python=3.10]\n")
    failed = run_hooks(project, home)
    assert failed.returncode == 1
    assert "sub/envc.yml:3:3: error: unknown key 'dependancies' in 'conda' (did you mean 'dependencies'?)" in failed.stdout
