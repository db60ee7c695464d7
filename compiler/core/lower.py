"""Lower checked Inputs to the Image IR: every decision about the build lives here.

Which conda runs, which installer, every command line and its arguments, the files written
during the build, and where the environment is activated. Stages come out in build-cache order:
base, system, conda, pip, init files, runtime metadata; a stage with nothing to do is left out.
"""
from __future__ import annotations

import json
import os
import posixpath

from envc.common import image_paths as paths
from envc.common.tools import MICROMAMBA_DEFAULT_CHANNELS, MICROMAMBA_STAGE, UV_MIN_PYTHON, UV_REQUIREMENT, conda_tool
from envc.common.version import __version__
from envc.core.init_wrapper import ACTIVATE, WRAPPER
from envc.core.inputs import Inputs, python_generation
from envc.core.ir import (Activate, Apt, BaseDockerfile, Cmd, Copy, CondaCreate, CopyFrom, Entrypoint, Env, From, Header,
                          Helper, Image, InlineFile, Installer, Labels, Mount, PipInstall, Raw, Run, User, WriteFile)
from envc.formats.requirements import ENTRY_OPTIONS

# The certificate bundles micromamba looks for (libmamba's downloader): with none of them in the base,
# it gets its own image's bundle for the install step.
MICROMAMBA_CA_PATHS = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/ca-bundle.pem",
                       "/etc/pki/tls/cacert.pem", "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", "/etc/ssl/cert.pem")
UV_CAN_RUN = f"import sys; sys.exit(sys.version_info < {UV_MIN_PYTHON})"  # exits 0 where uv can install
# A RUN's text reaches /bin/sh -c as one argument, which Linux caps at 128 KiB (MAX_ARG_STRLEN): files
# that would take a RUN past INLINE_BUDGET are COPY'd, or written CHUNK_BUDGET at a time.
INLINE_BUDGET = 96 * 1024
CHUNK_BUDGET = 64 * 1024
MAX_UPGRADE_NAMES = 1000
ACTIVATE_LINES, WRAPPER_LINES = tuple(ACTIVATE.splitlines()), tuple(WRAPPER.splitlines())


def hashed_name(spec_hash: str) -> str:
    """The environment's name the way Azure ML names its conda environments (azureml_<hash>)."""
    return f"envc_{spec_hash[:32]}"


def lower(inputs: Inputs) -> Image:
    spec = inputs.spec
    base_stages, directives, base_image, platform = _base(spec.base, inputs.base_dockerfile, inputs.context)
    indexes = _indexes_as_pip_reads_them(inputs)
    arguments = _pip_arguments(inputs, indexes)
    conda = _conda(inputs, base_image, installs_pip=bool(arguments))
    pip = _pip(inputs, arguments, indexes, has_conda=bool(conda))
    init = _init(inputs, has_conda=bool(conda))
    # Helper stages are built for the image's platform: an amd64 micromamba in an arm64 image installs linux-64 packages.
    helpers = [Helper(image=spec.conda.micromamba_image, name=MICROMAMBA_STAGE, platform=platform)] if _tool(conda) == "micromamba" else []
    sections = [["base", _before_the_base(helpers, base_stages)], ["system", [*_system(spec.system), *_user_managed(spec.python, conda or pip)]],
                ["conda", conda], ["pip", pip], ["init", init], ["runtime", _runtime(spec, wrapped=bool(init or conda))]]
    user = spec.base.user or _dockerfile_user(inputs.base_dockerfile)
    if user and (conda or pip or init or sections[1][1]):  # a base that ends as another user: install as root, then give it back
        sections[0][1].append(User(name="root"))
        sections[-1][1].insert(0, User(name=user))
    sections = [(name, stages) for name, stages in sections if stages]
    stages = [stage for _, section in sections for stage in section]
    header = Header(version=__version__, name=spec.name, spec_hash=inputs.spec_hash, directives=directives,
                    needs_context=any(isinstance(stage, Copy) for stage in stages) or _copies_from_context(inputs.base_dockerfile),
                    context=inputs.context, registry=spec.base.registry.address if spec.base.registry else None)
    return Image(header=header, stages=tuple(stages), sections=tuple((name, len(section)) for name, section in sections))


