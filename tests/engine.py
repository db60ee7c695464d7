"""Real container engine (buildah) for end-to-end tests. Stdlib only.

Why this shape:
- No registry is reachable, so every build is ``--pull=never`` FROM a base image we make
  offline (``scripts/make-test-base-image.sh``: debootstrap + ``buildah from scratch``).
- Builds use ``--isolation chroot``: no cgroups, no network namespace, no user namespaces, so
  it works as root in a container-ish CI box (cgroup v1, no CAP_SYS_RESOURCE), and RUN steps
  share the host network (pip reaches PyPI). Running images uses podman: see ``run``.
- buildah 1.28 (Debian 12) supports ``RUN --mount=type=secret|cache|bind``, ``--secret
  id=X,src=FILE`` (and ``env=VAR``) and ``COPY --chmod``; NOT heredocs (``RUN <<EOT``) nor
  ``COPY --link``.
- Config files live under a directory we own and are selected with ``CONTAINERS_*_CONF`` env
  vars, so the host's /etc/containers and /var/lib/containers are never touched.
- The storage (graphroot) is persistent under ``$ENVC_E2E_CACHE/storage`` (default
  ``~/.cache/envc-e2e``) so the base image and cached layers survive across test runs.

Command line (used by the shell script so there is one source of truth for the config)::

    python3 tests/engine.py env DIR    # write config under DIR, print `export K=V` lines
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

BASE_TAG = "localhost/envc-test-base:bookworm"
HOST_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
REPO_ROOT = Path(__file__).resolve().parent.parent
BASE_SCRIPT = REPO_ROOT / "scripts" / "make-test-base-image.sh"

# nofile must not exceed the hard limit we already have: CI runs without CAP_SYS_RESOURCE,
# and buildah's chroot isolation otherwise tries to raise RLIMIT_NOFILE/NPROC to 1048576
# and fails with "operation not permitted".
DEFAULT_ULIMITS = ("nofile=20000:20000", "nproc=32768:32768")


def cache_dir() -> Path:
    """Persistent cache shared by tests, the base-image script and CI steps."""
    env = os.environ.get("ENVC_E2E_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "envc-e2e"


def _toml_list(items: Sequence[str]) -> str:
    return "[" + ", ".join(json.dumps(i) for i in items) + "]"


def engine_config(root: Path) -> dict[str, str]:
    """Write storage/containers/registries config under ``root``; return the env vars to use.

    Only the variables are returned (merge them over ``os.environ`` yourself, or pass them to
    the helpers below, which do). Storage is the persistent cache so layers are reused;
    runroot sits beside it because a runroot must always be paired with the same graphroot.
    """
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    cache = cache_dir()
    graphroot = cache / "storage"
    runroot = cache / "runroot"
    for d in (graphroot, runroot, cache / "libpod-tmp"):
        d.mkdir(parents=True, exist_ok=True)

    storage_conf = root / "storage.conf"
    storage_conf.write_text(
        "[storage]\n"
        'driver = "overlay"\n'
        f"graphroot = {json.dumps(str(graphroot))}\n"
        f"runroot = {json.dumps(str(runroot))}\n"
    )
    containers_conf = root / "containers.conf"
    containers_conf.write_text(
        "[containers]\n"
        f"default_ulimits = {_toml_list(DEFAULT_ULIMITS)}\n"
        "[engine]\n"
        'runtime = "runc"\n'
        'cgroup_manager = "cgroupfs"\n'
        # no journald in CI containers
        'events_logger = "file"\n'
        f'tmp_dir = {json.dumps(str(cache / "libpod-tmp"))}\n'
    )
    # No search registries: a short name must never turn into a (failing) network pull.
    registries_conf = root / "registries.conf"
    registries_conf.write_text("unqualified-search-registries = []\n")
    return {
        "CONTAINERS_STORAGE_CONF": str(storage_conf),
        "CONTAINERS_CONF": str(containers_conf),
        "CONTAINERS_REGISTRIES_CONF": str(registries_conf),
        # default for every buildah command (run, from, the base-image script), not only bud
        "BUILDAH_ISOLATION": "chroot",
    }


def _env(env: Mapping[str, str] | None) -> dict[str, str]:
    return {**os.environ, **(env or {})}


def buildah_available() -> str | None:
    """None when buildah can build here; otherwise the reason (for ``pytest.skip``)."""
    for tool in ("buildah", "runc", "podman"):
        if shutil.which(tool) is None:
            return f"{tool} not installed (run scripts/ci-install-engine.sh)"
    if not Path("/etc/containers/policy.json").exists():
        return "/etc/containers/policy.json missing (containers-common not installed)"
    try:
        proc = subprocess.run(
            ["buildah", "--version"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"buildah --version failed: {exc}"
    if proc.returncode != 0:
        return f"buildah --version failed: {proc.stderr.strip()}"
    return None


def _engine(argv: Sequence[str], env, check: bool = False, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        list(argv), env=_env(env), capture_output=True, text=True, check=check, **kw
    )


def build(
    dockerfile: Path,
    context: Path,
    tag: str,
    env: Mapping[str, str] | None,
    extra_args: Sequence[str] = (),
) -> subprocess.CompletedProcess:
    """``buildah bud`` offline, with layer caching, returning the finished process.

    The host CA bundle is bind-mounted into RUN steps only (never into the image) so pip
    trusts a TLS-intercepting proxy. ``extra_args`` go before the context, e.g.
    ``["--secret", "id=tok,src=/path"]`` or ``["--build-arg", "X=1"]``. Not checked: callers
    assert on ``returncode`` and show ``stderr``.
    """
    argv = [
        "buildah", "bud",
        "--isolation", "chroot",
        "--layers",
        "--pull=never",
        "--force-rm",  # a failed build otherwise leaves its working container behind
        "-f", str(dockerfile),
        "-t", tag,
    ]
    if Path(HOST_CA_BUNDLE).exists():
        argv += ["-v", f"{HOST_CA_BUNDLE}:{HOST_CA_BUNDLE}:ro"]
    argv += [*extra_args, str(context)]
    return _engine(argv, env)


def run(
    tag: str,
    argv: Sequence[str],
    env: Mapping[str, str] | None,
    extra_args: Sequence[str] = (),
    timeout: float = 300,
) -> subprocess.CompletedProcess:
    """``podman run --rm`` of ``tag``; stdout is the command's stdout. Not checked.

    Why podman and not ``buildah from/run/rm``: it has ``docker run`` semantics (ENTRYPOINT
    then ``argv`` as CMD, USER, WORKDIR, Env), which is what envc's images promise their users;
    ``buildah run`` ignores ENTRYPOINT. Both work here as root (runc, cgroupfs on cgroup v1),
    and both take ~0.2 s. ``--network=none`` keeps it off CNI/iptables; the ulimits in
    containers.conf are required, without them runc fails with "error setting rlimit type 7:
    operation not permitted". ``extra_args`` go before the image, e.g.
    ``["--entrypoint", ""]`` to bypass the entrypoint or ``["-e", "K=V"]``.
    """
    cmd = ["podman", "run", "--rm", "--pull=never", "--network=none", *extra_args, tag, *argv]
    return _engine(cmd, env, timeout=timeout)


def image_exists(tag: str, env: Mapping[str, str] | None) -> bool:
    """True when ``tag`` is in our storage (never consults a registry)."""
    return _engine(["buildah", "inspect", "--type", "image", tag], env).returncode == 0


def inspect(tag: str, env: Mapping[str, str] | None) -> dict:
    """``buildah inspect`` of an image.

    Useful keys: ``["OCIv1"]["config"]["Env"|"Labels"|"Entrypoint"|"Cmd"|"WorkingDir"|"User"]``
    and ``["OCIv1"]["history"]`` (one entry per Dockerfile instruction, ``created_by``).
    """
    proc = _engine(["buildah", "inspect", "--type", "image", tag], env, check=True)
    return json.loads(proc.stdout)


def base_image(env: Mapping[str, str] | None) -> str:
    """Make sure the offline base image exists (idempotent, seconds when cached); return its tag."""
    if not image_exists(BASE_TAG, env):
        subprocess.run(["bash", str(BASE_SCRIPT)], env=_env(env), check=True)
    return BASE_TAG


def machine_config(root: Path, base_from: Mapping[str, str] | None = None) -> dict[str, str]:
    """The engine config of another "machine": its own storage, run root and temporary folder
    (buildah keeps RUN --mount=type=cache folders under $TMPDIR), all under ``root``, with the
    offline base image copied in from ``base_from``'s storage (default: the shared test storage).

    The copy keeps the image ID, as a base pulled by digest would on a real second machine. Only the
    variables are returned, like ``engine_config``.
    """
    root = Path(root)
    for d in ("storage", "runroot", "tmp", "libpod-tmp"):
        (root / d).mkdir(parents=True, exist_ok=True)
    env = engine_config(root / "conf")
    (root / "conf" / "storage.conf").write_text(
        "[storage]\n"
        'driver = "overlay"\n'
        f"graphroot = {json.dumps(str(root / 'storage'))}\n"
        f"runroot = {json.dumps(str(root / 'runroot'))}\n"
    )
    conf = root / "conf" / "containers.conf"
    conf.write_text(conf.read_text().replace(json.dumps(str(cache_dir() / "libpod-tmp")),
                                             json.dumps(str(root / "libpod-tmp"))))
    env["TMPDIR"] = str(root / "tmp")
    source = base_from if base_from is not None else engine_config(root / "shared-conf")
    base_image(source)
    target = f"containers-storage:[overlay@{root / 'storage'}+{root / 'runroot'}]{BASE_TAG}"
    _engine(["buildah", "push", "--quiet", BASE_TAG, target], source, check=True)
    return env


def _main(args: list[str]) -> int:
    if len(args) == 2 and args[0] == "env":
        for key, value in engine_config(Path(args[1])).items():
            print(f"export {key}={shlex.quote(value)}")
        return 0
    print("usage: engine.py env DIR", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
