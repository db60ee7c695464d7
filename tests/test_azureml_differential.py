"""The Python API against the real azureml-core: the same operations (tests/data/azureml/differential_ops.py)
run in both, and every result must be equal, except the deliberate differences below, each named with
its reason in the README ("Python API", "Where envc differs from azureml-core, on purpose").

azureml-core 1.61.0.post4 lives in a venv of its own (.ci/run makes .venv/azureml-core; it pins versions of
packaging, cryptography and others that envc's own venv should not be made to share). ENVC_AZUREML_PYTHON
names another interpreter that has it.
"""
import json
import os
import re
import subprocess
import sys

import pytest

from conftest import REPO

OPS = REPO / "tests" / "data" / "azureml" / "differential_ops.py"
AZUREML_PYTHON = os.environ.get("ENVC_AZUREML_PYTHON") or str(REPO / ".venv" / "azureml-core" / "bin" / "python")

# operation -> the README's name of the reason its result differs from azureml-core's
DIFFERENCES = {
    **dict.fromkeys(["cd.default", "cd.default.number_of_packages", "cd.create.noargs", "cd.create.python_version_none",
                     "env.init.defaults", "env.from_conda_specification.no_python", "cd.save.no_python",
                     "env.save_to_directory.no_python"], "no cloud defaults"),
    **dict.fromkeys(["cd.create.positional_list", "cd.add_channel.non_string", "cd.add_conda_package.bad_spec",
                     "cd.add_conda_package.non_string", "cd.add_pip_package.empty", "cd.add_pip_package.non_string",
                     "env.python.conda_dependencies_string", "env.docker.dockerfile_path_missing",
                     "env.docker.base_image_tuple", "env.docker.base_image_int"], "values checked when set"),
    **dict.fromkeys(["cd.typo_attribute", "env.load_from_directory.unknown_keys", "env.load_from_directory.snake_case_ignored"],
                    "fixed attributes"),
    **dict.fromkeys(["cd.add_conda_package.same_name_new_pin", "cd.add_pip_package.spaces", "cd.add_pip_package.case",
                     "cd.add_pip_package.dash_underscore"], "one version per package"),
    **dict.fromkeys(["env.docker.registry_credentials", "env.docker.registry_username_only", "cd.add_channel.credential_url",
                     "cd.add_pip_package.credential_url", "cd.set_pip_option.credential_url"], "no credential written"),
    "env.from_pip_requirements": "requirements read as pip reads them",
    **dict.fromkeys(["cd.add_conda_package.python_unversioned", "env.clone.conda_independent",
                     "env.save_to_directory.overwrite_stale_dockerfile"], "azureml-core bugs avoided"),
    **dict.fromkeys(["cloud.register_noargs", "cloud.get_image_details_noargs"], "no workspace"),
    **dict.fromkeys(["env.inferencing_stack_version", "env.python.conda_dependencies_file_setter",
                     "env.from_existing_conda_environment", "cloud.build", "cloud.add_private_pip_wheel"], "refused calls"),
}


def _results(python: str, implementation: str, tmp_path) -> dict:
    out = tmp_path / f"{implementation}.json"
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run([python, str(OPS), implementation, str(out)], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(out.read_text())


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    if not os.path.exists(AZUREML_PYTHON):
        if os.environ.get("CI") == "true":
            pytest.fail(f"no azureml-core interpreter at {AZUREML_PYTHON}: .ci/run installs it")
        pytest.skip(f"azureml-core is not installed at {AZUREML_PYTHON} (python3 -m venv .venv/azureml-core && "
                    ".venv/azureml-core/bin/pip install azureml-core==1.61.0.post4)")
    tmp = tmp_path_factory.mktemp("differential")
    return _results(AZUREML_PYTHON, "azureml", tmp), _results(sys.executable, "envc", tmp)


def _outcome(value):
    """A result as compared: an exception by its kind (the messages are each library's own)."""
    return {"raises": value["raises"]} if isinstance(value, dict) and "raises" in value else value


def test_the_reference_is_azureml_core_1_61(results):
    azureml, _ = results
    done = subprocess.run([AZUREML_PYTHON, "-c", "from importlib.metadata import version; print(version('azureml-core'))"],
                          capture_output=True, text=True)
    assert done.stdout.strip() == "1.61.0.post4"
    assert len(azureml["operations"]) >= 150


def test_every_operation_gives_azureml_cores_result_but_the_listed_differences(results):
    azureml, envc = results
    assert set(azureml["operations"]) == set(envc["operations"])
    unexpected = {name: {"azureml-core": azureml["operations"][name], "envc": envc["operations"][name]}
                  for name in azureml["operations"] if name not in DIFFERENCES
                  and _outcome(azureml["operations"][name]) != _outcome(envc["operations"][name])}
    assert not unexpected, json.dumps(unexpected, indent=1)[:6000]


def test_each_listed_difference_is_still_a_difference(results):
    azureml, envc = results
    stale = [name for name in DIFFERENCES if _outcome(azureml["operations"][name]) == _outcome(envc["operations"][name])]
    assert not stale, f"no longer different, remove from DIFFERENCES: {stale}"


def test_each_reason_is_in_the_readme():
    section = (REPO / "README.md").read_text().split("## Python API", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^- \*\*([^*]+)\*\*", section, re.M))
    assert set(DIFFERENCES.values()) <= listed, set(DIFFERENCES.values()) - listed


def test_no_call_is_missing(results):
    """Every public name of azureml-core's classes exists in envc, or is refused with its reason."""
    from envc.frontends.api import REFUSED

    azureml, envc = results
    missing = {cls: sorted(set(names) - set(envc["surface"][cls]) - set(REFUSED)) for cls, names in azureml["surface"].items()}
    assert not any(missing.values()), missing
