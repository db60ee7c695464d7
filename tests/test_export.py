"""`envc export`: what other tools read, checked by reading it back with envc."""
import shutil

import pytest
import yaml

from conftest import REPO, run_envc

GOLDEN = REPO / "golden"


def pip_and_conda_steps(dockerfile: str) -> list:
    """The lines of the conda and pip install steps: what an export must carry over exactly."""
    instructions = []
    for line in dockerfile.splitlines():
        if line.startswith((" ", "\t")) and instructions:
            instructions[-1].append(line)
        else:
            instructions.append([line])
    return [line for lines in instructions if lines[0].startswith("RUN ")
            and any(marker in "\n".join(lines) for marker in ("envc-environment.yml", "pip install")) for line in lines]


@pytest.fixture
def full(tmp_path):
    return shutil.copytree(GOLDEN / "full", tmp_path / "full")


def test_conda_export_reads_back_to_the_same_packages(full, capsys):
    code, out, err = run_envc(["export", "envc.yml", "--to", "conda", "-o", "environment.yml"], full, capsys)
    assert code == 0 and out == ""
    for key in ("base", "system", "init", "labels"):
        assert f"warning: '{key}' is not exported" in err
    assert "'python' is not exported" not in err  # user_managed: false loses nothing
    exported = yaml.safe_load((full / "environment.yml").read_text())
    assert exported["variables"] == {"EXAMPLE_ENV_VAR": "EXAMPLE_VALUE"}
    spec_steps = pip_and_conda_steps(run_envc(["compile", "envc.yml"], full, capsys)[1])
    export_steps = pip_and_conda_steps(run_envc(["compile", "environment.yml"], full, capsys)[1])
    assert export_steps == spec_steps and spec_steps


def test_azureml_v2_export_reads_back(full, capsys):
    code, out, err = run_envc(["export", "envc.yml", "--to", "azureml-v2", "-o", "azureml.yml"], full, capsys)
    assert code == 0, err
    assert "'base.platform' is not exported" in err and "'env' is not exported" not in err
    exported = yaml.safe_load((full / "azureml.yml").read_text())
    assert exported["conda_file"] == "azureml.conda.yml" and exported["tags"] == {"org.opencontainers.image.source": "https://example.org/repo"}
    spec = run_envc(["compile", "envc.yml"], full, capsys)[1]
    back = run_envc(["compile", "azureml.yml"], full, capsys)[1]
    assert pip_and_conda_steps(back) == pip_and_conda_steps(spec)
    assert "ENV EXAMPLE_ENV_VAR='EXAMPLE_VALUE'" in back and "LABEL org.opencontainers.image.source='https://example.org/repo'" in back


def test_azureml_v2_export_of_a_build_context(tmp_path, capsys):
    (tmp_path / "ctx" / "docker").mkdir(parents=True)
    (tmp_path / "ctx" / "docker" / "Dockerfile").write_text("FROM python:3.11-slim\nCOPY app.py /app.py\n")
    (tmp_path / "ctx" / "app.py").write_text("print(1)\n")
    (tmp_path / "envc.yml").write_text("name: ctx-env\nbase: {dockerfile: ctx/docker/Dockerfile, context: ctx}\n")
    assert run_envc(["export", "envc.yml", "--to", "azureml-v2", "-o", "azureml.yml"], tmp_path, capsys)[0] == 0
    assert yaml.safe_load((tmp_path / "azureml.yml").read_text())["build"] == {"path": "ctx", "dockerfile_path": "docker/Dockerfile"}
    assert not (tmp_path / "azureml.conda.yml").exists()  # nothing to install, no conda file
    assert run_envc(["compile", "azureml.yml"], tmp_path, capsys)[1].splitlines()[1:] == \
        run_envc(["compile", "envc.yml"], tmp_path, capsys)[1].splitlines()[1:]
    (tmp_path / "elsewhere").mkdir()
    code, out, err = run_envc(["export", "envc.yml", "--to", "azureml-v2", "-o", "elsewhere/azureml.yml"], tmp_path, capsys)
    assert code == 2 and "'ctx' would be outside the exported file's folder" in err
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_a_string_conda_reads_as_a_number_is_exported_quoted(tmp_path, capsys):
    """conda reads its file as YAML 1.2, where a plain 1e3 or 0o17 is a number: the export quotes them, so conda and
    envc read back the same strings (and `_1`, a string to both, stays plain)."""
    (tmp_path / "envc.yml").write_text('name: x\nconda:\n  dependencies: [python=3.11]\nenv: {A: "1e3", B: "0o17", C: _1}\n')
    code, _, err = run_envc(["export", "envc.yml", "--to", "conda", "-o", "environment.yml"], tmp_path, capsys)
    assert code == 0, err
    assert "  A: '1e3'\n  B: '0o17'\n  C: _1\n" in (tmp_path / "environment.yml").read_text()
    code, out, err = run_envc(["compile", "environment.yml"], tmp_path, capsys)
    assert code == 0 and "ENV A='1e3' \\\n    B='0o17' \\\n    C='_1'" in out, (err, out)


