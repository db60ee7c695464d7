"""`envc build --engine docker` against a real dockerd (Debian's docker.io 20.10, BuildKit):
hash tags, the already-built check, --force, and a netrc build secret against a
password-protected local index that never reaches the image.

The daemon is a private one started by scripts/ci-install-docker.sh (socket, data and client
under ~/.cache/envc-docker); see that script for why its client is docker.io's and how RUN
steps trust the host's TLS-intercepting proxy without the CA entering any image.
"""
import os
import subprocess
import sys
from pathlib import Path

import pytest

import engine
from test_build import SECRET, envc, private_index, write  # noqa: F401  (the fixture, reused)

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "ci-install-docker.sh"
# RUN steps must reach the index on the host's 127.0.0.1 (and PyPI through the host's proxy).
BUILD_ARGS = ["--engine", "docker", "--engine-arg=--network=host"]


def docker_cache() -> Path:
    env = os.environ.get("ENVC_DOCKER_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "envc-docker"


def _in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def docker_env():
    """Env vars (DOCKER_HOST, PATH) selecting the private dockerd, with the base image loaded.

    The script is idempotent (a tenth of a second when warm) and only installs packages when
    docker.io is missing; without docker.io the tests are skipped, except with CI=true, where
    .ci/run has run the script and anything short of a working daemon fails.
    """
    missing = None
    if not (Path("/usr/sbin/dockerd").exists() and Path("/usr/bin/docker").exists()) and not _in_ci():
        missing = "docker.io is not installed (run scripts/ci-install-docker.sh)"
    else:
        proc = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, timeout=900)
        if proc.returncode != 0:
            missing = f"scripts/ci-install-docker.sh failed ({proc.returncode}): {proc.stderr.strip()[-1500:]}"
    if missing is not None:
        if _in_ci():
            pytest.fail(f"CI is set but Docker is unusable: {missing}", pytrace=False)
        pytest.skip(f"docker build tests need a Docker daemon: {missing} (with CI=true this fails instead)")
    cache = docker_cache()
    return {"DOCKER_HOST": f"unix://{cache / 'docker.sock'}", "PATH": f"{cache / 'bin'}{os.pathsep}{os.environ['PATH']}"}