def _before_the_base(helpers, base_stages) -> list:
    """The helper stages first, but after a base Dockerfile's global ARGs, which its FROM lines read."""
    if not helpers or not isinstance(base_stages[0], BaseDockerfile):
        return [*helpers, *base_stages]
    from envc.core.base_dockerfile import global_args

    head, rest = global_args(base_stages[0].text)
    if not head.strip():
        return [*helpers, *base_stages]
    return [BaseDockerfile(text=head), *helpers, BaseDockerfile(text=rest.strip("\n"))]


def _dockerfile_user(base_dockerfile):
    if not base_dockerfile:
        return None
    from envc.core.base_dockerfile import final_user

    return final_user(base_dockerfile)


def _copies_from_context(base_dockerfile) -> bool:
    if not base_dockerfile:
        return False
    from envc.core.base_dockerfile import context_copies

    return bool(context_copies(base_dockerfile))


def _base(base, dockerfile_text, context: str) -> tuple:
    """(stages, parser directives, the image the environment is built on, its platform or None). A base
    Dockerfile's COPY sources are rebased from base.context to the build context (when they differ)."""
    if dockerfile_text is not None:
        from envc.core.base_dockerfile import built_on, from_platform, rebase, split_directives  # off the common path

        directives, rest = split_directives(rebase(dockerfile_text, base.context if context == "." else "."))
        return [BaseDockerfile(text=rest.strip("\n"))], directives, built_on(rest), from_platform(rest)
    return [From(image=base.pulled_from, platform=base.platform)], (), base.pulled_from, base.platform


def _system(system) -> list:
    if system is None or not system.apt:
        return []
    return [Apt(packages=tuple(sorted(set(system.apt))))]


def _user_managed(python, installs) -> list:
    """A user-managed interpreter already exists in the base: it goes first on PATH after the system layer
    (a bare command name, azureml-core's default `python`, is found on the base's PATH, as Azure ML runs it)."""
    if installs or python is None or not python.user_managed or not python.interpreter.startswith("/"):
        return []
    return [Activate(path_prefix=posixpath.dirname(python.interpreter), variables=())]


def _tool(conda_stages) -> str | None:
    return "micromamba" if any(isinstance(stage, CopyFrom) for stage in conda_stages) else "conda" if conda_stages else None


