"""Conda files other tools wrote: conda-lock's keys and selectors in environment.yml (issue 12 item 8),
the `# pip` lines of explicit locks (item 3), and the check of every explicit lock line (item 17).

Real files come from tests/realworld (conda-lock's and scikit-learn's own test files, see its README);
made-up edge cases from tests/data/conda or written here.
"""
import re
import shlex
import shutil
from pathlib import Path

import dockerfile
import pytest

from conftest import GOLDEN, REPO, run_envc
from envc.common.diagnostics import SpecError
from envc.core.yaml_source import load_yaml
from envc.formats.conda_env import from_conda
from envc.formats.conda_lock import conda_platform, read_explicit, read_lock

REAL = REPO / "tests" / "realworld"
CONDA_LOCK_TESTS = REAL / "conda__conda-lock" / "tests"
SKLEARN_LOCK = REAL / "scikit-learn__scikit-learn" / "build_tools" / "azure" / "pylatest_pip_openblas_pandas_linux-64_conda.lock"
DATA = REPO / "tests" / "data" / "conda"
URL = "https://conda.anaconda.org/conda-forge/linux-64/python-3.11.6-hab00c5b_0_cpython.conda"
MD5 = "b0dfbe2fcbfdb097d321bfd50ecddab1"
SHA = "5398ebae6a1ccbfd3f76361eac75f3ac071527a8072627c4bf9008c689034f48"


def compile_file(path, capsys, *extra):
    """(exit code, Dockerfile, stderr) of `envc compile` on path, run from its folder."""
    path = Path(path)
    return run_envc(["compile", path.name, "--no-cache", *extra], path.parent, capsys)


def conda_doc(path, platform="linux-64"):
    return from_conda(load_yaml(str(path)), platform)


def dependencies(doc):
    """(conda packages, pip lines) of a read conda file."""
    items = doc.data["conda"].get("dependencies", [])
    pip = [line for item in items if isinstance(item, dict) for line in item["pip"]]
    return [item for item in items if not isinstance(item, dict)], pip


# Item 8: keys other tools add -------------------------------------------------------------------

@pytest.mark.parametrize("folder, file, key, line", [
    ("test-install-with-pip-deps", "environment.yml", "platforms", 7),
    ("test-pip-repositories", "environment.yaml", "pip-repositories", 3),
    ("test-env-yaml-allow-pypi-requests", "env.explicit.yml", "allow-pypi-requests", 3),
])
def test_real_conda_lock_files_compile_with_a_located_warning_for_the_conda_lock_key(folder, file, key, line, capsys):
    code, out, err = compile_file(CONDA_LOCK_TESTS / folder / file, capsys)
    assert code == 0, err
    assert f"{file}:{line}:1: warning: '{key}' is conda-lock's " in err
    assert "as conda does" in err and "FROM " in out


def test_pip_repositories_warning_says_how_to_reach_the_index(capsys):
    _, _, err = compile_file(CONDA_LOCK_TESTS / "test-pip-repositories" / "environment.yaml", capsys)
    assert "add `- --extra-index-url URL` to the pip: list" in err


def test_platforms_that_leave_out_the_image_platform_say_so(tmp_path, capsys):
    (tmp_path / "environment.yml").write_text("dependencies: [python=3.11]\nplatforms: [osx-arm64, win-64]\n")
    code, _, err = compile_file(tmp_path / "environment.yml", capsys)
    assert code == 0
    assert "environment.yml:2:1: warning: 'platforms' is conda-lock's list of platforms to lock for" in err
    assert "which the list does not name: check that the file is meant for linux-64" in err


def test_category_and_an_unknown_key_are_ignored_with_warnings(tmp_path, capsys):
    (tmp_path / "environment.yml").write_text("category: dev\ndependencies: [python=3.11]\nrepo2docker: {}\nprefx: /opt/x\n")
    code, out, err = compile_file(tmp_path / "environment.yml", capsys)
    assert code == 0 and '"python=3.11"' in out
    assert "environment.yml:1:1: warning: 'category' is conda-lock's category of these dependencies" in err
    assert "environment.yml:3:1: warning: unknown key 'repo2docker' in a conda environment file: ignored, as conda ignores it" in err
    assert ("environment.yml:4:1: warning: unknown key 'prefx' in a conda environment file (did you mean 'prefix'? "
            "envc ignores that too): ignored") in err


@pytest.mark.parametrize("key, meant", [("dependancies", "dependencies"), ("chanels", "channels"), ("variable", "variables"),
                                        ("DEPENDENCIES", "dependencies"), ("nmae", "name")])
def test_a_misspelt_key_that_envc_uses_is_an_error_with_did_you_mean(key, meant, tmp_path, capsys):
    (tmp_path / "environment.yml").write_text(f"channels: [conda-forge]\n{key}: [python=3.11]\n")
    code, out, err = compile_file(tmp_path / "environment.yml", capsys)
    assert code == 2 and out == ""
    assert (f"environment.yml:2:1: error: unknown key '{key}' in a conda environment file (did you mean '{meant}'?): "
            "conda would ignore it and build a different environment, so envc refuses it") in err


def test_real_selectors_leave_out_the_other_platforms_packages(capsys):
    path = CONDA_LOCK_TESTS / "test-env-filter-platform" / "environment.yml"
    code, out, err = compile_file(path, capsys)
    assert code == 0, err
    assert '"gcc_linux-64>=6"' in out and '"python <3.11"' in out
    assert "clang_osx" not in out
    assert "environment.yml:5:22: warning: 'clang_osx-arm64' is left out: its selector [arm64] does not match linux-64" in err
    assert "environment.yml:6:19: warning: 'clang_osx-64' is left out: its selector [osx64] does not match linux-64" in err


def test_real_selector_on_a_pip_line_follows_the_image_platform():
    path = CONDA_LOCK_TESTS / "test-pip-with-platform-selector" / "environment.yml"
    assert dependencies(conda_doc(path)) == (["tomli"], ["psutil"])
    arm = conda_doc(path, "linux-aarch64")
    assert dependencies(arm) == (["tomli"], [])
    assert [(n.location.line, n.location.col, n.message) for n in arm.notes if "psutil" in n.message] == [
        (7, 15, "'psutil' is left out: its selector [linux64] does not match linux-aarch64 "
                "(conda-lock's selectors; conda itself would install it everywhere)")]


def test_every_kind_of_selector_for_linux_64():
    doc = conda_doc(DATA / "selectors.yml")
    conda, pip = dependencies(doc)
    assert doc.data["conda"]["channels"] == ["conda-forge", "pytorch"]  # conda-lock filters no channel: neither does envc
    assert conda == ["python=3.11", "libgcc-ng", "tbb", "patchelf", "jemalloc", "mkl", "backports.zoneinfo", "numpy", "pip",
                     "scikit-learn"]
    assert pip[0] == "psutil" and pip[1].startswith("tomli @ https://") and pip[1].endswith("#sha256=939de3e7a6161af0c887ef91b7d41a53e7c5a1ca976325f429cb46ea9bc30ecc")
    assert pip[2:] == ["requests"]
    messages = {n.location.line: n.message for n in doc.notes}
    assert "[not win] is not a single name conda-lock reads" in messages[15] and "installs 'jemalloc' on linux-64" in messages[15]
    assert "leaves out 'openblas' on linux-64" in messages[17]
    assert messages[18].startswith("selector [py<39] is not a platform selector: envc installs 'backports.zoneinfo', as conda does")
    assert "installs 'requests'" in messages[25]  # `[ linux64 ]` is not conda-lock's form, but means linux64
    assert 13 not in messages and 8 not in messages and 11 not in messages  # matching names are silent


