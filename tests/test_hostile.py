"""Hostile and broken input: every place a user string reaches the Dockerfile, attacked with
every character class that could smuggle an instruction, a redirect or a secret out.

Each value is either rejected with a located error (exit 2) or emitted so that the
official parser sees exactly the instructions the IR has, and the value reads back
unchanged (built-container checks for ENV and LABEL are in test_e2e.py).
"""
import json
import os
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import dockerfile
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.hostile import ATTACKS, MEMORY_BUDGET_MB, SUPPORT_FILES, write_attacks
from dockerfile_reading import buildkit_pairs, expected_instructions
from envc.frontends.cli import main
from envc.common.diagnostics import SpecError
from envc.core.pipeline import compile_spec

NASTY = ["\n", "\r", "\u2028", "\u2029", "\u0085", "\x00", "\t", "\\", "'", '"', "$VAR", "${VAR}", "$(id)", "`id`",
         ";", "&&", "|", ">", "#", "<<EOF", "-", "x" * 5000, "ünï✓", " ", "=", "*", "..", "/"]


def place(key_path, value):
    """A valid spec with value (as a whole string) at key_path; list paths end in 0."""
    spec = {"name": "hostile", "base": {"image": "ubuntu:22.04"}}
    defaults = {"conda": {"dependencies": ["python=3.10"]}, "pip": {"packages": ["six"]}, "init": {"command": ["true"]}}
    node = spec
    for i, step in enumerate(key_path[:-1]):
        if step not in node:
            node[step] = json.loads(json.dumps(defaults.get(step, {}))) if i == 0 else {}
        node = node[step]
    last = key_path[-1]
    if last == 0:
        node.clear() if isinstance(node, dict) else None
    node_value = [value] if last == 0 else value
    if last == 0:
        parent = spec
        for step in key_path[:-2]:
            parent = parent[step]
        parent[key_path[-2]] = node_value
    elif last == "<key>":
        parent = spec
        for step in key_path[:-2]:
            parent = parent[step]
        parent[key_path[-2]] = {value: "v"}
    else:
        node[last] = node_value
    return spec


def schema_places():
    """Every place a user's string can be typed, from the schema's leaf keys (so a new key is attacked
    too): a string, a list's first item, a map's key and value, a credential reference's field."""
    from envc.common.schema import leaf_keys, resolve

    places = []
    for path, node in leaf_keys().items():
        kind = node.get("type")
        if kind == "array":
            places.append(path + (0,))
        elif kind == "object" and isinstance(node.get("additionalProperties"), dict):
            places += [path + ("<key>",), path + ("V",)]
        elif kind == "object":
            places += [path + (key,) for key in resolve(node)["properties"]]
        elif kind != "boolean":
            places.append(path)
    return places


PLACES = schema_places()


def variants(nasty):
    return [nasty, f"a{nasty}b", f"a{nasty}"]


@pytest.mark.parametrize("where", PLACES, ids=lambda p: ".".join(map(str, p)))
def test_every_place_rejects_or_carries_exactly(where, tmp_path, capsys):
    injected = rejected = 0
    for nasty in NASTY:
        for value in variants(nasty):
            spec = place(where, value)
            if where == ("python", "interpreter"):
                spec.update(python={"user_managed": True, "interpreter": value})
                spec.pop("conda", None), spec.pop("pip", None)
            path = tmp_path / "envc.yml"
            text = yaml.safe_dump(spec, allow_unicode=True, width=10**6)
            path.write_text(text, encoding="utf-8")
            code = main(["compile", str(path)])
            out, err = capsys.readouterr()
            assert "internal error" not in err and "Traceback" not in err, (value, err)
            if code == 2:
                rejected += 1
                assert err and all(line.startswith(f"{path}:") for line in err.splitlines()), (value, err)
                assert all(line.split(":")[1].isdigit() and line.split(":")[2].isdigit() for line in err.splitlines())
                continue
            assert code == 0, err
            injected += check_exact(compile_spec(path), spec, where, as_yaml_reads(text, where, value))
    assert injected == 0
    assert rejected > 0 or where == ("description",)  # every place written into the image refuses at least line breaks


