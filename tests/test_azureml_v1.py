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
