"""Registry credentials set on the Python API (the seed's key-vault snippet) are kept in memory for
build_local's login, and written nowhere: every file the API writes gets references and a warning
names what to set; no message carries them; the engine gets the password on stdin only."""
import json
import os
import stat
import warnings

import pytest

from envc import Environment

USERNAME, PASSWORD = "kv-user-3f9a1c", "kv-password-8d2e7b-S3cret"


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ENVC_REGISTRY", str(tmp_path / "registry"))
    environment = Environment("private")
    environment.docker.base_image = "myacr.azurecr.io/base/python:3.11"
    environment.docker.base_image_registry.address = "myacr.azurecr.io"
    environment.docker.base_image_registry.username = USERNAME
    environment.docker.base_image_registry.password = PASSWORD
    environment.python.conda_dependencies.add_pip_package("requests==2.32.3")
    return environment


def _everything_under(folder) -> str:
    text = []
    for root, _, files in os.walk(folder):
        for name in files:
            with open(os.path.join(root, name), "rb") as handle:
                text.append(handle.read().decode("utf-8", "replace"))
    return "\n".join(text)


def test_kept_in_memory(env):
    import pickle

    assert (env.docker.base_image_registry.username, env.docker.base_image_registry.password) == (USERNAME, PASSWORD)
    assert env.clone("copy").docker.base_image_registry.password == PASSWORD  # a clone is the same environment
    pickled = pickle.dumps(env)  # a pickle is a file: it keeps the address, not the credentials
    assert USERNAME.encode() not in pickled and PASSWORD.encode() not in pickled
    assert pickle.loads(pickled).docker.base_image_registry.address == "myacr.azurecr.io"
    with pytest.raises(ValueError) as caught:
        env.docker.base_image_registry.password = PASSWORD.encode()
    assert PASSWORD not in str(caught.value)


def test_no_file_and_no_message_carries_them(env, tmp_path, capsys):
    from envc.frontends.cli import main

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        env.save_to_directory("saved")
        env.register()
        details = env.get_image_details()
        env.python.conda_dependencies.save("conda.yml")
        messages = [str(w.message) for w in caught]
        for text in (repr(env), str(env), repr(env.docker.base_image_registry), str(details), details.dockerfile):
            messages.append(text)
        broken = env.clone("broken")
        broken.environment_variables = {"BAD": "line\nbreak"}
        with pytest.raises(Exception) as failure:
            broken.get_image_details()
        messages.append(str(failure.value))
        assert main(["compile", "saved"]) == 0
        assert main(["import", "saved", "-o", "imported.yml"]) == 0
        assert main(["export", "private", "--to", "azureml-v1", "-o", "exported"]) == 0
    out, err = capsys.readouterr()
    written = _everything_under(tmp_path)
    assert "azureml_registry_password" in written and "AZUREML_REGISTRY_USERNAME" in written  # references
    for value in (USERNAME, PASSWORD):
        assert value not in written and value not in out + err and not any(value in m for m in messages)
    assert any("set AZUREML_REGISTRY_USERNAME and pass --secret id=azureml_registry_password" in m for m in messages)


def test_the_references_compile_and_build_asks_for_them(env, tmp_path, capsys):
    """A saved folder's references are what `envc build` resolves: without them it stops and says which."""
    from envc.frontends.cli import main

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        env.save_to_directory("saved")
    assert main(["import", "saved", "-o", "envc.yml"]) == 0
    spec = (tmp_path / "envc.yml").read_text()
    assert "username:\n      env: AZUREML_REGISTRY_USERNAME" in spec and "password:\n      secret: azureml_registry_password" in spec
    capsys.readouterr()


FAKE_ENGINE = """#!/bin/sh
printf '%s\\n' "$0 $*" >> "$ENGINE_LOG"
previous=
for argument in "$@"; do  # an image id where the build is asked to write one
  if [ "$previous" = --iidfile ]; then printf 'sha256:0000\\n' > "$argument"; fi
  previous=$argument
done
case "$1" in
  inspect) exit 1 ;;
  login) cat > /dev/null; exit 0 ;;
  *) exit 0 ;;
esac
"""


