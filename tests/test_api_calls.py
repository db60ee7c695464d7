"""The Python API's calls on envc alone (tests/test_azureml_differential.py holds them to azureml-core):
what each one builds, reads and refuses."""
import json
import shutil

import pytest

from conftest import REPO, run_envc
from envc import CondaDependencies, ContainerRegistry, Environment
from envc.common.diagnostics import SpecError

DATA = REPO / "tests" / "data" / "azureml"


@pytest.fixture(autouse=True)
def here(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ENVC_REGISTRY", str(tmp_path / "registry"))


def test_a_folder_azureml_core_saved_from_a_commented_requirements_file_loads(tmp_path, capsys):
    """azureml-core copied '# c' and '' into the pip list; pip ignores them, and so does envc."""
    folder = shutil.copytree(DATA / "saved-frompip", tmp_path / "frompip")
    assert "- '# c'" in (folder / "conda_dependencies.yml").read_text()
    with pytest.raises(SpecError, match=r"conda_dependencies.yml:18:5: error: no such file 'other.txt'"):
        Environment.load_from_directory(folder)  # its -r names a file azureml-core did not save
    (folder / "other.txt").write_text("six==1.16.0\n")
    env = Environment.load_from_directory(folder)
    deps = env.python.conda_dependencies
    assert list(deps.pip_packages) == ["numpy==1.26.4"]
    assert list(deps.pip_options) == ["--index-url https://example.org/simple", "-r other.txt"]
    text = env.get_image_details().dockerfile
    assert "numpy==1.26.4" in text and "six==1.16.0" in text and "# c" not in text


def test_conda_files_keep_their_name_variables_comments_and_flow_lists(tmp_path):
    (tmp_path / "environment.yml").write_text(
        "# team env\nname: team\nchannels: [conda-forge]  # only this one\nvariables:\n  OMP_NUM_THREADS: '1'\n"
        "dependencies:\n  # the interpreter\n  - python=3.11\n  - numpy=1.26    # pinned\n  - pip:\n    - --index-url https://x.example/simple\n"
        "    - requests==2.32.3  # http\n")
    deps = CondaDependencies("environment.yml")
    deps.add_conda_package("scipy")
    deps.set_python_version("3.12")
    assert deps.serialize_to_string() == (
        "# team env\nname: team\nchannels: [conda-forge]  # only this one\nvariables:\n  OMP_NUM_THREADS: '1'\n"
        "dependencies:\n  # the interpreter\n- python=3.12\n- numpy=1.26      # pinned\n- pip:\n  - --index-url https://x.example/simple\n"
        "  - requests==2.32.3    # http\n- scipy\n")
    assert list(deps.pip_options) == ["--index-url https://x.example/simple"] and list(deps.pip_packages) == ["requests==2.32.3"]
    deps.save(tmp_path / "again.yml")
    assert CondaDependencies(tmp_path / "again.yml").serialize_to_string() == deps.serialize_to_string()


def test_from_pip_requirements_follows_includes_and_keeps_hashes(tmp_path, capsys):
    (tmp_path / "reqs").mkdir()
    (tmp_path / "reqs" / "requirements.txt").write_text("# pinned\n-r base.txt\n-c constraints.txt\n\nrequests==2.32.3\n")
    (tmp_path / "reqs" / "base.txt").write_text("six==1.16.0\n")
    (tmp_path / "reqs" / "constraints.txt").write_text("urllib3<3\n")
    env = Environment.from_pip_requirements("inc", tmp_path / "reqs" / "requirements.txt")
    deps = env.python.conda_dependencies
    assert list(deps.pip_packages) == ["requests==2.32.3"] and list(deps.pip_options) == ["-r base.txt", "-c constraints.txt"]
    env.save_to_directory("saved")
    assert (tmp_path / "saved" / "base.txt").read_text() == "six==1.16.0\n"  # carried along
    text = env.get_image_details().dockerfile
    assert "-r /opt/envc/context/base.txt" in text and "-c /opt/envc/context/constraints.txt" in text
    hashed = "numpy==1.26.4 --hash=sha256:" + "a" * 64 + "\n"
    (tmp_path / "hashed.txt").write_text(hashed)
    deps = Environment.from_pip_requirements("hashed", "hashed.txt").python.conda_dependencies
    assert list(deps.pip_options) == ["-r hashed.txt"] and list(deps.pip_packages) == []  # only a file holds --hash
    assert "--hash=sha256:" + "a" * 64 in Environment.from_pip_requirements("hashed", "hashed.txt").get_image_details().dockerfile


def test_from_pip_requirements_errors_are_located(tmp_path):
    (tmp_path / "requirements.txt").write_text("requests>=>2\n-r missing.txt\n")
    with pytest.raises(SpecError) as caught:
        Environment.from_pip_requirements("bad", "requirements.txt")
    text = str(caught.value)
    assert "requirements.txt:1:" in text and "requirements.txt:2:1: error:" in text and "missing.txt" in text
    with pytest.raises(FileNotFoundError):
        Environment.from_pip_requirements("bad", "nope.txt")


def test_factories_for_a_dockerfile_or_an_image(tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM python:3.11-slim\n")
    (tmp_path / "env.yml").write_text("name: x\ndependencies: [python=3.11]\n")
    env = Environment.from_dockerfile("df", "Dockerfile", conda_specification="env.yml")
    assert (env.docker.base_image, env.docker.base_dockerfile) == (None, "FROM python:3.11-slim\n")
    assert not env.python.user_managed_dependencies and "FROM python:3.11-slim" in env.get_image_details().dockerfile
    env = Environment.from_dockerfile("df", "FROM python:3.11-slim\n")
    assert env.python.user_managed_dependencies and env.python.interpreter_path == "python"
    registry = ContainerRegistry()
    registry.address = "myacr.azurecr.io"
    env = Environment.from_docker_image("img", "myacr.azurecr.io/base:1", container_registry=registry,
                                        conda_specification="env.yml")
    assert env.docker.base_image_registry is registry
    assert "pulled from myacr.azurecr.io" in env.get_image_details().dockerfile
    with pytest.raises(ValueError, match="Only one of conda_specification or pip_requirements"):
        Environment.from_docker_image("x", "img:1", conda_specification="a", pip_requirements="b")


def test_image_details_mapping_and_properties():
    env = Environment("details")
    env.python.conda_dependencies = CondaDependencies.create(python_version="3.11", pip_packages=["six==1.16.0"])
    details = env.get_image_details(None)
    assert isinstance(details, dict) and details["ingredients"]["dockerfile"] == details.dockerfile
    assert details.image == details.repository == details["dockerImage"]["name"] == f"envc/details:{details.spec_hash[:16]}"
    assert (details.interpreter_path, details.environment_path) == ("/opt/envc/env/bin/python", "/opt/envc/env")
    assert details.spec_hash in details.dockerfile.splitlines()[0]


def test_docker_run_settings_are_kept_and_saved():
    env = Environment("run")
    env.docker.enabled, env.docker.shm_size, env.docker.arguments = True, "16g", ["--ipc=host"]
    env.save_to_directory("saved")
    docker = json.loads(open("saved/azureml_environment.json").read())["docker"]
    assert (docker["enabled"], docker["shmSize"], docker["arguments"]) == (True, "16g", ["--ipc=host"])
    back = Environment.load_from_directory("saved")
    assert (back.docker.enabled, back.docker.shm_size, back.docker.arguments) == (True, "16g", ["--ipc=host"])


def test_compiling_warns_about_run_settings(capsys, tmp_path):
    env = Environment("run")
    env.docker.arguments = ["--ipc=host"]
    env.save_to_directory("saved")
    code, out, err = run_envc(["compile", "saved"], tmp_path, capsys)
    assert code == 0 and "warning: 'docker.arguments' is ignored" in err


@pytest.mark.parametrize("call, message", [
    (lambda env: setattr(env, "inferencing_stack_version", "latest"), "inferencing stack is built by the service"),
    (lambda env: setattr(env, "r", object()), "R environments are not supported"),
    (lambda env: Environment.from_existing_conda_environment("x", "base"), "conda env export --no-builds -n base"),
    (lambda env: env.build(None), "build_local"),
    (lambda env: env.build_local(useDocker=False), "envc builds images only"),
    (lambda env: setattr(env.docker, "build_context", object()), "cannot be read offline"),
])
def test_refused_calls_say_why(call, message):
    with pytest.raises(NotImplementedError, match=message):
        call(Environment("refused"))


@pytest.mark.parametrize("name, reason", [
    ("label", "envc register SPEC --version LABEL"), ("add_private_pip_wheel", "serve wheels from an index"),
    ("from_docker_build_context", "base.dockerfile and base.context"), ("from_conda_specifications", "did you mean"),
])
def test_missing_names_say_why(name, reason):
    with pytest.raises(AttributeError, match=reason):
        getattr(Environment, name)


def test_get_and_register_by_version(tmp_path):
    env = Environment("versions")
    env.python.conda_dependencies = CondaDependencies.create(python_version="3.11")
    assert env.register().version == "1"
    env.python.conda_dependencies.add_pip_package("six==1.16.0")
    assert env.register().version == "2"
    assert list(Environment.get(None, "versions", version="1").python.conda_dependencies.pip_packages) == []
    assert list(Environment.get(None, "versions").python.conda_dependencies.pip_packages) == ["six==1.16.0"]
    assert list(Environment.get(None, "versions", label="latest").python.conda_dependencies.pip_packages) == ["six==1.16.0"]
    assert "versions" in Environment.list()
    with pytest.raises(ValueError, match="Only one of version or label"):
        Environment.get(None, "versions", version="1", label="latest")


# Any sequence of calls with any values: the API answers with a value or a clear refusal (ValueError, a located
# SpecError, NotImplementedError), never an exception from envc's insides.
from hypothesis import given, settings, strategies as st  # noqa: E402

VALUES = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=12),
                   st.sampled_from(["numpy=1.26", "python=3.11", "python", "requests>=2", "-r x.txt", "--pre", "conda-forge",
                                    "FROM python:3.11\n", "./Dockerfile", "numpy===!!", "", "git+https://x.example/r.git"]))