def test_selectors_for_linux_aarch64():
    conda, pip = dependencies(conda_doc(DATA / "selectors.yml", "linux-aarch64"))
    assert conda == ["python=3.11", "tbb", "patchelf", "sysroot_linux-aarch64", "jemalloc", "backports.zoneinfo", "numpy", "pip",
                     "scikit-learn"]
    assert pip[0].startswith("tomli @ ") and len(pip) == 1


def test_locations_after_left_out_lines_stay_on_their_lines(capsys):
    code, _, err = compile_file(DATA / "renumbered.yml", capsys)
    assert code == 2
    assert "renumbered.yml:5" not in err  # inside quotes no selector, but conda's MatchSpec drops '# [win]': scipy
    assert "renumbered.yml:8:17: error: unexpected end: expected a version after '=='" in err


def test_selectors_in_a_crlf_file():
    conda, _ = dependencies(conda_doc(DATA / "crlf.yml"))
    assert conda == ["libgcc-ng", "python=3.11"]


def test_selector_on_the_pip_entry_is_not_applied(tmp_path):
    (tmp_path / "environment.yml").write_text("dependencies:\n  - pip\n  - pip:  # [win]\n    - six\n")
    doc = conda_doc(tmp_path / "environment.yml")
    assert dependencies(doc) == (["pip"], ["six"])
    assert [n.message for n in doc.notes] == ["selector [win] on the pip: entry is not applied: put it on each pip line"]


def test_a_flow_list_line_with_a_selector_leaves_out_every_item_on_it(tmp_path):
    (tmp_path / "environment.yml").write_text("dependencies: [pywin32, pywinpty]  # [win]\nchannels: [conda-forge]\n")
    assert dependencies(conda_doc(tmp_path / "environment.yml")) == ([], [])


def test_a_spec_whose_conda_file_has_conda_lock_keys_compiles(tmp_path, capsys):
    shutil.copy(CONDA_LOCK_TESTS / "test-env-filter-platform" / "environment.yml", tmp_path / "environment.yml")
    (tmp_path / "envc.yml").write_text("name: x\nconda:\n  file: environment.yml\n")
    code, out, err = compile_file(tmp_path / "envc.yml", capsys)
    assert code == 0, err
    assert "environment.yml:8:1: warning: 'platforms' is conda-lock's" in err


# Item 3: pip lines of explicit locks ------------------------------------------------------------

def test_real_conda_lock_render_pip_lines_become_hashed_requirements():
    lock = read_lock(str(SKLEARN_LOCK), "lock")
    written = [line for line in SKLEARN_LOCK.read_text().splitlines() if line.startswith("# pip ")]
    assert len(lock.pip_lines) == len(written) == 63
    assert lock.pip_lines[0] == ("alabaster @ https://files.pythonhosted.org/packages/32/34/d4e1c02d3bee589efb5dfa17f88ea08bdb3e3eac12bc475462aec52ed223/"
                                 "alabaster-0.7.16-py3-none-any.whl --hash=sha256:b46733c07dce03ae4e150330b975c75737fa60f0a7c591b6c8bf4928a28e2c92")
    assert all(re.fullmatch(r"[\w.-]+ @ https://\S+\.whl --hash=sha256:[0-9a-f]{64}", line) for line in lock.pip_lines)
    assert [w.line for w in lock.pip_where][:2] == [26, 27]
    assert lock.has_python and lock.python.line == 22 and lock.unhashed == () and lock.sha256 == ()


def test_real_explicit_lock_with_pip_lines_compiles_to_a_pip_layer(tmp_path, capsys):
    shutil.copy(SKLEARN_LOCK, tmp_path / "conda-linux-64.lock")
    (tmp_path / "envc.yml").write_text("name: sklearn-ci\nconda:\n  lock: conda-linux-64.lock\n")
    code, out, err = compile_file(tmp_path / "envc.yml", capsys)
    assert code == 0, err
    assert "conda-lock-pip.txt" in out
    assert "'numpy @ https://files.pythonhosted.org/packages/54/30/" in out and "--hash=sha256:" in out


def test_a_pip_line_without_a_hash_is_kept_as_written():
    lock = read_explicit(f"@EXPLICIT\n{URL}#{MD5}\n# pip pydantic @ git+https://github.com/pydantic/pydantic@v2.0b2\n", "l")
    assert lock.pip_lines == ("pydantic @ git+https://github.com/pydantic/pydantic@v2.0b2",)


@pytest.mark.parametrize("line, expected", [
    ("# pip six @ https://x/six-1.16.0-py2.py3-none-any.whl#sha256=abc", "l:2:55: error: 'sha256=abc' is not a sha256"),
    ("# pip six==1.0 @ https://x/six.whl", "l:2:16: error: unexpected '@'"),
    ("# pip six @ ./six", "l:2:7: error: a `# pip` line must be `NAME @ URL#sha256=HEX`"),
])
def test_a_broken_pip_line_is_a_located_error(line, expected):
    with pytest.raises(SpecError) as caught:
        read_explicit(f"@EXPLICIT\n{line}\n{URL}#{MD5}\n", "l")
    assert str(caught.value).startswith(expected), str(caught.value)


def test_a_comment_that_only_looks_like_a_pip_line_is_a_warning():
    lock = read_explicit(f"@EXPLICIT\n#pip six @ https://x/six.whl\n# pip packages follow\n{URL}#{MD5}\n", "l")
    assert lock.pip_lines == ()
    assert [str(n) for n in lock.notes] == [f"l:{n}:1: warning: not read as a pip package: conda-lock writes them as `# pip NAME @ URL#sha256=HEX`"
                                            for n in (2, 3)]


# Item 17: every explicit line checked -----------------------------------------------------------

@pytest.mark.parametrize("path", [
    SKLEARN_LOCK,
    REAL / "pangeo-data__pangeo-docker-images" / "base-notebook" / "spec-file.txt",
    CONDA_LOCK_TESTS / "zlib" / "conda-linux-64.lock",
    CONDA_LOCK_TESTS / "test-cuda" / "conda-linux-64.lock",
], ids=lambda p: p.parent.name)
def test_real_explicit_locks_pass_the_check_with_md5_on_every_package(path):
    lock = read_lock(str(path), path.name)
    packages = [line for line in path.read_text().splitlines() if line.startswith("https://")]
    assert packages and all(re.search(r"#[0-9a-f]{32}$", line) for line in packages)
    assert lock.unhashed == () and lock.sha256 == ()
    assert lock.explicit == tuple(path.read_text().splitlines())


