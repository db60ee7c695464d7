"""`envc lint`, `envc hash` and `--locked` on real files."""
import json
import random
import shutil

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import GOLDEN, run_envc
from spec_strategies import environments, write_environment

HASH = "sha256:" + "a" * 64


def write(folder, spec, files=None):
    for name, text in (files or {}).items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    (folder / "envc.yml").write_text(spec)
    return folder / "envc.yml"


def test_conda_and_pip_pins_that_conflict_fail_with_both_locations(tmp_path, capsys):
    write(tmp_path, "name: x\nconda:\n  dependencies: [python=3.11, numpy=1.26]\npip:\n  packages: [numpy==1.25]\n")
    code, _, err = run_envc(["lint", "envc.yml"], tmp_path, capsys)
    assert code == 1
    assert "envc.yml:5:14: error: 'numpy==1.25' conflicts with conda's 'numpy=1.26' (at envc.yml:3:31)" in err
    assert "envc.yml:3:31: error: 'numpy=1.26' conflicts with pip's 'numpy==1.25' (at envc.yml:5:14)" in err


def test_compatible_duplicates_and_unpinned_packages_are_warnings(tmp_path, capsys):
    write(tmp_path, "name: x\nbase: {image: ubuntu:22.04}\nconda:\n  dependencies: [python=3.11, numpy]\n"
                    "pip:\n  packages: [numpy==1.26.4, requests]\n")
    code, _, err = run_envc(["lint", "envc.yml"], tmp_path, capsys)
    assert code == 0 and ": error:" not in err
    assert "envc.yml:2:15: warning: base image 'ubuntu:22.04' has no @sha256 digest" in err
    assert "'numpy' is installed by conda (at envc.yml:4:31) and again by pip" in err
    assert "envc.yml:6:29: warning: 'requests' is not pinned with ==" in err


def test_two_python_versions_and_json_output(tmp_path, capsys):
    write(tmp_path, "name: x\nconda:\n  dependencies: [python=3.10, pip, python=3.8]\n")
    code, out, _ = run_envc(["lint", "envc.yml", "--format", "json"], tmp_path, capsys)
    assert code == 1
    found = json.loads(out)
    assert {"file": "envc.yml", "line": 3, "col": 36, "severity": "error",
            "message": "two python versions in conda: 'python=3.10' (at envc.yml:3:18) and 'python=3.8'; keep one"} in found


def test_requirement_files_that_are_missing_or_loop_are_errors(tmp_path, capsys):
    write(tmp_path, "name: x\npip:\n  requirements: [a.txt, missing.txt]\n", {"a.txt": "-r b.txt\n", "b.txt": "-r a.txt\n"})
    code, _, err = run_envc(["lint", "envc.yml"], tmp_path, capsys)
    assert code == 2
    assert "envc.yml:3:25: error: no such file 'missing.txt'" in err
    assert "b.txt:1:1: error: 'a.txt' includes itself through a -r/-c loop" in err


LOCKED_SPEC = f"""name: locked
base: {{image: "ubuntu:22.04@sha256:{'b' * 64}"}}
conda:
  lock: conda-linux-64.lock
  micromamba_image: "docker.io/mambaorg/micromamba:2.0.5@sha256:{'d' * 64}"
pip:
  requirements: [requirements.txt]
"""
LOCK = "@EXPLICIT\nhttps://conda.anaconda.org/conda-forge/linux-64/python-3.11.6-hab00c5b_0_cpython.conda#b0dfbe2fcbfdb097d321bfd50ecddab1\n"


def test_locked_refuses_an_unpinned_spec(tmp_path, capsys):
    write(tmp_path, "name: x\nconda:\n  dependencies: [python=3.11]\npip:\n  packages: [requests==2.31.0]\n")
    (tmp_path / "Dockerfile").write_text("previous\n")
    code, out, err = run_envc(["compile", "envc.yml", "--locked", "-o", "Dockerfile"], tmp_path, capsys)
    assert code == 2 and out == "" and (tmp_path / "Dockerfile").read_text() == "previous\n"
    assert "envc.yml:1:1: error: --locked: the default base image 'mcr.microsoft.com/azureml/" in err and "set base.image to an image@sha256:DIGEST" in err
    assert "envc.yml:3:18: error: --locked: 'python=3.11' is not an exact version and build" in err
    assert "envc.yml:5:14: error: --locked: 'requests==2.31.0' needs == and --hash" in err


def test_locked_compiles_a_locked_spec(tmp_path, capsys):
    write(tmp_path, LOCKED_SPEC, {"conda-linux-64.lock": LOCK, "requirements.txt": f"six==1.16.0 --hash={HASH}\n"})
    code, out, err = run_envc(["compile", "envc.yml", "--locked"], tmp_path, capsys)
    assert code == 0 and err == "" and "micromamba create --yes -p /opt/envc/env -f /tmp/envc-explicit.txt" in out
    assert run_envc(["lint", "envc.yml", "--locked"], tmp_path, capsys)[0] == 0


