"""An OCI registry as the team's store of built environments (`envc build --registry HOST/NAMESPACE`).

The image for a spec is named by its content hash, so one build serves a whole team: before
building, envc asks the registry for the manifest (no pull); after building it pushes. The
registry is also the engines' remote layer cache. envc runs no server and speaks no registry
protocol itself: the engines (and skopeo, for buildah and podman) do, with their own login
state, TLS configuration (certs.d) and credential helpers.

Reference scheme: HOST[:PORT]/NAMESPACE/REPO:TAG, where REPO is the spec's name made a valid
OCI path component (see repository_name) and TAG the first 16 hex digits of the content hash,
the same tag `envc build` gives the local image. The layer cache is HOST[:PORT]/NAMESPACE/envc-cache.

Nothing here is imported on `envc compile`'s path.
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import tarfile

from envc.common.records import Record

REGISTRY_VARIABLE = "ENVC_IMAGE_REGISTRY"
CACHE_REPOSITORY = "envc-cache"
LABEL = "io.envc"  # label prefix: io.envc.spec.name, io.envc.spec.hash, io.envc.version, io.envc.registered, ...
SNAPSHOT_LIMIT = 96 * 1024  # base64 bytes: a label travels as one command-line argument (Linux caps one at 128 KiB)
MAX_NAME = 255  # distribution's limit on HOST/PATH
INFO_TIMEOUT, REQUEST_TIMEOUT, TRANSFER_TIMEOUT = 30, 120, 3600  # seconds: `docker info`; a manifest, config or login; push, pull
_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")
_HOST = re.compile(r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]{1,5})?"
                   r"|\[[0-9a-fA-F:.]+\](?::[0-9]{1,5})?")


class RegistryError(Exception):
    """The registry could not be used. kind: 'usage', 'unreachable', 'auth', 'tool', 'missing' or 'push'."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


class Target(Record):
    """Where the image for one spec content lives.

    registry: HOST[:PORT]/NAMESPACE as given. host: HOST[:PORT]. repository: HOST/NAMESPACE/REPO.
    tag: 16 hex digits of the content hash. reference: repository:tag. cache: the layer cache repository.
    """

    __slots__ = ("registry", "host", "repository", "tag", "reference", "cache")


class Found(Record):
    """An image the registry holds: its tag reference and manifest digest (sha256:...)."""

    __slots__ = ("reference", "digest")

    def pinned(self) -> str:
        return f"{self.reference}@{self.digest}"


def parse_registry(text: str) -> tuple:
    """HOST[:PORT]/NAMESPACE -> (host, namespace); RegistryError('usage') when it is not one."""
    value = text.strip().rstrip("/")
    for scheme in ("https://", "http://", "docker://"):
        if value.startswith(scheme):
            raise RegistryError("usage", f"--registry {text!r}: give HOST[:PORT]/NAMESPACE without {scheme}")
    host, _, namespace = value.partition("/")
    if not namespace or not _HOST.fullmatch(host) or not ("." in host or ":" in host or host == "localhost"):
        raise RegistryError("usage", f"--registry {text!r}: expected HOST[:PORT]/NAMESPACE, e.g. myacr.azurecr.io/envs, "
                                     "ghcr.io/my-org or 127.0.0.1:5000/team (the host needs a '.', a port or 'localhost')")
    for part in namespace.split("/"):
        if not _COMPONENT.fullmatch(part):
            raise RegistryError("usage", f"--registry {text!r}: namespace part {part!r} is not a valid repository name "
                                         "(lowercase letters and digits, separated by '.', '_', '__' or '-')")
    return host.lower(), namespace


def repository_name(name: str) -> str:
    """The spec's name as one valid OCI path component.

    Spec names are [a-z0-9][a-z0-9._-]*; a path component allows only '.', '_', '__' or runs of '-'
    between letters and digits. Any other run of separators becomes '-', and trailing separators are
    dropped: 'my..env_' -> 'my-env'. Two names may map to one repository; their tags still differ,
    because the content hash covers the name.
    """
    parts = re.findall(r"[a-z0-9]+|[._-]+", name.lower())
    out = []
    for part in parts:
        if part[0].isalnum():
            out.append(part)
        elif out:
            out.append(part if part in (".", "_", "__") or set(part) == {"-"} else "-")
    while out and not out[-1][0].isalnum():
        out.pop()
    return "".join(out) or "env"


