"""The image holds what pip or conda would install from the same file: the compile-time side of it
(what reaches the installer, and how). tests/test_pip_oracle.py builds images and compares what
they hold with pip's own resolution."""
import os
import shlex
import subprocess
import sys

import dockerfile
import pytest

from conftest import run_envc

MAX_ARG_STRLEN = 128 * 1024  # Linux: one argument of execve, which /bin/sh -c gets a RUN's text as


def compile_in(folder, files: dict, spec="envc.yml", capsys=None, args=()):
    for relative, text in files.items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return run_envc(["compile", spec, "--no-cache", *args], folder, capsys)


def isolated_pip_env() -> dict:
    """The environment for host pip as an oracle: none of this machine's pip configuration (find-links, indexes)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("PIP_")} | {"PIP_CONFIG_FILE": os.devnull}


def install_words(out: str) -> list:
    """The words of the RUN that installs pip packages."""
    run = next(c for c in dockerfile.parse_string(out) if c.cmd == "RUN" and "pip install" in c.value[0] and "uv==" not in c.value[0])
    return shlex.split(run.value[0])


def test_words_pip_ignores_on_an_option_line_are_left_out_with_a_warning(tmp_path, capsys):
    """pytorch/tutorials: `--pre torch torchvision -f URL` installs no torch; Azure's automl file:
    `-r URL [--no-deps]` reads URL."""
    code, out, err = compile_in(tmp_path, {"requirements.txt": "--pre torch torchvision -f https://x.example/links\nsix\n"},
                                "requirements.txt", capsys)
    assert code == 0, err
    assert "requirements.txt:1:1: warning: pip ignores 'torch' 'torchvision' here" in err
    # the image gets the file as pip reads it, which uv reads the same way: no torch, each option on its own line
    assert "      --pre \\\n      '--find-links https://x.example/links' \\\n      six \\\n" in out and "torchvision" not in out
    code, out, err = compile_in(tmp_path, {"env.yml": "dependencies: [python=3.11, {pip: ['-r https://x.example/r.txt [--no-deps]']}]\n"},
                                "env.yml", capsys)
    assert code == 0, err
    assert "warning: pip ignores '[--no-deps]' here" in err and "warning: a remote include is fetched by the installer" in err
    assert install_words(out)[-2:] == ["-r", "https://x.example/r.txt"]


def test_a_remote_include_inside_a_file_is_passed_to_the_installer(tmp_path, capsys):
    code, out, err = compile_in(tmp_path, {"requirements.txt": "-r https://x.example/base.txt\nsix\n"}, "requirements.txt", capsys)
    assert code == 0 and "requirements.txt:1:1: warning: a remote include is fetched by the installer" in err
    assert "-r https://x.example/base.txt" in install_words(out)


@pytest.mark.parametrize("text, named", [("numpy=={{ numpy_version }}", "is a template placeholder, not part of a package spec: fill it in before compiling"),
                                         ("torch=={PYTORCH_VERSION}", "is a template placeholder, not part of a package spec: fill it in before compiling"),
                                         ("torch==${TORCH}x{PYTORCH_VERSION}", "'${TORCH}' is an environment variable, which pip and conda replace where they run")])
def test_a_template_placeholder_is_named_as_one(text, named, tmp_path, capsys):
    code, _, err = compile_in(tmp_path, {"requirements.txt": text + "\n"}, "requirements.txt", capsys)
    assert code == 2 and named in err, err


def test_what_uv_cannot_install_makes_pip_the_installer_unless_uv_was_asked_for(tmp_path, capsys):
    files = {"requirements.txt": "-e git+https://github.com/org/repo@v1#egg=repo\nsix\n"}
    code, out, err = compile_in(tmp_path, files, "requirements.txt", capsys)
    assert code == 0 and "requirements.txt:1:1: warning: envc installs with pip here: uv cannot honour '-e git+" in err
    assert "/opt/envc/tools/bin/uv" not in out and "-m pip install" in out
    files["envc.yml"] = "name: x\npip:\n  requirements: [requirements.txt]\n  installer: uv\n"
    code, _, err = compile_in(tmp_path, files, "envc.yml", capsys)
    assert code == 2 and "requirements.txt:1:1: error: uv cannot honour '-e git+" in err and "NAME @ git+" in err


@pytest.mark.parametrize("files, where, what", [
    ({"requirements.txt": "six==1.16.0 -C editable_mode=compat\n"}, "requirements.txt:1:1",
     "'--config-settings' on a requirement line (uv reads only --hash there)"),
    ({"requirements.txt": "-c constraints.txt\nsix\n", "constraints.txt": "--index-url https://pypi.example/simple\nsix==1.16.0\n"},
     "constraints.txt:1:1", "'--index-url https://pypi.example/simple' in a constraints file (uv reads only its requirements)"),
    ({"requirements.txt": "-c constraints.txt\nsix\n", "constraints.txt": "-r inner.txt\nsix==1.16.0\n", "inner.txt": "tqdm\n"},
     "constraints.txt:1:1", "'-r inner.txt' in a constraints file (uv reads its -r files as constraints too)"),
], ids=["config-settings", "index in constraints", "requirements file in constraints"])
def test_what_pip_honours_and_uv_ignores_or_fails_on_makes_pip_the_installer(files, where, what, tmp_path, capsys):
    """uv 0.13.9 fails on `-C` after a requirement, ignores a constraints file's index (installing from PyPI),
    and reads a -r inside a constraints file as constraints, where pip installs its requirements."""
    code, out, err = compile_in(tmp_path, files, "requirements.txt", capsys)
    assert code == 0 and err.splitlines() == [f"{where}: warning: envc installs with pip here: uv cannot honour {what}"]
    assert "/opt/envc/tools/bin/uv" not in out and "--require-hashes" not in out


@pytest.mark.parametrize("python, installer", [("python=3.7", "pip"), ("python=3.6.13", "pip"), ("python==3.7.*", "pip"),
                                               ("python=3.11", "uv"), ("python>=3.9", "uv"), ("python>=3.6", "either"),
                                               ("python", "either"), (None, "either")])
def test_the_installer_follows_the_interpreter(python, installer, tmp_path, capsys):
    """uv installs into Python 3.8 or later: older ones get pip, unknown ones decide at build time."""
    dependencies = ([python] if python else ["numpy"]) + [{"pip": ["six"]}]
    code, out, err = compile_in(tmp_path, {"envc.yml": f"name: x\nconda:\n  dependencies: {dependencies}\n"}, capsys=capsys)
    assert code == 0, err
    has_uv = "/opt/envc/tools/bin/uv pip install" in out
    has_pip = any("/opt/envc/env/bin/python -m pip install" in line and "--target" not in line for line in out.splitlines())
    assert (has_uv, has_pip) == {"pip": (False, True), "uv": (True, False), "either": (True, True)}[installer]
    if installer == "either":
        assert "if test -x /opt/envc/tools/bin/uv; then" in out and "sys.version_info < (3, 8)" in out


def test_uv_is_told_what_pip_does_by_itself(tmp_path, capsys):
    """pip takes the best version across every index, reads --pre and --trusted-host in files, and (in a
    conda environment, as conda runs it) upgrades what it names."""
    files = {"requirements.txt": "--pre\n--trusted-host pypi.example\n--extra-index-url https://pypi.example/simple\nsix\n",
             "envc.yml": "name: x\nconda:\n  dependencies: [python=3.11, {pip: [requests]}]\npip:\n  requirements: [requirements.txt]\n"}
    code, out, err = compile_in(tmp_path, files, capsys=capsys)
    assert code == 0, err
    words = install_words(out)
    uv = words[words.index("/opt/envc/tools/bin/uv"):]
    assert uv[:12] == ["/opt/envc/tools/bin/uv", "pip", "install", "--python", "/opt/envc/env/bin/python", "--index-strategy",
                       "unsafe-best-match", "--pre", "--trusted-host", "pypi.example", "-P", "requests"]
    assert uv[12:14] == ["-P", "six"]


def test_files_read_from_above_the_specs_folder_keep_their_layout(tmp_path, capsys):
    """Azure ML's MLOps template: conda_file: ../../../data-science/environment/train-conda.yml."""
    files = {"data-science/environment/train-conda.yml": "dependencies: [python=3.11, {pip: [-r ../reqs/extra.txt]}]\n",
             "data-science/reqs/extra.txt": "six\n",
             "mlops/azureml/train/train-env.yml": "$schema: https://azuremlschemas.azureedge.net/latest/environment.schema.json\n"
                                                  "name: train\nimage: ubuntu:22.04\nconda_file: ../../../data-science/environment/train-conda.yml\n"}
    code, out, err = compile_in(tmp_path, files, "mlops/azureml/train/train-env.yml", capsys)
    assert code == 0, err
    assert "> /opt/envc/context/data-science/reqs/extra.txt" in out
    assert "-r /opt/envc/context/data-science/reqs/extra.txt" in " ".join(install_words(out))


