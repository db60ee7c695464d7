"""The result cache answers unchanged inputs without compiling, and misses on any change."""
import os
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import envc.core.pipeline
from conftest import GOLDEN
from envc.frontends.cli import main

CASE = GOLDEN / "full"  # references requirements.txt and two init scripts
REFERENCED = ["envc.yml", "requirements.txt", "scripts/setup.sh", "scripts/run.sh"]


@pytest.fixture
def spec(tmp_path, monkeypatch):
    folder = tmp_path / "case"
    shutil.copytree(CASE, folder)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.chdir(folder)
    return folder


@pytest.fixture
def compiles(monkeypatch):
    """The real compiles and checks the CLI starts (cache misses); compile_spec's own check is not counted."""
    calls, depth = [], []

    def counted(name, real):
        def run(*args):
            if not depth:
                calls.append(name)
            depth.append(name)
            try:
                return real(*args)
            finally:
                depth.pop()
        return run
    for name in ("compile_spec", "check"):
        monkeypatch.setattr(envc.core.pipeline, name, counted(name, getattr(envc.core.pipeline, name)))
    return calls


def test_unchanged_inputs_are_answered_from_the_cache(spec, compiles, capsys):
    assert main(["compile", "envc.yml", "-o", "Dockerfile.out"]) == 0
    assert main(["compile", "envc.yml", "-o", "Dockerfile.out", "--check"]) == 0
    assert main(["check", "envc.yml"]) == 0
    assert main(["compile", "envc.yml"]) == 0
    assert compiles == ["compile_spec"]
    assert capsys.readouterr().out == (spec / "Dockerfile").read_text()


def test_check_entries_do_not_answer_compiles(spec, compiles, capsys):
    assert main(["check", "envc.yml"]) == 0
    assert main(["check", "envc.yml"]) == 0
    assert main(["compile", "envc.yml"]) == 0
    assert compiles == ["check", "compile_spec"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_byte_change_in_any_referenced_file_misses(spec, compiles, capsys, data):
    main(["compile", "envc.yml"])
    target = spec / data.draw(st.sampled_from(REFERENCED))
    content = bytearray(target.read_bytes())
    at = data.draw(st.integers(0, len(content) - 1))
    content[at] = ord("#") if content[at] != ord("#") else ord(" ")
    before = len(compiles)
    target.write_bytes(bytes(content))
    main(["compile", "envc.yml"])
    assert len(compiles) == before + 1, f"{target.name} byte {at} changed but the cache answered"
    capsys.readouterr()


def test_a_file_replaced_by_a_symlink_misses(spec, compiles, tmp_path):
    """Same bytes, now read through a symlink from outside the folder (a path the result depends on)."""
    main(["check", "envc.yml"])
    outside = tmp_path / "outside.txt"
    outside.write_bytes((spec / "requirements.txt").read_bytes())
    (spec / "requirements.txt").unlink()
    (spec / "requirements.txt").symlink_to(outside)
    assert main(["check", "envc.yml"]) == 0  # a requirements file is read, not COPY'd: it may live anywhere
    assert compiles == ["check", "check"]


def test_no_cache_neither_reads_nor_fills(spec, compiles, tmp_path):
    assert main(["compile", "envc.yml", "--no-cache"]) == 0
    assert not (tmp_path / "cache").exists()
    main(["compile", "envc.yml"])
    assert main(["compile", "envc.yml", "--no-cache"]) == 0
    assert compiles == ["compile_spec"] * 3


def test_warnings_are_replayed_and_failures_never_cached(tmp_path, monkeypatch, compiles, capsys):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "environment.yml").write_text("name: x\nprefix: /home/me/env\ndependencies: [python=3.10]\n")
    (tmp_path / "bad.yml").write_text("name: Bad\n")
    for _ in range(2):
        assert main(["check", "environment.yml"]) == 0
        assert "environment.yml:2:1: warning: 'prefix' is ignored" in capsys.readouterr().err
        assert main(["check", "bad.yml"]) == 2
    assert compiles == ["check", "check", "check"]


def test_other_working_folder_is_another_entry(spec, compiles, capsys):
    main(["check", "envc.yml"])
    os.chdir(spec.parent)
    main(["check", "case/envc.yml"])
    assert compiles == ["check", "check"]


def test_unwritable_cache_only_costs_speed(spec, compiles, tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where the cache folder should be")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    assert main(["compile", "envc.yml"]) == 0
    assert main(["compile", "envc.yml"]) == 0
    assert compiles == ["compile_spec", "compile_spec"]


def test_an_edit_of_envc_itself_misses(spec, compiles, tmp_path, monkeypatch, capsys):
    import envc.services.cache

    package = tmp_path / "envc-code"  # stands in for envc's installed files, which the key covers
    package.mkdir()
    (package / "lower.py").write_text("# envc 1\n")
    monkeypatch.setattr(envc.services.cache, "_PACKAGE", str(package))
    assert main(["compile", "envc.yml", "-o", "Dockerfile"]) == 0
    assert main(["compile", "envc.yml", "-o", "Dockerfile"]) == 0
    assert compiles == ["compile_spec"]
    (package / "lower.py").write_text("# envc 1.1, with a fix\n")
    envc.services.cache._FINGERPRINTS.clear()  # as in the next process: the fingerprint is taken once per process
    assert main(["compile", "envc.yml", "-o", "Dockerfile"]) == 0
    assert compiles == ["compile_spec", "compile_spec"]
