"""One build per team with buildah: `envc build --registry` against a real registry (Debian's
docker-registry, CNCF distribution 2.8) on 127.0.0.1 with TLS (a CA made here) and htpasswd auth.

Each "machine" is its own buildah storage, run root and $TMPDIR (RUN cache mounts), its own
$HOME (the CA in ~/.config/containers/certs.d/HOST:PORT/, where buildah, podman and skopeo look)
and its own auth file (REGISTRY_AUTH_FILE). The machine's global configuration is never touched.
"""
import os
import re
import subprocess
import time
from pathlib import Path

import pytest
import yaml

import engine
import registry_server
from test_build import CA_MOUNT, envc

USER, PASSWORD = "alice", "registry-pw-5c1d9e"
BUILD = ["--engine", "buildah", "--engine-arg=--pull=never", *CA_MOUNT, "--verbose"]  # the engine's output: what ran, what was cached
LOGIN = ["--registry-username", "env:ENVC_TEST_REGISTRY_USER", "--registry-password", "env:ENVC_TEST_REGISTRY_PASSWORD"]
CREDENTIALS = {"ENVC_TEST_REGISTRY_USER": USER, "ENVC_TEST_REGISTRY_PASSWORD": PASSWORD}


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="module")
def tools():
    missing = registry_server.missing_tools()
    if missing:
        if _in_ci():
            pytest.fail(f"CI is set but the registry tests cannot run: {missing}", pytrace=False)
        pytest.skip(f"registry tests need {missing} (with CI=true this fails instead)")


@pytest.fixture(scope="module")
def registry(tools, tmp_path_factory):
    with registry_server.Registry(tmp_path_factory.mktemp("registry"), tls=True, users={USER: PASSWORD}) as running:
        yield running


def machine(root: Path, registry, engine_env) -> dict:
    """A fresh machine: its own storage (the base image copied in), TMPDIR, HOME with the test CA, auth file."""
    env = engine.machine_config(root / "engine", base_from=engine_env)
    certs = root / "home" / ".config" / "containers" / "certs.d" / registry.address
    certs.mkdir(parents=True)
    (certs / "ca.crt").write_bytes((registry.cert_dir / "ca.crt").read_bytes())
    return {**env, "HOME": str(root / "home"), "REGISTRY_AUTH_FILE": str(root / "auth.json"), "ENVC_IMAGE_REGISTRY": ""}


def write_spec(folder: Path, packages) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    spec = folder / "envc.yml"
    spec.write_text(f"# the team's environment\nname: team-env\nbase: {{image: {engine.BASE_TAG}}}\n"
                    + yaml.safe_dump({"pip": {"packages": packages}}))
    return spec


def steps_that_ran(stderr: str) -> list:
    """buildah's steps that were not cache hits (FROM and envc's closing LABEL left out)."""
    ran = []
    for block in re.split(r"^STEP \d+/\d+: ", stderr, flags=re.M)[1:]:
        first = block.split("\n", 1)[0]
        if not first.startswith(("FROM", "LABEL io.envc")) and "--> Using cache" not in block:
            ran.append(first)
    return ran


def skopeo(args, env):
    return subprocess.run(["skopeo", *args], capture_output=True, text=True, env={**os.environ, **env}, timeout=300)


def test_one_build_serves_the_team(registry, engine_env, tmp_path):
    namespace = f"{registry.address}/team"
    spec = write_spec(tmp_path / "spec", ["six==1.16.0"])
    a = machine(tmp_path / "a", registry, engine_env)
    first = envc(["build", spec, "--registry", namespace, *LOGIN, *BUILD], {**a, **CREDENTIALS})
    assert first.returncode == 0, first.stderr[-3000:]
    spec_hash = envc(["hash", spec]).stdout.strip()
    reference = f"{namespace}/team-env:{spec_hash[:16]}"
    assert re.fullmatch(re.escape(reference) + r"@sha256:[0-9a-f]{64}\n", first.stdout), first.stdout  # stdout: only that
    assert PASSWORD not in first.stdout + first.stderr
    assert "envc-cache" in first.stderr  # the layer cache was filled
    # the tag names the complete image, with its labels (the config only: nothing pulled)
    config = skopeo(["inspect", "--config", f"docker://{reference}"], a)
    assert config.returncode == 0, config.stderr
    labels = yaml.safe_load(config.stdout)["config"]["Labels"]
    assert labels["io.envc.spec.name"] == "team-env" and labels["io.envc.spec.hash"] == f"sha256:{spec_hash}"
    assert labels["io.envc.version"]
    digest = skopeo(["inspect", "--format", "{{.Digest}}", f"docker://{reference}"], a).stdout.strip()
    assert first.stdout.strip().endswith(digest)

    # machine B, fresh, logged in with the engine's own login: the registry has it, nothing is built
    b = machine(tmp_path / "b", registry, engine_env)
    login = subprocess.run(["buildah", "login", "--username", USER, "--password-stdin", registry.address], input=PASSWORD,
                           capture_output=True, text=True, env={**os.environ, **b})
    assert login.returncode == 0, login.stderr
    started = time.monotonic()
    again = envc(["build", spec, "--registry", namespace, *BUILD], b)
    assert again.returncode == 0, again.stderr
    assert again.stdout == first.stdout and "already built" in again.stderr and "STEP" not in again.stderr
    assert time.monotonic() - started < 20
    assert not engine.image_exists(reference, b)  # a manifest lookup, no pull
    shown = envc(["show", reference, "--engine", "buildah"], b)
    assert shown.returncode == 0 and shown.stdout == spec.read_text(), shown.stderr
    pulled = envc(["build", spec, "--registry", namespace, "--pull", *BUILD], b)
    assert pulled.returncode == 0 and pulled.stdout == first.stdout, pulled.stderr
    ran = engine.run(f"envc/team-env:{spec_hash[:16]}", ["python", "-c", "import six; print(six.__version__)"], b)
    assert ran.stdout.strip() == "1.16.0", ran.stderr

    # B adds one package: only the pip layer runs, the layers before it come from the registry's cache
    changed = write_spec(tmp_path / "spec", ["six==1.16.0", "idna==3.10"])
    c = machine(tmp_path / "c", registry, engine_env)  # a fresh store, logged in by reference
    grown = envc(["build", changed, "--registry", namespace, *LOGIN, *BUILD], {**c, **CREDENTIALS})
    assert grown.returncode == 0, grown.stderr[-3000:]
    ran = steps_that_ran(grown.stderr)
    assert len(ran) == 1 and ran[0].startswith("RUN --mount=type=cache,target=/root/.cache/uv"), ran
    assert grown.stderr.count("Cache pulled from remote") >= 2  # the venv and the tool layer
    assert re.fullmatch(rf"{re.escape(namespace)}/team-env:[0-9a-f]{{16}}@sha256:[0-9a-f]{{64}}\n", grown.stdout)
    assert len(registry.tags("team/team-env")) == 2