def docker(args, env, **kw):
    return subprocess.run([str(docker_cache() / "bin" / "docker"), *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=600, **kw)


def run(tag, argv, env):
    """`docker run --rm` without network: the image's own ENTRYPOINT/USER/WORKDIR apply."""
    return docker(["run", "--rm", "--network=none", tag, *argv], env)


def test_build_tags_with_the_spec_hash_and_skips_when_already_built(docker_env, tmp_path):
    spec = write(tmp_path, {"name": "e2e-docker-build", "base": {"image": engine.BASE_TAG},
                            "env": {"NONCE": tmp_path.name}})
    first = envc(["build", spec, *BUILD_ARGS], docker_env)
    assert first.returncode == 0, first.stderr[-3000:]
    tag = first.stdout.strip()
    header = envc(["compile", spec]).stdout.splitlines()[0]
    assert tag.startswith("envc/e2e-docker-build:") and tag.split(":")[1] in header  # the tag is the spec's hash
    try:
        assert docker(["image", "inspect", tag], docker_env).returncode == 0
        assert run(tag, ["sh", "-c", "echo $NONCE"], docker_env).stdout.strip() == tmp_path.name
        second = envc(["build", spec, *BUILD_ARGS], docker_env)
        assert second.returncode == 0 and second.stdout.strip() == tag
        assert "already built" in second.stderr and "building" not in second.stderr
        forced = envc(["build", spec, "--force", *BUILD_ARGS], docker_env)
        assert forced.returncode == 0 and "building" in forced.stderr, forced.stderr[-3000:]
        assert forced.stdout.strip() == tag
    finally:
        docker(["rmi", tag], docker_env)


def _certs(bundle: str) -> set:
    """The base64 bodies of the PEM certificates in a bundle (comments and headers dropped)."""
    return {block.split("-----BEGIN CERTIFICATE-----", 1)[1].strip()
            for block in bundle.split("-----END CERTIFICATE-----") if "-----BEGIN CERTIFICATE-----" in block}


@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_netrc_secret_reaches_the_install_and_never_the_image(installer, docker_env, private_index, tmp_path):  # noqa: F811
    spec = write(tmp_path / "spec", {"name": f"e2e-docker-netrc-{installer}", "base": {"image": engine.BASE_TAG},
                                     "pip": {"installer": installer, "index_url": private_index, "netrc_secret": "idx",
                                             "packages": ["six==1.16.0"]}})
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine 127.0.0.1 login user password {SECRET}\n")
    tag = f"localhost/envc-e2e-docker-netrc-{installer}:{tmp_path.name[-12:].lower()}"
    try:
        missing = envc(["build", spec, "-t", tag, "--force", *BUILD_ARGS], docker_env)
        assert missing.returncode == 1, missing.stderr[-3000:]  # required=true: no silent unauthenticated install
        assert "secret idx not found" in missing.stderr
        built = envc(["build", spec, "-t", tag, "--secret", f"id=idx,src={netrc}", *BUILD_ARGS], docker_env)
        assert built.returncode == 0, built.stderr[-3000:]
        assert run(tag, ["python", "-c", "import six; print(six.__version__)"], docker_env).stdout.strip() == "1.16.0"
        history = docker(["history", "--no-trunc", tag], docker_env)
        inspected = docker(["image", "inspect", tag], docker_env)
        assert history.returncode == 0 and inspected.returncode == 0
        assert private_index in history.stdout, history.stdout  # the install's RUN line is recorded (mounts are not)...
        assert SECRET not in history.stdout + inspected.stdout  # ...but not the secret
        assert ".netrc" not in run(tag, ["ls", "-a", "/root"], docker_env).stdout
        leaked = run(tag, ["sh", "-c", f"grep -rl {SECRET} / --exclude-dir=proc --exclude-dir=sys 2>/dev/null; true"],
                     docker_env)
        assert leaked.returncode == 0 and leaked.stdout.strip() == ""
        # the host CA that RUN steps trusted (uv's own install reaches PyPI) was mounted, not copied
        base_bundle = run(engine.BASE_TAG, ["cat", engine.HOST_CA_BUNDLE], docker_env).stdout
        assert run(tag, ["cat", engine.HOST_CA_BUNDLE], docker_env).stdout == base_bundle
        host_only = _certs(Path(engine.HOST_CA_BUNDLE).read_text()) - _certs(base_bundle) \
            if Path(engine.HOST_CA_BUNDLE).exists() else set()
        if host_only:  # a full 64-character base64 line from the middle of each host-only certificate
            patterns = [arg for cert in host_only for arg in ("-e", cert.splitlines()[len(cert.splitlines()) // 2])]
            found = run(tag, ["grep", "-rlF", *patterns, "/", "--exclude-dir=proc", "--exclude-dir=sys"], docker_env)
            assert found.stdout.strip() == ""
    finally:
        docker(["rmi", tag], docker_env)


def test_registry_login_goes_through_docker_and_never_prints_the_password(docker_env, tmp_path):
    spec = write(tmp_path, {"name": "registry", "base": {"image": "private/base:1", "registry": {
        "address": "127.0.0.1:9", "username": {"env": "ENVC_TEST_USER"}, "password": {"secret": "regpass"}}}})
    (tmp_path / "pass").write_text(SECRET)
    result = envc(["build", spec, "--engine", "docker", "--secret", f"id=regpass,src={tmp_path / 'pass'}"],
                  {**docker_env, "ENVC_TEST_USER": "someone"})
    assert result.returncode == 2 and "docker login to 127.0.0.1:9 failed" in result.stderr  # nothing listens there
    assert SECRET not in result.stdout + result.stderr


def test_a_docker_without_buildkit_is_refused_clearly(docker_env, tmp_path):
    """Docker 23+ without the buildx plugin cannot build RUN --mount: envc says so before building."""
    modern = Path("/usr/local/bin/docker")  # this machine image's static docker 28 client, without buildx
    if not modern.exists() or subprocess.run([str(modern), "buildx", "version"], capture_output=True).returncode == 0:
        pytest.skip("needs a docker 23+ client without buildx (this machine image ships one at /usr/local/bin/docker)")
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "docker").symlink_to(modern)
    spec = tmp_path / "envc.yml"
    spec.write_text("name: no-buildkit\n")
    env = {**os.environ, **docker_env, "PATH": f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run([sys.executable, "-m", "envc", "build", str(spec), "--engine", "docker"],
                            capture_output=True, text=True, env=env)
    assert result.returncode == 2
    assert "--engine docker: docker has no BuildKit (docker 23+ needs the buildx plugin)" in result.stderr