def test_a_build_context_above_the_specs_folder_is_the_build_context(tmp_path, capsys):
    """build: {path: ../../../data-science/environment}: COPY sources stay relative to it, as Azure ML builds it."""
    files = {"data-science/environment/Dockerfile": "FROM ubuntu:22.04\nCOPY requirements.txt /tmp/\n",
             "data-science/environment/requirements.txt": "six\n",
             "mlops/train/env.yml": "$schema: https://azuremlschemas.azureedge.net/latest/environment.schema.json\n"
                                    "name: train\nbuild: {path: ../../data-science/environment}\n"}
    code, out, err = compile_in(tmp_path, files, "mlops/train/env.yml", capsys)
    assert code == 0, err
    assert "# Build context: ../../data-science/environment from the spec's folder" in out
    assert "COPY requirements.txt /tmp/" in out


def test_a_copy_source_outside_the_build_context_is_refused_with_the_reason(tmp_path, capsys):
    files = {"outside/setup.sh": "true\n", "spec/envc.yml": "name: x\ninit:\n  setup: ../outside/setup.sh\n"}
    code, _, err = compile_in(tmp_path, files, "spec/envc.yml", capsys)
    assert code == 2 and "'../outside/setup.sh' is outside the build context (the spec's folder), so the image's COPY cannot read it" in err


def test_a_script_beside_the_spec_is_outside_a_base_context_elsewhere_and_no_symlink(tmp_path, capsys):
    files = {"ctx/Dockerfile": "FROM ubuntu:22.04\n", "spec/setup.sh": "true\n",
             "spec/envc.yml": "name: x\nbase: {dockerfile: ../ctx/Dockerfile, context: ../ctx}\ninit:\n  setup: setup.sh\n"}
    code, _, err = compile_in(tmp_path, files, "spec/envc.yml", capsys)
    assert code == 2 and err == ("spec/envc.yml:4:10: error: 'setup.sh' is outside the build context ('../ctx'), so the "
                                 "image's COPY cannot read it: move it into that folder\n")


@pytest.mark.parametrize("where", ["inside", "outside"])
def test_no_instruction_passes_the_single_argument_limit(where, tmp_path, capsys):
    """A 5,000-line hashed requirements file, inside the build context or outside: written in chunks, as pip reads it."""
    lines = [f"pkg{i}==1.0 \\\n    --hash=sha256:{i:064x}" for i in range(2500)]
    folder = "spec" if where == "inside" else "reqs"
    files = {f"{folder}/requirements.txt": "\n".join(lines) + "\n",
             "spec/envc.yml": "name: x\npip:\n  requirements: [" + ("requirements.txt" if where == "inside" else "../reqs/requirements.txt") + "]\n"}
    code, out, err = compile_in(tmp_path, files, "spec/envc.yml", capsys)
    assert code == 0, err
    commands = dockerfile.parse_string(out)
    assert max(len(c.original.replace("\\\n", "").encode()) for c in commands) < MAX_ARG_STRLEN
    target = "/opt/envc/context/requirements.txt" if where == "inside" else "/opt/envc/context/reqs/requirements.txt"
    assert sum(c.cmd == "RUN" and f">> {target}" in c.original for c in commands) >= 2 and "COPY" not in out
    written = []
    for command in commands:
        words = shlex.split(command.value[0]) if command.cmd == "RUN" else []
        if "printf" in words and words[-1] == target:
            written += words[words.index("%s\\n") + 1:-2]
    assert written == [f"pkg{i}==1.0     --hash=sha256:{i:064x}" for i in range(2500)]  # pip's joined lines


def test_thousands_of_packages_in_the_spec_stay_under_the_limit(tmp_path, capsys):
    spec = "name: x\nconda:\n  dependencies: [python=3.11" + "".join(f", c{i}=1.0" for i in range(3000)) + "]\n" \
           "pip:\n  packages: [" + ", ".join(f"p{i}==1.0" for i in range(6000)) + "]\n"
    code, out, err = compile_in(tmp_path, {"envc.yml": spec}, capsys=capsys)
    assert code == 0, err
    assert max(len(c.original.replace("\\\n", "").encode()) for c in dockerfile.parse_string(out)) < MAX_ARG_STRLEN


