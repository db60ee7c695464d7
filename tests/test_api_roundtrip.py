"""Round trips through Azure ML's formats: spec -> saved v1 folder (`envc export --to azureml-v1`) ->
spec, and spec -> v2 YAML -> spec.

What a format holds comes back: the Dockerfile's instructions are the same (all but the header's
hash), and a second trip gives the same `envc hash` as the first, so nothing more changes. The first
trip changes the hash by design: the hash covers the spec as written, and both formats keep the
packages in a conda file of their own instead of in the spec. What a format cannot hold is a located
warning at the key (README "envc export"), and is what differs.
"""
import json
import re
import shutil

import pytest

from conftest import REPO, run_envc

GOLDEN = REPO / "golden"
SPECS = sorted(p.parent.name for p in GOLDEN.glob("*/envc.yml") if not p.parent.name.startswith("error-"))
FORMATS = ("azureml-v1", "azureml-v2")


def _trip(folder, spec: str, to: str, out: str, capsys):
    """(export's warnings, the spec imported back) for one trip of spec through format `to`, in folder/out."""
    target = out if to == "azureml-v1" else f"{out}.yml"  # a v2 build context must be below the YAML
    code, _, warnings = run_envc(["export", spec, "--to", to, "-o", target], folder, capsys)
    if code == 2 and "cannot be exported" in warnings:  # what only an error can say (a lock is not a conda file)
        assert re.fullmatch(r"envc\.yml:\d+:\d+: error: .*\n", warnings), warnings
        return warnings, None
    assert code == 0, warnings
    imported = f"{out}/back.yml" if to == "azureml-v1" else f"{out}-back.yml"
    code, _, err = run_envc(["import", target, "-o", imported], folder, capsys)
    assert code == 0, err
    return warnings, imported


def _body(folder, spec: str, capsys) -> list:
    code, out, err = run_envc(["compile", spec], folder, capsys)
    assert code == 0, err
    return out.splitlines()[1:]


def _hash(folder, spec: str, capsys) -> str:
    code, out, err = run_envc(["hash", spec], folder, capsys)
    assert code == 0, err
    return out


@pytest.mark.parametrize("to", FORMATS)
@pytest.mark.parametrize("name", SPECS)
def test_what_the_format_holds_comes_back(name, to, tmp_path, capsys):
    folder = shutil.copytree(GOLDEN / name, tmp_path / name)
    warnings, imported = _trip(folder, "envc.yml", to, "trip", capsys)
    if imported is None or _lossy(warnings):  # what the format cannot hold: said, at the key (README "envc export")
        assert all(re.match(r"envc\.yml:\d+:\d+: (warning|error): ", line) for line in warnings.splitlines()), warnings
        return
    assert _body(folder, imported, capsys) == _body(folder, "envc.yml", capsys)
    first = _hash(folder, imported, capsys)
    again_warnings, again = _trip(folder, imported, to, "trip", capsys)  # the same files again, rewritten
    assert again_warnings == "" and again == imported
    assert _hash(folder, again, capsys) == first  # the second trip changes nothing


def _lossy(warnings: str) -> bool:
    return "not exported" in warnings or "is exported into a conda environment" in warnings


def test_enough_specs_make_the_trip(tmp_path, capsys):
    """The round trip above is not vacuous: most goldens use only keys the formats hold."""
    held = {to: 0 for to in FORMATS}
    for name in SPECS:
        for to in FORMATS:
            folder = shutil.copytree(GOLDEN / name, tmp_path / to / name)
            warnings, imported = _trip(folder, "envc.yml", to, "trip", capsys)
            held[to] += imported is not None and not _lossy(warnings)
    assert held["azureml-v1"] >= 5 and held["azureml-v2"] >= 5, held