def test_real_lock_with_credentials_and_no_explicit_line_is_refused():
    path = CONDA_LOCK_TESTS / "test-lockfile-with-auth" / "test.lock"
    with pytest.raises(SpecError, match="is not an explicit lock file"):
        read_lock(str(path), "test.lock")


def test_python_is_recorded_only_when_the_lock_has_it():
    assert read_explicit(f"@EXPLICIT\n{URL}#{MD5}\n", "l").python.line == 2
    zlib = CONDA_LOCK_TESTS / "zlib" / "conda-linux-64.lock"
    assert not read_lock(str(zlib), "z").has_python
    not_python = "https://conda.anaconda.org/conda-forge/noarch/python-dateutil-2.8.1-py_0.tar.bz2#0d0150ed9c2d25817f5324108d3f7571"
    assert read_explicit(f"@EXPLICIT\n{not_python}\n", "l").python is None


def test_hash_forms_are_recorded():
    lock = read_explicit(f"# c\n@EXPLICIT\n{URL}\n{URL}#{MD5}\n\n{URL}#{SHA}\n  {URL}#sha256:{SHA}  \n", "l")
    assert [str(w) for w in lock.unhashed] == ["l:3:1"]
    assert [str(w) for w in lock.sha256] == ["l:6:1", "l:7:3"]


@pytest.mark.parametrize("line, expected", [
    ("not a url at all", "l:2:1: error: 'not a url at all' is not a package URL"),
    (f"{URL}#md5={MD5}", f"l:2:{len(URL) + 1}: error: '#md5={MD5}': conda reads only the bare hash after '#' (this line is a "
                         f"ParseError in conda, and micromamba installs the package unchecked): write #{MD5}"),
    (f"{URL}#sha256={SHA}", f"l:2:{len(URL) + 1}: error: '#sha256={SHA}': conda reads only the bare hash"),
    (f"{URL}#{MD5.upper()}", f"l:2:{len(URL) + 1}: error: '#{MD5.upper()}' has uppercase hex digits, which conda cannot parse: write #{MD5}"),
    (f"{URL}#SHA256:{SHA}", f"l:2:{len(URL) + 1}: error: '#SHA256:{SHA}' has uppercase letters"),
    (f"{URL}#{MD5[:-1]}", f"l:2:{len(URL) + 1}: error: '#{MD5[:-1]}' is not a hash: expected #<32 hex md5>, #<64 hex sha256> or #sha256:<64 hex>"),
    (f"{URL}#", f"l:2:{len(URL) + 1}: error: an empty hash after '#'"),
    (f"{URL}#{MD5}  # python", f"l:2:{len(URL) + 36}: error: a comment after a package URL: conda cannot parse the line"),
    (f"{URL} {URL}", f"l:2:{len(URL) + 2}: error: '{URL}' after the package URL"),
    ("pkgs/python-3.11.6-0.conda", "l:2:1: error: 'pkgs/python-3.11.6-0.conda' is a path: the image build cannot read files on this machine"),
    ("file:///opt/pkgs/python-3.11.6-0.conda", "l:2:1: error: a file:// URL cannot be fetched by the image build"),
    ("https://user:secret@conda.example.com/python-3.11.6-0.conda", "l:2:9: error: a URL with credentials would write them into the Dockerfile"),
    ("https://conda.example.com/linux-64/python.conda", "l:2:36: error: 'python.conda' is not NAME-VERSION-BUILD.conda"),
    ("https://conda.example.com/repodata.json", "l:2:27: error: 'repodata.json' is not a conda package file"),
    ("https://conda.example.com/python-3.11.6-0.conda?token=x", "l:2:49: error: a URL whose query holds a signature, token or key"),
    ("https://conda.example.com/python-3.11.6-0.conda?v=1", "l:2:27: error: 'python-3.11.6-0.conda?v=1' is not a conda package file"),
    ("@NOTEXPLICIT", "l:2:1: error: '@NOTEXPLICIT' is not a package URL"),
])
def test_a_bad_explicit_line_is_a_located_error(line, expected):
    with pytest.raises(SpecError) as caught:
        read_explicit(f"@EXPLICIT\n{line}\n", "l")
    assert str(caught.value).startswith(expected), str(caught.value)


def test_a_package_line_before_explicit_is_an_error():
    with pytest.raises(SpecError, match=r"l:1:1: error: a line before @EXPLICIT: conda reads package URLs only after it"):
        read_explicit(f"{URL}#{MD5}\n@EXPLICIT\n", "l")


def test_every_bad_line_is_reported_at_once():
    with pytest.raises(SpecError) as caught:
        read_explicit(f"@EXPLICIT\nnope\n{URL}#md5={MD5}\n{URL}#{MD5}\n", "l")
    assert [d.location.line for d in caught.value.diagnostics] == [2, 3]


def test_not_a_url_at_all_fails_compile_at_its_line(tmp_path, capsys):
    (tmp_path / "conda-linux-64.lock").write_text(f"# platform: linux-64\n@EXPLICIT\n{URL}#{MD5}\nnot a url at all\n")
    (tmp_path / "envc.yml").write_text("name: x\nconda:\n  lock: conda-linux-64.lock\n")
    code, out, err = compile_file(tmp_path / "envc.yml", capsys)
    assert code == 2 and out == ""
    assert "conda-linux-64.lock:4:1: error: 'not a url at all' is not a package URL" in err


def test_unified_lock_records_python_and_pip_locations():
    path = CONDA_LOCK_TESTS / "test-install-with-pip-deps" / "conda-lock.yml"
    lock = read_lock(str(path), "conda-lock.yml", "linux-64")
    assert lock.has_python and len(lock.pip_lines) == len(lock.pip_where) == 4
    assert lock.unhashed == () and lock.sha256 == ()
    assert all(re.fullmatch(r"https://\S+#[0-9a-f]{32}", line) for line in lock.explicit[1:])


def test_unified_lock_with_a_malformed_md5_is_refused(tmp_path):
    text = (CONDA_LOCK_TESTS / "test-install-with-pip-deps" / "conda-lock.yml").read_text()
    (tmp_path / "conda-lock.yml").write_text(text.replace("md5: 7f97faab5bebcc2580f4f299285323da", "md5: 7F97FAAB5BEBCC2580F4F299285323DA"))
    with pytest.raises(SpecError, match="an md5 is 32 lowercase hex digits"):
        read_lock(str(tmp_path / "conda-lock.yml"), "conda-lock.yml")


def test_blank_and_comment_only_pip_entries_are_skipped_as_pip_skips_them(tmp_path, capsys):
    """conda hands its pip list to pip as a requirements file; azureml-core saves commented requirements so."""
    (tmp_path / "environment.yml").write_text('name: x\ndependencies:\n  - python=3.11\n  - pip:\n    - numpy==1.26.4\n'
                                              '    - "# torch==2.1  # not yet"\n    - ""\n    - pandas  # trailing\n')
    code, dockerfile, err = compile_file(tmp_path / "environment.yml", capsys)
    assert code == 0
    assert err.splitlines() == [f"environment.yml:{n}:8: warning: a blank or comment-only pip entry installs nothing (conda "
                                "hands the list to pip as a requirements file): ignored" for n in (6, 7)]  # inside the quotes
    assert "numpy==1.26.4 \\\n      pandas\n" in dockerfile and "torch" not in dockerfile