def test_a_registered_snapshot_keeps_files_read_from_above_the_specs_folder(tmp_path, capsys, monkeypatch):
    """The snapshot holds the spec's folder at its place among the files it reads, so NAME:VERSION
    compiles to the same bytes after the sources are gone."""
    import shutil

    monkeypatch.setenv("ENVC_REGISTRY", str(tmp_path / "registry"))
    files = {"data-science/environment/train-conda.yml": "dependencies: [python=3.11, {pip: [-r ../reqs/extra.txt]}]\n",
             "data-science/reqs/extra.txt": "six\n",
             "mlops/train/env.yml": "$schema: https://azuremlschemas.azureedge.net/latest/environment.schema.json\n"
                                    "name: train\nimage: ubuntu:22.04\nconda_file: ../../data-science/environment/train-conda.yml\n"}
    code, before, err = compile_in(tmp_path / "src", files, "mlops/train/env.yml", capsys)
    assert code == 0, err
    code, out, err = run_envc(["register", "mlops/train/env.yml"], tmp_path / "src", capsys)
    assert code == 0 and out.strip() == "train:1", err
    shutil.rmtree(tmp_path / "src")
    (tmp_path / "elsewhere").mkdir()
    code, after, err = run_envc(["compile", "train:1", "--no-cache"], tmp_path / "elsewhere", capsys)
    assert code == 0, err
    assert after == before


def test_a_find_links_archive_whose_name_no_copy_can_carry_is_a_located_error(tmp_path, capsys):
    (tmp_path / "wheels").mkdir()
    (tmp_path / "wheels" / "odd\nname.whl").write_bytes(b"")
    (tmp_path / "wheels" / "good-1.0-py3-none-any.whl").write_bytes(b"")
    code, out, err = compile_in(tmp_path, {"requirements.txt": "--find-links ./wheels\ngood\n"}, "requirements.txt",
                                capsys)
    assert code == 2 and out == ""
    assert err == ("requirements.txt:1:1: error: 'wheels/odd\\nname.whl' in the --find-links folder 'wheels' has '\\n' "
                   "in its name, which no Dockerfile COPY can carry: rename it\n")


def test_folder_names_that_reach_the_image_are_part_of_the_hash(tmp_path, capsys):
    """Files read from '..' put the spec's folder name in the image's paths: same hash only for the same Dockerfile."""
    outputs = {}
    for tree in ("one/alpha", "two/beta", "three/alpha"):
        folder = tmp_path / tree
        folder.mkdir(parents=True)
        (folder.parent / "reqs.txt").write_text("six==1.16.0\n")
        code, out, err = compile_in(folder, {"local.txt": "idna==3.10\n",
                                             "envc.yml": "name: x\npip:\n  requirements: [../reqs.txt, local.txt]\n"},
                                    capsys=capsys)
        assert code == 0, err
        outputs[tree] = out
    assert "/opt/envc/context/alpha/local.txt" in outputs["one/alpha"]
    assert outputs["one/alpha"] == outputs["three/alpha"]  # where the tree lives does not matter
    assert outputs["one/alpha"].splitlines()[0] != outputs["two/beta"].splitlines()[0]  # the header's hash


def test_a_comment_line_ending_in_a_backslash_does_not_swallow_the_next_line(tmp_path, capsys):
    """pip's join_lines never continues a comment line: `-r base.txt` below it is read, and its file goes in."""
    from pip._internal.network.session import PipSession
    from pip._internal.req.req_file import parse_requirements

    files = {"requirements.txt": "# pins come from base.txt \\\n-r base.txt\nsix==1.16.0 \\\n  # a comment ends it\nclick\n",
             "base.txt": "tqdm\n"}
    code, out, err = compile_in(tmp_path, files, "requirements.txt", capsys)
    assert code == 0, err
    read_by_pip = [r.requirement for r in parse_requirements(str(tmp_path / "requirements.txt"), session=PipSession())]
    assert read_by_pip == ["tqdm", "six==1.16.0", "click"]
    assert "> /opt/envc/context/base.txt" in out and "tqdm" in out


def test_an_included_file_that_is_not_utf8_is_a_located_error(tmp_path, capsys):
    (tmp_path / "requirements.txt").write_text("-r inc.txt\n")
    (tmp_path / "inc.txt").write_bytes(b"six  # caf\xe9\n")
    code, out, err = compile_in(tmp_path, {}, "requirements.txt", capsys)
    assert (code, out, err.splitlines()) == (2, "", ["inc.txt:1:11: error: invalid UTF-8: save the file as UTF-8 text"])


def test_an_included_file_is_written_where_its_line_names_it(tmp_path, capsys):
    """A symlinked include is written at the name the -r gives, and `sub/../x` is written normalized: pip opens
    both in the image; uv needs the folder `sub` to exist for the second."""
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "base.txt").write_text("click\n")
    (tmp_path / "base.txt").symlink_to("sub/base.txt")
    code, out, err = compile_in(tmp_path, {"requirements.txt": "-r base.txt\n-c lib/../sub/base.txt\nsix\n"}, "requirements.txt", capsys)
    assert code == 0, err
    written = {}
    for command in dockerfile.parse_string(out):
        words = shlex.split(command.value[0]) if command.cmd == "RUN" else []
        while "printf" in words:
            words = words[words.index("printf") + 2:]
            target = words.index(">")
            written[words[target + 1]] = words[:target]
    assert written["/opt/envc/context/requirements.txt"] == ["-r base.txt", "-c sub/base.txt", "six"]
    assert written["/opt/envc/context/base.txt"] == written["/opt/envc/context/sub/base.txt"] == ["click"]


@pytest.mark.parametrize("line", ["-r /etc/hostname", "-c /etc/hostname", "--find-links /tmp"])
def test_an_absolute_path_in_a_requirements_file_is_a_located_error(line, tmp_path, capsys):
    code, out, err = compile_in(tmp_path, {"requirements.txt": f"six\n{line}\n"}, "requirements.txt", capsys)
    value = line.split()[1]
    assert (code, out, err.splitlines()) == (2, "", [f"requirements.txt:2:1: error: '{value}' is an absolute path, which the image "
                                                     "does not have: write it relative to this file (envc writes what it names "
                                                     "at that place in the image)"])


