"""envc.common.package_specs: conda MatchSpecs and pip requirement lines, parsed by the generated lark parsers.

Every documented form parses to the expected fields; bad specs raise SpecSyntaxError at the right
column; for generated specs parse -> render -> parse is the identity; the generated parser modules
match their grammars; every spec of the real-world corpus parses (the one exception is named).
"""
import importlib.util
import os
import subprocess
import sys

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import CORPUS, REPO
from envc.common.package_specs import (
    KNOWN_SUBDIRS, MATCHSPEC_KEYS, MatchSpec, RequirementLine, SIMPLE_MATCHSPEC, SIMPLE_REQUIREMENT, SpecSyntaxError, parse_matchspec,
    parse_matchspec_with_grammar, parse_pip_line, parse_pip_line_with_grammar,
)
from envc.formats.requirements import logical_lines
from spec_rendering import render_matchspec, render_pip_line

PROFILE = settings(max_examples=int(os.environ.get("ENVC_HYPOTHESIS_EXAMPLES", "150")), deadline=None)
SHA = "sha256:" + "0123456789abcdef" * 4

# --------------------------------------------------------------------------------------------
# conda MatchSpec forms

CONDA_FORMS = [
    ("numpy", MatchSpec("numpy")),
    ("numpy=1.2", MatchSpec("numpy", "=1.2")),
    ("numpy==1.2.3", MatchSpec("numpy", "==1.2.3")),
    ("numpy>=1.2,<2", MatchSpec("numpy", ">=1.2,<2")),
    ("numpy 1.2.*", MatchSpec("numpy", "1.2.*")),
    ("numpy 1.2.* py37_0", MatchSpec("numpy", "1.2.*", "py37_0")),
    ("numpy=1.2=py37_0", MatchSpec("numpy", "=1.2", "py37_0")),
    ("numpy==1.2.3=py37_0", MatchSpec("numpy", "==1.2.3", "py37_0")),
    ("numpy * openblas_0", MatchSpec("numpy", "*", "openblas_0")),
    ("numpy 1.2 *", MatchSpec("numpy", "1.2", "*")),
    ("conda-forge::numpy", MatchSpec("numpy", channel="conda-forge")),
    ("conda-forge/linux-64::numpy>=1.0", MatchSpec("numpy", ">=1.0", channel="conda-forge", subdir="linux-64")),
    ("conda-forge/noarch::numpy", MatchSpec("numpy", channel="conda-forge", subdir="noarch")),
    # a channel label, not a subdir: only conda's known platform subdirs split off
    ("pytorch/label/nightly::pytorch", MatchSpec("pytorch", channel="pytorch/label/nightly")),
    ("*/linux-64::foo>=1.0", MatchSpec("foo", ">=1.0", channel="*", subdir="linux-64")),
    ("https://conda.anaconda.org/conda-forge::numpy", MatchSpec("numpy", channel="https://conda.anaconda.org/conda-forge")),
    ("numpy[version='>=1.0',build=py*]", MatchSpec("numpy", brackets=(("version", ">=1.0"), ("build", "py*")))),
    ('numpy[version=">=1.0" build_number=2]', MatchSpec("numpy", brackets=(("version", ">=1.0"), ("build_number", "2")))),
    ("numpy[version='(1.2|1.3),<2', subdir=linux-64]", MatchSpec("numpy", brackets=(("version", "(1.2|1.3),<2"), ("subdir", "linux-64")))),
    ("numpy[md5=abc,sha256=def,url='https://x/n.conda',fn=n.conda,license=BSD,channel=conda-forge]",
     MatchSpec("numpy", brackets=(("md5", "abc"), ("sha256", "def"), ("url", "https://x/n.conda"), ("fn", "n.conda"), ("license", "BSD"), ("channel", "conda-forge")))),
    ("numpy 1.2 [build=py37_0]", MatchSpec("numpy", "1.2", brackets=(("build", "py37_0"),))),
    # conda's own repr of libblas=*=*mkl (its solver messages), which conda and libmamba read: the '=' is dropped
    ("libblas=[build=*mkl]", MatchSpec("libblas", brackets=(("build", "*mkl"),))),
    ("conda-forge::blas=[build=openblas]", MatchSpec("blas", channel="conda-forge", brackets=(("build", "openblas"),))),
    ("numpy 1.2|1.3", MatchSpec("numpy", "1.2|1.3")),
    ("numpy>=1,<2|>=3", MatchSpec("numpy", ">=1,<2|>=3")),
    ("numpy !=1.2", MatchSpec("numpy", "!=1.2")),
    ("numpy~=1.2", MatchSpec("numpy", "~=1.2")),
    ("numpy>1.17.*,<1.19.2", MatchSpec("numpy", ">1.17.*,<1.19.2")),
    ("pytorch 1.2.3+cuda", MatchSpec("pytorch", "1.2.3+cuda")),
    ("pytorch=2.1.0+cu118=py3.10_cuda11.8_0", MatchSpec("pytorch", "=2.1.0+cu118", "py3.10_cuda11.8_0")),
    ("openssl 1!2.0", MatchSpec("openssl", "1!2.0")),
    ("openssl 1.0.2-beta", MatchSpec("openssl", "1.0.2-beta")),
    # blanks inside the version are dropped, as conda drops them
    ("python >=3.8 , < 3.11", MatchSpec("python", ">=3.8,<3.11")),
    ("python >= 3.8 py38_0", MatchSpec("python", ">=3.8", "py38_0")),
    ("  numpy  ", MatchSpec("numpy")),
    ("_libgcc_mutex=0.1=main", MatchSpec("_libgcc_mutex", "=0.1", "main")),
    ("*[md5=0123]", MatchSpec("*", brackets=(("md5", "0123"),))),
]