# Review: nothing secret or unwritable from a lock reaches the Dockerfile ----------------------------

UNIFIED = GOLDEN / "conda-lock-unified" / "conda-lock.yml"
SECRET = "s3cretpw"
CONDA_CREDENTIALS = ("a URL with credentials would write them into the Dockerfile: remove `user:password@` (conda-lock "
                     "--strip-auth); envc passes conda no credentials, so the channel must be readable without them")
QUERY_SECRET = ("a URL whose query holds a signature, token or key would write it into the Dockerfile: lock from a "
                "channel or index readable without it (conda-lock --strip-auth cannot remove a query)")
CONDA_TOKEN = ("an anaconda.org token (/t/TOKEN/) would be written into the Dockerfile: remove it (conda-lock "
               "--strip-auth); envc passes conda no credentials, so the channel must be readable without them")
PIP_CREDENTIALS = ("a URL with credentials would write them into the Dockerfile: remove `user:password@` (conda-lock "
                   "--strip-auth) and pass them as a build secret (pip.netrc_secret, a .netrc file) instead")
CONTROL = "a lock is written into the Dockerfile line by line; remove it"
WHEEL = "https://x/six-1.16.0-py2.py3-none-any.whl"
SIX = ("https://files.pythonhosted.org/packages/d9/5a/e7c31adbe875f2abbb91bd84cf2dc52d792b5a01506781dbcf25c91daf11/"
       "six-1.16.0-py2.py3-none-any.whl")


def compile_lock(tmp_path, capsys, name, text, base="{image: ubuntu:22.04}"):
    """(exit code, Dockerfile, stderr) of a spec on base whose conda.lock is name, holding text."""
    (tmp_path / name).write_text(text)
    (tmp_path / "envc.yml").write_text(f"name: x\nbase: {base}\nconda:\n  lock: {name}\n")
    return compile_file(tmp_path / "envc.yml", capsys)


@pytest.mark.parametrize("old, new, expected", [
    ("https://conda.anaconda.org/conda-forge/linux-64/python", f"https://alice:{SECRET}@conda.private.example/linux-64/python",
     f"conda-lock.yml:12:16: error: {CONDA_CREDENTIALS}"),
    ("https://files.pythonhosted.org/", f"https://alice:{SECRET}@pypi.private.example/", f"conda-lock.yml:39:16: error: {PIP_CREDENTIALS}"),
    ("https://conda.anaconda.org/conda-forge/linux-64/python", f"https://conda.anaconda.org/t/{SECRET}/conda-forge/linux-64/python",
     f"conda-lock.yml:12:37: error: {CONDA_TOKEN}"),
], ids=["conda", "pip", "conda token"])
def test_credentials_in_a_conda_lock_yml_url_are_refused_and_never_written(old, new, expected, tmp_path, capsys):
    code, out, err = compile_lock(tmp_path, capsys, "conda-lock.yml", UNIFIED.read_text().replace(old, new, 1))
    assert (code, out, err.splitlines()) == (2, "", [expected])
    assert SECRET not in out + err


@pytest.mark.parametrize("line, expected", [
    (f"# pip six @ https://alice:{SECRET}@pypi.private.example/six-1.16.0-py2.py3-none-any.whl#sha256={SHA}",
     f"3:21: error: {PIP_CREDENTIALS}"),
    (f"# channel: https://alice:{SECRET}@conda.private.example/conda-forge", f"3:20: error: {CONDA_CREDENTIALS}"),
    (f"not-a-url https://alice:{SECRET}@conda.private.example/python-3.11.6-0.conda", f"3:19: error: {CONDA_CREDENTIALS}"),
    (f"  https://alice:{SECRET}@conda.private.example/python-3.11.6-0.conda#{MD5}", f"3:11: error: {CONDA_CREDENTIALS}"),
    (f"https://conda.anaconda.org/t/{SECRET}/private/linux-64/python-3.11.6-0.conda#{MD5}", f"3:30: error: {CONDA_TOKEN}"),
    (f"# channel: https://conda.anaconda.org/t/{SECRET}/private", f"3:41: error: {CONDA_TOKEN}"),
    (f"https://acct.blob.core.windows.net/c/linux-64/python-3.11.6-0.conda?sv=2020&sig={SECRET}#{MD5}", f"3:77: error: {QUERY_SECRET}"),
    (f"# pip six @ https://files.example/six-1.16.0-py2.py3-none-any.whl?token={SECRET}#sha256={SHA}", f"3:67: error: {QUERY_SECRET}"),
], ids=["pip line", "comment", "not a url", "package", "token", "token in a comment", "sas", "pip token"])
def test_credentials_anywhere_in_an_explicit_lock_are_refused_and_never_echoed(line, expected, tmp_path, capsys):
    code, out, err = compile_lock(tmp_path, capsys, "conda-linux-64.lock", f"@EXPLICIT\n{URL}#{MD5}\n{line}\n")
    assert (code, out, err.splitlines()) == (2, "", [f"conda-linux-64.lock:{expected}"])
    assert SECRET not in out + err


@pytest.mark.parametrize("line, expected", [
    ("# created by hand \x1b[1m", f"l:3:19: error: control character '\\x1b': {CONTROL}"),
    ("\x0c", f"l:3:1: error: control character '\\x0c': {CONTROL}"),
    (f"{URL}#{MD5}\x00", f"l:3:{len(URL) + 34}: error: control character '\\x00': {CONTROL}"),
    (f"# pip six @ {WHEEL}\x85", f"l:3:{len(WHEEL) + 13}: error: control character '\\x85': {CONTROL}"),
], ids=["comment", "blank", "package", "pip line"])
def test_a_control_character_in_an_explicit_lock_is_a_located_error(line, expected):
    with pytest.raises(SpecError) as caught:
        read_explicit(f"@EXPLICIT\n{URL}#{MD5}\n{line}\n", "l")
    assert str(caught.value) == expected


def test_a_control_character_in_an_explicit_lock_fails_compile_not_envc(tmp_path, capsys):
    code, out, err = compile_lock(tmp_path, capsys, "conda-linux-64.lock", f"@EXPLICIT\n# created by hand \x1b[1m\n{URL}#{MD5}\n")
    assert (code, out) == (2, "")
    assert err.splitlines() == [f"conda-linux-64.lock:2:19: error: control character '\\x1b': {CONTROL}"]


