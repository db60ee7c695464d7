"""Every folder in golden/ is a case: its spec must compile to its Dockerfile, or fail with its errors.txt.

Lowering and emission have goldens of their own: the spec must lower to ir.json (`envc compile
--emit ir`), and ir.json must render to the Dockerfile. `pytest --update-goldens` rewrites the
expected files from the current output (review the diff).
"""
import dockerfile
import pytest

from conftest import GOLDEN, golden_input, run_envc
from envc.core.emit import render
from envc.core.ir import from_json, to_json

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


@pytest.mark.parametrize("case", [c for c in CASES if not c.name.startswith("error-")], ids=lambda c: c.name)
def test_lowering_golden(case, capsys, update_goldens):
    """The spec lowers to exactly ir.json: a change in lowering shows up here, apart from emission."""
    spec = golden_input(case)
    code, out, err = run_envc(["compile", spec.name, "--emit", "ir"], case, capsys)
    assert code == 0, err
    if update_goldens:
        (case / "ir.json").write_text(out)
    assert out == (case / "ir.json").read_text()


@pytest.mark.parametrize("case", [c for c in CASES if not c.name.startswith("error-")], ids=lambda c: c.name)
def test_emission_golden(case):
    """ir.json renders to exactly the Dockerfile, and reads back to the same IR."""
    text = (case / "ir.json").read_text()
    image = from_json(text)
    assert to_json(image) == text
    assert render(image) == (case / "Dockerfile").read_text()
