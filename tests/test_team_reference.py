"""The registry reference scheme and the command-line contract of `envc build --registry`, without an engine."""
import os
import re
import subprocess
import sys

import pytest
from hypothesis import given, strategies as st

from envc.services import oci_registry
from envc.services.oci_registry import RegistryError, parse_registry, repository_name, target

# distribution's reference grammar (reference/regexp.go): a name of path components, then a tag
COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|[-]*)[a-z0-9]+)*"
REFERENCE = re.compile(rf"(?P<name>[^/]+(?:/{COMPONENT})+):(?P<tag>[\w][\w.-]{{0,127}})")
SPEC_NAME = st.from_regex(r"[a-z0-9][a-z0-9._-]{0,300}", fullmatch=True)


@given(SPEC_NAME)
def test_every_spec_name_gives_a_valid_reference(name):
    place = target("myacr.azurecr.io/team/envs", name, "ab" * 32)
    match = REFERENCE.fullmatch(place.reference)
    assert match and len(match["name"]) <= 255, place.reference
    assert place.tag == "ab" * 8 and place.repository.startswith("myacr.azurecr.io/team/envs/")
    assert re.fullmatch(COMPONENT, repository_name(name))
    assert re.fullmatch(r"[\w][\w.-]{0,127}", oci_registry.cache_tag(name))


def test_names_that_are_already_valid_stay_as_they_are():
    for name in ("train-env", "a.b", "a_b", "a__b", "a---b", "x1"):
        assert repository_name(name) == name
    assert repository_name("my..env_") == "my-env"
    assert repository_name("a._-b") == "a-b"
    assert repository_name("a___b") == "a-b"


def test_the_scheme():
    place = target("127.0.0.1:5000/team", "train-env", "0123456789abcdef" * 4)
    assert place.reference == "127.0.0.1:5000/team/train-env:0123456789abcdef"
    assert place.cache == "127.0.0.1:5000/team/envc-cache"
    assert place.host == "127.0.0.1:5000"


@pytest.mark.parametrize("bad", ["myregistry", "team/envs", "https://ghcr.io/org", "ghcr.io", "ghcr.io/Org", "ghcr.io/a//b",
                                 "ghcr.io/-x"])
def test_a_registry_that_is_not_host_and_namespace_is_refused(bad):
    with pytest.raises(RegistryError) as info:
        parse_registry(bad)
    assert info.value.kind == "usage" and "HOST[:PORT]/NAMESPACE" in str(info.value) or "namespace part" in str(info.value)


def test_hosts_and_nested_namespaces():
    assert parse_registry("ghcr.io/my-org/envs") == ("ghcr.io", "my-org/envs")
    assert parse_registry("localhost/x") == ("localhost", "x")
    assert parse_registry("[::1]:5000/x") == ("[::1]:5000", "x")


def test_the_snapshot_label_reads_back(tmp_path):
    from envc.core.pipeline import check

    (tmp_path / "requirements.txt").write_text("six==1.16.0\n")
    spec = tmp_path / "envc.yml"
    spec.write_text("name: snap\npip:\n  requirements: [requirements.txt]\n")
    inputs = check(str(spec))
    found = oci_registry.labels("snap", inputs.spec_hash, "0", "snap:3", oci_registry.snapshot(inputs, str(spec), spec.read_text()))
    assert oci_registry.spec_from_labels(found) == spec.read_text()
    assert found["io.envc.registered"] == "snap:3" and found["io.envc.spec.hash"] == f"sha256:{inputs.spec_hash}"
    assert oci_registry.spec_from_labels({}) is None


def envc(args, env=None):
    return subprocess.run([sys.executable, "-m", "envc", *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, **(env or {})})


def test_cli_refuses_literal_credentials_without_echoing_them(tmp_path):
    spec = tmp_path / "envc.yml"
    spec.write_text("name: lit\n")
    result = envc(["build", spec, "--registry", "127.0.0.1:9/x", "--registry-username", "env:U",
                   "--registry-password", "hunter2-literal"])
    assert result.returncode == 2 and "takes a reference" in result.stderr
    assert "hunter2-literal" not in result.stdout + result.stderr


def test_cli_registry_options_need_a_registry(tmp_path):
    spec = tmp_path / "envc.yml"
    spec.write_text("name: lit\n")
    env = {"ENVC_IMAGE_REGISTRY": ""}
    assert "--pull needs a registry" in envc(["build", spec, "--pull"], env).stderr
    half = envc(["build", spec, "--registry", "127.0.0.1:9/x", "--registry-username", "env:U"], env)
    assert half.returncode == 2 and "together" in half.stderr
    bad = envc(["build", spec, "--registry", "nohost"], env)
    assert bad.returncode == 2 and "HOST[:PORT]/NAMESPACE" in bad.stderr


def test_show_of_an_unreachable_registry_names_the_host():
    result = envc(["show", "127.0.0.1:9/team/x:0123456789abcdef", "--engine", "buildah"])
    if "is not installed" in result.stderr:
        pytest.skip("buildah is not installed")
    assert result.returncode == 2 and "127.0.0.1:9" in result.stderr and "unreachable" in result.stderr


HANGING = "#!/bin/sh\nexec sleep 20\n"  # exec: the timeout's kill reaches the sleep itself


