"""Every conda and requirements file of the real-world corpus compiles, or fails with a located error.

The Azure ML CLI v2 environment YAMLs are a later importer's job and are counted apart.
"""
import re

import dockerfile
import pytest

from conftest import CORPUS, run_envc

LOCATED = re.compile(r"^[^:\n]+:\d+:\d+: error: \S")


def corpus_files():
    if not CORPUS.is_dir():
        pytest.fail(f"corpus not found at {CORPUS}: the tests need ../shared/corpus next to the checkout")
    files = sorted(p for p in CORPUS.rglob("*") if p.suffix in (".yml", ".yaml", ".txt") and p.is_file())
    return [p for p in files if p.suffix == ".txt" or "azuremlschemas" not in p.read_text()]


def test_corpus(capsys):
    files = corpus_files()
    compiled, located = [], []
    for path in files:
        code, out, err = run_envc(["compile", path.relative_to(CORPUS)], CORPUS, capsys)
        assert "internal error" not in err and "Traceback" not in err, (path, err)
        if code == 0:
            assert dockerfile.parse_string(out), path
            compiled.append(path)
        else:
            assert code == 2, (path, err)
            lines = err.splitlines()
            assert lines and all(LOCATED.match(line) for line in lines if ": error: " in line), (path, err)
            located.append((path, err))
    with capsys.disabled():
        print(f"\ncorpus: {len(files)} conda/requirements files: {len(compiled)} compiled, {len(located)} rejected with located errors")
        for path, err in located:
            print(f"  {err.strip()}")
    assert len(files) == 131
    # Each rejection names a real problem in that file (reviewed by hand; update with care).
    assert [str(p.relative_to(CORPUS)) for p, _ in located] == ["sdk/python/foundation-models/system/import/requirements.txt"]
    assert "requirements.txt:1:1: error: unexpected \"'\": expected a pip option or a requirement" in located[0][1]


def test_corpus_output_is_deterministic(capsys):
    for path in corpus_files()[::7]:
        first = run_envc(["compile", path.relative_to(CORPUS)], CORPUS, capsys)
        second = run_envc(["compile", str(path)], "/", capsys)
        assert first[:2] == second[:2], path