@pytest.mark.parametrize("old, new, expected", [
    ("- name: six", '- name: "foo\\nbar"', "conda-lock.yml:34:10: error: 'foo\\nbar' is not a pip package name"),
    ("- name: six", "- name: six==1.16.0", "conda-lock.yml:34:9: error: 'six==1.16.0' is not a pip package name"),
    ("- name: six", "- name: 'six --index-url https://evil.example'", "conda-lock.yml:34:10: error: 'six --index-url"),
    ("- name: six\n", "- name: null\n", "conda-lock.yml:34:9: error: 'None' is not a pip package name"),
    (f"  url: {SIX}\n", f'  url: "{SIX}\\e"\n', f"conda-lock.yml:39:{len(SIX) + 9}: error: control character '\\x1b': {CONTROL}"),
], ids=["line break", "version", "option", "missing", "url"])
def test_a_conda_lock_yml_pip_package_that_cannot_be_written_is_a_located_error(old, new, expected, tmp_path, capsys):
    text = UNIFIED.read_text().replace(old, new, 1)
    code, out, err = compile_lock(tmp_path, capsys, "conda-lock.yml", text)
    assert (code, out) == (2, ""), err
    assert err.startswith(expected) and len(err.splitlines()) == 1, err
    assert "internal error" not in err


def test_a_pip_package_locked_from_git_says_why_and_what_to_do_instead(tmp_path, capsys):
    """conda-lock renders a url-sourced pip package (mamba's test-env-lock-pip-git-https.yaml) as `name @ git+https://…`,
    unhashed: it cannot join envc's hash-checked install, and the message says so rather than asking for what is there."""
    git = "git+https://github.com/dateutil/dateutil@9eaa5de584f9f374c6e4943069925cc53522ad61"
    text = UNIFIED.read_text().replace(f"  url: {SIX}\n", f"  url: {git}\n  source: {{type: url, url: '{git}'}}\n", 1)
    code, out, err = compile_lock(tmp_path, capsys, "conda-lock.yml", text)
    assert (code, out) == (2, "")
    assert err.splitlines() == ["conda-lock.yml:39:8: error: 'six' is locked from git+https, which conda-lock installs unhashed; "
                                "envc installs a lock's pip packages hash-checked, which cannot include it: list it in "
                                "pip.packages instead (name @ url, the commit in the url pins it)"]


def test_a_control_character_in_a_conda_lock_yml_conda_url_is_a_located_error(tmp_path, capsys):
    pip = "https://conda.anaconda.org/conda-forge/noarch/pip-23.3.1-pyhd8ed1ab_0.conda"
    text = UNIFIED.read_text().replace(f"  url: {pip}\n", f'  url: "{pip}\\t\\r"\n')
    code, out, err = compile_lock(tmp_path, capsys, "conda-lock.yml", text)
    assert (code, out) == (2, "")
    assert err.splitlines() == [f"conda-lock.yml:21:{len(pip) + 10}: error: control character '\\r': {CONTROL}"]


# Review: a base.platform conda has no packages for ------------------------------------------------

SUBDIR_LIST = ("linux/amd64, linux/arm64, linux/ppc64le, linux/s390x, linux/riscv64, linux/arm/v7, linux/arm/v6, linux/386 "
               "and linux/ppc64")


@pytest.mark.parametrize("platform, subdir", [
    (None, "linux-64"), ("linux/amd64", "linux-64"), ("linux/amd64/v3", "linux-64"), ("linux/x86_64", "linux-64"),
    ("linux/arm64", "linux-aarch64"), ("linux/arm64/v8", "linux-aarch64"),
    ("linux/aarch64", "linux-aarch64"), ("linux/ppc64le", "linux-ppc64le"), ("linux/ppc64", "linux-ppc64"),
    ("linux/s390x", "linux-s390x"), ("linux/riscv64", "linux-riscv64"), ("linux/arm", "linux-armv7l"),
    ("linux/arm/v7", "linux-armv7l"), ("linux/armhf", "linux-armv7l"), ("linux/arm/v6", "linux-armv6l"),
    ("linux/armel", "linux-armv6l"), ("linux/386", "linux-32"), ("linux/i386", "linux-32"),
    ("linux/arm/v5", None), ("linux/arm/v8", None), ("linux/mips64le", None), ("linux/loong64", None),
    ("windows/amd64", None), ("darwin/arm64", None),
])
def test_conda_platform_of_every_docker_platform(platform, subdir):
    assert conda_platform(platform) == subdir


def test_a_lock_on_riscv64_is_read_for_linux_riscv64_not_linux_64(tmp_path, capsys):
    code, out, err = compile_lock(tmp_path, capsys, "conda-lock.yml", UNIFIED.read_text(),
                                  base="{image: ubuntu:22.04, platform: linux/riscv64}")
    assert (code, out) == (2, "")
    assert err.splitlines() == ["conda-lock.yml:1:1: error: locks no package for linux-riscv64 (the image's platform): lock it "
                                "with `conda-lock -p linux-riscv64`"]


@pytest.mark.parametrize("name, text", [("conda-lock.yml", UNIFIED.read_text()), ("conda-linux-64.lock", f"@EXPLICIT\n{URL}#{MD5}\n")],
                         ids=["unified", "explicit"])
def test_a_lock_on_a_platform_without_a_conda_subdir_is_an_error_at_base_platform(name, text, tmp_path, capsys):
    code, out, err = compile_lock(tmp_path, capsys, name, text, base="{image: ubuntu:22.04, platform: linux/mips64le}")
    assert (code, out) == (2, "")
    assert err.splitlines() == [f"envc.yml:2:39: error: 'linux/mips64le' has no conda subdir, and conda.lock needs one: conda "
                                f"packages are built for {SUBDIR_LIST} only; build the image for one of those"]


@pytest.mark.parametrize("platform, subdir, error_col", [
    ("linux/amd64", "linux-64", None), ("linux/amd64", "noarch", None), ("linux/arm64", "linux-aarch64", None),
    ("linux/amd64", "osx-64", 40), ("linux/arm64", "linux-64", 40), ("linux/amd64", "win-64", 40),
], ids=["linux-64", "noarch", "aarch64", "osx on amd64", "linux-64 on arm64", "win"])
def test_an_explicit_lock_made_for_another_platform_is_an_error_at_its_first_foreign_package(platform, subdir, error_col,
                                                                                           tmp_path, capsys):
    """mamba's micromamba/tests/explicit_env_osx.txt (`# platform: osx-64`): conda installs an explicit list without
    checking its platform, so an image built from another platform's list holds binaries that cannot run."""
    own = conda_platform(platform)
    text = f"# platform: {subdir}\n@EXPLICIT\n{URL.replace('/linux-64/', f'/{subdir}/')}#{MD5}\n{URL.replace('/linux-64/', f'/{subdir}/')}#{MD5}\n"
    code, out, err = compile_lock(tmp_path, capsys, "conda.lock", text, base=f"{{image: ubuntu:22.04, platform: {platform}}}")
    if error_col is None:
        assert code == 0, err
        return
    assert (code, out) == (2, "")
    assert err.splitlines() == [f"conda.lock:3:{error_col}: error: a package for {subdir} in a lock for an image whose conda "
                                f"platform is {own}: conda would install it unchecked and it would not run there; create the "
                                f"lock on {own} (`conda-lock -p {own}`, or `conda list --explicit --md5` there), or build for "
                                f"{subdir} (base.platform in an envc spec)"]