def _conda(inputs: Inputs, base_image: str, installs_pip: bool) -> list:
    """The conda environment from a lock (no solver) or an environment.yml written inline: its cache key
    is its content. Azure ML's images have conda; any other base gets micromamba from a pinned image."""
    conda = inputs.spec.conda
    if conda is None or not (conda.packages or conda.pip_lists or inputs.lock):
        return []
    tool = conda_tool(base_image)
    stages, mounts, commands = [], (), []
    if tool == "micromamba":
        stages.append(CopyFrom(stage=MICROMAMBA_STAGE, source=paths.MICROMAMBA_IN_HELPER, target=paths.MICROMAMBA))
        mounts = (Mount(kind="bind", stage=MICROMAMBA_STAGE, source=MICROMAMBA_CA_PATHS[0], target=paths.MICROMAMBA_CA),)
        tests = [word for path in MICROMAMBA_CA_PATHS for word in ("test", "-e", path, Raw(text="||"))]
        commands.append((Raw(text="{"), *tests, "export", f"MAMBA_CACERT_PATH={paths.MICROMAMBA_CA}", Raw(text=";"), Raw(text="}")))
    solve = tuple(f"CONDA_OVERRIDE_{name.upper()}={version}" for name, version in conda.virtual_packages)
    if inputs.lock:
        file = InlineFile(path=paths.CONDA_EXPLICIT_FILE, lines=inputs.lock.explicit)
        if tool == "conda":
            create = ("conda", "create", "--yes", "--quiet", "-p", paths.PREFIX, "--file", file.path)
        else:
            create = ("micromamba", "create", "--yes", "-p", paths.PREFIX, "-f", file.path)
    else:
        packages = [package.text for package in conda.packages]
        if (installs_pip or conda.pip_lists) and "pip" not in {package.spec.name.lower() for package in conda.packages}:
            packages.append("pip")  # the pip layer installs with the environment's own pip (and conda adds it for any pip: list)
        channels = conda.channels if tool == "conda" else tuple(c for c in conda.channels if c != "nodefaults")
        lines = ["channels:"] + [f"  - {json.dumps(c)}" for c in channels] if channels else []
        lines += ["dependencies:"] + [f"  - {json.dumps(p)}" for p in packages]
        file = InlineFile(path=paths.CONDA_ENVIRONMENT_FILE, lines=tuple(lines))
        if tool == "conda":
            create = (*solve, "conda", "env", "create", "--quiet", "-p", paths.PREFIX, "-f", file.path)
        else:
            defaults = () if channels else MICROMAMBA_DEFAULT_CHANNELS  # micromamba has no default channels
            create = (*solve, "micromamba", "create", "--yes", "-p", paths.PREFIX, "-f", file.path,
                      *(word for channel in defaults for word in ("-c", channel)))
    written, file = _fit_one(file)
    stages += written
    stages.append(CondaCreate(mounts=mounts, file=file, commands=(*commands, create, (tool, "clean", "--all", "--yes")),
                              cleanup=written[0].file.path if written else file.path))
    stages.append(Activate(path_prefix=f"{paths.PREFIX}/bin", variables=(("CONDA_PREFIX", paths.PREFIX),)))
    # PATH and CONDA_PREFIX are not all of conda's activation: packages' activate.d scripts and env_vars.d
    # (JAVA_HOME, GDAL_DATA, CC...) run in the pip step and, through the wrapper, in every process.
    stages += [WriteFile(file=InlineFile(path=paths.ACTIVATE, lines=ACTIVATE_LINES), mode="0644"), _wrapper()]
    return stages


INDEX_KINDS = ("index_url", "extra_index_url")
INDEX_LINES = ("--index-url ", "--extra-index-url ")  # as requirements files are written into the image


def _pip_arguments(inputs: Inputs, indexes) -> list:
    """The install's arguments in pip's reading order, grouped as an option and its value: index options (indexes,
    when _indexes_as_pip_reads_them computed them), conda's pip lists, pip.packages, the requirements files,
    conda-lock's pip packages."""
    spec = inputs.spec
    if indexes is not None:
        groups, skipped = list(indexes), INDEX_KINDS
    else:
        groups, skipped = [("--index-url", spec.pip.index_url)] if spec.pip and spec.pip.index_url else [], ()
        groups += [("--extra-index-url", url) for url in (spec.pip.extra_index_urls if spec.pip else ())]
    for entry in (spec.conda.pip if spec.conda else ()) + (spec.pip.packages if spec.pip else ()):
        if entry.kind in skipped:
            continue
        if entry.kind in ("requirement", "url", "flag"):
            groups.append((entry.value,))
        elif entry.file is not None:
            groups.append((ENTRY_OPTIONS[entry.kind], in_context(inputs, entry.file.relative)))
        else:
            groups.append((ENTRY_OPTIONS[entry.kind], entry.value))
    groups += [("-r", in_context(inputs, ref.relative)) for ref in (spec.pip.requirements if spec.pip else ())]
    if inputs.lock and inputs.lock.pip_lines:
        groups.append(("-r", f"{paths.CONTEXT_DIR}/{paths.LOCK_PIP_FILE}"))
    return groups


