"""Lower a checked spec (its Inputs) to the Image IR: every decision about the build lives here."""
from __future__ import annotations

import json
import posixpath
import re

from envc import __version__
from envc.cache import sha256
from envc.inputs import CONTEXT_DIR, Inputs, installer
from envc.ir import Activation, Base, Conda, Header, Image, Init, Pip, Runtime, System

DEFAULT_BASE_IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:20251130.v1"
CONDA_BASES = ("mcr.microsoft.com/azureml/",)  # images known to ship conda on PATH
MICROMAMBA_IMAGE = "docker.io/mambaorg/micromamba:2.0.5"
MICROMAMBA_STAGE = "envc-micromamba"
MICROMAMBA_DEFAULT_CHANNELS = ("conda-forge",)
PREFIX = "/opt/envc/env"
TOOLS_PREFIX = "/opt/envc/tools"  # installers live apart from the user's environment
UV_REQUIREMENT = "uv==0.13.9"
UV_FLAGS = {"--pre": ("--prerelease=allow",)}  # pip spelling -> uv spelling
INIT_DIR = "/opt/envc/init"
WRAPPER_PATH = "/opt/envc/bin/envc-init"
_PACKAGE_NAME = re.compile(r"^(?:[^:\s]+::)?([A-Za-z0-9_.-]+)")