@pytest.mark.parametrize("line", ["six-1.16.0-py2.py3-none-any.whl", "mypkg-1.0.tar.gz"])
def test_a_bare_archive_name_is_a_local_path_as_pip_reads_it(line, tmp_path, capsys):
    """pip installs `six-1.16.0-py2.py3-none-any.whl` from the file of that name (is_archive_file), not from PyPI."""
    code, out, err = compile_in(tmp_path, {"requirements.txt": f"{line}\n"}, "requirements.txt", capsys)
    assert (code, out) == (2, "") and f"requirements.txt:1:1: error: '{line}' is a local path" in err, err


def test_a_file_url_is_kept_with_a_warning_that_the_image_must_hold_it(tmp_path, capsys):
    files = {"requirements.txt": "--find-links file:///opt/wheels\nsix @ file:///opt/wheels/six-1.16.0-py2.py3-none-any.whl\n"}
    code, out, err = compile_in(tmp_path, files, "requirements.txt", capsys)
    assert code == 0 and "'--find-links file:///opt/wheels'" in out and "'six @ file:///opt/wheels/six-1.16.0-py2.py3-none-any.whl'" in out
    assert [line.split(": warning: ")[0] for line in err.splitlines()] == ["requirements.txt:1:1", "requirements.txt:2:1"]
    assert all("is read inside the image when it is built, not on this machine" in line for line in err.splitlines())


@pytest.mark.parametrize("line", ["six @ git+ssh://git@github.com/org/six.git@v1", "-e git+ssh://git@github.com/org/z.git#egg=z",
                                  "y @ git+ssh://github.com/org/y.git"])
def test_an_ssh_url_says_the_build_has_no_key_not_that_git_is_a_credential(line, tmp_path, capsys):
    code, out, err = compile_in(tmp_path, {"requirements.txt": f"{line}\n"}, "requirements.txt", capsys)
    assert (code, out, err.splitlines()) == (2, "", ["requirements.txt:1:1: error: an ssh:// URL needs an SSH key, which the image "
                                                     "build does not have: write the https:// URL (a private repository's "
                                                     "credentials go in a build secret: pip.netrc_secret)"])


@pytest.mark.parametrize("include", ['-r "base reqs.txt"', "-r base\\ reqs.txt", "--requirement=base' 'reqs.txt",
                                     '-r base\\ reqs.txt  # the base', '-r b"ase r"eqs.txt'])
def test_a_quoted_path_with_a_space_is_read_and_written_as_pip_reads_it(include, tmp_path, capsys):
    """pip splits an option line into shell words (shlex): quotes and backslash escapes, run together."""
    from pip._internal.network.session import PipSession
    from pip._internal.req.req_file import parse_requirements

    files = {"requirements.txt": f"{include}\nclick\n", "base reqs.txt": "six\n"}
    (tmp_path / "original").mkdir()
    for name, text in files.items():
        (tmp_path / "original" / name).write_text(text)
    pip_read = [r.requirement for r in parse_requirements(str(tmp_path / "original" / "requirements.txt"), session=PipSession())]
    assert pip_read == ["six", "click"]
    code, out, err = compile_in(tmp_path, files, "requirements.txt", capsys)
    assert code == 0, err
    run = next(c for c in dockerfile.parse_string(out) if c.cmd == "RUN" and "/opt/envc/context/requirements.txt" in c.value[0])
    words = shlex.split(run.value[0])
    written = words[words.index("%s\\n") + 1:words.index(">")]
    assert written == ["-r 'base reqs.txt'", "click"] and "'/opt/envc/context/base reqs.txt'" in out
    (tmp_path / "image").mkdir()  # pip reads the written file as it reads the original
    (tmp_path / "image" / "requirements.txt").write_text("\n".join(written) + "\n")
    (tmp_path / "image" / "base reqs.txt").write_text("six\n")
    read = [r.requirement for r in parse_requirements(str(tmp_path / "image" / "requirements.txt"), session=PipSession())]
    assert read == ["six", "click"]


@pytest.mark.parametrize("files, spec, where", [
    ({"requirements.txt": "pkg @ https://acct.blob.core.windows.net/w/pkg-1.0-py3-none-any.whl?sv=2022-11-02&sig=S3CRETSIG\n"},
     "requirements.txt", "requirements.txt:1:1: error: a URL whose query holds a signature, token or key"),
    ({"requirements.txt": "--extra-index-url https://pypi.example/simple?token=S3CRETSIG\nsix\n"},
     "requirements.txt", "requirements.txt:1:1: error: a URL whose query holds a signature, token or key"),
    ({"envc.yml": "name: x\npip:\n  index_url: https://pypi.example/simple?X-Amz-Signature=S3CRETSIG\n  packages: [six]\n"},
     "envc.yml", "envc.yml:3:14: error: a token, key or signature in this URL's query would be written into the image"),
    ({"envc.yml": "name: x\npip:\n  extra_index_urls: [https://pypi.example/simple?ApiKey=S3CRETSIG]\n  packages: [six]\n"},
     "envc.yml", "envc.yml:3:22: error: a token, key or signature in this URL's query would be written into the image"),
], ids=["sas wheel", "index token", "spec index", "spec index, any case"])
def test_a_secret_in_a_url_query_is_refused_and_never_echoed(files, spec, where, tmp_path, capsys):
    code, out, err = compile_in(tmp_path, files, spec, capsys)
    assert (code, out) == (2, "") and err.startswith(where) and "S3CRETSIG" not in err, err


def test_an_ordinary_query_is_kept(tmp_path, capsys):
    code, out, err = compile_in(tmp_path, {"requirements.txt": "six @ https://x.example/six-1.16.0-py2.py3-none-any.whl?v=1\n"},
                                "requirements.txt", capsys)
    assert code == 0 and "six-1.16.0-py2.py3-none-any.whl?v=1" in out, err


def test_a_requirements_file_inside_a_constraints_file_is_read_as_requirements_as_pip_reads_it(tmp_path, capsys):
    from pip._internal.network.session import PipSession
    from pip._internal.req.req_file import parse_requirements

    files = {"requirements.txt": "-c constraints.txt\nsix\n", "constraints.txt": "-r inner.txt\nsix==1.16.0\n", "inner.txt": "tqdm\n"}
    code, out, err = compile_in(tmp_path, files, "requirements.txt", capsys)
    assert code == 0 and "> /opt/envc/context/inner.txt" in out, err
    read = {r.requirement: r.constraint for r in parse_requirements(str(tmp_path / "requirements.txt"), session=PipSession())}
    assert read == {"six==1.16.0": True, "tqdm": False, "six": False}


