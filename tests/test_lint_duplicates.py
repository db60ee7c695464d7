"""`envc lint` on packages listed twice, markers, and conda/pip overlaps (issue 12, item 9).

An error only where the install would fail (no version satisfies both entries); entries whose
markers cannot hold at once are not duplicates; a line whose marker never holds in a Linux image
is not installed. Lines marked "real" are copied from the files under tests/realworld.
"""
import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import run_envc
from envc.core.lint import _satisfiable

BASE = "u:1@sha256:" + "a" * 64
COVERAGE = ['coverage==7.13.5; python_version >= "3.10"', 'coverage==7.10.7; python_version < "3.10"']  # real
NUMBA = ["numba == 0.60.0; python_version == '3.9'", "numba == 0.61.2; python_version > '3.9'"]  # real: vllm cpu.txt


def lint(folder, capsys, requirements=(), conda=(), *args):
    """(exit code, [(severity, line, message)]) of `envc lint`, without the not-pinned warnings."""
    spec = f"name: x\nbase: {{image: '{BASE}'}}\n"
    if conda:
        spec += ("conda:\n  channels: [conda-forge, nodefaults]\n  dependencies:\n" + "".join(f"    - {c}\n" for c in conda)
                 + f"  micromamba_image: 'm:1@sha256:{'b' * 64}'\n")
    if requirements:
        spec += "pip:\n  requirements: [requirements.txt]\n"
        (folder / "requirements.txt").write_text("".join(line + "\n" for line in requirements))
    (folder / "envc.yml").write_text(spec)
    code, out, err = run_envc(["lint", "envc.yml", "--format", "json", *args], folder, capsys)
    assert code != 2, err
    return code, [(d["severity"], d["line"], d["message"]) for d in json.loads(out) if "not pinned" not in d["message"]]


@pytest.mark.parametrize("lines", [
    COVERAGE,
    NUMBA,
    ["typing_extensions>=4.6.0; python_version<'3.15'", "typing_extensions>=4.14.0; python_version>='3.15'"],  # real: mypy
    ["numpy==1.24.3; sys_platform != 'win32'", "numpy==1.22.0; sys_platform == 'win32'"],  # real: pytorch serve
    ['torch==2.6.0+cpu; platform_machine == "x86_64"', 'torch==2.6.0; platform_system == "Darwin"',  # real: vllm cpu.txt
     'torch==2.6.0; platform_machine == "ppc64le" or platform_machine == "aarch64"',
     'torch==2.7.0.dev20250304; platform_machine == "s390x"'],
    ['torchvision; platform_machine != "ppc64le" and platform_machine != "s390x"',  # real: vllm cpu.txt
     'torchvision==0.21.0; platform_machine == "ppc64le"'],
    ['pkg==1.0; extra == "test"', 'pkg==2.0; extra == "docs"'],
    ['pkg==1.0; platform_system == "Windows"', 'pkg==2.0; platform_system == "Linux"'],
    ['pkg==1.0; python_full_version < "3.11.4"', 'pkg==2.0; python_full_version >= "3.11.4"'],
], ids=["coverage", "numba", "typing-extensions", "numpy-win32", "torch-4-lines", "torchvision", "extras", "windows",
        "full-version"])
def test_entries_whose_markers_exclude_each_other_are_not_duplicates(lines, tmp_path, capsys):
    assert lint(tmp_path, capsys, lines) == (0, [])


@pytest.mark.parametrize("lines, line", [
    (['pkg==1.0; python_version >= "3.8"', 'pkg==2.0; python_version < "3.10"'], 2),  # both hold on 3.8 and 3.9
    (['pkg==1.0; platform_machine == "aarch64"', "pkg==2.0"], 2),
    (['pkg==1.0; extra == "test"', "pkg==2.0"], 2),
    (['pkg==1.0; python_full_version >= "3.11.2"', 'pkg==2.0; python_full_version < "3.11.4"'], 2),  # 3.11.2, 3.11.3
    (['pkg==1.0; sys_platform == "linux"', 'pkg==2.0; os_name == "posix" and platform_python_implementation == "CPython"'], 2),
], ids=["python-overlap", "machine", "extra", "full-version-overlap", "linux"])
def test_entries_whose_markers_can_hold_at_once_still_conflict(lines, line, tmp_path, capsys):
    code, found = lint(tmp_path, capsys, lines)
    assert code == 1
    assert found == [("error", line, f"'pkg' listed twice in pip and no version satisfies both: '{lines[0]}' "
                                     f"(at requirements.txt:1:1) and '{lines[1]}'; keep one")]