def as_yaml_reads(text, where, value):
    """The value as YAML itself delivers it (YAML folds U+0085 and friends in scalars)."""
    loaded = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    if where[-1] == "<key>":
        return next(iter(loaded[where[0]]))
    if where == ("python", "interpreter"):
        return loaded["python"]["interpreter"]
    for step in where:
        loaded = loaded[step]
    return loaded


def check_exact(compiled, spec, where, value) -> int:
    """0 when the parser sees exactly the IR's instructions and the value reads back unchanged."""
    commands = dockerfile.parse_string(compiled.dockerfile)
    assert [c.cmd for c in commands] == expected_instructions(compiled.image), (value, compiled.dockerfile)
    section, *_ = where
    if section in ("env", "labels"):
        instruction = [c for c in commands if c.cmd == ("ENV" if section == "env" else "LABEL")][-1]  # the user's comes last
        assert dict(buildkit_pairs(instruction)).get(where[1] if where[1] != "<key>" else value) == (value if where[1] != "<key>" else "v")
    elif where == ("init", "command", 0):
        assert json.loads(commands[-1].original.split(" ", 1)[1]) == [value]
    elif section in ("pip", "system") and where[-1] == 0 or where == ("pip", "index_url"):
        expected = value.strip() if where == ("pip", "packages", 0) else value  # pip ignores surrounding blanks, as envc does
        if where == ("pip", "packages", 0) and expected.endswith(";") and "://" not in expected:
            expected = expected[:-1].rstrip()  # and an empty marker, which pip reads as none (and uv refuses)
        assert any(c.cmd == "RUN" and expected in shlex.split(c.value[0]) for c in commands), (value, compiled.dockerfile)
    elif where == ("conda", "micromamba_image"):
        assert f"FROM {value} AS envc-micromamba" in compiled.dockerfile
    elif section == "conda" and where[1] in ("channels", "dependencies"):
        run = next(c for c in commands if c.cmd == "RUN" and "envc-environment.yml" in c.value[0])
        words = shlex.split(run.value[0])
        written = yaml.safe_load("\n".join(words[words.index("%s\\n") + 1: words.index(">")]))
        assert value in (written.get("channels", []) if where[1] == "channels" else written["dependencies"])
    elif where == ("base", "image") or where == ("name",):
        assert value in compiled.dockerfile
    elif where == ("description",):  # free text for people: never written into the image
        import tempfile

        with tempfile.TemporaryDirectory() as folder:
            bare = Path(folder, "envc.yml")
            bare.write_text(yaml.safe_dump({k: v for k, v in spec.items() if k != "description"}), encoding="utf-8")
            assert compile_spec(bare).dockerfile.splitlines()[1:] == compiled.dockerfile.splitlines()[1:]
    return 0