def test_two_files_that_would_share_one_place_in_the_image_are_an_error(tmp_path, capsys):
    """`link/../more.txt` through a symlinked folder is another file than `more.txt`: pip reads both."""
    (tmp_path / "shared" / "deep").mkdir(parents=True)
    (tmp_path / "shared" / "deep" / "base.txt").write_text("six\n-r ../more.txt\n")
    (tmp_path / "shared" / "more.txt").write_text("attrs\n")
    (tmp_path / "spec").mkdir()
    (tmp_path / "spec" / "link").symlink_to("../shared/deep")
    code, out, err = compile_in(tmp_path / "spec", {"requirements.txt": "-r link/base.txt\n-r more.txt\nrequests\n", "more.txt": "pytz\n"},
                                "requirements.txt", capsys)
    assert (code, out, err.splitlines()) == (2, "", ["requirements.txt:1:1: error: 'more.txt' names two files, ../shared/more.txt and "
                                                     "more.txt (through a symlink): pip reads both, but the image has one place for "
                                                     "them: rename one"])


SIX_WHEEL_SHA256 = "8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254"  # six-1.16.0-py2.py3-none-any.whl


@pytest.mark.parametrize("unhashed", ["pip", "requests==2.31.0"])
def test_an_unhashed_requirement_in_a_hash_checked_install_is_an_error_where_pip_fails_too(unhashed, tmp_path, capsys):
    """mlflow's examples/supply_chain_security/python_env.yaml: build_dependencies [pip] beside `--require-hashes -r
    requirements.txt`. envc installs both lists in one install, which hash-checking mode covers whole: pip (run here,
    against PyPI) refuses it, so envc says so at compile time, where the requirement is, instead of at build time."""
    files = {"python_env.yaml": f'python: "3.11"\nbuild_dependencies:\n  - {unhashed}\ndependencies:\n  - --require-hashes\n'
                                "  - -r requirements.txt\n",
             "requirements.txt": f"six==1.16.0 --hash=sha256:{SIX_WHEEL_SHA256}\n"}
    code, out, err = compile_in(tmp_path, files, "python_env.yaml", capsys)
    assert (code, out) == (2, "")
    assert err.splitlines() == [f"python_env.yaml:3:5: error: '{unhashed}' has no hash, but the install is in hash-checking mode "
                                "(--require-hashes at python_env.yaml:5:5), where pip and uv refuse a requirement without one: "
                                "pin it with == and give it a --hash in a requirements file (`pip-compile --generate-hashes` "
                                "writes one)"]
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--only-binary=:all:", "--target", str(tmp_path / "t"),
                          unhashed, "--require-hashes", "-r", "requirements.txt"], cwd=tmp_path, capture_output=True, text=True)
    assert pip.returncode != 0 and "--require-hashes mode" in pip.stderr, pip.stderr
    files["python_env.yaml"] = files["python_env.yaml"].replace(f"  - {unhashed}\n", "  []\n").replace(":\n  []", ": []")
    code, out, err = compile_in(tmp_path, files, "python_env.yaml", capsys)
    assert code == 0, err


SIX_WHEEL_URL = ("https://files.pythonhosted.org/packages/d9/5a/e7c31adbe875f2abbb91bd84cf2dc52d792b5a01506781dbcf25c91daf11/"
                 "six-1.16.0-py2.py3-none-any.whl")


@pytest.mark.parametrize("constraint, refused", [
    ("six[foo]==1.16.0", "Constraints cannot have extras"),
    ("-e git+https://github.com/benjaminp/six@1.16.0#egg=six", "Editable requirements are not allowed as constraints"),
    ("https://files.example.invalid/six-1.16.0.tar.gz", "Unnamed requirements are not allowed as constraints"),
    (SIX_WHEEL_URL, None),
], ids=["extras", "editable", "unnamed", "wheel url"])
def test_a_constraint_pip_refuses_is_an_error_and_one_only_pip_reads_makes_pip_the_installer(constraint, refused, tmp_path, capsys):
    """mozilla/pontoon's requirements/dev.in constrains with its hashed prod.txt, whose lines have extras: pip (run here)
    refuses such a constraints file, so envc does at compile time; a wheel's URL pip reads (its file name names it) and
    uv does not ("Unnamed requirements are not allowed as constraints"), so pip installs that one."""
    files = {"requirements.txt": "-c constraints.txt\nsix\n", "constraints.txt": f"{constraint}\n"}
    code, out, err = compile_in(tmp_path, files, "requirements.txt", capsys)
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--target", str(tmp_path / "t"), "-r", "requirements.txt"],
                         cwd=tmp_path, capture_output=True, text=True)
    if refused:
        assert (code, out) == (2, "")
        assert err.startswith(f'constraints.txt:1:1: error: pip refuses this line of a constraints file ("{refused}")'), err
        assert pip.returncode != 0 and refused in pip.stderr, pip.stderr
    else:
        assert code == 0 and "uv cannot honour" in err and " -m pip install " in out, err
        assert pip.returncode == 0 and "Would install six-1.16.0" in pip.stdout, pip.stderr


@pytest.mark.parametrize("text, where", [
    (f"six==1.16.0\t--hash=sha256:{SIX_WHEEL_SHA256}\n", "1:12"),
    (f"six==1.16.0 \\\n\t--hash=sha256:{SIX_WHEEL_SHA256}\n", "1:13"),
], ids=["tab", "tab-indented continuation"])
def test_an_option_after_a_tab_is_an_error_as_pip_reads_it_into_the_requirement(text, where, tmp_path, capsys):
    """pip's break_args_options splits a line at spaces only: after a tab, --hash is part of the requirement, and pip
    (run here) refuses the line. uv reads the hash and installs, so envc must say so rather than build."""
    code, out, err = compile_in(tmp_path, {"requirements.txt": text}, "requirements.txt", capsys)
    assert (code, out) == (2, "")
    assert err.startswith(f"requirements.txt:{where}: error: pip parts a requirement from its options only at spaces"), err
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--target", str(tmp_path / "t"), "-r", "requirements.txt"],
                         cwd=tmp_path, capture_output=True, text=True)
    assert pip.returncode != 0 and "Invalid requirement" in pip.stderr, pip.stderr
    code, out, err = compile_in(tmp_path, {"requirements.txt": text.replace("\t", " ")}, "requirements.txt", capsys)
    assert code == 0, err