def _indexes_as_pip_reads_them(inputs: Inputs):
    """The install's index options, (option, url) pairs, or None when they can be passed as written.

    pip reads an --index-url line of a requirements file (and conda hands its pip: list to pip as one) as "these
    indexes from now on", dropping the extra indexes of the lines before it; one line's --extra-index-urls are
    added after its --index-url (req_file.py, handle_option_line). On a command line, and to uv, options are a
    set instead, and uv prefers the command line's --index-url to a file's. So when an --index-url follows another
    index option in pip's reading order, the indexes pip ends with are computed here, passed once, and the files
    written into the image carry none."""
    from itertools import groupby

    spec_pip = inputs.spec.pip
    written = [entry for entry in inputs.pip_entries if entry.kind in INDEX_KINDS]
    from_spec = bool(spec_pip and (spec_pip.index_url or spec_pip.extra_index_urls))  # a command line's, read first
    if not any(entry.kind == "index_url" for entry in (written if from_spec else written[1:])):
        return None  # at most one --index-url, written before every other index option: as good as a command line
    lines = [(spec_pip.index_url, list(spec_pip.extra_index_urls))] if spec_pip else []
    for _, entries in groupby(written, key=lambda entry: entry.where):  # the options of one line
        entries = list(entries)
        index = next((entry.value for entry in reversed(entries) if entry.kind == "index_url"), None)
        lines.append((index, [entry.value for entry in entries if entry.kind == "extra_index_url"]))
    urls = []
    for index, extras in lines:
        urls = ([index] if index else urls) + extras
    return [("--index-url", urls[0])] + [("--extra-index-url", url) for url in urls[1:]]


def _pip(inputs: Inputs, arguments: list, indexes, has_conda: bool) -> list:
    """A venv when there is no conda, the installer's tools in their own layer (they change less often
    than the requirements), then one install that writes the requirements files, uses and removes them.

    uv installs unless the spec says pip, or the environment's Python is older than uv supports (then
    pip does); when the spec does not say which Python, the build decides by the interpreter it finds."""
    if not arguments:
        return []
    stages = []
    if not has_conda:
        stages += [Run(commands=(("python3", "-m", "venv", paths.PREFIX),)),
                   Activate(path_prefix=f"{paths.PREFIX}/bin", variables=(("VIRTUAL_ENV", paths.PREFIX),))]
    mounts = []
    if inputs.spec.pip and inputs.spec.pip.netrc_secret:
        mounts.append(Mount(kind="secret", id=inputs.spec.pip.netrc_secret, target=paths.NETRC, required=True))
    installers = _installers(inputs, indexes)
    if any(paths.UV in installer.command for installer in installers):
        # uv alone, not in a venv of its own: the tool layer is what a teammate's build pulls from the
        # registry's cache before anything else, so every megabyte of pip it does not carry counts.
        install_uv = (paths.PYTHON, "-m", "pip", "install", "--no-cache-dir", "--disable-pip-version-check", "--target",
                      paths.TOOLS_PREFIX, UV_REQUIREMENT)
        if len(installers) == 1:
            stages.append(Run(commands=(install_uv,)))
        else:
            stages.append(Run(commands=((Raw(text="if"), paths.PYTHON, "-c", UV_CAN_RUN, Raw(text=";"), Raw(text="then"),
                                         *install_uv, Raw(text=";"), Raw(text="fi")),)))
        mounts.append(Mount(kind="cache", target=paths.UV_CACHE))
    before = ((".", paths.ACTIVATE),) if has_conda else ()
    if inputs.lock and inputs.lock.pip_lines:
        # conda-lock's own install: the locked pip packages, exactly (--no-deps), apart from what follows
        # (pip's hash checking would demand hashes of every other requirement in the same install).
        locked = InlineFile(path=f"{paths.CONTEXT_DIR}/{paths.LOCK_PIP_FILE}", lines=inputs.lock.pip_lines)
        provided, files, lock_arguments = _fit([locked], [("--no-deps",), ("-r", locked.path)])
        stages += provided
        stages.append(PipInstall(mounts=tuple(mounts), before=before, files=tuple(files), arguments=tuple(lock_arguments),
                                 installers=installers, cleanup=paths.CONTEXT_DIR))
        arguments = [group for group in arguments if group != ("-r", locked.path)]
        if not arguments:
            return stages
    # Inlined rather than COPY'd: one layer fewer on every rebuild, the layer's cache key is the
    # content itself, and the files do not stay in the image.
    files = [InlineFile(path=in_context(inputs, relative),  # computed indexes replace the files' own index options
                        lines=tuple(line for line in lines if indexes is None or not line.startswith(INDEX_LINES)))
             for relative, lines in inputs.requirement_files]
    provided, files, arguments = _fit(files, arguments)
    provided += [Copy(sources=tuple(_context_relative(inputs, file) for file in archives), target=in_context(inputs, folder) + "/")
                 for folder, archives in inputs.links if archives]  # --find-links folders: pip reads them in the image
    stages += provided
    stages.append(PipInstall(mounts=tuple(mounts), before=before, files=tuple(files), arguments=tuple(arguments),
                             installers=installers, cleanup=paths.CONTEXT_DIR if files or provided else None))
    return stages


