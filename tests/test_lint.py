"""Every golden Dockerfile is clean under hadolint, with the repository's justified ignores."""
import subprocess

import pytest

from conftest import GOLDEN, REPO

DOCKERFILES = sorted(GOLDEN.glob("*/Dockerfile"))


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.parent.name)
def test_hadolint_clean(path):
    result = subprocess.run(["hadolint", "--config", str(REPO / ".hadolint.yaml"), "--failure-threshold", "info", str(path)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