@pytest.mark.parametrize("text, expected", CONDA_FORMS, ids=[t for t, _ in CONDA_FORMS])
def test_matchspec_forms(text, expected):
    spec = parse_matchspec(text)
    assert spec == expected
    assert parse_matchspec(render_matchspec(spec)) == spec


def test_matchspec_canonical_rendering():
    assert render_matchspec(parse_matchspec("python >= 3.8 , <3.11")) == "python>=3.8,<3.11"
    assert render_matchspec(parse_matchspec("numpy=1.2=py37_0")) == "numpy=1.2=py37_0"
    assert render_matchspec(parse_matchspec("numpy 1.2 py37_0")) == "numpy 1.2 py37_0"
    assert render_matchspec(parse_matchspec('numpy[version=">=1,<2" build=py*]')) == "numpy[version='>=1,<2',build=py*]"


def test_matchspec_bracket_overrides_field():
    spec = parse_matchspec("conda-forge::numpy>=1.0[version='<2',channel=defaults]")
    assert (spec.version, spec.get("version"), spec.channel, spec.get("channel")) == (">=1.0", "<2", "conda-forge", "defaults")
    assert spec.get("build") is None and spec.get("name") == "numpy"


CONDA_ERRORS = [
    ("numpy==", 7, "unexpected end at column 7: expected a version after '=='"),
    ("numpy>=", 7, "expected a version after '>='"),
    ("numpy>=1.0 <2", 11, "unexpected '<' at column 11: expected a build string or '['"),
    ("=1.2", 0, "unexpected '=' at column 0: expected a package name"),
    ("numpy:1", 5, "unexpected ':' at column 5: expected '[', a version operator or a version"),
    ("name[version=", 13, "unexpected end at column 13: expected a value after 'version='"),
    ("numpy[version=1.0", 17, "expected"),
    ("numpy[version='>=1.0<']", 20, "unexpected '<' at column 20: expected ',', '|' or ')'"),
    ("numpy[version='(1.2|1.3']", 23, "expected"),
    ("numpy 1.2.", 9, "unexpected '.' at column 9"),
    ("numpy=1.2==3", 10, "expected a build string after '='"),
    ("numpy 1.2 py37 x", 15, "unexpected 'x' at column 15: expected '['"),
    ("numpy[bild=py*]", 6, "unknown key 'bild' at column 6: conda matches on"),
    ("numpy[version=1,version=2]", 16, "duplicate key 'version'"),
    ("numpy[version='']", 14, "empty value at column 14"),
    ("numpy[version]", 13, "expected '='"),
    ("numpy 1.2-3_4", 6, "may use '-' or '_', not both"),
    ("conda-forge::", 13, "expected a package name"),
    ("numpy\n", None, None),  # trailing blanks are fine
    ("  numpy==", 9, "at column 9"),
    ("", 0, "empty conda package spec"),
    ("numpy\n=1", 5, "line break at column 5"),
]