def _size(words) -> int:
    """At most what the words take in a RUN's text: quoted (two quotes, and five characters for each '),
    on continued lines."""
    return sum(len(word) + 4 * word.count("'") + 12 for word in words)


def _fit(files: list, arguments: list) -> tuple:
    """(stages providing files before the install, the files the install writes, its arguments), so that no
    instruction passes INLINE_BUDGET: when the files would, they are written a chunk at a time (not COPY'd:
    the image gets a requirements file as pip reads it, not its text); arguments that still would go into a file too."""
    arguments_size = sum(_size(group) for group in arguments)
    if arguments_size + sum(_size(file.lines) for file in files) <= INLINE_BUDGET:
        return [], files, arguments
    stages = []
    for file in files:
        stages += _chunks(file)
    if arguments_size > INLINE_BUDGET:
        listed = InlineFile(path=f"{paths.CONTEXT_DIR}/{paths.ARGUMENTS_FILE}", lines=tuple(" ".join(group) for group in arguments))
        stages += _chunks(listed)
        arguments = [("-r", listed.path)]
    return stages, [], arguments


def _fit_one(file: InlineFile) -> tuple:
    """([], file) when a RUN can write it, else (the stages writing it, None)."""
    if _size(file.lines) <= INLINE_BUDGET:
        return [], file
    return _chunks(file), None


def _chunks(file: InlineFile) -> list:
    """WriteFile stages writing the file CHUNK_BUDGET at a time."""
    chunks, current, size = [], [], 0
    for line in file.lines:
        if current and size + _size((line,)) > CHUNK_BUDGET:
            chunks.append(tuple(current))
            current, size = [], 0
        current.append(line)
        size += _size((line,))
    chunks.append(tuple(current))
    return [WriteFile(file=InlineFile(path=file.path, lines=chunk), append=i > 0) for i, chunk in enumerate(chunks)]


def _installers(inputs: Inputs, indexes) -> tuple:
    """The install command: uv's, pip's, or (the Python unknown until the build) uv's where it runs, else pip's."""
    spec = inputs.spec
    upgrades = _upgrades(inputs)
    pip = Installer(command=(paths.PYTHON, "-m", "pip", "install", "--no-cache-dir", "--disable-pip-version-check",
                             *(("-U",) if upgrades else ())))
    if inputs.installer == "pip":
        return (pip,)
    # One -P a name is exact; past MAX_UPGRADE_NAMES it would pass Linux's limit on one argument, so uv
    # upgrades everything it installs (README, "Differences from pip and conda").
    upgrade = ("--upgrade",) if len(upgrades) > MAX_UPGRADE_NAMES else tuple(word for name in upgrades for word in ("-P", name))
    uv = Installer(command=("UV_SYSTEM_CERTS=1", "UV_LINK_MODE=copy", paths.UV, "pip", "install", "--python", paths.PYTHON,
                            *_uv_options(inputs, indexes), *upgrade))
    python = python_generation(spec, inputs.lock)
    if python == "new" or spec.pip and spec.pip.installer == "uv":  # uv asked for: envc.core.inputs refused an old Python
        return (uv,)
    if python == "old":
        return (pip,)
    return (uv._replace(condition=("test", "-x", paths.UV)), pip)