def fake_tools(folder, monkeypatch, **scripts):
    """Executables NAME=SCRIPT in folder, put first on PATH; short registry timeouts."""
    folder.mkdir()
    for name, script in scripts.items():
        (folder / name).write_text(script)
        (folder / name).chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    for name in ("INFO_TIMEOUT", "REQUEST_TIMEOUT", "TRANSFER_TIMEOUT"):
        monkeypatch.setattr(oci_registry, name, 0.3)


def test_a_hanging_registry_is_a_registry_error_naming_the_host_and_what_timed_out(tmp_path, monkeypatch):
    import time

    from envc.services.build import BuildError, build

    fake_tools(tmp_path / "bin", monkeypatch, buildah="#!/bin/sh\nexit 0\n", skopeo=HANGING)
    spec = tmp_path / "envc.yml"
    spec.write_text("name: hang\n")
    started = time.monotonic()
    with pytest.raises(BuildError) as info:
        build(str(spec), engine_name="buildah", registry="127.0.0.1:5999/team")
    assert "127.0.0.1:5999" in str(info.value) and "skopeo inspect" in str(info.value) and "timed out" in str(info.value)
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("call", ["login", "push", "pull", "insecure"])
def test_each_engine_call_that_may_hang_is_a_registry_error(tmp_path, monkeypatch, call):
    fake_tools(tmp_path / "bin", monkeypatch, docker=HANGING)
    client = oci_registry.Client("docker" if call == "insecure" else "buildah", str(tmp_path / "bin" / "docker"))
    calls = {"login": lambda: client.login("reg.example:5000", "someone", "hunter2-S3cret"),
             "push": lambda: client.push("envc/x:1", "reg.example:5000/team/x:1", "reg.example:5000"),
             "pull": lambda: client.pull("reg.example:5000/team/x:1", "reg.example:5000"),
             "insecure": lambda: client.insecure("reg.example:5000")}
    with pytest.raises(RegistryError) as info:
        calls[call]()
    message = str(info.value)
    assert "reg.example:5000" in message and "timed out" in message and "hunter2-S3cret" not in message


def snapshot_members(inputs, spec) -> dict:
    """{name: bytes} of the snapshot label's tar for inputs."""
    import base64
    import gzip
    import io
    import tarfile

    _, data = oci_registry.snapshot(inputs, str(spec), spec.read_text())
    with tarfile.open(fileobj=io.BytesIO(gzip.decompress(base64.b64decode(data)))) as tar:
        return {member.name: tar.extractfile(member).read() for member in tar.getmembers()}


def test_the_snapshot_keeps_what_envc_reads_and_never_what_a_builder_stage_copies(tmp_path):
    from envc.core.pipeline import check

    (tmp_path / "Dockerfile").write_text("FROM python:3.11-slim AS builder\nCOPY deploy-token.txt /tmp/token\nRUN cat /tmp/token\n"
                                         "FROM python:3.11-slim\nCOPY app/ /app/\n")
    (tmp_path / "deploy-token.txt").write_text("glpat-S3cretDeployToken\n")
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "main.py").write_text("print('hi')\n")
    (tmp_path / "environment.yml").write_text("name: x\ndependencies:\n- python=3.11\n- pip\n- pip:\n  - -r extra.txt\n")
    (tmp_path / "extra.txt").write_text("six==1.16.0\n")
    (tmp_path / "requirements.txt").write_text("-r base.txt\nrequests==2.32.3\n")
    (tmp_path / "base.txt").write_text("idna==3.7\n")
    (tmp_path / "setup.sh").write_text("#!/bin/sh\necho set up\n")
    spec = tmp_path / "envc.yml"
    spec.write_text("name: snap\nbase:\n  dockerfile: Dockerfile\nconda:\n  file: environment.yml\n"
                    "pip:\n  requirements: [requirements.txt]\ninit:\n  setup: setup.sh\n")
    inputs = check(str(spec))
    assert "deploy-token.txt" in dict(inputs.files)  # read for the content hash
    members = snapshot_members(inputs, spec)
    assert sorted(members) == ["Dockerfile", "base.txt", "envc.yml", "environment.yml", "extra.txt", "requirements.txt", "setup.sh"]
    assert not any(b"S3cretDeployToken" in data for data in members.values())


def test_the_snapshot_holds_whole_files_or_only_the_spec(tmp_path):
    import random

    from envc.core.pipeline import check

    spec = tmp_path / "envc.yml"
    spec.write_text("name: snap\npip:\n  requirements: [requirements.txt]\n")
    big = "".join(f"package-{i}==1.0.{i}\n" for i in range(9000)).encode()  # compresses well into a label
    assert len(big) > 2 * oci_registry.SNAPSHOT_LIMIT
    (tmp_path / "requirements.txt").write_bytes(big)
    assert snapshot_members(check(str(spec)), spec)["requirements.txt"] == big
    noise = random.Random(0)
    (tmp_path / "requirements.txt").write_text("".join(f"# {noise.getrandbits(256):064x}\n" for _ in range(3000)))
    assert sorted(snapshot_members(check(str(spec)), spec)) == ["envc.yml"]  # the files do not fit: the spec alone
