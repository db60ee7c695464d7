"""Committed Dockerfiles kept in step with their specs (`envc diff`, the envc-compile pre-commit hook):
where each spec's Dockerfile lives, which specs git tracks, and the unified diff of a stale one.

Kept to `os` on the path where every Dockerfile is current, as `envc check` is: git is started with
os.posix_spawnp (the subprocess module alone costs a tenth of an interpreter start), and difflib is
imported only to show a Dockerfile that is stale.
"""

import os

# The spec names envc's hooks look for, as git pathspec globs: a glob without '/' matches the name in any
# folder. The same names as the `files:` pattern of .pre-commit-hooks.yaml (tests/test_precommit.py checks it).
SPEC_GLOBS = ("envc.yml", "envc.yaml", "env.yml", "env.yaml", "*.envc.yml", "*.envc.yaml")
DEFAULT_DOCKERFILE = "Dockerfile"  # next to envc.yml / env.yml / any other name
NAMED_DOCKERFILE = "{stem}.Dockerfile"  # next to NAME.envc.yml: several specs can share a folder


def stem(spec: str) -> str:
    """The spec's name without .yml/.yaml and without a final .envc: train.envc.yml -> train, envc.yml -> envc."""
    name = os.path.basename(os.path.normpath(spec))
    for suffix in (".yml", ".yaml"):
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)]
            break
    if name.lower().endswith(".envc") and len(name) > len(".envc"):
        name = name[: -len(".envc")]
    return name


def dockerfile_for(spec: str, template=None) -> str:
    """Where spec's committed Dockerfile lives: template (relative to the spec's folder, `{stem}` replaced),
    by default `Dockerfile` beside the spec, or `NAME.Dockerfile` beside a spec named NAME.envc.yml."""
    folder = spec if os.path.isdir(spec) else os.path.dirname(spec)  # a saved Azure ML folder holds its own
    if template is None:
        name = os.path.basename(os.path.normpath(spec)).lower()
        named = name.endswith((".envc.yml", ".envc.yaml")) and not os.path.isdir(spec)
        template = NAMED_DOCKERFILE if named else DEFAULT_DOCKERFILE
    return os.path.normpath(os.path.join(folder, template.replace("{stem}", stem(spec))))


def tracked_specs(globs=SPEC_GLOBS):
    """The files git tracks below the working folder that match globs (git pathspec globs; one without '/'
    matches the name in any folder), sorted, as paths relative to the working folder; None when git
    cannot list them (no git, or not inside a repository)."""
    pathspecs = [":(glob)" + (glob.lstrip("/") if "/" in glob else "**/" + glob) for glob in globs]
    output = _git(["git", "ls-files", "-z", "--", *pathspecs])
    if output is None:
        return None
    return sorted(path for path in (os.fsdecode(p) for p in output.split(b"\0") if p) if os.path.exists(path))


def _git(argv):
    """git's stdout as bytes, or None when it cannot be run or fails (its stderr is dropped)."""
    if not hasattr(os, "posix_spawnp"):  # Windows
        import subprocess

        try:
            done = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        except OSError:
            return None
        return done.stdout if done.returncode == 0 else None
    read, write = os.pipe()
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        pid = os.posix_spawnp(argv[0], argv, os.environ,
                              file_actions=[(os.POSIX_SPAWN_DUP2, write, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)])
    except OSError:
        os.close(read)
        return None
    finally:
        os.close(write)
        os.close(devnull)
    chunks = []
    try:
        while True:
            chunk = os.read(read, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read)
        _, status = os.waitpid(pid, 0)
    return b"".join(chunks) if os.waitstatus_to_exitcode(status) == 0 else None


def unified_diff(path: str, current, compiled: str) -> str:
    """The change from current (the file's text, or None when it does not exist) to compiled, as a unified
    diff with git's a/ b/ names, so `git apply` (or `patch -p1`) applies it from the working folder."""
    import difflib

    name = path.replace(os.sep, "/")
    old = [] if current is None else current.splitlines(keepends=True)
    lines = difflib.unified_diff(old, compiled.splitlines(keepends=True),
                                 "/dev/null" if current is None else f"a/{name}", f"b/{name}")
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)
