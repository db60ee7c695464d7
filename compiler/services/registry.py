"""A local registry of environments (`envc register/list/show`, SPEC as NAME[:VERSION]).

Each version is a self-contained snapshot: the spec and every file it reads, at the same relative
paths, so a registered version compiles to the same bytes as its source did, whatever happens to
the source later. Versions count up from 1, as Azure ML's do; registering unchanged content returns
the version that already holds it. Stored under $ENVC_REGISTRY, default
$XDG_DATA_HOME/envc/registry (~/.local/share/envc/registry).
"""
from __future__ import annotations

import json
import os
import posixpath
import re
import shutil
import tempfile

from envc.common.diagnostics import Location, SpecError, error
from envc.common.digest import file_digest
from envc.core.document import display_name

REFERENCE = re.compile(r"(?P<name>[a-z0-9][a-z0-9._-]*)(?::(?P<version>[A-Za-z0-9][A-Za-z0-9._-]*))?")
SPEC_FILE, RECORD_FILE = "envc.yml", "envc-registry.json"


def root() -> str:
    if os.environ.get("ENVC_REGISTRY"):
        return os.environ["ENVC_REGISTRY"]
    data = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(data, "envc", "registry")


def versions(name: str) -> list:
    """The registered versions of name, oldest first (numbers numerically, then other labels)."""
    folder = os.path.join(root(), name)
    found = [v for v in os.listdir(folder) if not v.startswith(".") and os.path.isfile(os.path.join(folder, v, RECORD_FILE))
             ] if os.path.isdir(folder) else []
    return sorted(found, key=lambda v: (0, int(v), "") if v.isdigit() else (1, 0, v))


def names() -> list:
    return sorted(n for n in os.listdir(root()) if versions(n)) if os.path.isdir(root()) else []


def resolve(reference: str):
    """The snapshot's spec for NAME[:VERSION] (latest when no version), or the curated environment's
    spec (NAME in any case: Azure ML spells them AzureML-sklearn-1.5), or None when there is neither."""
    name, _, version = reference.partition(":")
    match = REFERENCE.fullmatch(f"{name.lower()}:{version}" if version else name.lower())
    if not match:
        return None
    known = versions(match["name"])
    chosen = match["version"] or (known[-1] if known else None)
    if chosen in known:
        return os.path.join(root(), match["name"], chosen, record(match["name"], chosen).get("spec", SPEC_FILE))
    entry = _curated_index().get(match["name"])
    if entry is not None and match["version"] in (None, entry["version"]):
        return os.path.join(CURATED, entry["spec"])
    return None


# Azure ML's curated environments, shipped as envc specs (compiler/curated/, README "Curated environments").
CURATED = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "curated")


def _curated_index() -> dict:
    """{envc name: {name, azureml_name, version, spec (relative to CURATED), source}} of compiler/curated/index.json."""
    with open(os.path.join(CURATED, "index.json"), encoding="utf-8") as handle:
        return {entry["name"]: entry for entry in json.load(handle)}


def curated() -> list:
    """The curated environments, each {name, azureml_name, version, spec (its path), source}, by name."""
    return [dict(entry, spec=os.path.join(CURATED, entry["spec"])) for _, entry in sorted(_curated_index().items())]


def is_curated(path: str) -> bool:
    return os.path.realpath(path).startswith(os.path.realpath(CURATED) + os.sep)


def all_names() -> list:
    """Registered and curated names (curated ones also as Azure ML spells them), for did-you-mean."""
    return names() + [entry[key] for entry in curated() for key in ("name", "azureml_name")]


def resolve_source(spec: str) -> str:
    """The file to read for a SPEC argument: spec itself when it exists (a file of that name wins),
    else the snapshot of the registered NAME[:VERSION] it names, else spec (for the error)."""
    if os.path.exists(spec):
        return spec
    return resolve(spec) or spec


def record(name: str, version: str) -> dict:
    with open(os.path.join(root(), name, version, RECORD_FILE), encoding="utf-8") as handle:
        return json.load(handle)