def test_every_key_v1_holds_makes_the_trip(tmp_path, capsys):
    (tmp_path / "requirements.txt").write_text("-r more.txt\nrequests==2.32.3\n")
    (tmp_path / "more.txt").write_text("six==1.16.0\n")
    (tmp_path / "envc.yml").write_text(
        "name: every-v1-key\nbase:\n  image: myacr.azurecr.io/base:1\n  registry:\n    address: myacr.azurecr.io\n"
        "    username: {env: ACR_USER}\n    password: {secret: acr_password}\n"
        "conda:\n  channels: [conda-forge]\n  dependencies: [python=3.11, numpy=1.26, {pip: [click==8.1.7]}]\n"
        "pip:\n  packages: [pyyaml==6.0.2]\n  requirements: [requirements.txt]\n  index_url: https://pypi.example/simple\n"
        "  extra_index_urls: [https://extra.example/simple]\nenv: {OMP_NUM_THREADS: '1'}\n"
        "labels: {org.opencontainers.image.version: '7'}\n")
    warnings, imported = _trip(tmp_path, "envc.yml", "azureml-v1", "trip", capsys)
    assert warnings == ""
    assert _body(tmp_path, imported, capsys) == _body(tmp_path, "envc.yml", capsys)
    back = (tmp_path / imported).read_text()
    assert "username:\n      env: ACR_USER" in back and "password:\n      secret: acr_password" in back
    first = _hash(tmp_path, imported, capsys)
    assert _trip(tmp_path, imported, "azureml-v1", "trip", capsys) == ("", imported)
    assert _hash(tmp_path, imported, capsys) == first


def test_v1_warns_at_each_key_it_cannot_hold(tmp_path, capsys):
    (tmp_path / "setup.sh").write_text("echo hi\n")
    (tmp_path / "envc.yml").write_text(
        "name: lossy\ndescription: d\nbase: {image: 'python:3.11', platform: linux/arm64}\nsystem: {apt: [git]}\n"
        "conda: {dependencies: [python=3.11]}\npip: {packages: [six], installer: pip}\ninit: {setup: setup.sh}\n"
        "labels: {team: ml, org.opencontainers.image.version: '3'}\n")
    code, out, err = run_envc(["export", "envc.yml", "--to", "azureml-v1", "-o", "saved"], tmp_path, capsys)
    assert code == 0
    assert err.splitlines() == [
        "envc.yml:2:1: warning: 'description' is not exported: the format has no place for description",
        "envc.yml:3:30: warning: 'base.platform' is not exported: the format has no place for platform",
        "envc.yml:4:1: warning: 'system' is not exported: the format has no place for system packages",
        "envc.yml:6:24: warning: 'pip.installer' is not exported: the format has no place for installer",
        "envc.yml:7:1: warning: 'init' is not exported: the format has no place for init scripts",
        "envc.yml:8:10: warning: labels 'team' are not exported: the format keeps only the version label"]
    saved = json.loads((tmp_path / "saved" / "azureml_environment.json").read_text())
    assert saved["version"] == "3" and saved["docker"]["baseImage"] == "python:3.11"
    assert "- six" in (tmp_path / "saved" / "conda_dependencies.yml").read_text()


def test_v1_export_is_what_save_to_directory_writes(tmp_path, capsys):
    """The CLI's export and the API's save_to_directory write the same azureml_environment.json."""
    from envc import Environment

    (tmp_path / "envc.yml").write_text("name: same\nbase: {image: 'python:3.11'}\nconda: {dependencies: [python=3.11]}\n"
                                       "env: {A: '1'}\n")
    assert run_envc(["export", "envc.yml", "--to", "azureml-v1", "-o", "cli"], tmp_path, capsys)[0] == 0
    env = Environment.load_from_directory(tmp_path / "cli")
    env.save_to_directory(tmp_path / "api")
    assert json.loads((tmp_path / "api" / "azureml_environment.json").read_text()) == \
        json.loads((tmp_path / "cli" / "azureml_environment.json").read_text())


def test_a_stale_base_dockerfile_is_removed(tmp_path, capsys):
    (tmp_path / "Dockerfile").write_text("FROM python:3.11\n")
    (tmp_path / "a.yml").write_text("name: a\nbase: {dockerfile: Dockerfile}\nconda: {dependencies: [python=3.11]}\n")
    (tmp_path / "b.yml").write_text("name: b\nbase: {image: 'python:3.12'}\nconda: {dependencies: [python=3.12]}\n")
    assert run_envc(["export", "a.yml", "--to", "azureml-v1", "-o", "out"], tmp_path, capsys)[0] == 0
    assert (tmp_path / "out" / "BaseDockerfile").read_text() == "FROM python:3.11\n"
    assert run_envc(["export", "b.yml", "--to", "azureml-v1", "-o", "out"], tmp_path, capsys)[0] == 0
    assert not (tmp_path / "out" / "BaseDockerfile").exists()
    assert "FROM python:3.12" in run_envc(["compile", "out"], tmp_path, capsys)[1]