def target(registry: str, name: str, spec_hash: str) -> Target:
    host, namespace = parse_registry(registry)
    prefix = f"{host}/{namespace}/"
    repo = repository_name(name)[: max(1, MAX_NAME - len(prefix))]
    repo = repository_name(repo)  # a cut may leave a trailing separator
    tag = spec_hash[:16]
    return Target(registry=f"{host}/{namespace}", host=host, repository=prefix + repo, tag=tag,
                  reference=f"{prefix}{repo}:{tag}", cache=prefix + CACHE_REPOSITORY)


def labels(name: str, spec_hash: str, version: str, registered, snapshot) -> dict:
    """The labels every image envc builds carries, so an image says what it was built from."""
    found = {f"{LABEL}.spec.name": name, f"{LABEL}.spec.hash": f"sha256:{spec_hash}", f"{LABEL}.version": version}
    if registered:
        found[f"{LABEL}.registered"] = registered
    if snapshot:
        spec_path, data = snapshot
        found[f"{LABEL}.spec.path"] = spec_path
        found[f"{LABEL}.snapshot"] = data
    return found


def registered_version(name: str, spec_hash: str):
    """NAME:VERSION of the local registry's version holding exactly this content, or None."""
    from envc.services import registry

    for version in reversed(registry.versions(name)):
        try:
            if registry.record(name, version).get("spec_hash") == spec_hash:
                return f"{name}:{version}"
        except (OSError, ValueError):
            continue
    return None


def snapshot(inputs, source: str, spec_text: str) -> tuple:
    """(path of the spec in the snapshot, base64 of a gzipped tar) of the spec and the whole files envc reads
    for it (see _read_by_envc), at their places relative to it, as `envc register` keeps them. Only the spec
    itself when the files would not fit a label; None when not even the spec does."""
    import posixpath

    spec_path = posixpath.normpath(f"{inputs.anchor}/envc.yml")
    folder = os.path.realpath(inputs.spec.root)
    kept = _read_by_envc(inputs)
    members = [(posixpath.normpath(f"{inputs.anchor}/{relative}"), os.path.join(folder, relative))
               for relative, _ in inputs.files if relative in kept]
    members = [m for m in members if m[0] != spec_path]
    for chosen in (members, []):
        encoded = _packed([(spec_path, spec_text.encode("utf-8"))] + _read(chosen))
        if len(encoded) <= SNAPSHOT_LIMIT:
            return spec_path, encoded
    return None


def _read_by_envc(inputs) -> set:
    """The files (paths from the spec's folder) envc itself reads: the base Dockerfile, the conda file and
    lock, requirements files with what they include, init scripts. Not the base Dockerfile's COPY/ADD
    sources, --find-links folders or ignore files: what a build copies from the context may be a token
    for a builder stage only, and a label is readable by anyone who can pull the image."""
    spec = inputs.spec
    conda, init = spec.conda, spec.init
    refs = (spec.base.dockerfile, conda and conda.file, conda and conda.lock, init and init.setup, init and init.run)
    return {ref.relative for ref in refs if ref} | {relative for relative, _ in inputs.requirement_files}


def _read(members) -> list:
    """[(name in the tar, whole content)] of the (name, path) members that can be read."""
    entries = []
    for arcname, path in members:
        try:
            with open(path, "rb") as handle:
                entries.append((arcname, handle.read()))
        except OSError:
            continue
    return entries


def _packed(entries) -> str:
    """base64 of a gzipped tar of (name, content) entries, reproducible: sorted, no times, one mode."""
    import gzip

    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as zipped, tarfile.open(fileobj=zipped, mode="w") as tar:
        for arcname, data in sorted(entries):
            info = tarfile.TarInfo(arcname)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def spec_from_labels(found: dict):
    """The spec text an image's labels carry, or None when the image carries none."""
    data, path = found.get(f"{LABEL}.snapshot"), found.get(f"{LABEL}.spec.path")
    if not data or not path:
        return None
    import gzip

    try:
        with tarfile.open(fileobj=io.BytesIO(gzip.decompress(base64.b64decode(data))), mode="r") as tar:
            member = tar.extractfile(path)
            return member.read().decode("utf-8") if member else None
    except (OSError, ValueError, KeyError, tarfile.TarError, UnicodeDecodeError):
        return None