def test_locked_accepts_exact_conda_version_and_build(tmp_path, capsys):
    write(tmp_path, f"name: x\nbase: {{image: 'u:1@sha256:{'c' * 64}'}}\nconda:\n  dependencies: [python==3.11.6=hab00c5b_0_cpython]\n")
    code, _, err = run_envc(["compile", "envc.yml", "--locked"], tmp_path, capsys)
    assert code == 2 and err.splitlines() == [  # micromamba's own image is part of the build too
        "envc.yml:3:1: error: --locked: micromamba comes from 'docker.io/mambaorg/micromamba:2.0.5', pinned by tag only (its "
        "publisher rebuilds tags): set conda.micromamba_image to that image@sha256:DIGEST"]
    with open(tmp_path / "envc.yml", "a") as spec:
        spec.write(f"  micromamba_image: 'docker.io/mambaorg/micromamba:2.0.5@sha256:{'e' * 64}'\n")
    assert run_envc(["compile", "envc.yml", "--locked"], tmp_path, capsys)[0] == 0


def hash_of(folder, capsys):
    code, out, err = run_envc(["hash", "envc.yml"], folder, capsys)
    assert code == 0, err
    return out.strip()


def test_hash_is_the_compiled_header_hash_and_ignores_the_spec_path(tmp_path, capsys):
    first = tmp_path / "a"
    shutil.copytree(GOLDEN / "full", first)
    digest = hash_of(first, capsys)
    assert f"spec sha256:{digest}" in (GOLDEN / "full" / "Dockerfile").read_text()
    shutil.copytree(first, tmp_path / "elsewhere" / "b")
    assert hash_of(tmp_path / "elsewhere" / "b", capsys) == digest
    assert run_envc(["hash", "envc.yml", "--name"], first, capsys)[1].strip() == f"envc_{digest[:32]}"


@pytest.mark.parametrize("referenced", ["requirements.txt", "scripts/setup.sh", "scripts/run.sh"])
def test_hash_changes_when_a_referenced_file_changes(referenced, tmp_path, capsys):
    shutil.copytree(GOLDEN / "full", tmp_path / "s")
    before = hash_of(tmp_path / "s", capsys)
    with open(tmp_path / "s" / referenced, "a") as handle:
        handle.write(" ")
    assert hash_of(tmp_path / "s", capsys) != before


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(environment=environments(), seed=st.integers(0, 2**32 - 1))
def test_hash_ignores_key_order_comments_and_whitespace(environment, seed, tmp_path_factory, capsys):
    folder = tmp_path_factory.mktemp("h")
    spec = environment[0]
    write_environment(folder, environment)
    (folder / "envc.yml").write_text(yaml.safe_dump(spec, sort_keys=True, allow_unicode=True))
    before = hash_of(folder, capsys)
    shuffled = random.Random(seed)

    def reorder(node):
        if isinstance(node, dict):
            items = list(node.items())
            shuffled.shuffle(items)
            return {k: reorder(v) for k, v in items}
        return node  # list order is meaning (channels, packages)
    text = yaml.safe_dump(reorder(spec), sort_keys=False, allow_unicode=True, indent=4)
    (folder / "envc.yml").write_text("# a comment\n\n" + text + "\n# trailing\n")
    assert hash_of(folder, capsys) == before


def test_conda_lock_for_another_platform_is_a_located_error(tmp_path, capsys):
    lock = (GOLDEN / "conda-lock-unified" / "conda-lock.yml").read_text()
    write(tmp_path, "name: x\nbase: {image: ubuntu:22.04, platform: linux/ppc64le}\nconda:\n  lock: conda-lock.yml\n",
          {"conda-lock.yml": lock})
    code, _, err = run_envc(["compile", "envc.yml"], tmp_path, capsys)
    assert code == 2
    assert "conda-lock.yml:1:1: error: locks no package for linux-ppc64le (the image's platform)" in err


def test_conda_lock_installs_without_a_solver_and_with_hashes(tmp_path, capsys):
    shutil.copytree(GOLDEN / "conda-lock-unified", tmp_path / "s")
    code, out, _ = run_envc(["compile", "envc.yml"], tmp_path / "s", capsys)
    assert code == 0
    assert "osx-arm64" not in out and "conda create --yes --quiet -p /opt/envc/env --file /tmp/envc-explicit.txt" in out
    assert "--hash=sha256:8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254" in out
    assert run_envc(["lint", "envc.yml", "--locked"], tmp_path / "s", capsys)[0] == 0