def test_selectors_on_a_platform_without_a_conda_subdir_are_an_error_at_base_platform(tmp_path, capsys):
    (tmp_path / "environment.yml").write_text("dependencies:\n  - python=3.11\n  - libgcc-ng  # [linux64]\n")
    (tmp_path / "envc.yml").write_text("name: x\nbase: {image: ubuntu:22.04, platform: linux/mips64le}\nconda:\n  file: environment.yml\n")
    code, out, err = compile_file(tmp_path / "envc.yml", capsys)
    assert (code, out) == (2, "")
    assert err.splitlines() == [f"envc.yml:2:39: error: 'linux/mips64le' has no conda subdir, and the selector [linux64] at "
                                f"environment.yml:3:16 needs one: conda packages are built for {SUBDIR_LIST} only; build the "
                                "image for one of those"]


def test_a_conda_file_without_selectors_needs_no_conda_subdir(tmp_path, capsys):
    (tmp_path / "environment.yml").write_text("dependencies:\n  - python=3.11  # pinned [by hand]\n")
    (tmp_path / "envc.yml").write_text("name: x\nbase: {image: ubuntu:22.04, platform: linux/mips64le}\nconda:\n  file: environment.yml\n")
    code, out, err = compile_file(tmp_path / "envc.yml", capsys)
    assert code == 0, err
    assert "FROM --platform=linux/mips64le ubuntu:22.04" in out


def test_selectors_for_the_other_linux_subdirs():
    conda, pip = dependencies(conda_doc(DATA / "selectors.yml", "linux-riscv64"))
    assert conda == ["python=3.11", "tbb", "patchelf", "jemalloc", "backports.zoneinfo", "numpy", "pip", "scikit-learn"]
    assert pip[0].startswith("tomli @ ") and len(pip) == 1


@pytest.mark.parametrize("platform, kept", [
    ("linux-riscv64", ["any-linux", "riscv"]), ("linux-armv7l", ["any-linux", "any-arm", "armv7"]),
    ("linux-armv6l", ["any-linux", "any-arm"]), ("linux-32", ["any-linux", "x86-32"]), ("linux-ppc64", ["any-linux", "ppc"]),
])
def test_conda_build_names_of_the_other_linux_subdirs(platform, kept, tmp_path):
    (tmp_path / "environment.yml").write_text(
        "dependencies:\n  - any-linux  # [linux]\n  - riscv  # [riscv64]\n  - any-arm  # [arm]\n  - armv7  # [armv7l]\n"
        "  - x86-32  # [linux32 and x86]\n  - ppc  # [ppc64]\n  - amd64  # [linux64]\n")
    assert dependencies(conda_doc(tmp_path / "environment.yml", platform)) == (kept, [])


@pytest.mark.parametrize("text", [
    f"channels:\n  - https://conda.anaconda.org/t/{SECRET}/private\ndependencies:\n  - python=3.11\n",
    f"dependencies:\n  - https://conda.anaconda.org/t/{SECRET}/private::python=3.11\n",
], ids=["channel", "channel::package"])
def test_an_anaconda_token_in_a_conda_file_is_refused_and_never_echoed(text, tmp_path, capsys):
    """conda reads /t/TOKEN in a channel URL as a credential (conda/common/url.py split_anaconda_token)."""
    (tmp_path / "environment.yml").write_text(text)
    code, out, err = compile_file(tmp_path / "environment.yml", capsys)
    line = text.splitlines().index(next(l for l in text.splitlines() if SECRET in l)) + 1
    assert (code, out, err.splitlines()) == (2, "", [f"environment.yml:{line}:5: error: an anaconda.org token (/t/TOKEN/) in this "
                                                       "URL would be written into the image: remove it; envc gives conda no "
                                                       "credentials, so the channel must be readable without them"])


def test_a_channel_whose_path_only_starts_with_t_is_kept(tmp_path, capsys):
    (tmp_path / "environment.yml").write_text("channels:\n  - https://example.org/tools/private\ndependencies:\n  - python=3.11\n")
    code, out, err = compile_file(tmp_path / "environment.yml", capsys)
    assert code == 0 and "https://example.org/tools/private" in out, err


def test_variables_are_set_as_conda_sets_them_upper_cased_and_without_path(tmp_path, capsys):
    """conda upper-cases variable names (envvars_force_uppercase, default True) and leaves PATH out
    (RESERVED_ENV_VARS); an ENV PATH='$PATH:...' would break every command of the image."""
    (tmp_path / "environment.yml").write_text("dependencies: [python=3.11]\nvariables:\n  PATH: $PATH:/opt/tools/bin\n"
                                              "  tf_cpp_min_log_level: '2'\n  HOME_DIR: /data\n")
    code, out, err = compile_file(tmp_path / "environment.yml", capsys)
    assert code == 0, err
    env = [c for c in dockerfile.parse_string(out) if c.cmd == "ENV"][-1].value
    assert env == ("HOME_DIR", "'/data'", "TF_CPP_MIN_LOG_LEVEL", "'2'")
    assert err.splitlines() == [
        "environment.yml:3:3: warning: 'PATH' is left out, as conda leaves it out: a conda environment cannot set PATH (its value "
        "would replace the image's PATH, `$PATH` unexpanded); the environment's bin folder is already first on PATH",
        "environment.yml:4:3: warning: 'tf_cpp_min_log_level' is set as TF_CPP_MIN_LOG_LEVEL: conda upper-cases variable names"]


def test_two_variables_that_are_one_upper_cased_are_an_error(tmp_path, capsys):
    (tmp_path / "environment.yml").write_text("dependencies: [python=3.11]\nvariables:\n  Data_Dir: /a\n  DATA_DIR: /b\n")
    code, out, err = compile_file(tmp_path / "environment.yml", capsys)
    assert (code, out, err.splitlines()) == (2, "", ["environment.yml:4:3: error: 'DATA_DIR' and 'Data_Dir' are one variable, "
                                                     "DATA_DIR: conda upper-cases variable names; keep one"])


def test_a_renamed_variable_is_still_located_where_it_was_written(tmp_path, capsys):
    (tmp_path / "environment.yml").write_text("dependencies: [python=3.11]\nvariables:\n  level: 3\n")
    code, out, err = compile_file(tmp_path / "environment.yml", capsys)
    assert code == 2 and "environment.yml:3:10: error: expected a string, got a number" in err, err


def test_empty_dependencies_and_pip_lists_are_read_as_conda_reads_them(tmp_path, capsys):
    """conda: `data.get("dependencies") or []`, and an empty pip: list is deleted while pip stays."""
    (tmp_path / "environment.yml").write_text("dependencies:\n  - python=3.10.*\n  - pip:\n")
    code, out, err = compile_file(tmp_path / "environment.yml", capsys)
    assert code == 0 and '"python=3.10.*"' in out and '"pip"' in out, err
    assert err.splitlines() == ["environment.yml:3:5: warning: 'pip:' lists nothing: conda installs pip and no pip packages"]
    (tmp_path / "environment.yml").write_text("name: nlp\nchannels:\n  - anaconda\ndependencies:\n")
    code, out, err = compile_file(tmp_path / "environment.yml", capsys)
    assert code == 0 and "conda env create" not in out, err
    assert err.splitlines() == ["environment.yml:4:1: warning: 'dependencies' is empty: there is nothing to install (conda would "
                                "create an empty environment)"]