def _classify(text: str) -> str:
    """'missing', 'auth', 'tls' or 'unreachable' from an engine's or skopeo's error text."""
    lowered = text.lower()
    if any(s in lowered for s in ("x509:", "certificate signed by unknown authority", "tls: ", "certificate is not valid")):
        return "tls"
    if any(s in lowered for s in ("connection refused", "no such host", "i/o timeout", "no route to host", "network is unreachable",
                                  "server gave http response", "error pinging", "pinging container registry",
                                  "connection reset", "tls handshake timeout", ": eof", "dial tcp", "failed to configure transport")):
        return "unreachable"
    if any(s in lowered for s in ("unauthorized", "authentication required", "no basic auth credentials", "denied",
                                  "invalid username/password", "forbidden", "incorrect username or password")):
        return "auth"
    if any(s in lowered for s in ("manifest unknown", "no such manifest", "name unknown", "not found")):
        return "missing"
    return "unreachable"


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    line = lines[-1] if lines else "no output"
    match = re.search(r'msg="(.*)"', line)  # skopeo's logrus line
    return (match.group(1).replace('\\"', '"') if match else line)[:500]


def explain(kind: str, host: str, detail: str) -> RegistryError:
    if kind == "unreachable":
        return RegistryError("unreachable", f"registry {host} is unreachable: {detail} (check the address, or build without "
                                            f"the registry: --offline, or unset {REGISTRY_VARIABLE})")
    if kind == "tls":
        return RegistryError("unreachable", f"registry {host}: its TLS certificate is not trusted: {detail} (put the CA "
                                            f"that signed it in /etc/containers/certs.d/{host}/ca.crt, or "
                                            f"~/.config/containers/certs.d/{host}/ca.crt; Docker: /etc/docker/certs.d/{host}/ca.crt)")
    if kind == "auth":
        return RegistryError("auth", f"registry {host} refused the credentials: {detail} (log in with the engine's `login` "
                                     "command, or pass --registry-username and --registry-password references)")
    return RegistryError(kind, f"registry {host}: {detail}")


