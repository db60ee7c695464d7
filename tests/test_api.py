"""The Python API (envc.frontends.api): azureml-core's names, envc's checks, and the same bytes as the CLI."""
import json

import pytest

from conftest import REPO, run_envc
from envc import CondaDependencies, Environment
from envc.common.diagnostics import SpecError

SAVED = REPO / "golden"


def azureml_core_example() -> Environment:
    """The environment scripts/make-azureml-v1-goldens.py builds with azureml-core, built with envc."""
    env = Environment("train-env")
    deps = CondaDependencies.create(conda_packages=["numpy=1.26", "scikit-learn"],
                                    pip_packages=["requests>=2.31", "mlflow==2.9.2"], python_version="3.10")
    deps.add_channel("conda-forge")
    env.python.conda_dependencies = deps
    env.environment_variables = {"EXAMPLE_ENV_VAR": "EXAMPLE_VALUE", "QUOTED": "it's $HOME"}
    env.docker.base_image = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:20251130.v1"
    return env


def test_saved_json_is_what_azureml_core_writes(tmp_path):
    azureml_core_example().save_to_directory(tmp_path / "saved")
    ours = json.loads((tmp_path / "saved" / "azureml_environment.json").read_text())
    theirs = json.loads((SAVED / "azureml-v1-saved-conda" / "azureml_environment.json").read_text())
    assert ours == theirs


def test_image_details_match_the_cli_on_the_saved_folder(tmp_path, capsys):
    env = azureml_core_example()
    details = env.get_image_details()
    env.save_to_directory(tmp_path / "saved")
    code, out, err = run_envc(["compile", "saved"], tmp_path, capsys)
    assert code == 0 and details.dockerfile == out
    assert details.image_name == f"envc/train-env:{details.spec_hash[:16]}"
    assert f"(spec sha256:{details.spec_hash})" in out.splitlines()[0]


def test_same_bytes_as_a_folder_azureml_core_saved():
    env = Environment("user-managed")
    env.docker.base_image = None
    env.docker.base_dockerfile = "FROM python:3.11-slim\nRUN pip install --no-cache-dir requests==2.32.3\n"
    env.python.user_managed_dependencies = True
    env.python.interpreter_path = "/usr/local/bin/python"
    env.environment_variables = {"EXAMPLE_ENV_VAR": "EXAMPLE_VALUE"}  # azureml-core's default
    assert env.get_image_details().dockerfile == (SAVED / "azureml-v1-saved-dockerfile" / "Dockerfile").read_text()


def test_load_then_save_keeps_the_environment(tmp_path, capsys):
    env = Environment.load_from_directory(SAVED / "azureml-v1-saved-conda")
    assert env.name == "train-env" and env.environment_variables["QUOTED"] == "it's $HOME"
    assert list(env.python.conda_dependencies.conda_channels) == ["anaconda", "conda-forge"]
    assert "mlflow==2.9.2" in list(env.python.conda_dependencies.pip_packages)
    env.save_to_directory(tmp_path / "again")
    original = run_envc(["compile", "azureml-v1-saved-conda"], SAVED, capsys)[1].splitlines()
    again = run_envc(["compile", "again"], tmp_path, capsys)[1].splitlines()
    assert again[1:] == original[1:]  # the header's hash covers the conda file's bytes, rewritten here


def test_from_files(tmp_path):
    (tmp_path / "requirements.txt").write_text("# pinned\nrequests==2.32.3  # http\nclick>=8 ; python_version >= '3.8'\n")
    env = Environment.from_pip_requirements("pip-env", tmp_path / "requirements.txt")
    assert list(env.python.conda_dependencies.pip_packages) == ["requests==2.32.3", "click>=8 ; python_version >= '3.8'"]
    (tmp_path / "environment.yml").write_text("name: x\nchannels: [conda-forge]\ndependencies: [python=3.11, {pip: [six]}]\n")
    env = Environment.from_conda_specification("conda-env", tmp_path / "environment.yml")
    deps = env.python.conda_dependencies
    assert (list(deps.conda_channels), list(deps.conda_packages), list(deps.pip_packages)) == (["conda-forge"], ["python=3.11"], ["six"])
    deps.save(tmp_path / "saved.yml")
    assert CondaDependencies(tmp_path / "saved.yml").serialize_to_string() == deps.serialize_to_string()