@pytest.mark.parametrize("name, text", [
    ("environment.yml", "dependencies:\n  - python=3.11\n  - libblas=[build=*mkl]\n"),
    ("requirements.txt", "six==1.16.0\n"),
])
def test_a_utf16_file_is_read_as_conda_and_pip_read_it(name, text, tmp_path, capsys):
    """PowerShell 5's `conda env export > environment.yml` writes UTF-16 with a BOM; conda and pip decode it."""
    (tmp_path / name).write_bytes(text.encode("utf-16"))
    code, out, err = compile_file(tmp_path / name, capsys)
    assert code == 0, err
    expected = "libblas=[build=*mkl]" if name == "environment.yml" else "six==1.16.0"
    assert expected in out and "\x00" not in out and "\ufeff" not in out


def test_a_utf8_bom_in_a_requirements_file_is_not_written_into_the_image(tmp_path, capsys):
    (tmp_path / "requirements.txt").write_bytes(b"\xef\xbb\xbfsix==1.16.0\n")
    code, out, err = compile_file(tmp_path / "requirements.txt", capsys)
    assert code == 0 and "six==1.16.0" in out and "\ufeff" not in out, err


def test_a_requirements_file_that_is_not_text_is_a_located_error(tmp_path, capsys):
    (tmp_path / "requirements.txt").write_bytes(b"six\xe9\n")
    code, out, err = compile_file(tmp_path / "requirements.txt", capsys)
    assert (code, out, err.splitlines()) == (2, "", ["requirements.txt:1:4: error: invalid UTF-8: save the file as UTF-8 text"])


def test_a_per_requirement_option_in_a_conda_pip_list_says_how_to_keep_it(tmp_path, capsys):
    """conda hands its pip list to pip as a requirements file, where --hash is allowed; envc puts the list on
    pip's command line, so it refuses the line and says how to keep the hash."""
    (tmp_path / "environment.yml").write_text("dependencies:\n  - python=3.11\n  - pip\n  - pip:\n    - six==1.16.0 "
                                              "--hash=sha256:8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254\n")
    code, out, err = compile_file(tmp_path / "environment.yml", capsys)
    assert (code, out, err.splitlines()) == (2, "", [
        "environment.yml:5:7: error: --hash, --config-settings, --global-option on a pip: line are not supported: envc installs "
        "this list on pip's command line, where they cannot go; move the line to a requirements file and list it here as `-r FILE`"])


@pytest.mark.parametrize("name, text, where", [
    ("environment.yml", "channels:\n  - https://localhost/t/${CONDA_TOKEN}/stable\ndependencies:\n  - python\n", "2:5"),
    ("requirements.txt", "six @ https://files.example/${WHEELS}/six-1.16.0-py2.py3-none-any.whl\n", "1:1"),
    ("requirements.txt", "six @ https://files.example/${1X}/six-1.16.0-py2.py3-none-any.whl\n", "1:1"),
], ids=["conda channel", "pip url", "pip digits"])
def test_an_environment_variable_reference_says_where_it_would_be_expanded(name, text, where, tmp_path, capsys):
    """conda expands $VARs in channels (conda's channels_with_envvars.yml), pip ${VARS} in requirements files:
    both where they run, which for an image is the build."""
    (tmp_path / name).write_text(text)
    code, out, err = compile_file(tmp_path / name, capsys)
    variable = re.search(r"\$\{\w+\}", text).group(0)
    assert (code, out, err.splitlines()) == (2, "", [
        f"{name}:{where}: error: '{variable}' is an environment variable, which pip and conda replace where they run: in the "
        "image build, which has none of this machine's variables; write the value (a credential goes in a build secret: "
        "pip.netrc_secret for an index)"])


def test_pip_keeps_a_dollar_brace_name_that_is_not_capitals_as_written(tmp_path, capsys):
    """pip's ENV_VAR_RE expands ${NAME} only for [A-Z0-9_]+ names: `${lower}` stays in the URL, as written."""
    url = "https://files.example/${lower}/six-1.16.0-py2.py3-none-any.whl"
    (tmp_path / "requirements.txt").write_text(f"six @ {url}\n")
    code, out, err = compile_file(tmp_path / "requirements.txt", capsys)
    assert code == 0 and f"'six @ {url}'" in out, err


@pytest.mark.parametrize("item, message", [
    ("sel(linux): gcc", "'sel(linux)' is micromamba's selector, which conda refuses (it reads the key as an installer): write "
                        "the package as a plain item with a `# [linux]` selector comment, which envc applies for the image's platform"),
    ("conda: [scipy]", "'conda:' is not a pip: list: conda hands such a list to an installer plugin named 'conda'; envc installs "
                       "conda packages as plain items of dependencies and pip packages in a pip: list: move these there"),
], ids=["micromamba sel()", "installer"])
def test_a_dependency_mapping_other_than_pip_says_what_it_is(item, message, tmp_path, capsys):
    (tmp_path / "environment.yml").write_text(f"dependencies:\n  - python\n  - {item}\n")
    code, out, err = compile_file(tmp_path / "environment.yml", capsys)
    assert (code, out, err.splitlines()) == (2, "", [f"environment.yml:3:5: error: {message}"])


def test_variables_are_read_as_conda_reads_them_with_yaml_12(tmp_path, capsys):
    """conda reads environment.yml with ruamel (YAML 1.2): `yes`, `on` and `12:30:00` are strings there, booleans and
    numbers to PyYAML (YAML 1.1); `0o17`, `1e3` and `1_000` are numbers there (15, 1000.0, 1000: ruamel 0.19.1 read
    them so), strings to PyYAML but `1_000`. What is not a string in YAML 1.2 needs quotes; quoted or tagged, it is text."""
    (tmp_path / "environment.yml").write_text("dependencies: [python=3.11]\nvariables:\n  B: yes\n  C: on\n  T: 12:30:00\n"
                                              "  Q: '1e3'\n  S: !!str 0o17\n  U: _1\n")
    code, out, err = compile_file(tmp_path / "environment.yml", capsys)
    assert code == 0, err
    assert [c for c in dockerfile.parse_string(out) if c.cmd == "ENV"][-1].value == (
        "B", "'yes'", "C", "'on'", "Q", "'1e3'", "S", "'0o17'", "T", "'12:30:00'", "U", "'_1'")
    (tmp_path / "environment.yml").write_text("dependencies: [python=3.11]\nvariables:\n  B: true\n  C: 3\n  E:\n"
                                              "  N: 1_000\n  O: 0o17\n  F: 1e3\n")
    code, out, err = compile_file(tmp_path / "environment.yml", capsys)
    assert code == 2 and [line.split(": error: ")[0] for line in err.splitlines()] == [
        "environment.yml:3:6", "environment.yml:4:6", "environment.yml:5:5", "environment.yml:6:6", "environment.yml:7:6",
        "environment.yml:8:6"], err
    assert "environment.yml:8:6: error: '1e3' is a number to conda, which reads the file as YAML 1.2: quote it (\"1e3\")" in err