def _uv_options(inputs: Inputs, computed) -> tuple:
    """What uv must be told to install what pip would: the best version across several indexes (uv
    stops at the first index that has the name), the options of requirements files that uv ignores
    there (--pre, --trusted-host) but pip honours, and hash checking for every requirement. computed: the indexes
    _indexes_as_pip_reads_them computed, or None."""
    listed = set((inputs.spec.conda.pip if inputs.spec.conda else ()) + (inputs.spec.pip.packages if inputs.spec.pip else ()))
    options = []
    spec_pip = inputs.spec.pip
    indexes = len(computed) if computed is not None else 1 + (len(spec_pip.extra_index_urls) if spec_pip else 0)
    for entry in inputs.pip_entries:
        indexes += entry.kind == "find_links" or entry.kind == "extra_index_url" and computed is None
        if entry not in listed:
            if entry.kind == "flag" and entry.value == "--pre" and "--pre" not in options:
                options.append("--pre")
            elif entry.kind == "trusted_host":
                options += ["--trusted-host", entry.value]
    if indexes > 1 and not any(entry.kind == "flag" and entry.value == "--no-index" for entry in inputs.pip_entries):
        options = ["--index-strategy", "unsafe-best-match", *options]
    if any(entry.line and entry.line.hashes for entry in inputs.pip_entries):
        options.append("--require-hashes")  # pip checks every requirement once any has a hash; uv only when told
    return tuple(options)


def _upgrades(inputs: Inputs) -> tuple:
    """The packages the install names, when it installs into a conda environment: conda installs a file's
    pip list with `pip install -U`, upgrading what conda already put there (and only as much else as they
    need), and envc treats every pip line of a conda environment alike, so an export to a conda file
    installs the same. A locked environment installs exact pins, with nothing to upgrade."""
    if inputs.spec.conda is None or inputs.lock:
        return ()
    names = [e.line.name for e in inputs.pip_entries if e.kind in ("requirement", "url") and e.line and e.line.name]
    return tuple(dict.fromkeys(names))


def in_context(inputs: Inputs, relative: str) -> str:
    """Where a file read from `relative` (from the spec's folder, '..' allowed) is written in the image:
    below CONTEXT_DIR, keeping the files' layout, so the -r and -c paths inside them still resolve."""
    return posixpath.normpath(f"{paths.CONTEXT_DIR}/{inputs.anchor}/{relative}")


def _init(inputs: Inputs, has_conda: bool) -> list:
    """The init scripts and the wrapper that runs them before the command (envc.core.init_wrapper); a
    conda environment has the wrapper already."""
    init = inputs.spec.init
    if init is None or not (init.setup or init.run):
        return []
    stages = [Copy(sources=(_copy_source(inputs, ref),), target=target)
              for ref, target in ((init.setup, paths.SETUP_SCRIPT), (init.run, paths.RUN_SCRIPT)) if ref is not None]
    return stages + ([] if has_conda else [_wrapper()])


def _wrapper() -> WriteFile:
    return WriteFile(file=InlineFile(path=paths.WRAPPER, lines=WRAPPER_LINES), mode="0755")


def _copy_source(inputs: Inputs, ref) -> str:
    """A COPY source: as written when the build context is the spec's folder, else from the build context."""
    return ref.written if inputs.context == "." else _context_relative(inputs, ref.relative)


def _context_relative(inputs: Inputs, relative: str) -> str:
    """A path from the spec's folder, seen from the build context ('../' when outside it)."""
    root = os.path.realpath(inputs.spec.root)
    return os.path.relpath(os.path.join(root, relative), os.path.join(root, inputs.context)).replace(os.sep, "/")


def _runtime(spec, wrapped: bool) -> list:
    """Metadata last: the cheapest to change, as no layer follows it. wrapped: the init wrapper is the
    ENTRYPOINT (init scripts, or a conda environment to activate)."""
    stages = []
    if spec.env:
        stages.append(Env(variables=tuple(sorted(spec.env))))
    if spec.labels:
        stages.append(Labels(labels=tuple(sorted(spec.labels))))
    if wrapped:
        stages.append(Entrypoint(command=(paths.WRAPPER,)))
    if spec.init and spec.init.command:
        stages.append(Cmd(command=spec.init.command))
    return stages