def test_failures_are_clear_and_leave_nothing_corrupt(registry, engine_env, tmp_path):
    namespace = f"{registry.address}/team"
    spec = write_spec(tmp_path / "spec", ["six==1.16.0"])
    a = machine(tmp_path / "a", registry, engine_env)
    # a wrong password: one clear error, before anything is built, and no retry storm
    before = registry.log.read_text().count('" 401 ')
    started = time.monotonic()
    wrong = envc(["build", spec, "--registry", namespace, *LOGIN, *BUILD],
                 {**a, **CREDENTIALS, "ENVC_TEST_REGISTRY_PASSWORD": "not-the-password"})
    assert wrong.returncode == 2 and "refused the credentials" in wrong.stderr and registry.address in wrong.stderr
    assert "not-the-password" not in wrong.stdout + wrong.stderr and "building" not in wrong.stderr
    assert time.monotonic() - started < 15 and registry.log.read_text().count('" 401 ') - before <= 4
    # not logged in at all: the same
    anonymous = envc(["build", spec, "--registry", namespace, *BUILD], a)
    assert anonymous.returncode == 2 and "refused the credentials" in anonymous.stderr

    # the registry down: an error naming the host, exit 2; --offline builds without it
    registry.stop()
    try:
        down = envc(["build", spec, "--registry", namespace, *BUILD], a)
        assert down.returncode == 2 and f"registry {registry.address} is unreachable" in down.stderr, down.stderr
        assert "building" not in down.stderr
        offline = envc(["build", spec, "--registry", namespace, "--offline", *BUILD], {**a, "ENVC_IMAGE_REGISTRY": namespace})
        assert offline.returncode == 0, offline.stderr[-3000:]
        tag = offline.stdout.strip()
        assert tag.startswith("envc/team-env:")
    finally:
        registry.start()

    # a registry that dies mid-push: the build stays tagged locally, and the next run pushes it
    other = registry_server.Registry(tmp_path / "other-registry", tls=True, users={USER: PASSWORD})
    certs = Path(a["HOME"]) / ".config" / "containers" / "certs.d" / other.address
    certs.mkdir(parents=True)
    (certs / "ca.crt").write_bytes((other.cert_dir / "ca.crt").read_bytes())
    elsewhere = f"{other.address}/team"
    with other:
        import threading

        killed = []
        watcher = threading.Thread(target=lambda: killed.append(other.kill_when(
            lambda log: "POST /v2/team/team-env/blobs/uploads/" in log, timeout=120)))
        watcher.start()
        cut = envc(["build", spec, "--registry", elsewhere, *LOGIN, *BUILD], {**a, **CREDENTIALS})
        watcher.join()
        assert killed == [True], cut.stderr[-2000:]
        assert cut.returncode == 1, cut.stderr[-2000:]
        assert f"tagged locally as {tag}" in cut.stderr and "run the same command again" in cut.stderr
        assert cut.stdout == ""
        assert other.tags("team/team-env") == []  # no half-pushed image under the tag
        assert engine.image_exists(tag, a)
        other.start()
        retried = envc(["build", spec, "--registry", elsewhere, *LOGIN, *BUILD], {**a, **CREDENTIALS})
        assert retried.returncode == 0, retried.stderr[-3000:]
        assert "not in the registry: pushing it" in retried.stderr and "STEP" not in retried.stderr
        reference = retried.stdout.strip()
        # complete and intact: every blob is fetched and checked against its digest
        name, digest = reference.split("@")  # skopeo 1.9 takes NAME@DIGEST, not NAME:TAG@DIGEST
        copied = skopeo(["copy", f"docker://{name.rsplit(':', 1)[0]}@{digest}", f"dir:{tmp_path / 'copy'}"], a)
        assert copied.returncode == 0, copied.stderr
