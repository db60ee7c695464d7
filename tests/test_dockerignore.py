"""The build context's .dockerignore, as Docker reads it: envc's answers held to what buildah and
Docker (BuildKit) actually copy, and the errors and warnings it gives where a build would fail late."""
import os
import re
import subprocess
import tarfile
import warnings

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine
from conftest import run_envc
from envc.core import dockerignore
from envc.core.dockerignore import DockerIgnore
from envc.frontends.cli import main
from envc.core.pipeline import compile_spec
from test_build_docker import docker, docker_env  # noqa: F401  (the fixture, reused)

# Every kind of pattern Docker documents, and its shortcuts, against a tree that tells them apart.
IGNORE = """\
# a comment; the blank line below is skipped

*.pyc
!keep.pyc
/build/
**/node_modules
docs/**
data
!data/keep/**
temp?
*/temp*
src/**/*.tmp
   spaced.txt   
\\#literal
[ab]c.txt
logs/*.log
./sub/../cleaned.txt
**/*.bak
"""
TREE = ["a.pyc", "keep.pyc", "sub/b.pyc", "build/out.bin", "buildx/kept.bin", "x/node_modules/m.js", "node_modules/n.js",
        "docs/index.md", "docsite/page.md", "data/a.csv", "data/keep/k.csv", "data/keep/deep/d.csv", "temp1", "temp12",
        "sub/temporary.txt", "sub/sub2/temp.txt", "src/a/b.tmp", "src/c.tmp", "src/c.py", "spaced.txt", "#literal",
        "ac.txt", "bc.txt", "cc.txt", "logs/x.log", "logs/y/z.log", "cleaned.txt", "sub/cleaned.txt", ".hidden",
        "x.bak", "deep/er/y.bak"]
EXPECTED_EXCLUDED = {"a.pyc", "build/out.bin", "x/node_modules/m.js", "node_modules/n.js", "docs/index.md", "data/a.csv",
                     "temp1", "sub/temporary.txt", "src/a/b.tmp", "src/c.tmp", "spaced.txt", "#literal", "ac.txt", "bc.txt",
                     "logs/x.log", "cleaned.txt", "x.bak", "deep/er/y.bak"}


def test_patterns_mean_what_docker_documents():
    ignore = DockerIgnore(IGNORE)
    assert ignore.problems == []
    assert {path for path in TREE if ignore.excluded_by(path)} == EXPECTED_EXCLUDED
    assert ignore.excluded_by("data/a.csv") == (8, "data") and ignore.excluded_by("a.pyc") == (3, "*.pyc")
    assert ignore.excluded_by("spaced.txt") == (13, "spaced.txt")  # the line as written, blanks trimmed


def test_docker_documented_examples():
    """The examples of Docker's .dockerignore reference, with the outcomes it gives."""
    ignore = DockerIgnore("*/temp*\n*/*/temp*\ntemp?\n")
    assert ignore.excluded_by("somedir/temporary.txt") and ignore.excluded_by("somedir/temp")
    assert ignore.excluded_by("somedir/subdir/temporary.txt") and ignore.excluded_by("tempa")
    assert not ignore.excluded_by("temporary.txt") and not ignore.excluded_by("a/b/c/temp")
    ignore = DockerIgnore("*.md\n!README*.md\nREADME-secret.md\n")
    assert not ignore.excluded_by("README.md") and ignore.excluded_by("README-secret.md") and ignore.excluded_by("x.md")
    ignore = DockerIgnore("*.md\nREADME-secret.md\n!README*.md\n")
    assert not ignore.excluded_by("README-secret.md")


def test_a_pattern_engines_read_differently_is_a_warning_and_read_as_the_engines_here_do():
    ignore = DockerIgnore("**.bak\n**/ok\n")
    assert [line for line, _ in ignore.warnings] == [1]
    assert "Docker 23 and later leave out every path ending in '.bak'" in ignore.warnings[0][1]
    assert not ignore.excluded_by("x.bak") and ignore.excluded_by(".bak") and ignore.excluded_by("a/.bak")


