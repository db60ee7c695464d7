"""One build per team with Docker (BuildKit, dockerd 20.10): `envc build --registry` against a real
registry (Debian's docker-registry) on 127.0.0.1 with htpasswd auth over plain HTTP, which Docker
allows for 127.0.0.0/8 (TLS with auth is tested through buildah, tests/test_team_buildah.py).

Two machines are two BuildKit cache states of the private daemon: machine B starts after A's
images are removed and the build cache is pruned (`docker builder prune -af`), keeping only the
base image, as a fresh machine with the same base would. Each machine has its own Docker client
config (DOCKER_CONFIG: its login).
"""
import re
import threading

import pytest

import engine
import registry_server
from test_build import envc
from test_build_docker import docker, docker_env  # noqa: F401  (the fixture, reused)

USER, PASSWORD = "bob", "docker-registry-pw-81fa"
BUILD = ["--engine", "docker", "--engine-arg=--network=host", "--verbose"]  # the engine's output: what ran, what was cached
LOGIN = ["--registry-username", "env:ENVC_TEST_REGISTRY_USER", "--registry-password", "env:ENVC_TEST_REGISTRY_PASSWORD"]
CREDENTIALS = {"ENVC_TEST_REGISTRY_USER": USER, "ENVC_TEST_REGISTRY_PASSWORD": PASSWORD, "ENVC_IMAGE_REGISTRY": ""}


@pytest.fixture(scope="module")
def registry(docker_env, tmp_path_factory):  # noqa: F811
    missing = registry_server.missing_tools()
    if missing:
        import os

        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail(f"CI is set but the registry tests cannot run: {missing}", pytrace=False)
        pytest.skip(f"registry tests need {missing} (with CI=true this fails instead)")
    with registry_server.Registry(tmp_path_factory.mktemp("docker-registry"), tls=False, users={USER: PASSWORD}) as running:
        yield running


def fresh_machine(env, root) -> dict:
    """Forget every envc image and all build cache (the base image stays); a new client config."""
    images = docker(["images", "--format", "{{.Repository}}:{{.Tag}}"], env).stdout.split()
    mine = [i for i in images if i.startswith(("envc/team-", "127.0.0.1:"))]
    if mine:
        docker(["rmi", "-f", *mine], env)
    pruned = docker(["builder", "prune", "-af"], env)
    assert pruned.returncode == 0, pruned.stderr
    root.mkdir(parents=True, exist_ok=True)
    return {**env, "DOCKER_CONFIG": str(root)}


def write_spec(folder, packages):
    folder.mkdir(parents=True, exist_ok=True)
    spec = folder / "envc.yml"
    spec.write_text(f"name: team-docker\nbase: {{image: {engine.BASE_TAG}}}\npip:\n  packages: [{', '.join(packages)}]\n")
    return spec


def steps_that_ran(log: str) -> list:
    """BuildKit's `#N [stage i/n] INSTRUCTION` steps without a `#N CACHED` line (FROM left out)."""
    steps = re.findall(r"^#(\d+) \[(?:[\w.-]+ )?\d+/\d+\] (.*)$", log, re.M)
    cached = set(re.findall(r"^#(\d+) CACHED$", log, re.M))
    return [step for number, step in steps if number not in cached and not step.startswith("FROM")]