def test_mistakes_raise_where_they_are_made(tmp_path, capsys):
    env = Environment("e")
    with pytest.raises(AttributeError):
        env.docker.base_imgae = "ubuntu:22.04"  # azureml-core would add an attribute nobody reads
    with pytest.raises(ValueError, match="join version constraints with ','"):
        env.python.conda_dependencies.add_conda_package("numpy>=1.2 <2")
    with pytest.raises(ValueError, match="not a pip requirement"):
        env.python.conda_dependencies.add_pip_package("requests>=>2")
    with pytest.raises(ValueError, match="a trailing comma makes a tuple"):
        env.docker.base_image = "/my/private/img:tag",  # the seed guide's typo
    (tmp_path / "full").mkdir()
    with pytest.raises(FileExistsError):
        env.save_to_directory(tmp_path / "full")  # as azureml-core: an existing folder needs overwrite=True
    (tmp_path / "null").mkdir()
    (tmp_path / "null" / "azureml_environment.json").write_text('{"name": "n", "environmentVariables": {"KEY": null}, '
                                                                '"python": {"userManagedDependencies": true}}')
    code, _, err = run_envc(["compile", "null"], tmp_path, capsys)  # a saved JSON's null: write a value, not "null"
    assert code == 2 and 'error: expected a string, got an empty value: write the value, or leave the key out (quote it, ' \
                         '"null", to mean that text)' in err, err
    env.environment_variables = {"BAD": "line\nbreak"}
    with pytest.raises(SpecError) as caught:
        env.get_image_details()
    assert str(caught.value).startswith("<Environment 'e'>/azureml_environment.json:")
    assert "envc-environment-" not in str(caught.value)  # never the temporary folder it was checked in


def test_what_azureml_core_code_leaves_unset_or_loose_is_read_as_azure_ml_reads_it(tmp_path, capsys):
    """Real scripts: from_docker_image(name, image) alone (interpreter 'python', found on the image's PATH as Azure ML
    runs it), `for p in text.split("\\n"): add_pip_package(p)` (a blank last line, which pip skips), and
    environment_variables from os.getenv (None) or numbers, refused naming the key when the environment is used."""
    env = Environment.from_docker_image("hexa-env", "ubuntu:22.04")
    assert (env.python.user_managed_dependencies, env.python.interpreter_path) == (True, "python")
    details = env.get_image_details()
    assert details.dockerfile.splitlines()[3:] == ["FROM ubuntu:22.04"] and details.interpreter_path == "python"
    env.save_to_directory(tmp_path / "saved")
    code, out, err = run_envc(["compile", "saved"], tmp_path, capsys)
    assert code == 0 and out == details.dockerfile, err
    env = Environment("e")
    for line in "numpy\npandas\n".split("\n"):
        env.python.conda_dependencies.add_pip_package(line)
    assert list(env.python.conda_dependencies.pip_packages) == ["numpy", "pandas"]
    for value, message in ((None, r"environment_variables\['K'\] is None \(os.getenv gives None for an unset variable\)"),
                           (1, r"environment_variables\['K'\] is int 1: an environment variable is a string: write it as one, e.g. '1'")):
        env.environment_variables = {"K": value}
        with pytest.raises(ValueError, match=message):
            env.get_image_details()


def test_api_stays_off_the_cli_start_up_path():
    import subprocess
    import sys
    code = "import sys, envc.frontends.cli; print('envc.frontends.api' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stdout.strip() == "False"


def test_register_numbers_versions_and_keeps_unchanged_content(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ENVC_REGISTRY", str(tmp_path / "registry"))
    env = azureml_core_example()
    assert env.register().version == "1"
    assert env.register().version == "1"  # unchanged: the version that holds it
    env.version = None
    env.environment_variables["NEW"] = "1"
    expected = env.get_image_details().dockerfile
    assert env.register().version == "2"
    assert run_envc(["compile", "train-env:2"], tmp_path, capsys)[1] == expected
    with pytest.warns(UserWarning, match="workspace argument is ignored"):
        assert env.register("ws").version == "2"
