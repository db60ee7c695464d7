"""Folders saved by azureml-core's Environment.save_to_directory (importers.from_azureml_v1).

The inputs under golden/azureml-v1-saved-* were written by the real azureml-core
(scripts/make-azureml-v1-goldens.py); the goldens pin the Dockerfiles, these tests the rest.
"""
import json
import shutil

from conftest import REPO, run_envc

SAVED = REPO / "golden"
FAKE_PASSWORD = "FAKE-PASSWORD-must-not-leak"


def test_a_literal_registry_credential_is_referenced_never_copied(tmp_path, capsys):
    folder = shutil.copytree(SAVED / "azureml-v1-saved-registry", tmp_path / "saved")
    assert FAKE_PASSWORD in (folder / "azureml_environment.json").read_text()  # the input really has it
    code, out, err = run_envc(["compile", "saved"], tmp_path, capsys)
    assert code == 0 and FAKE_PASSWORD not in out + err and "builder" not in out + err
    assert "saved/azureml_environment.json:24:26: warning: the literal registry password is not copied" in err
    code, out, err = run_envc(["import", "saved", "-o", "envc.yml"], tmp_path, capsys)
    spec = (tmp_path / "envc.yml").read_text()
    assert code == 0 and FAKE_PASSWORD not in spec + out + err
    assert "password:\n      secret: azureml_registry_password" in spec


def test_the_folder_and_its_json_file_are_the_same_input(capsys):
    folder = SAVED / "azureml-v1-saved-conda"
    by_folder = run_envc(["compile", "azureml-v1-saved-conda"], SAVED, capsys)
    by_file = run_envc(["compile", "azureml-v1-saved-conda/azureml_environment.json"], SAVED, capsys)
    assert by_folder == by_file and by_folder[0] == 0
    assert by_folder[1] == (folder / "Dockerfile").read_text()


def test_import_compiles_to_the_same_bytes(tmp_path, capsys):
    for name in ("conda", "dockerfile", "registry"):
        folder = shutil.copytree(SAVED / f"azureml-v1-saved-{name}", tmp_path / name)
        expected = run_envc(["compile", "."], folder, capsys)[1]
        assert run_envc(["import", ".", "-o", "envc.yml"], folder, capsys)[0] == 0
        assert run_envc(["compile", "envc.yml"], folder, capsys)[1] == expected, name


def test_cluster_settings_are_ignored_with_a_warning(tmp_path, capsys):
    saved = json.loads((SAVED / "azureml-v1-saved-conda" / "azureml_environment.json").read_text())
    saved["spark"]["packages"] = [{"group": "com.microsoft.ml.spark", "artifact": "mmlspark", "version": "0.15"}]
    saved["docker"]["arguments"] = ["--shm-size=8g"]
    (tmp_path / "azureml_environment.json").write_text(json.dumps(saved, indent=4))
    shutil.copy(SAVED / "azureml-v1-saved-conda" / "conda_dependencies.yml", tmp_path)
    code, out, err = run_envc(["compile", "."], tmp_path, capsys)
    assert code == 0, err
    assert "warning: 'spark.packages' is ignored" in err and "warning: 'docker.arguments' is ignored" in err


def test_a_folder_without_a_saved_environment_says_what_it_expects(tmp_path, capsys):
    code, out, err = run_envc(["compile", "."], tmp_path, capsys)
    assert code == 2 and "is a directory" in err and "azureml_environment.json" in err


def test_a_missing_saved_file_is_located(tmp_path, capsys):
    shutil.copy(SAVED / "azureml-v1-saved-conda" / "azureml_environment.json", tmp_path)
    code, out, err = run_envc(["compile", "."], tmp_path, capsys)
    assert code == 2 and "azureml_environment.json:8:15: error: no such file 'conda_dependencies.yml'" in err, err


# Any value at any key Azure ML writes: exit 0 or 2 with located messages, never an internal error.
from hypothesis import given, settings, strategies as st  # noqa: E402

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=8))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.text(max_size=6), inner, max_size=3)), max_leaves=6)
V1_KEYS = ["name", "version", "environmentVariables", "python", "docker", "spark", "databricks", "r", "inferencingStackVersion",
           "assetId"]
SECTION_KEYS = {"python": ["userManagedDependencies", "interpreterPath", "condaDependenciesFile", "baseCondaEnvironment"],
                "docker": ["enabled", "baseImage", "baseDockerfile", "buildContext", "arguments", "baseImageRegistry", "platform"]}
V2_KEYS = ["name", "version", "description", "tags", "image", "conda_file", "build", "os_type", "inference_config"]


def _saved_json():
    sections = {key: st.dictionaries(st.sampled_from(keys), VALUES, max_size=4) for key, keys in SECTION_KEYS.items()}
    return st.dictionaries(st.sampled_from(V1_KEYS), VALUES, max_size=6).flatmap(
        lambda top: st.fixed_dictionaries({k: sections[k] if k in sections else st.just(v) for k, v in top.items()}))


@settings(max_examples=150, deadline=None)
@given(saved=_saved_json())
def test_any_saved_json_is_an_answer_never_a_crash(tmp_path_factory, saved):
    folder = tmp_path_factory.mktemp("v1")
    (folder / "azureml_environment.json").write_text(json.dumps(saved))
    (folder / "conda_dependencies.yml").write_text("dependencies: [python=3.10]\n")
    _assert_answer(folder, ".")


@settings(max_examples=150, deadline=None)
@given(spec=st.dictionaries(st.sampled_from(V2_KEYS), VALUES, max_size=6))
def test_any_v2_yaml_is_an_answer_never_a_crash(tmp_path_factory, spec):
    folder = tmp_path_factory.mktemp("v2")
    spec = {"$schema": "https://azuremlschemas.azureedge.net/latest/environment.schema.json", **spec}
    (folder / "env.yml").write_text(json.dumps(spec))
    _assert_answer(folder, "env.yml")


def _assert_answer(folder, spec):
    """envc in-process (hypothesis runs hundreds of examples), as the console script runs it."""
    import contextlib
    import io
    import os

    from envc.frontends.cli import main

    err, cwd = io.StringIO(), os.getcwd()
    try:
        os.chdir(folder)
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(err):
            code = main(["compile", spec, "--no-cache"])
    finally:
        os.chdir(cwd)
    assert code in (0, 2), err.getvalue()
    assert "internal error" not in err.getvalue(), err.getvalue()
    if code == 2:
        assert all(": error: " in line or ": warning: " in line for line in err.getvalue().splitlines() if line), err.getvalue()
