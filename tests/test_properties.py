"""Property tests: for generated specs, the Dockerfile parses, has the instructions the IR says,
and every value survives exactly; for generated invalid input, a located error and exit 2.

Values are read back with independent lexers: Python's shlex for RUN (a POSIX shell
lexer) and json for exec form; ENV/LABEL words with BuildKit's quoting rules.
"""
import json
import os
import re
import shlex

import dockerfile
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dockerfile_reading import buildkit_pairs, expected_instructions
from spec_strategies import environments, leaf_paths, mutate, specs, write_environment
from envc.frontends.cli import main
from envc.core.pipeline import compile_spec

PROFILE = settings(max_examples=int(os.environ.get("ENVC_HYPOTHESIS_EXAMPLES", "150")), deadline=None,
                   suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def test_the_generator_covers_every_leaf_key_of_the_schema():
    """A new key in the schema is generated (and so compiled, read back and reordered) or this fails."""
    from envc.common.schema import leaf_keys

    seen = set()

    @settings(max_examples=400, derandomize=True, database=None, deadline=None)
    @given(environment=environments())
    def collect(environment):
        seen.update(leaf_paths(environment[0]))

    collect()
    assert seen == set(leaf_keys())


@PROFILE
@given(environment=environments())
def test_valid_specs_compile_exactly(environment, tmp_path_factory):
    spec = environment[0]
    compiled = compile_spec(write_environment(tmp_path_factory.mktemp("spec"), environment))
    commands = dockerfile.parse_string(compiled.dockerfile)
    assert [c.cmd for c in commands] == expected_instructions(compiled.image)
    env = [c for c in commands if c.cmd == "ENV"]
    got_env = dict(buildkit_pairs(env[-1])) if spec.get("env") else {}  # the user's ENV comes last
    for key, value in spec.get("env", {}).items():
        assert got_env[key] == value
    labels = [c for c in commands if c.cmd == "LABEL"]
    got_labels = dict(buildkit_pairs(labels[0])) if labels else {}
    assert got_labels == spec.get("labels", {})
    if spec.get("init", {}).get("command"):
        assert json.loads(commands[-1].original.split(" ", 1)[1]) == spec["init"]["command"]
    if "pip" in spec:
        pip_run = next(c for c in commands if c.cmd == "RUN" and " pip install " in c.value[0] and "uv==" not in c.value[0])
        words, packages = shlex.split(pip_run.value[0]), spec["pip"]["packages"]
        assert any(words[i:i + len(packages)] == packages for i in range(len(words)))  # in order, each one word
    if "system" in spec:
        words = shlex.split(next(c for c in commands if c.cmd == "RUN" and "apt-get" in c.value[0]).value[0])
        assert set(spec["system"]["apt"]) <= set(words)


@PROFILE
@given(environment=environments())
def test_output_does_not_depend_on_key_order(environment, tmp_path_factory):
    spec, files = environment
    forward = write_environment(tmp_path_factory.mktemp("a"), environment)
    reordered = {k: (dict(reversed(list(v.items()))) if isinstance(v, dict) else v) for k, v in reversed(list(spec.items()))}
    backward = write_environment(tmp_path_factory.mktemp("b"), (reordered, files))
    backward.write_text("# comment\n" + yaml.safe_dump(reordered, sort_keys=False, allow_unicode=True), encoding="utf-8")
    assert compile_spec(forward).dockerfile == compile_spec(backward).dockerfile


def assert_clean_failure(code, err):
    assert "internal error" not in err and "Traceback" not in err, err
    assert code in (0, 2), err
    if code == 2:
        lines = [line for line in err.splitlines() if line.strip()]
        assert lines
        assert all(re.match(r"^.+:\d+:\d+: (error|warning): \S", line) for line in lines), err


@PROFILE
@given(spec=specs, data=st.data())
def test_mutated_specs_fail_cleanly(spec, data, tmp_path, capsys):
    path = tmp_path / "envc.yml"
    path.write_text(yaml.safe_dump(mutate(spec, data), allow_unicode=True), encoding="utf-8")
    code = main(["compile", str(path)])
    assert_clean_failure(code, capsys.readouterr().err)


@PROFILE
@given(source=st.text(max_size=200) | st.binary(max_size=200))
def test_arbitrary_input_fails_cleanly(source, tmp_path, capsys):
    path = tmp_path / "envc.yml"
    path.write_bytes(source.encode("utf-8", "surrogatepass") if isinstance(source, str) else source)
    code = main(["compile", str(path)])
    assert_clean_failure(code, capsys.readouterr().err)


@PROFILE
@given(source=st.lists(st.sampled_from(["name: x", "conda:", "  dependencies:", "  - python=3.10", "  - pip:", "    - requests",
                                        "pip:", "  packages: [a, b]", "env:", "  A: '1'", "  A: 2", "base: {image: x}",
                                        "init: {command: x}", "- y", "  ", "\t", "?", "&a [1]", "*a", "!!python/object:os.system x",
                                        "labels: {a: b}", "python: {user_managed: true}", "system: {apt: [git]}"]), max_size=10))
def test_yaml_fragments_fail_cleanly(source, tmp_path, capsys):
    path = tmp_path / "envc.yml"
    path.write_text("\n".join(source), encoding="utf-8")
    code = main(["compile", str(path)])
    assert_clean_failure(code, capsys.readouterr().err)