@settings(max_examples=400, deadline=None)
@given(pattern=st.lists(st.sampled_from(["a", "b", "/", "*", "**", "?", "[ab]", "[^a]", "\\*", "."]), min_size=1, max_size=9)
       .map("".join), path=st.text("ab/.*\n", max_size=12))
def test_the_matcher_without_backtracking_answers_as_the_regex_does(pattern, path):
    kind, parts = dockerignore._parts(pattern)
    matches = dockerignore._without_backtracking(parts)
    if kind == "regex" and matches is not None:
        assert matches(path) == bool(re.match(f"^{''.join(parts)}\\Z", path)), (pattern, path)


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.text(max_size=60), st.text("ab/*?[]!^\\.- \n\r#", max_size=40)), path=st.text("ab/.[]\n", max_size=20))
def test_any_text_is_read_without_a_crash_or_a_python_warning(text, path):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ignore = DockerIgnore(text)
        assert ignore.excluded_by(path) is None or ignore.excluded_by(path)[0] in [rule.line for rule in ignore.rules]
    assert all(isinstance(line, int) and message for line, message in ignore.problems + ignore.warnings)


def test_a_file_docker_refuses_is_an_error_at_its_line():
    ignore = DockerIgnore("ok\n!\n  !  \n[abc\nend\\\nend\\\\\n")
    assert [line for line, _ in ignore.problems] == [2, 3, 4, 5]
    assert "needs a pattern after it" in ignore.problems[0][1] and "not a valid pattern" in ignore.problems[2][1]


def make_context(folder, ignore=IGNORE):
    for path in TREE:
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(f"{path}\n")
    (folder / ".dockerignore").write_text(ignore)
    (folder / "base.Dockerfile").write_text("FROM scratch\nCOPY . /ctx/\n")
    (folder / "envc.yml").write_text("name: ignore-test\nbase:\n  dockerfile: base.Dockerfile\n")


@pytest.fixture
def context(tmp_path):
    """A spec whose base Dockerfile copies the whole context, and the Dockerfile envc compiles from it (kept
    outside the context, so the build copies exactly the files envc read)."""
    folder = tmp_path / "context"
    folder.mkdir()
    make_context(folder)
    compiled = compile_spec(folder / "envc.yml")
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(compiled.dockerfile)
    return folder, dockerfile, {relative for relative, _ in compiled.inputs.files}


def test_envc_reads_what_the_context_holds(context):
    folder, _, read = context
    assert read == {*TREE, ".dockerignore", "base.Dockerfile", "envc.yml"} - EXPECTED_EXCLUDED


def buildah_copies(dockerfile, folder, engine_env) -> set:
    """The files a buildah build of dockerfile (FROM scratch, COPY . /ctx/) put in /ctx."""
    tag = "localhost/envc-dockerignore-test"
    result = engine.build(dockerfile, folder, tag, engine_env)
    assert result.returncode == 0, result.stderr
    env = {**os.environ, **engine_env}
    container = subprocess.run(["buildah", "from", "--pull=never", tag], env=env, capture_output=True, text=True, check=True).stdout.strip()
    try:
        root = subprocess.run(["buildah", "mount", container], env=env, capture_output=True, text=True, check=True).stdout.strip()
        return {os.path.relpath(os.path.join(parent, name), os.path.join(root, "ctx"))
                for parent, _, names in os.walk(os.path.join(root, "ctx")) for name in names}
    finally:
        subprocess.run(["buildah", "rm", container], env=env, capture_output=True)