@pytest.mark.parametrize("text, column, message", CONDA_ERRORS, ids=[t for t, _, _ in CONDA_ERRORS])
def test_matchspec_errors(text, column, message):
    if column is None:
        parse_matchspec(text)
        return
    with pytest.raises(SpecSyntaxError) as caught:
        parse_matchspec(text)
    assert caught.value.column == column, str(caught.value)
    assert message in str(caught.value)
    assert f"column {column}" in str(caught.value)


# --------------------------------------------------------------------------------------------
# pip requirement lines

PIP_FORMS = [
    ("-r other.txt", RequirementLine("include", "other.txt")),
    ("--requirement=other.txt", RequirementLine("include", "other.txt")),
    ("--requirement other.txt", RequirementLine("include", "other.txt")),
    ("-rother.txt", RequirementLine("include", "other.txt")),
    ("-c constraints.txt", RequirementLine("constraint", "constraints.txt")),
    ("--constraint=constraints.txt", RequirementLine("constraint", "constraints.txt")),
    ("-e git+https://github.com/org/repo.git@v1#egg=repo", RequirementLine("editable", "git+https://github.com/org/repo.git@v1#egg=repo", "repo")),
    ("--editable .", RequirementLine("editable", ".")),
    ("-i https://pypi.example/simple", RequirementLine("options", options=(("--index-url", "https://pypi.example/simple"),))),
    ("--index-url=https://pypi.example/simple", RequirementLine("options", options=(("--index-url", "https://pypi.example/simple"),))),
    ("--extra-index-url https://x/simple", RequirementLine("options", options=(("--extra-index-url", "https://x/simple"),))),
    ("-f ./wheels", RequirementLine("options", options=(("--find-links", "./wheels"),))),
    ("--find-links=https://x/links", RequirementLine("options", options=(("--find-links", "https://x/links"),))),
    ("--trusted-host pypi.example", RequirementLine("options", options=(("--trusted-host", "pypi.example"),))),
    ("--no-binary :all:", RequirementLine("options", options=(("--no-binary", ":all:"),))),
    ("--only-binary=:none:", RequirementLine("options", options=(("--only-binary", ":none:"),))),
    ("--use-feature=truststore", RequirementLine("options", options=(("--use-feature", "truststore"),))),
    ("--no-index", RequirementLine("options", options=(("--no-index", None),))),
    ("--pre", RequirementLine("options", options=(("--pre", None),))),
    ("--prefer-binary", RequirementLine("options", options=(("--prefer-binary", None),))),
    ("--require-hashes", RequirementLine("options", options=(("--require-hashes", None),))),
    ("-i https://x --trusted-host x --pre", RequirementLine("options", options=(("--index-url", "https://x"), ("--trusted-host", "x"), ("--pre", None)))),
    ("requests", RequirementLine("requirement", "requests", "requests")),
    ("requests>=2.31,<3", RequirementLine("requirement", "requests>=2.31,<3", "requests")),
    ('requests[socks]>=2.31 ; python_version >= "3.8"', RequirementLine("requirement", 'requests[socks]>=2.31 ; python_version >= "3.8"', "requests")),
    ("foo @ https://x/foo-1.0.zip", RequirementLine("requirement", "foo @ https://x/foo-1.0.zip", "foo")),
    (f"requests==2.31.0 --hash={SHA}", RequirementLine("requirement", "requests==2.31.0", "requests", hashes=(SHA,))),
    (f"requests==2.31.0 --hash {SHA} --hash={SHA.upper().replace('SHA256', 'sha256')}",
     RequirementLine("requirement", "requests==2.31.0", "requests", hashes=(SHA, SHA.upper().replace("SHA256", "sha256")))),
    ("foo --config-settings key=value --global-option=-O2", RequirementLine("requirement", "foo", "foo", (("--config-settings", "key=value"), ("--global-option", "-O2")))),
    ("foo -C key=value", RequirementLine("requirement", "foo", "foo", (("--config-settings", "key=value"),))),
    ("https://x/pkg-1.0-py3-none-any.whl", RequirementLine("url", "https://x/pkg-1.0-py3-none-any.whl", "pkg")),
    ("git+https://github.com/org/repo@v1#egg=repo", RequirementLine("url", "git+https://github.com/org/repo@v1#egg=repo", "repo")),
    ("git+ssh://git@github.com/org/repo.git", RequirementLine("url", "git+ssh://git@github.com/org/repo.git")),
    ("https://x/p.whl; python_version < '3.9'", RequirementLine("url", "https://x/p.whl; python_version < '3.9'")),
    (f"https://x/p.tar.gz --hash={SHA}", RequirementLine("url", "https://x/p.tar.gz", hashes=(SHA,))),
    ("./local/pkg", RequirementLine("path", "./local/pkg")),
    (".", RequirementLine("path", ".")),
    ("dist/pkg-1.0.whl", RequirementLine("path", "dist/pkg-1.0.whl")),
]