@settings(max_examples=int(os.environ.get("ENVC_HYPOTHESIS_EXAMPLES", "40")), deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(secret=st.from_regex(r"\A[A-Za-z0-9_~.-]{8,40}\Z").filter(lambda s: not s.isdigit()))
def test_no_secret_reaches_any_output(secret, tmp_path, capsys):
    """Credentials in every place they could be typed: refused, never echoed, never written."""
    attempts = [
        {"base": {"image": "ml/base:1", "registry": {"address": "myacr.azurecr.io", "username": secret, "password": secret}}},
        {"base": {"image": "ml/base:1", "registry": {"address": "myacr.azurecr.io", "password": {"env": "X", "value": secret}}}},
        {"pip": {"index_url": f"https://user:{secret}@pypi.example.org/simple"}},
        {"pip": {"extra_index_urls": [f"https://{secret}@pypi.example.org/simple"]}},
        {"pip": {"packages": [f"pkg @ https://user:{secret}@example.org/pkg.whl"]}},
        {"conda": {"channels": [f"https://user:{secret}@conda.example.org/channel"], "dependencies": ["python"]}},
        {"conda": {"dependencies": ["python", {"pip": [f"--extra-index-url=https://u:{secret}@x.org/simple"]}]}},
        {"pip": {"requirements": ["req.txt"]}},
    ]
    (tmp_path / "req.txt").write_text(f"--index-url https://u:{secret}@x.org/simple\nsix\n")
    for extra in attempts:
        path = tmp_path / "envc.yml"
        path.write_text(yaml.safe_dump({"name": "s", **extra}))
        target = tmp_path / "Dockerfile"
        code = main(["compile", str(path), "-o", str(target)])
        out, err = capsys.readouterr()
        assert code == 2, extra
        assert secret not in out + err and not target.exists(), (extra, err)


def test_registry_references_never_reach_the_dockerfile(tmp_path, capsys):
    path = tmp_path / "envc.yml"
    path.write_text(yaml.safe_dump({"name": "s", "base": {"image": "ml/base:1", "registry": {
        "address": "myacr.azurecr.io", "username": {"env": "ACR_USER_VAR"}, "password": {"secret": "acr_secret_id"}}}}))
    assert main(["compile", str(path)]) == 0
    out = capsys.readouterr().out
    assert "ACR_USER_VAR" not in out and "acr_secret_id" not in out and "myacr.azurecr.io/ml/base:1" in out


@pytest.mark.parametrize("name", [n for n in sorted(ATTACKS) if n not in SUPPORT_FILES])
def test_resource_attacks_fail_with_bounded_memory(name, tmp_path):
    """Timing of the same inputs is bench/hostile.py's job, not a test's."""
    write_attacks(tmp_path)
    code, err, peak_mb = run_measured(["check", name], tmp_path)
    assert code == 2 and err.startswith(name.split("/")[0]) and ": error: " in err, err
    assert "Traceback" not in err and "internal error" not in err
    assert peak_mb <= MEMORY_BUDGET_MB, f"{name}: peak RSS {peak_mb:.1f} MB"


def run_measured(args, cwd):
    """Run envc in a child process; return (exit code, stderr, peak RSS in MB of that child)."""
    probe = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:], capture_output=True, text=True, timeout=60);"
             "sys.stderr.write(r.stderr); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(r.returncode)")
    result = subprocess.run([sys.executable, "-c", probe, sys.executable, "-m", "envc", *args], cwd=cwd, capture_output=True, text=True)
    return result.returncode, result.stderr, int(result.stdout.strip()) / 1024


def test_what_the_image_copies_must_be_inside_the_build_context(tmp_path, capsys):
    """A file envc reads and writes inline may be anywhere (as Azure ML allows); one the image COPYs
    cannot be outside the build context, by a '..' path or a symlink, and the message says so."""
    outside = tmp_path / "outside.txt"
    outside.write_text("six\n")
    (tmp_path / "spec").mkdir()
    (tmp_path / "spec" / "req.txt").symlink_to(outside)
    (tmp_path / "spec" / "setup.sh").symlink_to(outside)
    (tmp_path / "spec" / "envc.yml").write_text("name: s\npip:\n  requirements: [req.txt, ../outside.txt]\ninit:\n  setup: setup.sh\n"
                                                "  run: ../outside.txt\n")
    assert main(["compile", str(tmp_path / "spec" / "envc.yml")]) == 2
    err = capsys.readouterr().err
    assert err.count("error") == 2 and "req.txt" not in err and "5:10: error: 'setup.sh' is a symlink pointing outside the build " \
        "context (the spec's folder), so the image's COPY cannot read it" in err
    assert "6:8: error: '../outside.txt' is outside the build context" in err


def test_symlink_loop_is_a_located_error(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "req.txt").symlink_to(tmp_path / "loop.txt")
    (tmp_path / "loop.txt").symlink_to(tmp_path / "req.txt")
    (tmp_path / "envc.yml").write_text("name: s\npip:\n  requirements: [req.txt]\n")
    assert main(["compile", "envc.yml"]) == 2
    err = capsys.readouterr().err
    assert "envc.yml:3:18: error: 'req.txt' cannot be used: Too many levels of symbolic links" in err
    assert str(tmp_path) not in err  # no absolute path leaks into the message


