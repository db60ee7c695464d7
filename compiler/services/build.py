"""`envc build`: compile a spec and build it with an installed engine (Docker, podman or buildah).

The image is tagged with the spec's content hash by default, so an unchanged spec is
"already materialized" (Azure ML's check) and not rebuilt. Credentials travel only by
reference: registry passwords go to the engine's login on stdin, build secrets as
`--secret id=...` arguments naming a file or variable, never as values on a command line.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections import namedtuple
from pathlib import Path

ENGINES = ("docker", "podman", "buildah")


class BuildError(Exception):
    """envc could not start the build: no engine, a missing credential, bad arguments."""


class BuildFailed(BuildError):
    """The engine ran and the build failed (its output has already been streamed)."""


class Engine(namedtuple("Engine", "name path")):
    """An installed engine (docker, podman or buildah) and the executable that runs it."""

    __slots__ = ()

    def exists_command(self, tag: str) -> list:
        if self.name == "buildah":
            return [self.path, "inspect", "--type", "image", tag]
        if self.name == "podman":
            return [self.path, "image", "exists", tag]
        return [self.path, "image", "inspect", tag]

    def build_command(self, dockerfile: Path, context: str, tag: str, secrets, platform, extra) -> list:
        verb = ["bud"] if self.name == "buildah" else ["build"]
        layers = ["--layers"] if self.name != "docker" else []
        command = [self.path, *verb, *layers, "-f", str(dockerfile), "-t", tag]
        if platform:
            command += ["--platform", platform]
        for secret in secrets:
            command += ["--secret", secret]
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
    """`id=ID,src=FILE` or `id=ID,env=VAR` -> (id, (kind, where)); the engine gets the argument as is."""
    fields = dict(part.split("=", 1) for part in argument.split(",") if "=" in part)
    if "id" not in fields or len(set(fields) & {"src", "source", "env"}) != 1:
        raise BuildError(f"--secret {argument!r}: expected id=ID,src=FILE or id=ID,env=VAR")
    if "env" in fields:
        return fields["id"], ("env", fields["env"])
    return fields["id"], ("src", fields.get("src") or fields["source"])


def build(spec, *, tag=None, engine_name=None, force=False, secrets=(), engine_args=(), out=sys.stderr) -> tuple:
    """Compile and build spec; returns (tag, built: bool). Raises SpecError or BuildError."""
    from envc.core.pipeline import compile_spec

    compiled = compile_spec(spec)
    header = compiled.image.header
    tag = tag or default_tag(header.name, header.spec_hash)
    secret_sources = dict(parse_secret(s) for s in secrets)
    engine = find_engine(engine_name)
    if not force and image_exists(engine, tag):
        print(f"envc: {tag} is already built from this spec (sha256:{header.spec_hash[:16]}); --force rebuilds it", file=out)
        return tag, False
    registry = compiled.inputs.spec.base.registry
    if registry and registry.username and registry.password:
        _login(engine, registry, secret_sources)
    with tempfile.TemporaryDirectory(prefix="envc-build-") as folder:
        dockerfile = Path(folder) / "Dockerfile"
        dockerfile.write_text(compiled.dockerfile, encoding="utf-8")
        command = engine.build_command(dockerfile, compiled.context, tag, secrets,
                                       compiled.inputs.spec.base.platform, engine_args)
        print(f"envc: building {tag} with {engine.name}", file=out)
        env = {**os.environ, "DOCKER_BUILDKIT": "1"} if engine.name == "docker" else None
        result = subprocess.run(command, env=env, stdout=_progress_stream(out))  # stdout is for the tag alone
    if result.returncode != 0:
        raise BuildFailed(f"{engine.name} failed with exit code {result.returncode}")
    return tag, True


def _progress_stream(out):
    """Where the engine's progress goes: our stderr (by descriptor), so stdout carries only the tag."""
    try:
        return out.fileno()
    except (AttributeError, OSError, ValueError):
        return None


def _login(engine: Engine, registry, secret_sources: dict) -> None:
    username = resolve_credential(registry.username, secret_sources)
    password = resolve_credential(registry.password, secret_sources)
    result = subprocess.run(engine.login_command(registry.address, username), input=password, text=True, capture_output=True)
    if result.returncode != 0:
        raise BuildError(f"{engine.name} login to {registry.address} failed (exit {result.returncode})")