def test_a_package_url_in_dependencies_says_how_to_write_it(tmp_path, capsys):
    (tmp_path / "environment.yml").write_text("dependencies:\n  - https://conda.anaconda.org/conda-forge/linux-64/zstd-1.5.5-hfc55251_0.conda\n")
    code, out, err = compile_file(tmp_path / "environment.yml", capsys)
    assert (code, out, err.splitlines()) == (2, "", [
        "environment.yml:2:5: error: 'zstd-1.5.5-hfc55251_0.conda' is a package file's URL, which envc does not take in "
        "dependencies: write it as a spec (channel::name=version=build), or list the URL in an explicit lock file (conda.lock) "
        "as conda's @EXPLICIT does"])


def test_a_hash_inside_a_package_spec_starts_a_comment_as_conda_reads_it(tmp_path, capsys):
    """YAML needs a blank before a comment, so `numpy=1.26#pinned` is one string; conda's MatchSpec drops
    everything from its first '#' (conda/models/match_spec.py, _parse_spec_str, step 1)."""
    (tmp_path / "environment.yml").write_text("dependencies:\n  - python=3.11\n  - numpy=1.26#pinned for abi\n  - six # yaml\n"
                                              "  - attrs=23.1#\n")
    code, out, err = compile_file(tmp_path / "environment.yml", capsys)
    assert code == 0 and '"numpy=1.26"' in out and "pinned" not in out and '"six"' in out and '"attrs=23.1"' in out, err
    assert err.splitlines() == ["environment.yml:3:5: warning: '#pinned for abi' is a comment to conda, which reads this "
                                "package as 'numpy=1.26': put a blank before '#' to make it a YAML comment",
                                "environment.yml:5:5: warning: '#' is a comment to conda, which reads this package as "
                                "'attrs=23.1': put a blank before '#' to make it a YAML comment"]


def _locked(name, category, url, md5):
    return (f"- name: {name}\n  version: '1'\n  manager: conda\n  platform: linux-64\n  dependencies: {{}}\n  url: {url}\n"
            f"  hash:\n    md5: {md5}\n  category: {category}\n  optional: {'false' if category == 'main' else 'true'}\n")


def test_a_conda_lock_yml_installs_main_and_dev_and_names_the_extras_it_leaves_out(tmp_path, capsys):
    """`conda-lock install` installs main and dev (--dev is its default: DEFAULT_INSTALL_OPT_DEV) and an extra category
    only with -e NAME; a v1 lock writes a package once per category it is in (`to_v1`), so it is listed once."""
    forge = "https://conda.anaconda.org/conda-forge/linux-64"
    packages = [("python", "main", f"{forge}/python-3.11.6-hab00c5b_0_cpython.conda", MD5),
                ("ccache", "dev", f"{forge}/ccache-4.10.1-h065aff2_0.conda", "d6b48c138e0c8170a6fe9c136e063540"),
                ("zstd", "main", f"{forge}/zstd-1.5.6-ha6fb4c9_0.conda", "4d056880988120e29d75bfff282e0f45"),
                ("zstd", "dev", f"{forge}/zstd-1.5.6-ha6fb4c9_0.conda", "4d056880988120e29d75bfff282e0f45"),
                ("pyqt", "gui", f"{forge}/pyqt-5.15.9-py311hf0fb5b6_5.conda", "ec7e45bc76d9d0b69a74a2075932b8e8")]
    text = "version: 1\nmetadata:\n  platforms: [linux-64]\npackage:\n" + "".join(_locked(*p) for p in packages)
    (tmp_path / "conda-lock.yml").write_text(text)
    code, out, err = compile_file(tmp_path / "conda-lock.yml", capsys)
    assert code == 0, err
    written = [word for c in dockerfile.parse_string(out) if c.cmd == "RUN" for word in shlex.split(c.value[0])]
    assert [w for w in written if w.startswith("https://")] == [f"{url}#{md5}" for _, _, url, md5 in packages[:3]]
    assert err.splitlines() == ["conda-lock.yml:1:1: warning: 1 package of the extra category gui is left out, as `conda-lock "
                                "install` leaves them out unless asked with -e NAME (main and dev are installed): lock them as "
                                "main or dev to install them"]


def test_a_pre_release_conda_lock_yml_with_string_hashes_is_one_error_at_the_first(tmp_path, capsys):
    (tmp_path / "conda-lock.yml").write_text(
        "version: 1\nmetadata:\n  platforms: [linux-64]\npackage:\n" + 2 * f"- name: python\n  manager: conda\n  platform: linux-64\n  url: {URL}\n  hash: md5:{MD5}\n")
    code, out, err = compile_file(tmp_path / "conda-lock.yml", capsys)
    assert (code, out, err.splitlines()) == (2, "", [
        "conda-lock.yml:9:9: error: a hash written as one string ('md5:…') is the form of conda-lock's pre-release locks, which "
        "conda-lock itself no longer reads (it expects md5: and sha256: keys): recreate the lock with a current conda-lock"])


def test_an_old_conda_lock_render_continues_a_pip_package_onto_its_hash_line(tmp_path, capsys):
    """conda-lock before 1.0 wrote `# pip NAME @ URL \\` and `# pip      --hash=sha256:HEX` (AmpelAstro/Ampel-HU-astro);
    `conda-lock install` hands both lines to pip's -r file, which joins them."""
    wheel = "https://files.pythonhosted.org/packages/d9/5a/six-1.16.0-py2.py3-none-any.whl"
    (tmp_path / "conda-linux-64.lock").write_text(f"# Generated by conda-lock.\n@EXPLICIT\n{URL}#{MD5}\n"
                                                  f"# pip six @ {wheel} \\\n# pip      --hash=sha256:{SHA}\n")
    code, out, err = compile_file(tmp_path / "conda-linux-64.lock", capsys)
    assert code == 0 and err == "", err
    assert f"'six @ {wheel} --hash=sha256:{SHA}'" in out


def test_a_single_colon_is_a_namespace_conda_ignores_not_a_channel(tmp_path, capsys):
    """nf-core/modules writes `bioconda:bcftools=1.20`: conda's MatchSpec splits `rsplit(":", 2)` and drops the
    namespace, installing bcftools=1.20 from the file's channels; `::` names a channel."""
    (tmp_path / "environment.yml").write_text("channels: [conda-forge, bioconda]\ndependencies:\n  - bioconda::jvarkit=2024.08.25\n"
                                              "  - bioconda:bcftools=1.20\n  - numpy[version=\">=1.0\"]\n")
    code, out, err = compile_file(tmp_path / "environment.yml", capsys)
    assert code == 0 and '"bioconda::jvarkit=2024.08.25"' in out and '"bcftools=1.20"' in out, err
    assert '"numpy[version=\\">=1.0\\"]"' in out
    assert err.splitlines() == ["environment.yml:4:5: warning: conda reads 'bioconda:' as a namespace, which it ignores, and "
                                "installs 'bcftools=1.20' from the file's channels: write 'bioconda::bcftools=1.20' to take it "
                                "from that channel"]