CALLS = st.lists(st.tuples(st.sampled_from([
    "add_conda_package", "remove_conda_package", "add_pip_package", "remove_pip_package", "add_channel", "remove_channel",
    "set_pip_option", "remove_pip_option", "set_python_version", "add_tensorflow_pip_package", "variable", "base_image",
    "base_dockerfile", "user_managed", "interpreter"]), VALUES), max_size=6)
REFUSALS = (ValueError, SpecError, NotImplementedError)


@settings(max_examples=120, deadline=None)
@given(calls=CALLS)
def test_any_calls_are_an_answer_or_a_clear_refusal(calls):
    import warnings

    env = Environment("fuzz")
    deps = env.python.conda_dependencies
    setters = {"variable": lambda v: env.environment_variables.__setitem__("V", v),
               "base_image": lambda v: setattr(env.docker, "base_image", v),
               "base_dockerfile": lambda v: setattr(env.docker, "base_dockerfile", v),
               "user_managed": lambda v: setattr(env.python, "user_managed_dependencies", v),
               "interpreter": lambda v: setattr(env.python, "interpreter_path", v)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, value in calls:
            try:
                setters[name](value) if name in setters else getattr(deps, name)(value)
            except REFUSALS:
                pass
        try:
            assert env.get_image_details().dockerfile.startswith("# Generated by envc")
        except REFUSALS as exc:
            assert str(exc)


def test_an_inline_conda_environment_in_the_saved_json_is_read(tmp_path, capsys):
    """repr(env) and Azure ML's service put python.condaDependencies in the JSON itself: read, with its variables."""
    (tmp_path / "inline").mkdir()
    (tmp_path / "inline" / "azureml_environment.json").write_text(json.dumps({
        "name": "inline", "environmentVariables": {"A": "1"},
        "python": {"condaDependencies": {"name": "x", "channels": ["conda-forge"], "variables": {"B": "2"},
                                         "dependencies": ["python=3.11", {"pip": ["six==1.16.0"]}]}}}))
    code, out, err = run_envc(["compile", "inline"], tmp_path, capsys)
    assert code == 0, err
    assert '"conda-forge"' in out and "six==1.16.0" in out and "A='1'" in out and "B='2'" in out
    env = Environment.load_from_directory(tmp_path / "inline")
    assert list(env.python.conda_dependencies.pip_packages) == ["six==1.16.0"]
    (tmp_path / "inline" / "azureml_environment.json").write_text(json.dumps({
        "name": "inline", "python": {"condaDependencies": {"name": "x", "dependencies": [], "chanels": []}}}))
    code, out, err = run_envc(["compile", "inline"], tmp_path, capsys)
    assert code == 2 and "unknown key 'chanels' in python.condaDependencies (did you mean 'channels'?)" in err