def test_requirements_export(tmp_path, capsys):
    case = shutil.copytree(GOLDEN / "pip-only-venv", tmp_path / "case")
    code, out, err = run_envc(["export", "envc.yml", "--to", "requirements", "-o", "requirements.txt"], case, capsys)
    assert code == 0 and "warning: 'base' is not exported" in err
    lines = (case / "requirements.txt").read_text().splitlines()
    assert lines[1:] == yaml.safe_load((case / "envc.yml").read_text())["pip"]["packages"]
    code, _, err = run_envc(["export", "envc.yml", "--to", "requirements", "-o", "r.txt"], GOLDEN / "full", capsys)
    assert code == 2 and "envc.yml:14:31: error: a requirements file cannot hold conda packages" in err
    assert not (GOLDEN / "full" / "r.txt").exists()


def test_conda_packages_are_judged_by_name_not_by_spelling(tmp_path, capsys):
    """python>=3.10 is the interpreter a requirements file assumes, as python=3.10 is; and a spec that
    already asks for pip>=23 gets no second, unpinned pip."""
    (tmp_path / "envc.yml").write_text('name: x\nconda:\n  dependencies: ["python>=3.10", "pip>=23", {pip: [six]}]\n')
    code, _, err = run_envc(["export", "envc.yml", "--to", "requirements", "-o", "r.txt"], tmp_path, capsys)
    assert code == 0, err
    assert (tmp_path / "r.txt").read_text().splitlines()[1:] == ["six"]
    assert run_envc(["export", "envc.yml", "--to", "conda", "-o", "environment.yml"], tmp_path, capsys)[0] == 0
    assert yaml.safe_load((tmp_path / "environment.yml").read_text())["dependencies"] == ["python>=3.10", "pip>=23", {"pip": ["six"]}]


def test_every_key_a_format_cannot_hold_is_named(tmp_path, capsys):
    """Per key where the section is partly held (pip.installer, pip.netrc_secret), per section otherwise."""
    (tmp_path / "envc.yml").write_text("name: x\ndescription: d\npip:\n  packages: [six]\n  installer: pip\n  netrc_secret: n\n"
                                       "system: {apt: [git]}\n")
    code, _, err = run_envc(["export", "envc.yml", "--to", "conda", "-o", "environment.yml"], tmp_path, capsys)
    assert code == 0
    assert err.splitlines() == [
        "envc.yml:2:1: warning: 'description' is not exported: the format has no place for description",
        "envc.yml:5:3: warning: 'pip.installer' is not exported: the format has no place for installer",
        "envc.yml:6:3: warning: 'pip.netrc_secret' is not exported: the format has no place for netrc build secret",
        "envc.yml:7:1: warning: 'system' is not exported: the format has no place for system packages",
    ]