def test_build_local_logs_in_with_the_password_on_stdin_only(env, tmp_path, monkeypatch):
    """A stand-in buildah records every command line it is given; the real builds are tests/test_build.py's."""
    bin_folder = tmp_path / "bin"
    bin_folder.mkdir()
    engine = bin_folder / "buildah"
    engine.write_text(FAKE_ENGINE)
    engine.chmod(engine.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{bin_folder}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("ENGINE_LOG", str(tmp_path / "engine.log"))
    before = dict(os.environ)
    tag = env.build_local(engine="buildah")
    assert tag.startswith("envc/private:")
    commands = (tmp_path / "engine.log").read_text().splitlines()
    assert [c.split()[1] for c in commands][:3] == ["inspect", "login", "bud"]  # then buildah's label step, if any
    assert PASSWORD not in "\n".join(commands)
    login = commands[1].split()
    assert login[login.index("--username") + 1] == USERNAME and "--password-stdin" in login  # engines take a username only so
    assert not [c for i, c in enumerate(commands) if i != 1 and USERNAME in c]
    assert dict(os.environ) == before  # handed over for the build only
    assert USERNAME not in _everything_under(tmp_path / "registry") if (tmp_path / "registry").exists() else True


@pytest.mark.parametrize("call, value", [
    ("set_pip_option", f"--extra-index-url https://bob:{PASSWORD}@pypi.example/simple"),
    ("set_pip_index_url", f"--index-url https://bob:{PASSWORD}@pypi.example/simple"),
    ("add_pip_package", f"privpkg @ https://bob:{PASSWORD}@files.example/privpkg-1.0-py3-none-any.whl"),
    ("set_pip_requirements", [f"privpkg @ https://bob:{PASSWORD}@files.example/privpkg-1.0-py3-none-any.whl"]),
    ("add_channel", f"https://bob:{PASSWORD}@conda.example/private"),
    ("add_conda_package", f"https://bob:{PASSWORD}@conda.example/private/linux-64/privpkg-1.0-0.tar.bz2"),
    ("remove_pip_option", f"https://bob:{PASSWORD}@pypi.example/simple"),
    ("add_channel", f"https://conda.anaconda.org/t/{PASSWORD}/private"),  # conda's anaconda.org token
    ("add_conda_package", f"https://conda.anaconda.org/t/{PASSWORD}/private::privpkg"),
    ("add_pip_package", f"privpkg @ https://acct.blob.core.windows.net/w/privpkg-1.0-py3-none-any.whl?sv=2022-11-02&sig={PASSWORD}"),
])
def test_a_url_with_credentials_is_refused_when_set_without_echoing_it(env, call, value):
    deps = env.python.conda_dependencies
    with pytest.raises(ValueError) as caught:
        getattr(deps, call)(value)
    assert "credentials" in str(caught.value) and PASSWORD not in str(caught.value)
    assert PASSWORD not in repr(env)


def test_a_conda_file_with_a_credential_url_is_refused_without_echoing_it(tmp_path):
    from envc import CondaDependencies
    from envc.common.diagnostics import SpecError

    option = f"--extra-index-url https://bob:{PASSWORD}@pypi.example/simple"
    (tmp_path / "conda.yml").write_text(f"dependencies:\n- pip:\n  - {option}\n")
    with pytest.raises(SpecError) as caught:
        CondaDependencies(str(tmp_path / "conda.yml"))
    assert "credentials" in str(caught.value) and PASSWORD not in str(caught.value)


@pytest.mark.parametrize("given", ["username", "password"])
def test_one_registry_credential_alone_is_refused_where_it_would_be_written_or_used(env, given, tmp_path):
    registry = env.docker.base_image_registry
    setattr(registry, "password" if given == "username" else "username", None)
    for attempt in (lambda: env.save_to_directory("saved"), env.build_local, env.register, env.get_image_details):
        with pytest.raises(ValueError) as caught:
            attempt()
        assert "set both username and password" in str(caught.value)
        assert USERNAME not in str(caught.value) and PASSWORD not in str(caught.value)
    assert not (tmp_path / "saved").exists() or not any((tmp_path / "saved").iterdir())
    saved = json.loads(repr(env))["docker"]["baseImageRegistry"]
    assert (saved["username"] is not None, saved["password"] is not None) == (given == "username", given == "password")