@pytest.mark.parametrize("text, expected", PIP_FORMS, ids=[t for t, _ in PIP_FORMS])
def test_pip_line_forms(text, expected):
    line = parse_pip_line(text)
    assert line == expected
    assert parse_pip_line(render_pip_line(line)) == line


PIP_ERRORS = [
    ("-r", 2, "unexpected end at column 2: expected a requirements file after '-r'"),
    ("--requirement=", 14, "expected a requirements file after '--requirement='"),
    ("-r=x", 2, "expected a requirements file after '-r'"),
    ("--index-url --pre", 12, "unexpected '--pre' at column 12: expected a URL after '--index-url'"),
    ("--pre=1", 5, "unexpected '=' at column 5"),
    ("--prre", 0, "unknown pip option '--prre' at column 0 (did you mean '--pre'?)"),
    ("--install-option=x", 0, "unknown pip option '--install-option'"),
    ("requests --hash=md5", 16, "unexpected 'md5' at column 16: expected a hash (sha256:HEX) after '--hash='"),
    ("requests --hash", 15, "expected a hash (sha256:HEX) after '--hash'"),
    ("--hash=md5", 0, "option '--hash' at column 0 belongs after a requirement"),
    ("requests --hash=md5:0123", 16, "unsupported hash 'md5' at column 16: pip accepts sha256, sha384, sha512"),
    ("requests --hash=sha256:0123", 16, "sha256 hash at column 16 has 4 hex digits: expected 64"),
    ("requests --pre", 9, "option '--pre' at column 9 cannot follow a requirement"),
    ('requests --global-option', 24, "expected a value after '--global-option'"),
    ('--global-option="--no-user-cfg"', 0, "belongs after a requirement"),
    ("requests>=2.31 pyyaml", 15, "unexpected 'pyyaml' at column 15: expected comma (within version specifier)"),
    ("numpy==", 7, "unexpected end at column 7: expected a version after '=='"),
    ("numpy>=1.0 <2", 11, "unexpected '<' at column 11"),
    ("  numpy[bar", 11, "at column 11"),
    ("foo; python_version >< '3'", 21, "at column 21"),
    ("https://x/p.whl; python_version >< '3'", 33, "at column 33"),
    ("'jsonpickle',", 0, "unexpected \"'\" at column 0: expected a pip option or a requirement"),
    ("-r a.txt -r b.txt", 9, "'-r' at column 9 must start its own line"),
    ("--pre -e .", 6, "'-e' at column 6 must start its own line"),
    ("", 0, "empty requirements line"),
]


@pytest.mark.parametrize("text, column, message", PIP_ERRORS, ids=[t for t, _, _ in PIP_ERRORS])
def test_pip_line_errors(text, column, message):
    with pytest.raises(SpecSyntaxError) as caught:
        parse_pip_line(text)
    assert caught.value.column == column, str(caught.value)
    assert message in str(caught.value)


# --------------------------------------------------------------------------------------------
# Properties: parse -> render -> parse is the identity

def version_text():
    component = st.one_of(st.from_regex(r"\A[0-9]{1,4}\Z"), st.from_regex(r"\A[0-9]{0,2}[a-z]{1,4}[0-9]{0,2}\Z"))
    release = st.lists(component, min_size=1, max_size=4).map(".".join)
    return st.tuples(
        st.sampled_from(["", "", "", "1!", "2!"]), release, st.sampled_from(["", "", ".*", "*"]),
        st.sampled_from(["", "", "+cuda", "+cu118.post1"]),
    ).map(lambda t: t[0] + t[1] + (t[2] if not t[3] else "") + t[3])


