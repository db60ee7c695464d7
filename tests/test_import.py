"""`envc import`: every input envc understands becomes a spec that compiles to the same bytes."""
import json
import shutil

import pytest

from conftest import CORPUS, REPO, run_envc

TRICKY = {"QUOTES": "it's \"quoted\"", "DOLLAR": "$HOME and ${PATH}", "VERSION": "3.10", "BOOLISH": "yes",
          "UNICODE": "naïve ☃", "EMPTY": "", "SPACES": "  padded  ", "HASH": "a # not a comment"}


@pytest.fixture(scope="module")
def corpus_copy(tmp_path_factory):
    """A writable copy of the corpus (the original is read-only)."""
    root = tmp_path_factory.mktemp("corpus")
    shutil.copytree(CORPUS, root / "corpus")
    return root / "corpus"


def test_every_corpus_input_imports_to_a_spec_compiling_to_the_same_bytes(corpus_copy, capsys):
    sources = sorted(p for p in corpus_copy.rglob("*") if p.suffix in (".yml", ".yaml", ".txt") and p.is_file())
    imported = 0
    for source in sources:
        code, expected, _ = run_envc(["compile", source.name], source.parent, capsys)
        if code != 0:
            continue  # the one corpus file envc rejects (see test_corpus.py) cannot be imported either
        spec = source.with_name(f"{source.stem}.envc.yml")
        code, out, err = run_envc(["import", source.name, "-o", spec.name], source.parent, capsys)
        assert code == 0 and out == "", (source, err)
        code, got, err = run_envc(["compile", spec.name], source.parent, capsys)
        assert code == 0, (source, spec.read_text(), err)
        assert got == expected, source
        imported += 1
    assert imported == 143


def test_values_survive_exactly(tmp_path, capsys):
    variables = "".join(f"  {name}: {json.dumps(value, ensure_ascii=False)}\n" for name, value in TRICKY.items())
    (tmp_path / "environment.yml").write_text(f"name: Tricky Env\ndependencies: [python=3.10]\nvariables:\n{variables}",
                                              encoding="utf-8")
    expected = run_envc(["compile", "environment.yml"], tmp_path, capsys)[1]
    assert run_envc(["import", "environment.yml", "-o", "envc.yml"], tmp_path, capsys)[0] == 0
    assert run_envc(["compile", "envc.yml"], tmp_path, capsys)[1] == expected
    import yaml
    assert yaml.safe_load((tmp_path / "envc.yml").read_text(encoding="utf-8"))["env"] == TRICKY


def test_paths_are_rewritten_for_a_spec_written_above_the_source(tmp_path, capsys):
    (tmp_path / "env" / "ctx").mkdir(parents=True)
    (tmp_path / "env" / "azureml.yml").write_text(
        "$schema: https://azuremlschemas.azureedge.net/latest/environment.schema.json\n"
        "name: e\nbuild: {path: ctx}\n")
    (tmp_path / "env" / "ctx" / "Dockerfile").write_text("FROM python:3.11-slim\nCOPY app.py /app.py\n")
    (tmp_path / "env" / "ctx" / "app.py").write_text("print(1)\n")
    code, out, err = run_envc(["import", "env/azureml.yml", "-o", "envc.yml"], tmp_path, capsys)
    assert code == 0, err
    text = (tmp_path / "envc.yml").read_text()
    assert text.splitlines()[0] == "# Imported by envc 0.1.0 from env/azureml.yml: edit this spec from now on."
    assert "  dockerfile: env/ctx/Dockerfile\n  context: env/ctx\n" in text
    assert "COPY env/ctx/app.py /app.py" in run_envc(["compile", "envc.yml"], tmp_path, capsys)[1]


def test_files_named_in_a_conda_pip_list_are_rewritten_too(tmp_path, capsys):
    (tmp_path / "sub" / "wheels").mkdir(parents=True)
    (tmp_path / "sub" / "requirements.txt").write_text("six\n")
    (tmp_path / "sub" / "c.txt").write_text("six<2\n")
    (tmp_path / "sub" / "environment.yml").write_text(
        "name: x\ndependencies:\n  - python=3.11\n  - pip:\n    - -r requirements.txt  # the app's\n"
        "    - --constraint=c.txt\n    - --find-links ./wheels\n    - --find-links https://example.org/links\n    - idna\n")
    code, _, err = run_envc(["import", "sub/environment.yml", "-o", "envc.yml"], tmp_path, capsys)
    assert code == 0, err
    assert ("  - pip:\n    - -r sub/requirements.txt\n    - --constraint=sub/c.txt\n"
            "    - --find-links sub/wheels\n    - --find-links https://example.org/links\n    - idna\n") in (tmp_path / "envc.yml").read_text()
    assert run_envc(["check", "envc.yml"], tmp_path, capsys)[::2] == (0, "")


@pytest.mark.parametrize("files, args, message", [
    ({"envc.yml": "name: e\n"}, ["envc.yml"], "envc.yml:1:1: error: is already an envc spec: nothing to import"),
    ({"requirements.txt": "six\n"}, ["requirements.txt", "-o", "requirements.txt"], "-o names the file being imported"),
    ({"environment.yml": "name: e\ndependencies: [numpy>=1.2 <2]\n"}, ["environment.yml", "-o", "out.yml"],
     "environment.yml:2:27: error: unexpected '<'"),
    ({"sub/requirements.txt": "six\n"}, ["sub/requirements.txt", "-o", "other/out.yml"],
     "error: 'requirements.txt' would be outside the new spec's folder"),
])
def test_refusals_write_nothing(tmp_path, capsys, files, args, message):
    for relative, text in files.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text)
    (tmp_path / "other").mkdir()
    (tmp_path / "out.yml").write_text("keep me\n")
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    code, out, err = run_envc(["import", *args], tmp_path, capsys)
    assert code == 2 and out == "" and message in err, err
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before