@pytest.fixture
def previous(tmp_path):
    spec = tmp_path / "envc.yml"
    spec.write_text("name: s\nenv: {A: b}\n")
    target = tmp_path / "Dockerfile"
    target.write_bytes(b"# the previous Dockerfile\n")
    return spec, target


@pytest.mark.parametrize("failure", [OSError(28, "No space left on device"), KeyboardInterrupt()], ids=["disk-full", "sigint"])
def test_interrupted_write_leaves_previous_output(previous, failure, monkeypatch, capsys):
    spec, target = previous

    def fail(fd):
        raise failure
    monkeypatch.setattr(os, "fsync", fail)  # the write has happened, the rename has not
    code = main(["compile", str(spec), "-o", str(target)])
    assert code == (130 if isinstance(failure, KeyboardInterrupt) else 2)
    assert target.read_bytes() == b"# the previous Dockerfile\n"
    assert sorted(p.name for p in spec.parent.iterdir()) == ["Dockerfile", "envc.yml"]
    assert "Traceback" not in capsys.readouterr().err


def test_real_sigint_during_compile_leaves_previous_output(previous):
    spec, target = previous
    child = subprocess.Popen([sys.executable, "-c", "import time, envc.common.atomic_write as o; w = o.write_atomic;"
                              "o.write_atomic = lambda p, t: (print('writing', flush=True), time.sleep(30), w(p, t));"
                              f"from envc.frontends.cli import main; raise SystemExit(main(['compile', {str(spec)!r}, '-o', {str(target)!r}]))"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "writing"
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=30)
    assert child.returncode == 130 and "Traceback" not in err
    assert target.read_bytes() == b"# the previous Dockerfile\n"


def test_check_never_writes(previous, capsys):
    spec, target = previous
    assert main(["compile", str(spec), "-o", str(target), "--check"]) == 1
    assert target.read_bytes() == b"# the previous Dockerfile\n"


def test_spec_error_carries_every_problem():
    with pytest.raises(SpecError):
        compile_spec("/nonexistent/envc.yml")


def test_a_large_file_a_base_dockerfile_copies_is_hashed_in_bounded_memory(tmp_path):
    (tmp_path / "models").mkdir()
    with open(tmp_path / "models" / "weights.bin", "wb") as handle:
        handle.truncate(300 * 1024 * 1024)  # sparse: 300 MB to read, no disk used
    (tmp_path / "base.Dockerfile").write_text("FROM scratch\nCOPY models/weights.bin /app/\n")
    (tmp_path / "envc.yml").write_text("name: big\nbase:\n  dockerfile: base.Dockerfile\n")
    for run in ("compile", "cache hit, which hashes the file again"):
        code, err, peak_mb = run_measured(["compile", "envc.yml", "-o", "Dockerfile"], tmp_path)
        assert code == 0, err
        assert peak_mb <= MEMORY_BUDGET_MB, f"{run}: peak RSS {peak_mb:.1f} MB for a 300 MB file"
        assert list((Path(os.environ["XDG_CACHE_HOME"]) / "envc").rglob("*.marshal")), "the compile was not cached"


def test_pyyaml_pure_python_reader_still_refuses_control_characters():
    """envc defers PyYAML's reader pattern (see envc.core.yaml_source): without libyaml the pure-Python
    loader must still find what the pattern finds."""
    code = ("import envc.core.yaml_source, yaml, re\n"
            "assert not isinstance(yaml.reader.Reader.NON_PRINTABLE, re.Pattern)\n"
            "assert yaml.load('a: b', Loader=yaml.SafeLoader) == {'a': 'b'}\n"
            "try:\n    yaml.load('a: \\x07', Loader=yaml.SafeLoader)\nexcept yaml.reader.ReaderError as e:\n"
            "    print(e.character)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.strip() == "7", result.stderr