def test_a_second_find_links_on_one_line_is_ignored_as_pip_ignores_it(tmp_path, capsys):
    """pip's handle_option_line keeps opts.find_links[0] only: `-f a -f b` searches a. envc writes one option a line,
    so it keeps a, leaves b out with a warning, and pip (run here) looks in the same links for both files."""
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
    code, out, err = compile_in(tmp_path, {"requirements.txt": "-f a -f b\nsix\n"}, "requirements.txt", capsys)
    assert code == 0 and "'--find-links a'" in out and "'--find-links b'" not in out, out
    assert "requirements.txt:1:1: warning: pip reads only the first --find-links of a line and ignores 'b'" in err
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--no-index", "-r", "requirements.txt"],
                         cwd=tmp_path, capture_output=True, text=True, env=isolated_pip_env())
    assert f"Looking in links: {tmp_path / 'a'}\n" in pip.stdout, pip.stdout + pip.stderr


@pytest.mark.parametrize("files, refused", [
    ({"requirements.txt": "-c c.txt\nsix==1.16.0\nattrs==23.1.0\n", "c.txt": f"six==1.16.0 --hash=sha256:{SIX_WHEEL_SHA256}\n"},
     ["requirements.txt:2:1", "requirements.txt:3:1"]),
    ({"requirements.txt": "-c c.txt\nsix==1.16.0\n", "c.txt": "--require-hashes\n"}, ["requirements.txt:2:1"]),
    ({"requirements.txt": f"six==1.16.0 --hash=sha256:{SIX_WHEEL_SHA256}\nattrs @ https://files.example/attrs-23.1.0-py3-none-any.whl\n"
                          'pywin32==306 ; sys_platform == "win32"\n'}, ["requirements.txt:2:1"]),
], ids=["hash in a constraints file", "--require-hashes in a constraints file", "url, and a marker false on Linux"])
def test_hash_checking_mode_is_decided_as_pip_decides_it(files, refused, tmp_path, capsys):
    """pip's install command counts constraints when it decides hash-checking mode (a --hash or --require-hashes in a
    -c file checks every requirement), checks a NAME @ URL line too, and drops a line whose marker is false first."""
    code, out, err = compile_in(tmp_path, files, "requirements.txt", capsys)
    assert (code, out) == (2, "")
    assert [line.split(": error: ")[0] for line in err.splitlines()] == refused, err
    assert all("has no hash, but the install is in hash-checking mode" in line for line in err.splitlines())
    if "c.txt" in files and "--hash" in files["c.txt"]:
        pip = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--target", str(tmp_path / "t"), "-r",
                              "requirements.txt"], cwd=tmp_path, capture_output=True, text=True)
        assert pip.returncode != 0 and "Hashes are required in --require-hashes mode" in pip.stderr, pip.stderr


def test_empty_extras_in_a_constraints_file_are_no_extras(tmp_path, capsys):
    """`six[]==1.16.0` names no extra: pip (run here) accepts it as a constraint."""
    files = {"requirements.txt": "-c constraints.txt\nsix\n", "constraints.txt": "six[]==1.16.0\n"}
    code, out, err = compile_in(tmp_path, files, "requirements.txt", capsys)
    assert code == 0, err
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--target", str(tmp_path / "t"), "-r", "requirements.txt"],
                         cwd=tmp_path, capture_output=True, text=True)
    assert pip.returncode == 0 and "Would install six-1.16.0" in pip.stdout, pip.stderr


@pytest.mark.parametrize("line, pip_says", [
    ("foo @ git+https://example.invalid/a/foo@v1", "we don't have a way to hash version control repositories"),
    ("foo @ GIT+https://example.invalid/a/foo@v1", "we don't have a way to hash version control repositories"),
    ("git+https://example.invalid/a/bar@v1#egg=bar", "we don't have a way to hash version control repositories"),
    ("-e git+https://example.invalid/a/baz@v1#egg=baz", "cannot be installed when requiring hashes"),
], ids=["name @ vcs", "upper-case scheme", "vcs url", "editable vcs"])
def test_a_version_control_or_editable_line_in_hash_checking_mode_is_refused_with_why(line, pip_says, tmp_path, capsys):
    """pip cannot hash a checkout (VcsHashUnsupported) or an editable install, so hash-checking mode refuses them even
    with a --hash: the advice is another source, not a hash."""
    code, out, err = compile_in(tmp_path, {"requirements.txt": f"--require-hashes\n{line}\n"}, "requirements.txt", capsys)
    assert (code, out, err.splitlines()) == (2, "", [
        f"requirements.txt:2:1: error: '{line}' cannot be hash-checked ({'an editable install' if line.startswith('-e') else 'a version control checkout'} "
        "is no single file to hash), and the install is in hash-checking mode (--require-hashes at requirements.txt:1:1), where pip "
        "and uv refuse it: install a released version (==, with its --hash) or a wheel or sdist URL with its --hash instead"])
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--no-index", "--target", str(tmp_path / "t"),
                          "-r", "requirements.txt"], cwd=tmp_path, capture_output=True, text=True, env=isolated_pip_env())
    assert pip.returncode != 0 and pip_says in pip.stderr, pip.stderr


def test_a_base_dockerfiles_global_args_stay_before_every_from_when_envc_adds_its_micromamba_stage(tmp_path, capsys):
    """An ARG before the first FROM is global: the FROM lines read it. envc's helper stage goes after such ARGs, or the
    base's `FROM python:${PYTHON_VERSION}-slim` would read an empty PYTHON_VERSION (python:-slim)."""
    files = {"Dockerfile": "# the interpreter\nARG PYTHON_VERSION=3.10\nARG VARIANT=slim\nFROM python:${PYTHON_VERSION}-${VARIANT}\n"
                           "RUN echo base\n",
             "envc.yml": "name: x\nbase: {dockerfile: Dockerfile}\nconda:\n  dependencies: [python=3.10, numpy]\n"}
    code, out, err = compile_in(tmp_path, files, capsys=capsys)
    assert code == 0, err
    instructions = [(c.cmd, c.value) for c in dockerfile.parse_string(out)]
    assert instructions[:2] == [("ARG", ("PYTHON_VERSION=3.10",)), ("ARG", ("VARIANT=slim",))]
    assert instructions[2][0] == "FROM" and instructions[2][1][1:] == ("AS", "envc-micromamba")
    assert instructions[3] == ("FROM", ("python:${PYTHON_VERSION}-${VARIANT}",))
    assert "# the interpreter\nARG PYTHON_VERSION=3.10" in out


MLMODEL = ("artifact_path: model\nflavors:\n  python_function:\n{env}    loader_module: mlflow.sklearn\n    python_version: 3.10.19\n"
           "  sklearn:\n    pickled_model: model.pkl\nmlflow_version: {version}\nmodel_uuid: 746375f7efea49bcb7afa81380e80395\n")