class Client:
    """The registry, as seen through one engine's tools: `docker` for Docker (its own login and
    insecure-registry settings), skopeo for buildah and podman (the same containers-image library,
    auth.json and certs.d as the engine)."""

    def __init__(self, engine: str, path: str, out=None):
        self.engine, self.path, self.out = engine, path, out
        self._insecure = None

    # -- the tools ----------------------------------------------------------------------------------
    def _run(self, argv, host=None, timeout=None, **kw) -> subprocess.CompletedProcess:
        """argv's result; with a timeout, RegistryError naming host and the command when it does not finish."""
        env = {**os.environ, "DOCKER_BUILDKIT": "1"} if self.engine == "docker" else None
        try:
            return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=timeout, **kw)
        except subprocess.TimeoutExpired:
            raise RegistryError("unreachable", f"registry {host}: `{os.path.basename(argv[0])} {argv[1]}` timed out after "
                                               f"{timeout:g} s (is the registry, or the engine, hanging? build without the "
                                               f"registry: --offline, or unset {REGISTRY_VARIABLE})") from None

    def _skopeo(self) -> str:
        path = shutil.which("skopeo")
        if path is None:
            raise RegistryError("tool", f"--registry with {self.engine} needs skopeo to ask the registry for a manifest "
                                        "without pulling (apt-get install skopeo, dnf install skopeo)")
        return path

    def insecure(self, host: str) -> bool:
        """Whether the Docker daemon talks plain HTTP to host (its insecure registries, 127.0.0.0/8 by default)."""
        if self._insecure is None:
            result = self._run([self.path, "info", "--format", "{{json .RegistryConfig}}"], host, INFO_TIMEOUT)
            try:
                self._insecure = json.loads(result.stdout) if result.returncode == 0 else {}
            except ValueError:
                self._insecure = {}
        config = self._insecure or {}
        index = (config.get("IndexConfigs") or {}).get(host)
        if index is not None:
            return not index.get("Secure", True)
        import ipaddress

        name = host.rsplit(":", 1)[0].strip("[]") if host.count(":") == 1 or host.startswith("[") else host
        if name == "localhost":
            return True
        try:
            address = ipaddress.ip_address(name)
        except ValueError:
            return False
        return any(address in ipaddress.ip_network(cidr, strict=False) for cidr in config.get("InsecureRegistryCIDRs") or ())

    # -- what envc asks ------------------------------------------------------------------------------
    def lookup(self, target: Target):
        """Found when the registry has target's manifest, None when it has not; RegistryError otherwise.
        A manifest request only: nothing is pulled."""
        if self.engine == "docker":
            argv = [self.path, "manifest", "inspect", "-v", *(["--insecure"] if self.insecure(target.host) else []),
                    target.reference]
        else:
            argv = [self._skopeo(), "inspect", "--raw", f"docker://{target.reference}"]
        result = self._run(argv, target.host, REQUEST_TIMEOUT)
        if result.returncode != 0:
            kind = _classify(result.stderr + result.stdout)
            if kind == "missing":
                return None
            raise explain(kind, target.host, _last_line(result.stderr or result.stdout))
        if self.engine == "docker":
            described = json.loads(result.stdout)
            if isinstance(described, list):  # a manifest list: its own digest is not shown; take the first entry's
                described = described[0]
            return Found(reference=target.reference, digest=described["Descriptor"]["digest"])
        return Found(reference=target.reference, digest="sha256:" + hashlib.sha256(result.stdout.encode("utf-8")).hexdigest())

    def login(self, host: str, username: str, password: str) -> None:
        """The engine's own login (its auth file or Docker config), the password on stdin only."""
        result = self._run([self.path, "login", "--username", username, "--password-stdin", host], host, REQUEST_TIMEOUT,
                           input=password)
        if result.returncode != 0:
            kind = _classify(result.stderr)
            raise explain("auth" if kind in ("auth", "missing") else kind, host,
                          f"{self.engine} login failed (exit {result.returncode})")

    def tag(self, image: str, reference: str) -> None:
        result = self._run([self.path, "tag", image, reference])
        if result.returncode != 0:
            raise RegistryError("push", f"{self.engine} tag {reference} failed: {_last_line(result.stderr)}")

    def push(self, image: str, reference: str, host: str) -> str:
        """Push a local image to reference; its manifest digest. The engine's progress goes to self.out.
        Layers go first and the manifest last, so the tag never names a half-pushed image."""
        if self.engine == "docker":
            self.tag(image, reference)
            result = self._run([self.path, "push", reference], host, TRANSFER_TIMEOUT)
            self._echo(result.stdout + result.stderr)
            found = re.findall(r"digest: (sha256:[0-9a-f]{64})", result.stdout)
            if result.returncode == 0 and found:
                return found[-1]
        else:
            import tempfile

            with tempfile.TemporaryDirectory(prefix="envc-push-") as folder:
                digestfile = os.path.join(folder, "digest")
                argv = [self.path, "push", "--digestfile", digestfile, image, f"docker://{reference}"]
                result = self._run(argv, host, TRANSFER_TIMEOUT)
                self._echo(result.stdout + result.stderr)
                if result.returncode == 0 and os.path.exists(digestfile):
                    with open(digestfile, encoding="utf-8") as handle:
                        return handle.read().strip()
        kind = _classify(result.stderr)
        raise explain("auth" if kind == "auth" else "push", host, _last_line(result.stderr or result.stdout))

    def pull(self, reference: str, host: str) -> None:
        result = self._run([self.path, "pull", reference], host, TRANSFER_TIMEOUT)
        self._echo(result.stderr)
        if result.returncode != 0:
            raise explain(_classify(result.stderr), host, _last_line(result.stderr))

    def local_labels(self, image: str):
        """The labels of a local image, or None when the engine has no such image."""
        if self.engine == "buildah":
            argv = [self.path, "inspect", "--type", "image", image]
        else:
            argv = [self.path, "image", "inspect", image]
        result = self._run(argv)
        if result.returncode != 0:
            return None
        try:
            data = json.loads(result.stdout)
            if self.engine == "buildah":
                return (data.get("OCIv1", {}).get("config") or {}).get("Labels") or {}
            data = data[0] if isinstance(data, list) and data else {}
            return (data.get("Labels") if self.engine == "podman" else (data.get("Config") or {}).get("Labels")) or {}
        except (ValueError, AttributeError):
            return {}

    def remote_labels(self, reference: str, host: str) -> dict:
        """The labels of an image in the registry: its config only (skopeo), or pulled (Docker without skopeo)."""
        local = self.local_labels(reference)
        if local is not None:
            return local
        skopeo = shutil.which("skopeo")
        if skopeo is not None and not (self.engine == "docker" and self.insecure(host)):
            result = self._run([skopeo, "inspect", "--config", f"docker://{reference}"], host, REQUEST_TIMEOUT)
            if result.returncode == 0:
                return (json.loads(result.stdout).get("config") or {}).get("Labels") or {}
            if self.engine != "docker":
                raise explain(_classify(result.stderr), host, _last_line(result.stderr))
        self.pull(reference, host)
        return self.local_labels(reference) or {}

    def _echo(self, text: str) -> None:
        if self.out is not None and text.strip():
            print(text.rstrip("\n"), file=self.out)


def cache_tag(name: str) -> str:
    """Docker's inline-cache image for a spec name in the cache repository: a valid tag made from the name."""
    return repository_name(name)[:128].rstrip("._-") or "env"