def docker_copies(dockerfile, folder, docker_env, scratch) -> set:  # noqa: F811
    """The files a Docker (BuildKit) build of dockerfile put in /ctx."""
    tag = "envc-dockerignore-test"
    result = docker(["build", "-f", dockerfile, "-t", tag, folder], {**docker_env, "DOCKER_BUILDKIT": "1"})
    assert result.returncode == 0, result.stderr
    container = docker(["create", tag, "/none"], docker_env, check=True).stdout.strip()
    try:
        with open(scratch / "image.tar", "wb") as handle:
            subprocess.run([str(docker_env["PATH"].split(os.pathsep)[0] + "/docker"), "export", container],
                           env={**os.environ, **docker_env}, stdout=handle, check=True)
        with tarfile.open(scratch / "image.tar") as archive:
            return {member.name.removeprefix("ctx/") for member in archive.getmembers()
                    if member.isfile() and member.name.startswith("ctx/")}
    finally:
        docker(["rm", container], docker_env)


@pytest.mark.e2e
def test_buildah_copies_exactly_the_files_envc_read(context, engine_env):
    folder, dockerfile, read = context
    assert buildah_copies(dockerfile, folder, engine_env) == read


@pytest.mark.e2e
def test_docker_buildkit_copies_exactly_the_files_envc_read(context, docker_env, tmp_path):  # noqa: F811
    folder, dockerfile, read = context
    assert docker_copies(dockerfile, folder, docker_env, tmp_path) == read


@pytest.mark.e2e
def test_with_a_containerignore_envc_reads_what_either_engine_copies(context, engine_env, docker_env, tmp_path):  # noqa: F811
    """podman and buildah read .containerignore instead of .dockerignore; Docker does not read it."""
    folder, dockerfile, _ = context
    (folder / ".containerignore").write_text("src\n*.txt\n!cc.txt\ndata/keep\n")
    read = {relative for relative, _ in compile_spec(folder / "envc.yml").inputs.files}
    by_buildah, by_docker = buildah_copies(dockerfile, folder, engine_env), docker_copies(dockerfile, folder, docker_env, tmp_path)
    assert "src/c.py" not in by_buildah and "src/c.py" in by_docker and "a.pyc" in by_buildah and "a.pyc" not in by_docker
    assert read == by_buildah | by_docker | {".dockerignore", ".containerignore"}


def test_an_ignored_folder_is_not_walked_unless_a_pattern_could_bring_something_back(tmp_path, monkeypatch):
    make_context(tmp_path, ".git\n*.pyc\n!README.md\n!data/keep/**\n")
    for folder in (".git/objects/ab", "data/keep/x"):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "f").write_text("x\n")
    scanned, scandir = [], os.scandir
    monkeypatch.setattr(os, "scandir", lambda path: scanned.append(os.path.relpath(path, tmp_path)) or scandir(path))
    read = {relative for relative, _ in compile_spec(tmp_path / "envc.yml").inputs.files}
    assert not [folder for folder in scanned if folder.startswith(".git")]  # only '!README.md' re-includes: .git stays shut
    assert "data/keep/x/f" in read and ".git/objects/ab/f" not in read


NAMES = st.sampled_from(["a", "b", "ab"])


@settings(max_examples=500, deadline=None)
@given(patterns=st.lists(st.tuples(st.booleans(), st.lists(st.one_of(NAMES, st.sampled_from(["*", "**", "?", "a*", "[ab]"])),
                                                          min_size=1, max_size=3)), min_size=1, max_size=4),
       folder=st.lists(NAMES, min_size=1, max_size=3), inside=st.lists(NAMES, min_size=1, max_size=3))
def test_a_folder_judged_safe_to_skip_holds_nothing_the_build_would_copy(patterns, folder, inside):
    ignore = DockerIgnore("".join(("!" if back else "") + "/".join(parts) + "\n" for back, parts in patterns))
    folder = "/".join(folder)
    if ignore.excluded_by(folder) and not ignore.may_reinclude(folder):
        assert ignore.excluded_by(folder + "/" + "/".join(inside))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ignore=st.one_of(st.text(max_size=40), st.text("ab/*?[]!^\\.- \n#", max_size=40)), container=st.booleans())