MODEL_CONDA = "channels: [conda-forge]\ndependencies:\n- python=3.10.19\n- pip<=25.3\n- pip:\n  - mlflow==2.22.2\n  - scikit-learn==1.5.2\nname: mlflow-env\n"
MODEL_VENV = "python: 3.10.19\nbuild_dependencies:\n- pip==25.3\ndependencies:\n- -r requirements.txt\n"


@pytest.mark.parametrize("env, version, same_as", [
    ("    env:\n      conda: conda.yaml\n      virtualenv: python_env.yaml\n", "2.22.2", "conda.yaml"),
    ("    env:\n      virtualenv: python_env.yaml\n", "2.22.2", "python_env.yaml"),
    ("    env: conda.yaml\n", "1.30.0", "conda.yaml"),
], ids=["mlflow 2: conda", "virtualenv only", "mlflow 1: env is the conda file"])
def test_an_mlflow_model_compiles_the_environment_its_mlmodel_names(env, version, same_as, tmp_path, capsys):
    """An MLmodel (MicrosoftLearning/mslearn-azure-ml's models) names its environment for python_function: Azure ML
    builds a model's environment from its conda file, MLflow before 2.0 wrote only `env: conda.yaml`."""
    files = {"model/MLmodel": MLMODEL.format(env=env, version=version), "model/conda.yaml": MODEL_CONDA,
             "model/python_env.yaml": MODEL_VENV, "model/requirements.txt": "mlflow==2.22.2\nscikit-learn==1.5.2\n"}
    code, out, err = compile_in(tmp_path, files, "model/MLmodel", capsys)
    assert code == 0 and err == "", err
    assert (code, out, err) == run_envc(["compile", f"model/{same_as}", "--no-cache"], tmp_path, capsys)


@pytest.mark.parametrize("env, expected", [
    ("", "MLmodel:3:3: error: this MLflow model names no environment"),
    ("    env:\n      conda: missing.yaml\n", "MLmodel:5:14: error: no such file 'missing.yaml' beside the MLmodel"),
])
def test_an_mlflow_model_without_its_environment_says_so(env, expected, tmp_path, capsys):
    code, out, err = compile_in(tmp_path, {"MLmodel": MLMODEL.format(env=env, version="2.22.2")}, "MLmodel", capsys)
    assert (code, out) == (2, "") and err.startswith(expected), err


def test_an_mlflow_model_folder_is_its_mlmodel_and_one_naming_itself_is_an_error(tmp_path, capsys):
    files = {"model/MLmodel": MLMODEL.format(env="    env:\n      conda: conda.yaml\n", version="2.22.2"),
             "model/conda.yaml": MODEL_CONDA}
    assert compile_in(tmp_path, files, "model", capsys)[:2] == run_envc(["compile", "model/conda.yaml"], tmp_path, capsys)[:2]
    compile_in(tmp_path, {"model/MLmodel": MLMODEL.format(env="    env:\n      conda: MLmodel\n", version="2.22.2")}, "model", capsys)
    code, out, err = run_envc(["compile", "model/MLmodel"], tmp_path, capsys)
    assert (code, out) == (2, "") and "error: the MLmodel names itself as its environment" in err, err


def test_a_git_user_in_an_https_url_is_no_credential_but_a_token_user_is(tmp_path, capsys):
    """prefix-dev/pixi's cockpit.yml: `git+https://git@github.com/...` (GitHub's fixed user; pip clones it); a user
    name alone may be a token (`https://ghp_x@github.com/...`), which would be written into the image."""
    line = "deepobs @ git+https://git@github.com/fsschneider/DeepOBS.git@develop"
    code, out, err = compile_in(tmp_path, {"requirements.txt": f"{line}\n"}, "requirements.txt", capsys)
    assert code == 0 and f"'{line}'" in out, err
    code, out, err = compile_in(tmp_path, {"requirements.txt": line.replace("git@", "ghp_S3CRET@") + "\n"}, "requirements.txt", capsys)
    assert (code, out) == (2, "") and "credentials in a URL" in err and "S3CRET" not in err


@pytest.fixture(scope="module")
def two_indexes(tmp_path_factory):
    """Index A has pkgx 1.0, index B pkgx 2.0: which one an install read tells which indexes it searched."""
    from package_index import Dist, build_index, serve

    servers = []
    for name, version in (("a", "1.0"), ("b", "2.0")):
        build_index(tmp_path_factory.mktemp(name), [Dist("pkgx", version)])
        servers.append(serve(tmp_path_factory.getbasetemp() / f"{name}0"))
    yield servers[0].simple_url, servers[1].simple_url
    for server in servers:
        server.close()


def _pip_would_install(tmp_path, arguments) -> str:
    """The pkgx version host pip (isolated from the machine's config) installs for these arguments."""
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--target", str(tmp_path / "t"), "--report",
                           str(tmp_path / "report.json"), *arguments], cwd=tmp_path, capture_output=True, text=True, env=isolated_pip_env())
    assert done.returncode == 0, done.stderr
    import json

    return next(p["metadata"]["version"] for p in json.loads((tmp_path / "report.json").read_text())["install"]
                if p["metadata"]["name"] == "pkgx")


@pytest.mark.parametrize("lines, version", [(["--extra-index-url {b}", "--index-url {a}"], "1.0"), (["-i {b}", "--index-url {a}"], "1.0"),
                                            (["--index-url {b}", "--extra-index-url {b}", "-i {a}"], "1.0"),
                                            (["--extra-index-url {b} --index-url {a}"], "2.0")],
                         ids=["index after an extra index", "two index urls", "index after both", "one line: index, then its extras"])
def test_a_pip_list_index_url_replaces_the_indexes_read_before_it_as_pip_reads_the_file_conda_writes(lines, version, two_indexes,
                                                                                                      tmp_path, capsys):
    """conda writes its pip: list to a requirements file for pip, where an --index-url drops the indexes of the lines
    before it, and a line's own extra indexes come after it (pip's handle_option_line): pip on that file (run here)
    installs A's pkgx, or B's where both are searched; so must envc's install command."""
    a, b = two_indexes
    pip_list = [line.format(a=a, b=b) for line in lines] + ["pkgx"]
    (tmp_path / "conda-pip.txt").write_text("\n".join(pip_list) + "\n")
    assert _pip_would_install(tmp_path, ["-r", "conda-pip.txt"]) == version
    body = "".join(f"    - {line}\n" for line in pip_list)
    code, out, err = compile_in(tmp_path, {"environment.yml": f"dependencies:\n  - python=3.11\n  - pip\n  - pip:\n{body}"},
                                "environment.yml", capsys)
    assert code == 0, err
    words = shlex.split(next(c.value[0] for c in dockerfile.parse_string(out) if c.cmd == "RUN" and "uv pip install" in c.value[0]))
    arguments = words[words.index("-P") + 2:]
    assert arguments == ["--index-url", a, *(["--extra-index-url", b] if version == "2.0" else []), "pkgx"]
    assert _pip_would_install(tmp_path, arguments) == version


