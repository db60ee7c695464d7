"""`envc register/list/show` and NAME[:VERSION] wherever a SPEC goes: snapshots that keep compiling
to the same bytes whatever happens to their sources."""
import pytest

from conftest import run_envc

SPEC = "name: web\nbase: {image: python:3.11-slim}\npip:\n  requirements: [requirements.txt]\n"


@pytest.fixture
def registry(tmp_path, monkeypatch):
    monkeypatch.setenv("ENVC_REGISTRY", str(tmp_path / "registry"))
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "envc.yml").write_text("# my comment stays\n" + SPEC)
    (tmp_path / "src" / "requirements.txt").write_text("requests==2.32.3\n")
    return tmp_path


def test_versions_count_up_and_snapshots_keep_their_bytes(registry, capsys):
    src = registry / "src"
    first = run_envc(["compile", "envc.yml"], src, capsys)[1]
    assert run_envc(["register", "envc.yml"], src, capsys)[:2] == (0, "web:1\n")
    code, out, err = run_envc(["register", "envc.yml"], src, capsys)
    assert (code, out) == (0, "web:1\n") and "unchanged: web:1 already holds this content" in err
    (src / "requirements.txt").write_text("requests==2.32.4\n")  # a referenced file changed
    assert run_envc(["register", "envc.yml"], src, capsys)[1] == "web:2\n"
    assert run_envc(["compile", "web:1"], registry, capsys)[1] == first
    assert run_envc(["compile", "web"], registry, capsys)[1] == run_envc(["compile", "envc.yml"], src, capsys)[1]
    assert registered(run_envc(["list"], registry, capsys)[1]) == "web:2  (2 versions: 1, 2)\n"
    assert run_envc(["show", "web:1"], registry, capsys)[1] == "# my comment stays\n" + SPEC
    assert run_envc(["hash", "web:2"], registry, capsys)[1] == run_envc(["hash", "envc.yml"], src, capsys)[1]


def test_imported_inputs_are_registered_as_specs(registry, capsys):
    (registry / "src" / "environment.yml").write_text("name: Conda Env\ndependencies: [python=3.11, {pip: [six==1.16.0]}]\n")
    assert run_envc(["register", "src/environment.yml"], registry, capsys)[1] == "conda-env:1\n"
    shown = run_envc(["show", "conda-env"], registry, capsys)[1]
    assert shown.startswith("# Registered by envc 0.1.0 from src/environment.yml.\nname: conda-env\n")
    expected = run_envc(["compile", "src/environment.yml"], registry, capsys)[1]
    assert run_envc(["compile", "conda-env:1"], registry, capsys)[1] == expected


def test_explicit_versions(registry, capsys):
    src = registry / "src"
    assert run_envc(["register", "envc.yml", "--version", "2024.1"], src, capsys)[1] == "web:2024.1\n"
    (src / "requirements.txt").write_text("requests==2.32.4\n")
    code, out, err = run_envc(["register", "envc.yml", "--version", "2024.1"], src, capsys)
    assert code == 2 and "web:2024.1 is already registered with other content" in err
    assert run_envc(["register", "envc.yml"], src, capsys)[1] == "web:1\n"  # numbers count apart from labels
    assert run_envc(["register", "web:2024.1", "--version", "old"], src, capsys)[1] == "web:old\n"  # a copy of a version
    assert run_envc(["show", "web:old"], src, capsys)[1] == run_envc(["show", "web:2024.1"], src, capsys)[1]


def test_refusals(registry, capsys):
    (registry / "src" / "envc.yml").write_text("name: web\npip: {packages: ['requests>=>2']}\n")
    code, out, err = run_envc(["register", "src/envc.yml"], registry, capsys)
    assert code == 2 and out == "" and "src/envc.yml:2:" in err
    assert registered(run_envc(["list"], registry, capsys)[1]) == ""
    code, out, err = run_envc(["show", "web:7"], registry, capsys)
    assert code == 2 and "web:7 is not registered (registered: none yet; curated: " in err
    code, out, err = run_envc(["compile", "nothing-here:1"], registry, capsys)
    assert code == 2 and "nothing-here:1" in err


def test_a_file_of_that_name_wins(registry, capsys):
    src = registry / "src"
    run_envc(["register", "envc.yml"], src, capsys)
    (registry / "web").write_text("name: local-file\nbase: {image: ubuntu:22.04}\n")
    assert "environment 'local-file'" in run_envc(["compile", "web"], registry, capsys)[1]


def test_a_file_changed_while_registering_is_an_error_and_nothing_is_registered(registry, capsys, monkeypatch):
    import shutil

    import envc.services.registry

    copy = shutil.copyfile

    def copy_then_edit(source, target):  # the user saves the file between envc's hash and its copy
        copy(source, target)
        with open(target, "a") as handle:
            handle.write("six==1.16.0\n")
    monkeypatch.setattr(envc.services.registry.shutil, "copyfile", copy_then_edit)
    code, out, err = run_envc(["register", "envc.yml"], registry / "src", capsys)
    assert code == 2 and out == "" and "requirements.txt:1:1: error: changed while it was being registered" in err
    assert registered(run_envc(["list"], registry, capsys)[1]) == ""


def registered(listing: str) -> str:
    """`envc list` without the curated environments it lists after the registered ones (tests/test_curated.py)."""
    return "".join(line for line in listing.splitlines(keepends=True) if "(curated: " not in line)