def test_any_ignore_file_gives_an_answer_never_a_crash(tmp_path_factory, capsys, ignore, container):
    folder = tmp_path_factory.mktemp("fuzz")
    spec_with_init(folder, ignore)
    (folder / "base.Dockerfile").write_text("FROM scratch\nCOPY . /app/\nCOPY scripts/*.sh /bin/\n")
    (folder / "envc.yml").write_text("name: fuzz\nbase:\n  dockerfile: base.Dockerfile\ninit:\n  setup: scripts/setup.sh\n")
    if container:
        (folder / ".containerignore").write_text(ignore[::-1])
    code = main(["check", "--no-cache", str(folder / "envc.yml")])
    err = capsys.readouterr().err
    assert code in (0, 2) and "internal error" not in err, err


def spec_with_init(folder, ignore):
    (folder / "scripts").mkdir(parents=True)
    (folder / "scripts" / "setup.sh").write_text("echo setup\n")
    (folder / "envc.yml").write_text("name: init\ninit:\n  setup: scripts/setup.sh\n")
    if ignore is not None:
        (folder / ".dockerignore").write_text(ignore)


def test_an_init_script_left_out_of_the_context_is_an_error_with_the_fix(tmp_path, capsys):
    spec_with_init(tmp_path, "# whitelist\n*\n!src/\n")
    code, _, err = run_envc(["compile", "envc.yml"], tmp_path, capsys)
    assert code == 2
    assert err == ("envc.yml:3:10: error: 'scripts/setup.sh' is left out of the build context by .dockerignore:2 ('*'), so the "
                   "image's COPY of it would fail: add '!scripts/setup.sh' to .dockerignore\n")
    with open(tmp_path / ".dockerignore", "a") as handle:
        handle.write("!scripts/setup.sh\n")
    assert run_envc(["compile", "envc.yml"], tmp_path, capsys)[0] == 0


def test_an_init_script_only_podman_and_buildah_leave_out_is_an_error_too(tmp_path, capsys):
    spec_with_init(tmp_path, "*.pyc\n")
    (tmp_path / ".containerignore").write_text("scripts/\n")
    code, _, err = run_envc(["compile", "envc.yml"], tmp_path, capsys)
    assert code == 2 and "left out of the build context by .containerignore:1 ('scripts/')" in err
    assert "add '!scripts/setup.sh' to .containerignore" in err


def test_a_dockerignore_created_after_a_cached_compile_is_seen(tmp_path, capsys):
    spec_with_init(tmp_path, None)
    assert run_envc(["compile", "envc.yml", "-o", "Dockerfile"], tmp_path, capsys)[0] == 0
    assert run_envc(["compile", "envc.yml", "-o", "Dockerfile"], tmp_path, capsys)[0] == 0  # now cached
    (tmp_path / ".dockerignore").write_text("scripts\n")
    code, _, err = run_envc(["compile", "envc.yml", "-o", "Dockerfile"], tmp_path, capsys)
    assert code == 2 and "left out of the build context by .dockerignore:1 ('scripts')" in err


def test_an_ignore_file_created_later_in_a_base_context_outside_the_spec_folder_is_seen(tmp_path, capsys):
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "Dockerfile").write_text("FROM scratch\nCOPY a.txt /a.txt\n")
    (tmp_path / "ctx" / "a.txt").write_text("a\n")
    (tmp_path / "spec").mkdir()
    (tmp_path / "spec" / "envc.yml").write_text("name: outside\nbase: {dockerfile: ../ctx/Dockerfile, context: ../ctx}\n")
    for _ in range(2):  # compiled, then answered from the cache
        assert run_envc(["check", "envc.yml"], tmp_path / "spec", capsys)[0] == 0
    (tmp_path / "ctx" / ".dockerignore").write_text("a.txt\n")
    code, _, err = run_envc(["check", "envc.yml"], tmp_path / "spec", capsys)
    assert code == 2 and "COPY source 'a.txt' is left out of the build context by .dockerignore:1" in err


