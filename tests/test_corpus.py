"""Every file of the real-world corpus compiles, or fails with a located error.

131 conda and requirements files, and 13 Azure ML CLI v2 environment YAMLs, which all compile
(image, conda_file or a build context whose COPY sources are rebased onto the YAML's folder).
"""
import re

import dockerfile
import pytest
import yaml

from conftest import CORPUS, run_envc

LOCATED = re.compile(r"^[^:\n]+:\d+:\d+: error: \S")


def corpus_files(azureml_v2=False):
    """The conda and requirements files, or (azureml_v2) the Azure ML CLI v2 environment YAMLs."""
    if not CORPUS.is_dir():
        pytest.fail(f"corpus not found at {CORPUS}: the tests need ../shared/corpus next to the checkout")
    files = sorted(p for p in CORPUS.rglob("*") if p.suffix in (".yml", ".yaml", ".txt") and p.is_file())
    return [p for p in files if (p.suffix != ".txt" and "azuremlschemas" in p.read_text()) == azureml_v2]


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


def test_corpus_azureml_v2_environments_compile(capsys):
    files = corpus_files(azureml_v2=True)
    assert len(files) == 13
    for path in files:
        code, out, err = run_envc(["compile", path.relative_to(CORPUS)], CORPUS, capsys)
        assert code == 0, (path, err)
        assert dockerfile.parse_string(out), path
        spec = yaml.safe_load(path.read_text())
        if "build" in spec:  # the context's Dockerfile is the first stage
            context = path.parent / spec["build"]["path"]
            first_from = re.search(r"^FROM .*$", (context / spec["build"].get("dockerfile_path", "Dockerfile")).read_text(), re.M)
            assert first_from.group(0) in out.splitlines(), path
        else:
            assert f"FROM {spec['image']}" in out.splitlines(), path
    out = run_envc(["compile", "cli/assets/environment/docker-context.yml"], CORPUS, capsys)[1]
    assert "COPY docker-contexts/python-and-pip/requirements.txt ." in out
    out = run_envc(["compile", "best-practices/largescale-deep-learning/Training/Bert-Pretrain/src/environment/env.yml"],
                   CORPUS, capsys)[1]
    assert "hpcx='2.10'" in out and "cuda='11.7'" in out  # tags as written, not as YAML numbers


def test_corpus_output_is_deterministic(capsys):
    for path in corpus_files()[::7] + corpus_files(azureml_v2=True)[::3]:
        first = run_envc(["compile", path.relative_to(CORPUS)], CORPUS, capsys)
        second = run_envc(["compile", str(path)], "/", capsys)
        assert first[:2] == second[:2], path
