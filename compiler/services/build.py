"""`envc build`: compile a spec and build it with an installed engine (Docker, podman or buildah).

The image is tagged with the spec's content hash by default, so an unchanged spec is
"already materialized" (Azure ML's check) and not rebuilt. With a registry (--registry
HOST/NAMESPACE, or $ENVC_IMAGE_REGISTRY) that check is team-wide: the registry is asked first,
and what is built is pushed, with the registry as the engine's remote layer cache
(envc.services.oci_registry). Credentials travel only by reference: registry passwords go to
the engine's login on stdin, build secrets as `--secret id=...` arguments naming a file or
variable, never as values on a command line.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import namedtuple
from pathlib import Path

from envc.common.records import Record

ENGINES = ("docker", "podman", "buildah")
SECRET_FIELDS = ("id", "src", "source", "env", "type")  # what Docker's and buildah's --secret take


class BuildError(Exception):
    """envc could not start the build: no engine, a missing credential, bad arguments."""


class BuildFailed(BuildError):
    """The engine ran and the build failed (its output has already been streamed)."""


class PushFailed(BuildFailed):
    """The image was built (and is tagged locally) but pushing it to the registry failed."""


class Engine(namedtuple("Engine", "name path")):
    """An installed engine (docker, podman or buildah) and the executable that runs it."""

    __slots__ = ()

    def exists_command(self, tag: str) -> list:
        if self.name == "buildah":
            return [self.path, "inspect", "--type", "image", tag]
        if self.name == "podman":
            return [self.path, "image", "exists", tag]
        return [self.path, "image", "inspect", tag]

    def build_command(self, dockerfile: Path, context: str, tag: str, secrets, platform, extra, labels=None, cache=None) -> list:
        """labels: {key: value} for the image. cache: the remote cache (a repository for buildah and podman,
        which keep one image per step there; an image reference for Docker's inline cache), or None."""
        verb = ["bud"] if self.name == "buildah" else ["build"]
        layers = ["--layers"] if self.name != "docker" else ["--progress=plain"]  # plain: step lines envc can follow
        command = [self.path, *verb, *layers, "-f", str(dockerfile), "-t", tag]
        if platform:
            command += ["--platform", platform]
        for secret in secrets:
            command += ["--secret", secret]
        if self.name == "docker":  # BuildKit applies --label to the image config, with no step of its own
            for key, value in sorted((labels or {}).items()):
                command += ["--label", f"{key}={value}"]
        if cache and self.name == "docker":  # BuildKit's inline cache: the pushed image carries its cache metadata
            command += ["--build-arg", "BUILDKIT_INLINE_CACHE=1", "--cache-from", cache]
        elif cache:
            command += ["--cache-from", cache, "--cache-to", cache]
        return command + list(extra) + [str(context)]

    def login_command(self, address: str, username: str) -> list:
        return [self.path, "login", "--username", username, "--password-stdin", address]


def find_engine(choice: str | None) -> Engine:
    """The engine named by --engine, or the first usable of docker, podman, buildah."""
    for name in [choice] if choice else list(ENGINES):
        path = shutil.which(name)
        problem = "is not installed" if path is None else _docker_problem(path) if name == "docker" else None
        if problem is None:
            return Engine(name, path)
        if choice:
            raise BuildError(f"--engine {choice}: {choice} {problem}")
    raise BuildError("no container engine found: install Docker (with BuildKit), podman or buildah, or choose one with --engine")


def _docker_problem(path: str):
    """Why this docker cannot build envc's Dockerfiles (RUN --mount needs BuildKit), or None."""
    def ok(*args) -> str | None:
        try:
            result = subprocess.run([path, *args], capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return result.stdout.strip() if result.returncode == 0 else None

    if ok("info") is None:
        return "does not answer `docker info` (is its daemon running?)"
    if ok("buildx", "version") is not None:
        return None
    version = ok("version", "--format", "{{.Client.Version}}") or ""
    major = version.split(".")[0]
    if major.isdigit() and int(major) < 23:
        return None  # BuildKit is built into clients before 23
    return "has no BuildKit (docker 23+ needs the buildx plugin)"


def default_tag(name: str, spec_hash: str) -> str:
    """envc/NAME:HASH, so the tag says which spec content the image was built from."""
    return f"envc/{name}:{spec_hash[:16]}"


def image_exists(engine: Engine, tag: str) -> bool:
    return subprocess.run(engine.exists_command(tag), capture_output=True).returncode == 0


class CredentialReference(Record):
    """A credential given on the command line by reference: kind 'env' (a variable) or 'secret' (a --secret id)."""

    __slots__ = ("kind", "name")


def parse_credential(argument: str, what: str) -> CredentialReference:
    """`env:VAR` or `secret:ID`; anything else is refused without echoing it (it may be the credential itself)."""
    kind, _, name = argument.partition(":")
    if kind not in ("env", "secret") or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_.-]*", name):
        raise BuildError(f"{what} takes a reference, env:VARIABLE or secret:ID (with --secret id=ID,src=FILE), "
                         "never the value itself")
    return CredentialReference(kind=kind, name=name)


def resolve_credential(reference, secret_sources: dict) -> str:
    """The value behind a credential reference (an envc.core.spec.Credential): {env: NAME} or {secret: ID},
    ID given with --secret id=ID,src=FILE|env=VAR."""
    if reference.kind == "env":
        value = os.environ.get(reference.name)
        if value is None:
            raise BuildError(f"environment variable {reference.name} (a registry credential) is not set")
        return value
    source = secret_sources.get(reference.name)
    if source is None:
        raise BuildError(f"registry credential secret '{reference.name}' was not given: pass --secret id={reference.name},src=FILE")
    kind, where = source
    if kind == "env":
        if where not in os.environ:
            raise BuildError(f"environment variable {where} (secret '{reference.name}') is not set")
        return os.environ[where]
    try:
        return Path(where).read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise BuildError(f"cannot read secret '{reference.name}' from {where}: {exc.strerror}") from None


def parse_secret(argument: str) -> tuple:
    """`id=ID,src=FILE` or `id=ID,env=VAR` -> (id, (kind, where)); the engine gets the argument as is.
    A bad one is refused naming the wrong part, never echoing it (it may be the secret itself)."""
    fields = {}
    for number, part in enumerate(argument.split(","), 1):
        key, equals, value = part.partition("=")
        if not equals or key not in SECRET_FIELDS:
            raise _bad_secret(f"part {number} is not one of " + ", ".join(f"{k}=" for k in SECRET_FIELDS))
        if not value:
            raise _bad_secret(f"{key}= is empty")
        fields[key] = value
    sources = set(fields) & {"src", "source", "env"}
    if "id" not in fields:
        raise _bad_secret("no id=")
    if len(sources) != 1:
        raise _bad_secret("it needs exactly one of src= and env=")
    if fields.get("type", "file") not in ("file", "env"):
        raise _bad_secret("type= is neither file nor env")
    kind = "env" if "env" in fields or fields.get("type") == "env" else "src"  # type=env,src=VAR names a variable
    return fields["id"], (kind, fields[sources.pop()])


def _bad_secret(problem: str) -> BuildError:
    return BuildError(f"--secret: {problem}: expected id=ID,src=FILE or id=ID,env=VAR")


def build(spec, *, tag=None, engine_name=None, force=False, secrets=(), engine_args=(), out=sys.stderr,
          registry=None, pull=False, registry_credentials=None, verbose=False) -> tuple:
    """Compile and build spec; returns (reference, built: bool). Raises SpecError or BuildError.

    Without a registry the reference is the local tag. With registry (HOST[:PORT]/NAMESPACE) it is the
    pushed image, HOST/NAMESPACE/NAME:TAG@sha256:...: the registry is asked first (a manifest lookup,
    nothing pulled) and nothing is built when it has the image (pull=True also pulls it); otherwise the
    image is built with the registry as remote layer cache, and pushed. registry_credentials:
    (username, password) references (CredentialReference, or "env:VAR"/"secret:ID" strings) for the
    engine's login, or None to use the engine's current login.
    """
    from envc.core.pipeline import compile_spec

    compiled = compile_spec(spec)
    header = compiled.image.header
    tag = tag or default_tag(header.name, header.spec_hash)
    secret_sources = dict(parse_secret(s) for s in secrets)
    base_registry = compiled.inputs.spec.base.registry
    engine = find_engine(engine_name)
    if registry:
        return _build_with_registry(compiled, spec, tag, engine, force, secrets, secret_sources, engine_args, out,
                                    registry, pull, registry_credentials, verbose)
    if not force and image_exists(engine, tag):
        print(f"envc: {tag} is already built from this spec (sha256:{header.spec_hash[:16]}); --force rebuilds it", file=out)
        return tag, False
    if _logs_in(base_registry):
        _login(engine, base_registry, secret_sources)
    _run_build(engine, compiled, tag, secrets, engine_args, out, _labels(compiled, spec), None, verbose)
    return tag, True


def _labels(compiled, source) -> dict:
    """What every image envc builds says about itself: spec name, full content hash, envc version, the
    registered NAME:VERSION holding this content (if any), and the spec snapshot (see oci_registry)."""
    from envc.common.version import __version__
    from envc.formats.detect import input_kind
    from envc.formats.envc_spec import spec_text
    from envc.services import oci_registry

    inputs = compiled.inputs
    try:
        if input_kind(source) == "envc":
            with open(source, encoding="utf-8") as handle:
                text = handle.read()
        else:
            text = spec_text(inputs.spec.data, f"Built by envc {__version__} from {os.path.basename(os.path.normpath(source))}.")
    except (OSError, UnicodeDecodeError):
        text = spec_text(inputs.spec.data, f"Built by envc {__version__}.")
    return oci_registry.labels(inputs.spec.name, inputs.spec_hash, __version__,
                               oci_registry.registered_version(inputs.spec.name, inputs.spec_hash),
                               oci_registry.snapshot(inputs, source, text))


def _watch(command, env, compiled, out, verbose: bool) -> None:
    """Run the engine, reporting each part of the spec as it finishes; its output goes to a log file (and
    to out with verbose). A failure names the part of the spec the failing step was built from, and the log."""
    from envc.core.emit import EMITTERS
    from envc.services.progress import Progress, log_path, section_where, step_sections

    image = compiled.image
    path = log_path(image.header.name, image.header.spec_hash)
    with open(path, "w", encoding="utf-8", errors="replace") as log:
        progress = Progress(step_sections(image, lambda stage: EMITTERS[type(stage)](stage)), out, log, out if verbose else None)
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace")
        for line in process.stdout:
            progress.feed(line)
        code = process.wait()
        failed = progress.failed_section()
        progress.finish()
    if code != 0:
        tail = "" if verbose else "".join(_tail(path, 15))
        where = section_where(compiled.inputs.spec, failed) if failed else None
        step = f"the {failed} step, built from {where}," if failed else "the build"
        raise BuildFailed(f"{step} failed ({os.path.basename(command[0])} exit code {code}); the engine's output is in {path}"
                          + (f"; its end:\n{tail.rstrip()}" if tail else ""))


def _tail(path: str, count: int) -> list:
    with open(path, encoding="utf-8", errors="replace") as log:
        return log.readlines()[-count:]


def _run_build(engine, compiled, tag, secrets, engine_args, out, labels, cache, verbose: bool = False) -> None:
    """Build compiled as tag, with labels and the remote cache (see Engine.build_command).

    Docker applies --label to the image config with no step. buildah and podman make a step of each
    --label, and with --cache-to every step is pushed to the cache: there the labels are put on by a
    second build of one LABEL line on top of the built image, with no cache flags (a config-only commit,
    nothing pushed), so the cache holds only the compiled Dockerfile's steps."""
    separate = bool(labels) and engine.name != "docker"
    env = {**os.environ, "DOCKER_BUILDKIT": "1"} if engine.name == "docker" else None
    with tempfile.TemporaryDirectory(prefix="envc-build-") as folder:
        dockerfile = Path(folder) / "Dockerfile"
        dockerfile.write_text(compiled.dockerfile, encoding="utf-8")
        extra = list(engine_args) + (["--iidfile", str(Path(folder) / "iid")] if separate else [])
        command = engine.build_command(dockerfile, compiled.context, tag, secrets, compiled.inputs.spec.base.platform,
                                       extra, None if separate else labels, cache)
        print(f"envc: building {tag} with {engine.name}", file=out)
        _watch(command, env, compiled, out, verbose)
        if separate:
            from envc.common.quoting import dockerfile_word

            image = (Path(folder) / "iid").read_text(encoding="utf-8").strip()
            labelled = Path(folder) / "labels"
            labelled.mkdir()
            (labelled / "Dockerfile").write_text(f"FROM {image}\nLABEL " + " ".join(
                f"{k}={dockerfile_word(v)}" for k, v in sorted(labels.items())) + "\n", encoding="utf-8")
            verb = "bud" if engine.name == "buildah" else "build"
            result = subprocess.run([engine.path, verb, "--pull=never", "-f", str(labelled / "Dockerfile"), "-t", tag,
                                     str(labelled)], env=env, capture_output=True, text=True, errors="replace")
            if verbose:
                out.write(result.stdout + result.stderr)
            if result.returncode != 0:
                raise BuildFailed(f"{engine.name} failed to label the image (exit code {result.returncode}): {result.stderr.strip()[-2000:]}")


def _build_with_registry(compiled, source, tag, engine, force, secrets, secret_sources, engine_args, out,
                         registry, pull, registry_credentials, verbose) -> tuple:
    """The team-wide "already materialized" check, then build, then push (see build())."""
    from envc.services import oci_registry

    header = compiled.image.header
    try:
        place = oci_registry.target(registry, header.name, header.spec_hash)
    except oci_registry.RegistryError as exc:
        raise BuildError(str(exc)) from None
    client = oci_registry.Client(engine.name, engine.path, out)
    try:
        if registry_credentials:
            username, password = (parse_credential(c, what) if isinstance(c, str) else c
                                  for c, what in zip(registry_credentials, ("--registry-username", "--registry-password")))
            client.login(place.host, resolve_credential(username, secret_sources), resolve_credential(password, secret_sources))
        found = client.lookup(place)
        if found is not None and not force:
            where = found.pinned()
            if pull:
                client.pull(where, place.host)
                client.tag(where, place.reference)
                client.tag(where, tag)
                print(f"envc: pulled {where} (built from this spec, sha256:{header.spec_hash[:16]}); also tagged {tag}", file=out)
            else:
                print(f"envc: {where} is already built from this spec (sha256:{header.spec_hash[:16]}); nothing to build "
                      "(--pull fetches it, --force rebuilds it)", file=out)
            return where, False
    except oci_registry.RegistryError as exc:
        raise BuildError(str(exc)) from None
    labels = _labels(compiled, source)
    present = None if force else client.local_labels(tag)
    built = not (present and present.get(f"{oci_registry.LABEL}.spec.hash") == f"sha256:{header.spec_hash}")
    if built:
        base_registry = compiled.inputs.spec.base.registry
        if _logs_in(base_registry):
            _login(engine, base_registry, secret_sources)
        cache = place.cache if engine.name != "docker" else f"{place.cache}:{oci_registry.cache_tag(header.name)}"
        _run_build(engine, compiled, tag, secrets, engine_args, out, labels, cache, verbose)
    else:
        print(f"envc: {tag} is already built from this spec (sha256:{header.spec_hash[:16]}) but not in the registry: "
              "pushing it", file=out)
    try:
        client.tag(tag, place.reference)
        print(f"envc: pushing {place.reference}", file=out)
        digest = client.push(tag, place.reference, place.host)
        if engine.name == "docker":  # the inline cache a teammate's next build of this name starts from
            cache = f"{place.cache}:{oci_registry.cache_tag(header.name)}"
            try:
                client.push(tag, cache, place.host)
            except oci_registry.RegistryError as exc:
                print(f"envc: warning: the layer cache {cache} was not updated: {exc}", file=out)
    except oci_registry.RegistryError as exc:
        raise PushFailed(f"{exc}; the image is {'built' if built else 'still'} and tagged locally as {tag} and "
                         f"{place.reference}: run the same command again to push it") from None
    return f"{place.reference}@{digest}", built


def _logs_in(registry) -> bool:
    """Whether the spec's base.registry has the engine log in: with its credentials (the schema wants both or
    neither); without them the engine's current login is used."""
    return registry is not None and registry.username is not None


def _login(engine: Engine, registry, secret_sources: dict) -> None:
    username = resolve_credential(registry.username, secret_sources)
    password = resolve_credential(registry.password, secret_sources)
    result = subprocess.run(engine.login_command(registry.address, username), input=password, text=True, capture_output=True)
    if result.returncode != 0:
        raise BuildError(f"{engine.name} login to {registry.address} failed (exit {result.returncode})")