blank = st.sampled_from(["", "", " ", "  "])
operators = st.sampled_from(["==", "!=", "<=", ">=", "<", ">", "~=", "="])


@st.composite
def conda_version(draw):
    """(text as written, text as parsed): constraints joined by ',' and '|', blanks anywhere conda allows."""
    written, parsed = [], []
    for index in range(draw(st.integers(1, 4))):
        op = draw(operators) if index or draw(st.booleans()) else ""
        version = draw(version_text())
        if index:
            sep = draw(st.sampled_from([",", "|"]))
            written.append(draw(blank) + sep + draw(blank))
            parsed.append(sep)
        written.append(op + (draw(blank) if op else "") + version)
        parsed.append(op + version)
    return "".join(written), "".join(parsed)


bracket_value = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp"), blacklist_characters="'\"\x85"), min_size=1, max_size=12).filter(str.strip)


@st.composite
def conda_specs(draw):
    """(spec text, the MatchSpec it means)."""
    channel = subdir = version = build = None
    text = ""
    if draw(st.booleans()):
        channel = draw(st.sampled_from(["conda-forge", "pytorch/label/nightly", "https://conda.anaconda.org/nvidia", "*"]))
        subdir = draw(st.sampled_from([None, *sorted(KNOWN_SUBDIRS)]))
        text = channel + (f"/{subdir}" if subdir else "") + "::"
    name = draw(st.from_regex(r"\A[a-z_][a-z0-9_.-]{0,15}\Z"))
    text += name
    if draw(st.booleans()):
        written, version = draw(conda_version())
        text += (" " if written[0] not in "=<>!~" else draw(blank)) + written
        if draw(st.booleans()):
            build = draw(st.from_regex(r"\A[a-z0-9_.*]{1,12}\Z"))
            text += draw(st.sampled_from([" ", "="])) + build
    brackets = ()
    if draw(st.booleans()):
        keys = draw(st.lists(st.sampled_from(MATCHSPEC_KEYS), min_size=1, max_size=4, unique=True))
        pairs = [(k, draw(conda_version())[1] if k == "version" else draw(bracket_value)) for k in keys]
        brackets = tuple(pairs)
        quoted = [f"{k}='{v}'" if "'" not in v else f'{k}="{v}"' for k, v in pairs]
        text += draw(blank) + "[" + draw(st.sampled_from([",", ", ", " "])).join(quoted) + "]"
    return text, MatchSpec(name, version, build, channel, subdir, brackets)


@PROFILE
@given(conda_specs())
def test_matchspec_round_trip(case):
    text, expected = case
    spec = parse_matchspec(text)
    assert spec == expected
    assert parse_matchspec(render_matchspec(spec)) == spec


@st.composite
def pep508(draw):
    name = draw(st.from_regex(r"\A[A-Za-z0-9]([A-Za-z0-9._-]{0,12}[A-Za-z0-9])?\Z").filter(lambda n: not n.lower().endswith((".whl", ".zip", ".tar", ".tgz", ".tbz", ".txz", ".tlz"))))
    text = name
    if draw(st.booleans()):
        text += draw(blank) + "[" + ",".join(draw(st.lists(st.from_regex(r"\A[a-z]([a-z0-9-]{0,5}[a-z0-9])?\Z"), min_size=1, max_size=3))) + "]"
    if draw(st.booleans()):
        ops = st.sampled_from(["==", "!=", "<=", ">=", "<", ">", "~=", "==="])
        specs = draw(st.lists(st.tuples(ops, st.from_regex(r"\A[0-9]{1,3}(\.[0-9]{1,3}){1,2}\Z")), min_size=1, max_size=3))
        text += draw(blank) + ",".join(op + draw(blank) + v for op, v in specs)
    if draw(st.booleans()):
        text += draw(blank) + "; " + draw(st.sampled_from(['python_version >= "3.8"', "sys_platform == 'linux'", 'extra == "gpu" and os_name != "nt"']))
    return name, text