@pytest.mark.parametrize("python, applies", [
    ("python=3.9", NUMBA[0]), ("python==3.9.*", NUMBA[0]), ("python>=3.10,<3.12", NUMBA[1]), ("python 3.11.*", NUMBA[1]),
    ("python==3.9.18=h0755675_0_cpython", NUMBA[0]),
])
def test_the_conda_python_pin_decides_which_marked_line_pip_installs(python, applies, tmp_path, capsys):
    """Only the line that applies to the pinned Python meets conda's numba: a warning, not a conflict."""
    code, found = lint(tmp_path, capsys, NUMBA, [python, "numba=0.60"])
    assert code == (0 if applies == NUMBA[0] else 1)
    line = 1 + NUMBA.index(applies)
    if applies == NUMBA[0]:
        assert found == [("warning", line, "'numba' is installed by conda (at envc.yml:7:7) and again by pip: "
                                           "pip's copy replaces conda's; list it once")]
    else:
        assert ("error", line, f"'{applies}' conflicts with conda's 'numba=0.60' (at envc.yml:7:7): "
                               "no version satisfies both; align them or drop one") in found


def test_a_pin_decides_overlapping_markers(tmp_path, capsys):
    lines = ['pkg==1.0; python_version >= "3.8"', 'pkg==2.0; python_version < "3.10"']
    assert lint(tmp_path, capsys, lines, ["python=3.11"]) == (0, [])
    assert lint(tmp_path, capsys, lines, ["python=3.9"])[0] == 1


def test_coverage_meets_conda_only_where_its_marker_holds(tmp_path, capsys):
    assert lint(tmp_path, capsys, COVERAGE, ["python=3.11", "coverage=7.13"]) == (0, [(
        "warning", 1, "'coverage' is installed by conda (at envc.yml:7:7) and again by pip: pip's copy replaces conda's; list it once")])
    code, found = lint(tmp_path, capsys, COVERAGE, ["python=3.8", "coverage=7.13"])
    assert code == 1 and [line for severity, line, _ in found if severity == "error"] == [7, 2]


def test_a_line_that_never_applies_on_linux_is_not_installed(tmp_path, capsys):
    lines = ['pywin32==306; sys_platform == "win32"', 'pywin32==305; sys_platform == "win32"',
             "colorama >= 0.4.6; sys.platform == 'win32'"]  # the last: real, django's py3.txt
    code, found = lint(tmp_path, capsys, lines, ["colorama=0.4.4", "pywin32=300"], "--locked")
    assert code == 1  # the conda packages are not locked
    assert [line for _, line, _ in found] == [6, 7]  # no conflict, no duplicate, no --locked error for the pip lines
    code, out, _ = run_envc(["lint", "envc.yml"], tmp_path, capsys)
    assert "requirements.txt" not in out and "pywin32==30" not in out


@pytest.mark.parametrize("lines, tool", [
    (["Cython>=3.1", "Cython"], "pip"), (["ipython", "ipython>=7.32"], "pip"), (["numpy!=1.*", "numpy<2"], "pip"),
    (["foo===1.0", "foo==1.0.0"], "pip"), (["foo~=1.4.2", "foo>=1.4.5"], "pip"), (["foo==1.*", "foo>=1.5"], "pip"),
    (["foo>1.0", "foo<1.0.1"], "pip"),  # 1.0.0.1
    (["foo==2.0rc1", "foo>=1.0"], "pip"),  # the pin names a prerelease: pip takes it
    (["pandas", "pandas>=2.0,<2.2.3dev0"], "conda"),  # real: rapidsai cudf
    (["cython>=3.1", "Cython"], "conda"), (["python=3.11", "python>=3.10"], "conda"), (["numpy 1.25|1.26", "numpy>=1.26"], "conda"),
])
def test_a_package_listed_twice_that_one_version_satisfies_is_a_warning(lines, tool, tmp_path, capsys):
    code, found = lint(tmp_path, capsys, *((lines, ()) if tool == "pip" else ((), lines)))
    name = lines[0].split("=")[0].split(">")[0].split("!")[0].split("~")[0].split(" ")[0].lower()
    where = "requirements.txt:1:1" if tool == "pip" else "envc.yml:6:7"
    assert code == 0
    assert found == [("warning", 2 if tool == "pip" else 7, f"'{name}' listed twice in {tool}; {tool} installs a version "
                                                             f"satisfying both: '{lines[0]}' (at {where}) and '{lines[1]}'; list it once")]