def test_an_included_files_index_url_wins_over_the_one_read_before_and_the_written_files_carry_none(two_indexes, tmp_path, capsys):
    """`-i A` then `-r more.txt` holding `--index-url B`: pip reads the file's later, so B; uv would prefer a command
    line's. envc passes the index pip ends with and writes the files without index lines, for both installers."""
    a, b = two_indexes
    files = {"requirements.txt": f"-i {a}\n-r more.txt\npkgx\n", "more.txt": f"--index-url {b}\n"}
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    assert _pip_would_install(tmp_path, ["-r", "requirements.txt"]) == "2.0"
    code, out, err = compile_in(tmp_path, files, "requirements.txt", capsys)
    assert code == 0, err
    run = next(c.value[0] for c in dockerfile.parse_string(out) if c.cmd == "RUN" and "set --" in c.value[0])
    before, after = run.split("set --")
    assert shlex.split(after)[:3] == ["--index-url", b, "-r"] and "index-url" not in before, run


@pytest.mark.parametrize("line, accepted, expected", [
    ("-e git://example.invalid/a/b.git#egg=b", True,
     "warning: envc installs with pip here: uv cannot honour '-e git://example.invalid/a/b.git#egg=b' (an editable VCS checkout)"),
    ("hg+https://hg.example/repo#egg=r", True, "warning: envc installs with pip here: uv cannot honour "
                                               "'hg+https://hg.example/repo#egg=r' (uv clones git only)"),
    ("git://example.invalid/a/b.git#egg=b", False, "error: pip reads 'git://example.invalid/a/b.git#egg=b' as no requirement"),
    ("-e https://h.example/p-1.0.tar.gz#egg=p", False, "error: '-e https://h.example/p-1.0.tar.gz#egg=p': pip installs an "
                                                       "editable only from a local project or a version control URL"),
], ids=["-e git:// (pip adds git+)", "hg+ without -e (uv refuses)", "git:// without -e", "-e archive url"])
def test_version_control_spellings_are_read_as_pip_reads_them(line, accepted, expected, tmp_path, capsys):
    """davidfischer/requirements-parser's fixtures: pip's parse_editable turns `git:` into `git+git:`, a requirement
    line takes no bare `git://`, and an editable no archive; uv clones only git, so hg/svn/bzr go to pip."""
    from pip._internal.req.constructors import install_req_from_editable, install_req_from_line

    try:
        (install_req_from_editable if line.startswith("-e ") else install_req_from_line)(line.removeprefix("-e "))
        pip_accepts = True
    except Exception:  # noqa: BLE001 - pip's InstallationError
        pip_accepts = False
    assert pip_accepts == accepted
    code, out, err = compile_in(tmp_path, {"requirements.txt": f"{line}\n"}, "requirements.txt", capsys)
    assert (code == 0) == accepted and err.startswith(f"requirements.txt:1:1: {expected}"), err
    if accepted:
        assert "uv pip install" not in out and line.removeprefix("-e ") in out


def test_a_lock_named_dot_lock_that_holds_requirements_is_read_as_a_requirements_file(tmp_path, capsys):
    """Rye writes requirements.lock (and `uv pip compile -o requirements.lock` too): pip's format, not conda's. A
    `.lock` with conda packages but no @EXPLICIT is still a conda lock, with conda's error."""
    text = "# generated by rye\n# use `rye lock` or `rye sync` to update this lockfile\n\nanyio==4.3.0\n    # via httpx\nidna==3.7\n"
    code, out, err = compile_in(tmp_path, {"requirements.lock": text}, "requirements.lock", capsys)
    assert code == 0 and err == "" and "-r /opt/envc/context/requirements.lock" in " ".join(install_words(out)), err
    assert "      anyio==4.3.0 \\\n      idna==3.7 \\\n" in out
    conda = "https://conda.anaconda.org/conda-forge/linux-64/python-3.11.6-hab00c5b_0_cpython.conda\n"
    code, out, err = compile_in(tmp_path, {"conda-linux-64.lock": conda}, "conda-linux-64.lock", capsys)
    assert (code, out) == (2, "") and "is not an explicit lock file (no @EXPLICIT line)" in err


def test_options_after_a_requirement_are_read_as_pip_reads_them(tmp_path, capsys):
    """open-mmlab/mmpretrain: `pkg --no-binary other` — pip applies --no-binary/--only-binary after a requirement to
    the whole install (they edit the finder's format control in place), so envc keeps the line and installs with pip
    (run here: --no-binary six leaves only six's wheel, which it may not take); NVIDIA/TensorRT's samples: an index
    option there is ignored by pip, which envc says; MONAI tutorials: `numpy==1.22.0;` is an empty marker, none."""
    from package_index import make_wheel

    wheels = tmp_path / "wheels"
    for name in ("six", "attrs"):
        make_wheel(wheels, name, "1.0")
    files = {"requirements.txt": "six==1.0\nattrs==1.0 --no-binary six\n"}
    code, out, err = compile_in(tmp_path, files, "requirements.txt", capsys)
    assert code == 0 and "'attrs==1.0 --no-binary six'" in out and "uv pip install" not in out, err
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--no-index", "--find-links", str(wheels), "--target",
                          str(tmp_path / "t"), "-r", "requirements.txt"], cwd=tmp_path, capture_output=True, text=True, env=isolated_pip_env())
    assert pip.returncode != 0 and "No matching distribution found for six==1.0" in pip.stderr, pip.stderr
    files = {"requirements.txt": "torch==2.2.1 --extra-index-url https://download.pytorch.org/whl/cpu\nnumpy==1.22.0;\n"}
    code, out, err = compile_in(tmp_path, files, "requirements.txt", capsys)
    assert code == 0 and "      numpy==1.22.0 \\\n" in out, err
    assert err.splitlines()[0] == ("requirements.txt:1:1: warning: pip ignores '--extra-index-url https://download.pytorch.org/"
                                   "whl/cpu' after a requirement (it reads index options only on a line of their own), so this "
                                   "requirement comes from the other indexes: put it on a line of its own to use it")
