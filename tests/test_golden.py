"""Every folder in golden/ is a case: its spec must compile to its Dockerfile, or fail with its errors.txt.

`pytest --update-goldens` rewrites the expected files from the current output (review the diff).
"""
import dockerfile
import pytest

from conftest import GOLDEN, golden_input, run_envc

CASES = sorted(p for p in GOLDEN.iterdir() if p.is_dir())


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden(case, capsys, update_goldens):
    spec = golden_input(case)
    code, out, err = run_envc(["compile", spec.name], case, capsys)
    expected_errors = case.name.startswith("error-")
    if update_goldens:
        target = case / ("errors.txt" if expected_errors else "Dockerfile")
        target.write_text(err if expected_errors else out)
    assert "internal error" not in err and "Traceback" not in err
    if expected_errors:
        assert code == 2, out
        assert out == ""
        assert err == (case / "errors.txt").read_text()
        assert all(line.split(":", 3)[1].isdigit() and ": error: " in line for line in err.splitlines())
    else:
        assert code == 0, err
        assert out == (case / "Dockerfile").read_text()
        assert dockerfile.parse_string(out)  # the official BuildKit parser accepts it


def test_there_are_enough_cases():
    assert len([c for c in CASES if not c.name.startswith("error-")]) >= 15


@pytest.mark.parametrize("case", [c for c in CASES if not c.name.startswith("error-")], ids=lambda c: c.name)
def test_output_is_byte_identical_when_run_twice(case, capsys):
    spec = golden_input(case)
    first = run_envc(["compile", spec.name], case, capsys)
    second = run_envc(["compile", str(spec)], case.parent, capsys)
    assert first[1] == second[1]
