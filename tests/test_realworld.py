"""Real environment files from public repositories other than azureml-examples (tests/realworld/,
sources and licenses in its README): each compiles to a Dockerfile holding what the file asks for,
or is refused, with located errors, where pip, conda or Azure ML would refuse it too.

tests/realworld/manifest.json has the expectation of each file: `expect` (compile or refuse),
`must_contain` (packages and options a faithful Dockerfile names) and, for refusals, `why` pip or
conda would fail on it as well.
"""
import json
import re
import shlex

import dockerfile
import pytest

from conftest import REPO, run_envc

REALWORLD = REPO / "tests" / "realworld"
MANIFEST = json.loads((REALWORLD / "manifest.json").read_text())
LOCATED = re.compile(r"^.+:\d+:\d+: (error|warning): \S")


def test_the_collection_is_wide_enough():
    kinds = {entry["kind"] for entry in MANIFEST}
    assert len(MANIFEST) >= 60 and len({entry["path"].split("/")[0] for entry in MANIFEST}) >= 20
    assert kinds >= {"conda", "requirements", "explicit-lock", "conda-lock", "azureml-v2", "azureml-v1", "mlflow"}


@pytest.mark.parametrize("entry", MANIFEST, ids=[entry["path"] for entry in MANIFEST])
def test_real_file(entry, capsys):
    path = REALWORLD / entry["path"]
    code, out, err = run_envc(["compile", path.name], path.parent, capsys)
    assert "internal error" not in err and "Traceback" not in err, err
    assert all(LOCATED.match(line) for line in err.splitlines() if line.strip()), err
    if entry["expect"] == "refuse":
        assert code == 2 and out == "", f"pip/conda refuse it ({entry['why']}), envc compiled it"
        return
    assert code == 0, err
    commands = dockerfile.parse_string(out)
    words = [word for command in commands if command.cmd == "RUN" for word in shlex.split(command.value[0])]
    missing = [text for text in entry["must_contain"] if text not in out and not any(text in word for word in words)]
    assert missing == [], f"the Dockerfile does not name {missing}"
