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