def test_a_per_dockerfile_ignore_file_created_later_is_warned_about(tmp_path, capsys):
    (tmp_path / "base.Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "envc.yml").write_text("name: later\nbase: {dockerfile: base.Dockerfile}\n")
    for _ in range(2):
        assert run_envc(["check", "envc.yml"], tmp_path, capsys)[::2] == (0, "")
    (tmp_path / "base.Dockerfile.dockerignore").write_text("*.tmp\n")
    code, _, err = run_envc(["check", "envc.yml"], tmp_path, capsys)
    assert code == 0 and err.startswith("base.Dockerfile.dockerignore:1:1: warning: not applied")


def test_a_copy_source_left_out_altogether_is_an_error_at_its_line(tmp_path, capsys):
    make_context(tmp_path, "data\n")
    (tmp_path / "base.Dockerfile").write_text("FROM scratch\nCOPY src/ /src/\nCOPY data/a.csv /data/\n")
    code, _, err = run_envc(["compile", "envc.yml"], tmp_path, capsys)
    assert code == 2 and err == ("base.Dockerfile:3:1: error: COPY source 'data/a.csv' is left out of the build context by "
                                 ".dockerignore:1 ('data'): the build would fail; add '!data/a.csv' to it\n")


def test_a_changed_or_added_file_in_a_copied_folder_changes_the_hash_an_ignored_one_does_not(tmp_path, capsys):
    make_context(tmp_path)

    def header():
        code, out, err = run_envc(["compile", "envc.yml"], tmp_path, capsys)
        assert code == 0, err
        return out.splitlines()[0]

    first = header()
    (tmp_path / "data" / "a.csv").write_text("ignored, so not part of the image\n")
    (tmp_path / "node_modules" / "new.js").write_text("ignored too\n")
    assert header() == first
    (tmp_path / "src" / "new.py").write_text("copied\n")  # a new file: folder listings are never answered from the cache
    assert header() != first


def test_ignore_files_the_compiled_build_does_not_read_are_warnings(tmp_path, capsys):
    (tmp_path / "docker-context" / "docker").mkdir(parents=True)
    (tmp_path / "docker-context" / "app.py").write_text("print(1)\n")
    (tmp_path / "docker-context" / ".dockerignore").write_text("*.pyc\n")
    (tmp_path / "docker-context" / ".containerignore").write_text("*.pyc\n")
    (tmp_path / "docker-context" / "docker" / "Dockerfile").write_text("FROM scratch\nCOPY app.py /app/\n")
    (tmp_path / "docker-context" / "docker" / "Dockerfile.dockerignore").write_text("*.pyc\n")
    (tmp_path / "envc.yml").write_text("name: w\nbase:\n  dockerfile: docker-context/docker/Dockerfile\n  context: docker-context\n")
    code, _, err = run_envc(["compile", "envc.yml"], tmp_path, capsys)
    assert code == 0
    assert err.splitlines() == [
        f"{where}:1:1: warning: not applied: envc's Dockerfile is built from the spec's folder, whose ignore files engines "
        f"read: copy these patterns to ./{name}, each prefixed with 'docker-context/'"
        for where, name in (("docker-context/.dockerignore", ".dockerignore"), ("docker-context/.containerignore", ".containerignore"),
                            ("docker-context/docker/Dockerfile.dockerignore", ".dockerignore"))]


def test_dockerignore_problems_are_located_errors(tmp_path, capsys):
    spec_with_init(tmp_path, "*.pyc\n!\n")
    code, _, err = run_envc(["compile", "envc.yml"], tmp_path, capsys)
    assert code == 2 and err.startswith(".dockerignore:2:1: error: '!' excludes nothing")