def test_one_build_serves_the_team(docker_env, registry, tmp_path):  # noqa: F811
    namespace = f"{registry.address}/team"
    spec = write_spec(tmp_path / "spec", ["six==1.16.0"])
    a = fresh_machine(docker_env, tmp_path / "a")
    first = envc(["build", spec, "--registry", namespace, *LOGIN, *BUILD], {**a, **CREDENTIALS})
    assert first.returncode == 0, first.stderr[-3000:]
    spec_hash = envc(["hash", spec]).stdout.strip()
    reference = f"{namespace}/team-docker:{spec_hash[:16]}"
    assert re.fullmatch(re.escape(reference) + r"@sha256:[0-9a-f]{64}\n", first.stdout), first.stdout
    assert PASSWORD not in first.stdout + first.stderr
    assert registry.tags("team/team-docker") == [spec_hash[:16]] and registry.tags("team/envc-cache") == ["team-docker"]

    b = fresh_machine(docker_env, tmp_path / "b")
    login = docker(["login", "--username", USER, "--password-stdin", registry.address], b, input=PASSWORD)
    assert login.returncode == 0, login.stderr
    again = envc(["build", spec, "--registry", namespace, *BUILD], {**b, "ENVC_IMAGE_REGISTRY": ""})
    assert again.returncode == 0 and again.stdout == first.stdout, again.stderr
    assert "already built" in again.stderr and "#1 " not in again.stderr  # no build at all
    assert docker(["image", "inspect", reference], b).returncode != 0  # a manifest lookup, no pull
    pulled = envc(["build", spec, "--registry", namespace, "--pull", *BUILD], b)
    assert pulled.returncode == 0 and pulled.stdout == first.stdout, pulled.stderr
    ran = docker(["run", "--rm", "--network=none", reference, "python", "-c", "import six; print(six.__version__)"], b)
    assert ran.stdout.strip() == "1.16.0", ran.stderr
    shown = envc(["show", reference, "--engine", "docker"], b)
    assert shown.returncode == 0 and shown.stdout == spec.read_text(), shown.stderr

    # one more package on a fresh machine: only the pip step runs, the rest comes from the inline cache
    c = fresh_machine(docker_env, tmp_path / "c")
    changed = write_spec(tmp_path / "spec", ["six==1.16.0", "idna==3.10"])
    grown = envc(["build", changed, "--registry", namespace, *LOGIN, *BUILD], {**c, **CREDENTIALS})
    assert grown.returncode == 0, grown.stderr[-3000:]
    ran = steps_that_ran(grown.stderr)
    assert len(ran) == 1 and ran[0].startswith("RUN --mount=type=cache,target=/root/.cache/uv"), ran
    assert "importing cache manifest from" in grown.stderr
    assert len(registry.tags("team/team-docker")) == 2


def test_failures_are_clear_and_leave_nothing_corrupt(docker_env, registry, tmp_path):  # noqa: F811
    namespace = f"{registry.address}/team"
    spec = write_spec(tmp_path / "spec", ["six==1.16.0"])
    a = fresh_machine(docker_env, tmp_path / "a")
    wrong = envc(["build", spec, "--registry", namespace, *LOGIN, *BUILD],
                 {**a, **CREDENTIALS, "ENVC_TEST_REGISTRY_PASSWORD": "not-the-password"})
    assert wrong.returncode == 2 and "refused the credentials" in wrong.stderr and registry.address in wrong.stderr
    assert "not-the-password" not in wrong.stdout + wrong.stderr and "building" not in wrong.stderr

    registry.stop()
    try:
        down = envc(["build", spec, "--registry", namespace, *BUILD], {**a, "ENVC_IMAGE_REGISTRY": ""})
        assert down.returncode == 2 and f"registry {registry.address} is unreachable" in down.stderr, down.stderr
        offline = envc(["build", spec, "--offline", *BUILD], {**a, "ENVC_IMAGE_REGISTRY": namespace})
        assert offline.returncode == 0, offline.stderr[-3000:]
        tag = offline.stdout.strip()
    finally:
        registry.start()

    other = registry_server.Registry(tmp_path / "other-registry", tls=False, users={USER: PASSWORD})
    elsewhere = f"{other.address}/team"
    with other:
        killed = []
        watcher = threading.Thread(target=lambda: killed.append(other.kill_when(
            lambda log: "POST /v2/team/team-docker/blobs/uploads/" in log, timeout=120)))
        watcher.start()
        cut = envc(["build", spec, "--registry", elsewhere, *LOGIN, *BUILD], {**a, **CREDENTIALS})
        watcher.join()
        assert killed == [True] and cut.returncode == 1, cut.stderr[-2000:]
        assert f"tagged locally as {tag}" in cut.stderr and "run the same command again" in cut.stderr
        assert cut.stdout == "" and other.tags("team/team-docker") == []
        assert docker(["image", "inspect", tag], a).returncode == 0
        other.start()
        retried = envc(["build", spec, "--registry", elsewhere, *LOGIN, *BUILD], {**a, **CREDENTIALS})
        assert retried.returncode == 0, retried.stderr[-3000:]
        assert "not in the registry: pushing it" in retried.stderr and "#1 " not in retried.stderr
        reference = retried.stdout.strip()
        fresh = fresh_machine(docker_env, tmp_path / "fresh")
        assert docker(["login", "--username", USER, "--password-stdin", other.address], fresh, input=PASSWORD).returncode == 0
        pulled = docker(["pull", reference], fresh)  # every blob checked against its digest
        assert pulled.returncode == 0, pulled.stderr