def register(source: str, version: str | None = None) -> tuple:
    """(name, version, True when this call created it) for source, checked as `envc compile` checks it."""
    from envc.common.version import __version__
    from envc.core.pipeline import check
    from envc.formats.detect import input_kind
    from envc.formats.envc_spec import spec_text

    source = resolve_source(source)  # re-registering a registered NAME[:VERSION]: its snapshot is the source
    inputs = check(source)
    data, name, digest = inputs.spec.data, inputs.spec.name, inputs.spec_hash
    if name in _curated_index() and not is_curated(source):
        raise SpecError([error(inputs.spec.document.at(("name",)), f"'{name}' is a curated environment shipped with envc, "
                                                                   "which registering cannot replace: give yours another name")])
    if is_curated(source):
        raise SpecError([error(Location(display_name(source)), f"{name} is curated: it is already available as "
                                                               f"{name}:{_curated_index()[name]['version']} wherever a SPEC goes")])
    if version is not None and not REFERENCE.fullmatch(f"{name}:{version}"):
        raise SpecError([error(Location(display_name(source)), f"'{version}' is not a version: use letters, digits, '.', '_' and '-'")])
    for existing in reversed(versions(name)):
        if record(name, existing)["spec_hash"] == digest and version in (None, existing):
            return name, existing, False
    if version is not None and version in versions(name):
        raise SpecError([error(Location(display_name(source)), f"{name}:{version} is already registered with other "
                                                               "content: register under a new version")])
    # The snapshot keeps every file at its place relative to the spec: the spec's folder sits at `anchor`
    # in it, so files read from '..' stay inside the snapshot.
    spec_path = posixpath.normpath(f"{inputs.anchor}/{SPEC_FILE}")
    if spec_path in {posixpath.normpath(f"{inputs.anchor}/{relative}") for relative, _ in inputs.files}:
        raise SpecError([error(Location(display_name(source)), f"reads a file named {SPEC_FILE}, which a snapshot keeps for its spec: rename it")])
    os.makedirs(os.path.join(root(), name), exist_ok=True)
    staging = tempfile.mkdtemp(prefix=".staging-", dir=os.path.join(root(), name))
    try:
        folder = os.path.realpath(inputs.spec.root)
        for relative, read_as in inputs.files:
            path = os.path.join(staging, posixpath.normpath(f"{inputs.anchor}/{relative}"))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            shutil.copyfile(os.path.join(folder, relative), path)
            if file_digest(path) != read_as:
                raise SpecError([error(Location(display_name(os.path.join(folder, relative))),
                                       "changed while it was being registered: register again")])
        os.makedirs(os.path.dirname(os.path.join(staging, spec_path)), exist_ok=True)
        if input_kind(source) == "envc":  # the user's own text, comments included
            shutil.copyfile(source, os.path.join(staging, spec_path))
        else:
            with open(os.path.join(staging, spec_path), "w", encoding="utf-8") as handle:
                handle.write(spec_text(data, f"Registered by envc {__version__} from {display_name(source)}."))
        return name, _publish(staging, name, version, digest, display_name(source), spec_path), True
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _publish(staging: str, name: str, version: str | None, digest: str, source: str, spec_path: str) -> str:
    """Rename the staged snapshot into place: atomic, and a concurrent register takes the next number."""
    while True:
        numbers = [int(v) for v in versions(name) if v.isdigit()]
        chosen = version or str(max(numbers, default=0) + 1)
        with open(os.path.join(staging, RECORD_FILE), "w", encoding="utf-8") as handle:
            json.dump({"name": name, "version": chosen, "spec_hash": digest, "source": source, "spec": spec_path}, handle, indent=2)
        try:
            os.rename(staging, os.path.join(root(), name, chosen))
            return chosen
        except OSError:
            if version is not None or not os.path.exists(os.path.join(root(), name, chosen)):
                raise
