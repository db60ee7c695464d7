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
from envc.cli import main
from envc.pipeline import compile_spec

PROFILE = settings(max_examples=int(os.environ.get("ENVC_HYPOTHESIS_EXAMPLES", "150")), deadline=None,
                   suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def valid_requirement(text):
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        Requirement(text)
    except InvalidRequirement:
        return False
    return True


UNREPRESENTABLE = "".join(map(chr, [*range(0, 9), *range(10, 32), 0x7F, 0x85, 0x2028, 0x2029]))
text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters=UNREPRESENTABLE), max_size=40)
names = st.from_regex(r"\A[a-z0-9][a-z0-9._-]{0,20}\Z")
env_keys = st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_]{0,12}\Z")
label_keys = st.from_regex(r"\A[a-z0-9][a-z0-9._/-]{0,20}\Z")
package = st.from_regex(r"\A[a-z][a-z0-9]{0,8}(-[a-z0-9]{1,5})?\Z")
version = st.from_regex(r"\A[0-9]{1,2}(\.[0-9]{1,2}){0,2}\Z")
pep508 = st.builds(lambda n, ops: n + ",".join(op + v for op, v in ops), package,
                   st.lists(st.tuples(st.sampled_from(["==", ">=", "<=", "<", ">", "!=", "~="]), version), max_size=2)
                   ).filter(lambda s: valid_requirement(s))
conda_spec = st.builds(lambda n, v: f"{n}={v}" if v else n, package, st.none() | version)
apt = st.from_regex(r"\A[a-z0-9][a-z0-9+.-]{1,12}\Z")
specs = st.fixed_dictionaries({"name": names}, optional={
    "base": st.fixed_dictionaries({"image": st.sampled_from(["ubuntu:22.04", "nvidia/cuda:12.2.2-runtime-ubuntu22.04",
                                                             "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:20251130.v1"])}),
    "system": st.fixed_dictionaries({"apt": st.lists(apt, min_size=1, max_size=4)}),
    "conda": st.fixed_dictionaries({"channels": st.lists(st.sampled_from(["conda-forge", "pytorch", "nvidia", "defaults"]), unique=True, max_size=3),
                                    "dependencies": st.lists(conda_spec, min_size=1, max_size=4)}),
    "pip": st.fixed_dictionaries({"packages": st.lists(pep508, min_size=1, max_size=5)}),
    "env": st.dictionaries(env_keys, text, max_size=5),
    "labels": st.dictionaries(label_keys, text, max_size=3),
    "init": st.fixed_dictionaries({"command": st.lists(text, min_size=1, max_size=4)}),
})


@PROFILE
@given(spec=specs)
def test_valid_specs_compile_exactly(spec, tmp_path):
    path = tmp_path / "envc.yml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    compiled = compile_spec(path)
    commands = dockerfile.parse_string(compiled.dockerfile)
    assert [c.cmd for c in commands] == expected_instructions(compiled.image)
    env = [c for c in commands if c.cmd == "ENV"]
    got_env = dict(buildkit_pairs(env[-1])) if spec.get("env") else {}  # the user's ENV comes last
    for key, value in spec.get("env", {}).items():
        assert got_env[key] == value
    labels = [c for c in commands if c.cmd == "LABEL"]
    got_labels = dict(buildkit_pairs(labels[0])) if labels else {}
    assert got_labels == spec.get("labels", {})
    if "init" in spec:
        assert json.loads(commands[-1].original.split(" ", 1)[1]) == spec["init"]["command"]
    if "pip" in spec:
        pip_run = next(c for c in commands if c.cmd == "RUN" and " pip install " in c.value[0] and "uv==" not in c.value[0])
        words = shlex.split(pip_run.value[0])
        assert words[-len(spec["pip"]["packages"]):] == spec["pip"]["packages"]
    if "system" in spec:
        words = shlex.split(next(c for c in commands if c.cmd == "RUN" and "apt-get" in c.value[0]).value[0])
        assert set(spec["system"]["apt"]) <= set(words)


@PROFILE
@given(spec=specs)
def test_output_does_not_depend_on_key_order(spec, tmp_path):
    forward, backward = tmp_path / "a.yml", tmp_path / "b.yml"
    forward.write_text(yaml.safe_dump(spec, sort_keys=True, allow_unicode=True), encoding="utf-8")
    reordered = {k: (dict(reversed(list(v.items()))) if k in ("env", "labels") else v) for k, v in reversed(list(spec.items()))}
    backward.write_text("# comment\n" + yaml.safe_dump(reordered, sort_keys=False, allow_unicode=True), encoding="utf-8")
    assert compile_spec(forward).dockerfile == compile_spec(backward).dockerfile


junk = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
                    max_leaves=8)


def mutate(spec, data):
    """Replace one randomly chosen node of spec with junk, or add a junk key."""
    paths = [()]
    def walk(node, path):
        if isinstance(node, dict):
            for key, value in node.items():
                paths.append(path + (key,)); walk(value, path + (key,))
        elif isinstance(node, list):
            for i, value in enumerate(node):
                paths.append(path + (i,)); walk(value, path + (i,))
    walk(spec, ())
    target = data.draw(st.sampled_from(paths))
    replacement = data.draw(junk)
    if not target:
        spec[data.draw(st.text(max_size=12))] = replacement
        return spec
    node = spec
    for step in target[:-1]:
        node = node[step]
    node[target[-1]] = replacement
    return spec


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