@pytest.mark.parametrize("lines, tool", [
    (["numpy==1.25", "numpy>=1.26"], "pip"), (["foo===1.0", "foo>=2"], "pip"), (["foo~=1.4.2", "foo<1.4"], "pip"),
    (["foo==1.*", "foo>=2"], "pip"), (["foo!=1.*", "foo>=1.5,<2"], "pip"), (["foo==1.0+cpu", "foo==1.0+cu118"], "pip"),
    (["foo @ https://example.org/foo-1.whl", "foo @ https://example.org/foo-2.whl"], "pip"),
    (["numpy=1.25", "numpy>=1.26"], "conda"), (["numpy 1.24|1.25", "numpy>=1.26"], "conda"),
    (["numpy==1.26.4=py310h_0", "numpy==1.26.4=py311h_0"], "conda"),
])
def test_a_package_listed_twice_that_no_version_satisfies_is_an_error(lines, tool, tmp_path, capsys):
    code, found = lint(tmp_path, capsys, *((lines, ()) if tool == "pip" else ((), lines)))
    assert code == 1 and [(severity, "no version satisfies both" in message) for severity, _, message in found] == [("error", True)]


def test_two_python_versions_keep_their_message(tmp_path, capsys):
    assert lint(tmp_path, capsys, (), ["python=3.10", "python=3.11"]) == (1, [(
        "error", 7, "two python versions in conda: 'python=3.10' (at envc.yml:6:7) and 'python=3.11'; keep one")])


def test_three_entries_are_compared_pairwise(tmp_path, capsys):
    code, found = lint(tmp_path, capsys, ["numpy", "numpy>=1.20", "numpy<1.20"])
    assert code == 1
    assert [(severity, line) for severity, line, _ in found] == [("warning", 2), ("error", 3)]
    assert "'numpy>=1.20' (at requirements.txt:2:1) and 'numpy<1.20'" in found[1][2]


def test_identical_entries_and_a_url_against_a_version_are_not_errors(tmp_path, capsys):
    assert lint(tmp_path, capsys, ["six==1.16.0", "six==1.16.0"]) == (0, [])
    code, found = lint(tmp_path, capsys, ["foo @ https://example.org/foo-1.whl", "foo>=2"])
    assert code == 0 and found == [("warning", 2, "'foo' listed twice in pip: 'foo @ https://example.org/foo-1.whl' "
                                                  "(at requirements.txt:1:1) and 'foo>=2'; list it once")]


@pytest.mark.parametrize("conda, pip, conflict", [
    ("numpy=1.26", "numpy==1.25", True), ("numpy>=1.26", "numpy<1.20", True), ("numpy=1.26", "numpy>=1.26,<2", False),
    ("numpy", "numpy==1.25", False), ("numpy=1.26", 'numpy==1.25; python_version < "3.8"', True),
])
def test_conda_and_pip_conflict_only_when_no_version_satisfies_both(conda, pip, conflict, tmp_path, capsys):
    code, found = lint(tmp_path, capsys, [pip], [conda])
    assert code == (1 if conflict else 0)
    assert [severity for severity, _, _ in found] == (["error", "error"] if conflict else ["warning"])


# What a set of specifiers admits is decided on a finite grid that holds every candidate of
# _candidates for these texts: parts 0..3, up to four of them. The grid answer is the truth for
# versions of that shape; _satisfiable must give it, both ways.
TEXTS = [".".join(map(str, r)) for n in (1, 2, 3) for r in itertools.product(range(3), repeat=n)]
GRID = ["0"] + [".".join(map(str, r)) for n in (1, 2, 3, 4) for r in itertools.product(range(4), repeat=n)]
CLAUSE = st.one_of(st.tuples(st.sampled_from(["==", "!=", "<", "<=", ">", ">="]), st.sampled_from(TEXTS)).map("".join),
                   st.tuples(st.sampled_from(["==", "!="]), st.sampled_from(TEXTS)).map(lambda c: f"{c[0]}{c[1]}.*"),
                   st.sampled_from([t for t in TEXTS if "." in t]).map(lambda t: f"~={t}"))


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(CLAUSE, min_size=1, max_size=3).map(",".join), min_size=1, max_size=3))
def test_satisfiable_agrees_with_a_grid_search(specifiers):
    from packaging.specifiers import SpecifierSet

    truth = any(all(SpecifierSet(s).contains(v) for s in specifiers) for v in GRID)
    assert _satisfiable(specifiers) is truth


def test_satisfiable_cannot_tell_an_arbitrary_string():
    assert _satisfiable(["===foobar", ">=1"]) is None