@PROFILE
@given(pep508(), st.lists(st.from_regex(r"\A[0-9a-f]{64}\Z"), max_size=2), st.lists(st.sampled_from(["--config-settings k=v", "--global-option=-q", "-C a=b"]), max_size=2))
def test_pip_line_round_trip(requirement, digests, options):
    from packaging.requirements import Requirement

    name, text = requirement
    line_text = " ".join([text, *options, *(f"--hash=sha256:{d}" for d in digests)])
    line = parse_pip_line(line_text)
    assert (line.kind, line.value, line.name) == ("requirement", text, Requirement(text).name)
    assert line.hashes == tuple(f"sha256:{d}" for d in digests)
    assert parse_pip_line(render_pip_line(line)) == line


# --------------------------------------------------------------------------------------------
# The generated parsers: up to date, and no lark at run time

def _build_module():
    spec = importlib.util.spec_from_file_location("grammar_build", REPO / "grammar" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_parsers_are_up_to_date():
    import lark

    import envc.grammar._conda_parser as generated

    assert lark.__version__ == generated.__version__, (
        f"grammar/_*_parser.py were generated with lark {generated.__version__}, lark {lark.__version__} is installed: "
        "install that version (see the test extras) or regenerate with python grammar/build.py")
    assert _build_module().stale() == [], "run python grammar/build.py and commit the result"


def test_parsing_does_not_import_lark():
    code = ("import sys, envc.common.package_specs as s; s.parse_matchspec('numpy>=1'); s.parse_pip_line('numpy>=1');"
            "sys.exit('lark' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# --------------------------------------------------------------------------------------------
# The real-world corpus

# Every line of this file is a Python list item ('jsonpickle',): pip rejects them all.
INVALID_CORPUS_FILE = "sdk/python/foundation-models/system/import/requirements.txt"


def corpus_specs():
    """(file, kind, text) of every conda dependency string, `pip:` entry and requirements line."""
    for path in sorted(CORPUS.rglob("*")):
        relative = str(path.relative_to(CORPUS))
        if path.suffix == ".txt":
            for _, line in logical_lines(path.read_text(encoding="utf-8", errors="replace"), relative):
                yield relative, "pip", line
        elif path.suffix in (".yml", ".yaml"):
            document = yaml.safe_load(path.read_text(encoding="utf-8"))
            if not isinstance(document, dict) or not isinstance(document.get("dependencies"), list):
                continue
            if "python" in document and "channels" not in document:  # MLflow python_env.yaml: pip lines
                for line in (document.get("build_dependencies") or []) + document["dependencies"]:
                    yield relative, "pip", str(line)
                continue
            for dependency in document["dependencies"]:
                if isinstance(dependency, dict):
                    for line in dependency.get("pip") or []:
                        yield relative, "pip", str(line)
                else:
                    yield relative, "conda", str(dependency)


def test_corpus_specs_parse(capsys):
    if not CORPUS.is_dir():
        pytest.fail(f"corpus not found at {CORPUS}")
    parsed, failed = {"conda": 0, "pip": 0}, []
    for file, kind, text in corpus_specs():
        try:
            (parse_matchspec if kind == "conda" else parse_pip_line)(text)
            parsed[kind] += 1
        except SpecSyntaxError as error:
            failed.append((file, text, str(error)))
    with capsys.disabled():
        print(f"\ncorpus specs: {parsed['conda']} conda and {parsed['pip']} pip parsed, {len(failed)} rejected")
    assert parsed["conda"] > 200 and parsed["pip"] > 800
    assert {file for file, _, _ in failed} == {INVALID_CORPUS_FILE}
    assert all(text.startswith("'") and "at column 0" in error for _, text, error in failed)


# The fast paths for simple forms must answer exactly as the grammar (and packaging) do.

@PROFILE
@given(text=st.from_regex(SIMPLE_MATCHSPEC, fullmatch=True))
def test_simple_matchspec_fast_path_equals_grammar(text):
    assert parse_matchspec(text) == parse_matchspec_with_grammar(text)


@PROFILE
@given(text=st.from_regex(SIMPLE_REQUIREMENT, fullmatch=True))
def test_simple_requirement_fast_path_equals_grammar_and_packaging(text):
    from packaging.requirements import Requirement

    assert parse_pip_line(text) == parse_pip_line_with_grammar(text)
    assert parse_pip_line(text).name == Requirement(text).name