def spec_hash(inputs: Inputs, original_data: dict) -> str:
    """sha256 over envc's version, the spec's data (key order, comments, whitespace and its own path
    do not matter) and every file it reads (their paths relative to the spec, and their bytes)."""
    digest = sha256(__version__.encode() + b"\0")
    digest.update(json.dumps(original_data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode())
    for relative, file_digest in inputs.files:
        digest.update(b"\0" + relative.encode() + b"\0" + file_digest)
    return digest.hexdigest()


def environment_name(digest: str) -> str:
    """The environment's name the way Azure ML names its conda environments (azureml_<hash>)."""
    return f"envc_{digest[:32]}"


def lower(inputs: Inputs, original_data: dict) -> Image:
    data = inputs.doc.data
    base = _base(data.get("base", {}), inputs)
    conda = _conda(data.get("conda", {}), inputs, base)
    if conda and conda.tool == "micromamba":
        base = Base(base.image, base.dockerfile, base.directives, base.platform, ((MICROMAMBA_IMAGE, MICROMAMBA_STAGE),))
    pip = _pip(inputs, conda, data.get("pip", {}), installer(inputs.doc))
    init = _init(inputs)
    header = Header(__version__, data["name"], spec_hash(inputs, original_data),
                    bool(inputs.scripts) or _copies_from_context(inputs.base_dockerfile),
                    data.get("base", {}).get("registry", {}).get("address"))
    system = System(tuple(sorted(set(data["system"]["apt"])))) if data.get("system", {}).get("apt") else None
    return Image(header, base, system, conda, pip, _activation(data, conda, pip), init, _runtime(data, init))


def _copies_from_context(base_dockerfile) -> bool:
    if not base_dockerfile:
        return False
    from envc.basedockerfile import context_copies

    return bool(context_copies(base_dockerfile))


def _base(spec: dict, inputs: Inputs) -> Base:
    if inputs.base_dockerfile is not None:
        from envc.basedockerfile import rebase, split_directives  # only for base Dockerfiles: off the common path

        directives, rest = split_directives(rebase(inputs.base_dockerfile, spec.get("context", ".")))
        return Base(None, rest.strip("\n"), directives, None, ())
    image = spec.get("image", DEFAULT_BASE_IMAGE)
    registry = spec.get("registry", {}).get("address")
    if registry and not image.startswith(registry + "/"):
        image = f"{registry}/{image}"
    return Base(image, None, (), spec.get("platform"), ())


def _base_image_name(base: Base) -> str:
    if base.image:
        return base.image
    from envc.basedockerfile import from_images

    froms = from_images(base.dockerfile)
    return froms[-1] if froms else ""


def _conda(spec: dict, inputs: Inputs, base: Base) -> Conda | None:
    if not spec.get("dependencies") and not inputs.conda_lock:
        return None
    tool = "conda" if _base_image_name(base).startswith(CONDA_BASES) else "micromamba"
    channels = tuple(spec.get("channels", ()))
    command_channels = MICROMAMBA_DEFAULT_CHANNELS if tool == "micromamba" and not channels and not inputs.conda_lock else ()
    if inputs.conda_lock:
        return Conda(tool, PREFIX, None, inputs.conda_lock.explicit, ())
    packages = [item for item in spec["dependencies"] if isinstance(item, str)]
    names = {m.group(1).lower() for m in map(_PACKAGE_NAME.match, packages) if m}
    if inputs.pip_args and "pip" not in names:
        packages.append("pip")  # the pip layer installs with the environment's own pip
    lines = ["channels:"] + [f"  - {json.dumps(c)}" for c in channels] if channels else []
    lines += ["dependencies:"] + [f"  - {json.dumps(p)}" for p in packages]
    return Conda(tool, PREFIX, tuple(lines), None, command_channels)


def _pip(inputs: Inputs, conda: Conda | None, spec: dict, tool: str) -> Pip | None:
    if not inputs.pip_args:
        return None
    venv = None if conda else PREFIX
    args = tuple(UV_FLAGS.get(group, group) for group in inputs.pip_args) if tool == "uv" else inputs.pip_args
    # Inlined rather than COPY'd: one layer fewer on every rebuild, the layer's cache key is the
    # content itself, and the files do not stay in the image.
    files = tuple((f"{CONTEXT_DIR}/{relative}", tuple(text.splitlines())) for relative, text in inputs.requirement_files)
    return Pip(f"{PREFIX}/bin/python", venv, tool, UV_REQUIREMENT if tool == "uv" else None,
               TOOLS_PREFIX, files, args, spec.get("netrc_secret"))


def _init(inputs: Inputs) -> Init | None:
    if not inputs.scripts:
        return None
    scripts = tuple((inputs.scripts[k], f"{INIT_DIR}/{k}.sh") for k in ("setup", "run") if k in inputs.scripts)
    return Init(scripts, WRAPPER_PATH, tuple(WRAPPER.splitlines()))


def _activation(data: dict, conda: Conda | None, pip: Pip | None) -> Activation | None:
    python = data.get("python", {})
    if conda:
        return Activation(f"{PREFIX}/bin", (("CONDA_PREFIX", PREFIX),))
    if pip:
        return Activation(f"{PREFIX}/bin", (("VIRTUAL_ENV", PREFIX),))
    if python.get("user_managed"):
        return Activation(posixpath.dirname(python["interpreter"]), ())
    return None


def _runtime(data: dict, init: Init | None) -> Runtime:
    command = tuple(data.get("init", {}).get("command", ())) or None
    return Runtime(tuple(sorted(data.get("env", {}).items())), tuple(sorted(data.get("labels", {}).items())),
                   (init.wrapper_path,) if init else None, command)


# Azure ML's aml_wrapper.py, as a POSIX sh script with no Python needed: setup runs once
# per node (local rank 0) while the other ranks wait; a failed setup stops every rank
# instead of letting them run on a half-prepared node; run is sourced so its exports
# reach the command, which then replaces the shell (signals reach it directly).
# Markers are per launch (the launcher's job id, else the parent process and its start
# time), so a second launch in the same container never trusts the previous one's.
WRAPPER = r"""#!/bin/sh
# envc init wrapper: init.setup once per node, init.run in every process, then the command.
set -e
rank=${LOCAL_RANK:-${OMPI_COMM_WORLD_LOCAL_RANK:-${SLURM_LOCALID:-${MPI_LOCALRANKID:-0}}}}
launch=${ENVC_LAUNCH_ID:-${TORCHELASTIC_RUN_ID:+$TORCHELASTIC_RUN_ID.${TORCHELASTIC_RESTART_COUNT:-0}}}
launch=${launch:-${PMIX_NAMESPACE:-${OMPI_MCA_ess_base_jobid:-${SLURM_JOB_ID:+$SLURM_JOB_ID.${SLURM_STEP_ID:-0}}}}}
if [ -z "$launch" ]; then launch=$PPID.$(sed "s/.*) //" "/proc/$PPID/stat" 2>/dev/null | cut -d" " -f20); fi
marker=${ENVC_SETUP_MARKER:-/tmp/envc-setup}.$(printf "%s" "$launch" | tr -c "A-Za-z0-9._-" "_")
if [ -f /opt/envc/init/setup.sh ]; then
  if [ "$rank" = 0 ]; then
    rm -f "$marker.done" "$marker.failed"
    if sh /opt/envc/init/setup.sh; then touch "$marker.done"; else status=$?; touch "$marker.failed"; exit "$status"; fi
  else
    while [ ! -e "$marker.done" ]; do
      if [ -e "$marker.failed" ]; then echo "envc-init: init.setup failed on local rank 0" >&2; exit 1; fi
      sleep 0.1
    done
  fi
fi
if [ -f /opt/envc/init/run.sh ]; then . /opt/envc/init/run.sh; fi
exec "$@"
"""
