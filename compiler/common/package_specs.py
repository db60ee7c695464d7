"""Package specs: conda MatchSpecs and pip requirements-file lines, parsed to immutable records.

The grammars are grammar/conda_matchspec.lark and grammar/pip_requirement_line.lark. Their parsers
are generated ahead of time by grammar/build.py as standalone modules (envc.grammar._conda_parser,
envc.grammar._pip_parser): no lark import and no grammar compilation at run time, and each parser is
only loaded the first time a spec of its kind is parsed.

    parse_matchspec("conda-forge::numpy>=1.2,<2")  -> MatchSpec(channel='conda-forge', name='numpy', version='>=1.2,<2')
    parse_pip_line("requests>=2.31 --hash=sha256:...") -> RequirementLine(kind='requirement', ...)

A bad spec raises SpecSyntaxError(message, column): column is the 0-based offset in the text given,
so a caller adds it to the spec's own location.
"""
from __future__ import annotations

import re
from collections import namedtuple
from functools import lru_cache

__all__ = ["MatchSpec", "RequirementLine", "SpecSyntaxError", "URL_CREDENTIALS", "conda_token", "url_secret_parameter", "parse_matchspec", "parse_pip_line"]

# A URL's `user:password@` (or token@), which no file or command line envc writes may carry.
URL_CREDENTIALS = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://(?!git@)[^/@\s]+@")  # git@: a fixed public user. No re.I: start-up time


class SpecSyntaxError(ValueError):
    """A spec that conda or pip would reject; column is the 0-based offset of the problem."""

    def __init__(self, message: str, column: int):
        super().__init__(message)
        self.message = message
        self.column = column

    def at(self, where):
        """A located Diagnostic: where is the spec's own Location, the column is added to it."""
        from envc.common.diagnostics import Location, error

        message = re.sub(r" at column \d+", "", self.message, count=1)  # the location says it
        return error(Location(where.file, where.line, where.col + self.column), message)


# ---------------------------------------------------------------------------------------------
# conda MatchSpec

# Keys conda accepts in [key=value] brackets (MatchSpec.FIELD_NAMES, plus sha256 of newer condas).
MATCHSPEC_KEYS = (
    "version", "build", "build_number", "channel", "subdir", "md5", "sha256", "url", "fn", "license",
    "license_family", "features", "track_features",
)
# Platform subdirs conda knows (context.known_subdirs): only these split `channel/subdir::`; any
# other last segment is part of the channel (pytorch/label/nightly::pytorch is a channel label).
KNOWN_SUBDIRS = frozenset((
    "noarch", "emscripten-wasm32", "wasi-wasm32", "freebsd-64", "linux-32", "linux-64", "linux-aarch64",
    "linux-armv6l", "linux-armv7l", "linux-ppc64", "linux-ppc64le", "linux-riscv64", "linux-s390x",
    "osx-64", "osx-arm64", "win-32", "win-64", "win-arm64", "zos-z",
))


class MatchSpec(namedtuple("MatchSpec", "name version build channel subdir brackets",
                           defaults=(None, None, None, None, ()))):
    """A conda package spec, field by field as written (whitespace inside the version dropped).

    version keeps its operator as written: '=1.2' (conda: 1.2*), '==1.2', '>=1.2,<2', '1.2.*'.
    build is the build string written after the version (' ' or '='); brackets are the
    [key=value] pairs in order, values unquoted. Conda lets a bracket key override the same field
    written outside the brackets: see get().
    """

    __slots__ = ()

    def get(self, key: str):
        """The value conda matches on for key: the bracket value if any, else the field."""
        for k, v in reversed(self.brackets):
            if k == key:
                return v
        return getattr(self, key, None) if key in ("name", "version", "build", "channel", "subdir") else None


# The common, simple forms, answered without loading a parser. Each is a strict subset of what
# the grammar (and, for pip, packaging) accepts, with the same result: tests/test_specs.py
# checks both on strings generated from these very patterns.
_RELEASE = r"\d+(?:\.\d+)*"
SIMPLE_MATCHSPEC = re.compile(rf"(?P<name>[A-Za-z0-9_][A-Za-z0-9_.-]*)(?P<version>(?:==|=|>=|<=|>|<|!=){_RELEASE}"
                              rf"(?:,(?:==|>=|<=|>|<|!=){_RELEASE})*)?", re.ASCII)
_SUFFIXES = r"(?:(?:a|b|rc)\d+)?(?:\.post\d+)?(?:\.dev\d+)?"
# Each part written once: this pattern's compile is start-up time for every spec with pip packages.
_PEP440_CLAUSE = (rf"(?:(?:[=!<>]=|[<>])[ \t]*(?:\d+!)?{_RELEASE}{_SUFFIXES}|[=!]=[ \t]*(?:\d+!)?{_RELEASE}\.\*"
                  rf"|~=[ \t]*(?:\d+!)?\d+(?:\.\d+)+{_SUFFIXES})")
_PEP508_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
SIMPLE_REQUIREMENT = re.compile(rf"(?P<name>{_PEP508_NAME})(?:\[{_PEP508_NAME}(?:,{_PEP508_NAME})*\])?"
                                rf"(?:[ \t]*{_PEP440_CLAUSE}(?:[ \t]*,[ \t]*{_PEP440_CLAUSE})*)?", re.ASCII)


def parse_matchspec(text: str) -> MatchSpec:
    """A conda MatchSpec from one `dependencies:` entry (or a CLI argument), or SpecSyntaxError."""
    simple = SIMPLE_MATCHSPEC.fullmatch(text.strip())
    if simple and "_" not in (simple["version"] or ""):
        return MatchSpec(simple["name"], simple["version"])
    return parse_matchspec_with_grammar(text)


def parse_matchspec_with_grammar(text: str) -> MatchSpec:
    """parse_matchspec for every form, through grammar/conda_matchspec.lark."""
    spec, offset = _trim(text, "conda package spec")
    tree = _parse("conda", spec, offset)
    fields = {}
    for child in tree.children:
        if getattr(child, "data", None) == "version":
            fields["version"] = "".join(token.strip() for token in child.children)
            _check_versions(child.children, offset)
        elif getattr(child, "data", None) == "brackets":
            fields["brackets"] = _brackets(child, offset)
        elif child.type == "CHANNEL":
            fields["channel"], fields["subdir"] = _split_channel(child.value[:-2])
        else:
            fields[{"NAME": "name", "BUILD": "build"}[child.type]] = child.value
    return MatchSpec(**fields)


def _split_channel(channel: str):
    head, _, last = channel.rpartition("/")
    if head and last in KNOWN_SUBDIRS:
        return head, last
    return channel, None


def _check_versions(tokens, offset: int) -> None:
    """What the lexer cannot see: conda turns '-' into '_' only when a version has no '_' already."""
    for token in tokens:
        if token.type == "VERSION" and "-" in token and "_" in token:
            raise SpecSyntaxError(f"invalid version '{token}' at column {offset + token.start_pos}: conda versions may use '-' or '_', not both", offset + token.start_pos)


def _brackets(tree, offset: int) -> tuple:
    from envc.common.diagnostics import did_you_mean

    pairs, seen = [], set()
    for pair in tree.children:
        if not hasattr(pair, "data"):
            continue  # LSQB, COMMA, RSQB
        key, _, value = pair.children
        column = offset + key.start_pos
        if key.value not in MATCHSPEC_KEYS:
            raise SpecSyntaxError(f"unknown key '{key}' at column {column}: conda matches on {', '.join(MATCHSPEC_KEYS)}{did_you_mean(key.value, MATCHSPEC_KEYS)}", column)
        if key.value in seen:
            raise SpecSyntaxError(f"duplicate key '{key}' at column {column}: conda would keep only the last one", column)
        seen.add(key.value)
        quoted = value.type == "QUOTED"
        text = value.value[1:-1] if quoted else value.value
        if not text.strip():
            column = offset + value.start_pos
            raise SpecSyntaxError(f"empty value at column {column}: expected a value for '{key}'", column)
        if key.value == "version":
            start = offset + value.start_pos + quoted
            inner, lead = _trim(text, "version", start)
            _parse("conda", inner, lead, start="version_spec")
        pairs.append((key.value, text))
    return tuple(pairs)


# ---------------------------------------------------------------------------------------------
# pip requirements-file lines

# Option spellings -> the long name stored in RequirementLine.options (grammar terminals list the same).
OPTION_NAMES = {
    "-r": "--requirement", "-c": "--constraint", "-e": "--editable", "-i": "--index-url",
    "-f": "--find-links", "-C": "--config-settings",
}
LINE_KINDS = {"--requirement": "include", "--constraint": "constraint", "--editable": "editable"}
HASH_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}  # the algorithms pip accepts
_ARCHIVE = (".whl", ".zip", ".tar.gz", ".tgz", ".tar.bz2", ".tbz", ".tar.xz", ".txz", ".tar", ".tar.lz", ".tlz")
_EGG = r"[#&]egg=([A-Za-z0-9][A-Za-z0-9._-]*)"
_WHEEL = r"/([A-Za-z0-9][A-Za-z0-9._]*)-[^/-]+(?:-[^/-]+){2,3}\.whl$"
_OPERATOR_AT_END = r"(===|==|!=|<=|>=|~=|<|>)\s*(?=$|[,;])"


class RequirementLine(namedtuple("RequirementLine", "kind value name options hashes", defaults=("", None, (), ()))):
    """One logical requirements-file line.

    kind: 'requirement' (PEP 508), 'url' (a URL or VCS URL, with an optional '; marker'),
    'path' (a local directory or archive), 'include' (-r), 'constraint' (-c), 'editable' (-e),
    or 'options' (a line of global options only).
    value: the requirement, URL, path or file as written ('' for 'options').
    name: the project name when the line names one (PEP 508, #egg=, a wheel's file name).
    options: ((long option, value or None), ...) in order: the per-requirement options
    (--config-settings, --global-option) of a requirement, or the options of an option line
    (for include/constraint/editable, those besides the -r/-c/-e itself).
    hashes: ('sha256:HEX', ...) from --hash.
    """

    __slots__ = ()


def parse_pip_line(text: str) -> RequirementLine:
    """A RequirementLine from one logical line (continuations joined, comment stripped), or SpecSyntaxError."""
    simple = SIMPLE_REQUIREMENT.fullmatch(text.strip())
    if simple and not simple["name"].lower().endswith(_ARCHIVE):  # `six-1.16.0-py3-none-any.whl` is a file to pip
        return RequirementLine("requirement", text.strip(), simple["name"])
    return parse_pip_line_with_grammar(text)


def parse_pip_line_with_grammar(text: str) -> RequirementLine:
    """parse_pip_line for every form, through grammar/pip_requirement_line.lark and packaging."""
    line, offset = _trim(text, "requirements line")
    tree = _parse("pip", line, offset)
    if tree.data == "option_line":
        return _option_line(tree.children, offset)
    return _requirement_line(tree.children, offset)


def _unquote(token) -> str:
    """An option's value as pip reads it: one shell word (pip's req_file.py splits option text with shlex)."""
    value = token.value
    if not any(quote in value for quote in "'\"\\"):
        return value
    import shlex

    return shlex.split(value)[0]


def _options(children) -> list:
    """(long name, value or None, column of the option) per option subtree, in order."""
    out = []
    for option in children:
        tokens = [t for t in option.children if t.type != "EQUALS"]
        name = OPTION_NAMES.get(tokens[0].value, tokens[0].value)
        out.append((name, _unquote(tokens[1]) if len(tokens) > 1 else None, tokens[0].start_pos, tokens))
    return out


def _option_line(children, offset: int) -> RequirementLine:
    options = _options(children)
    heads = [o for o in options if o[0] in LINE_KINDS]
    if len(heads) > 1 or heads and heads[0] is not options[0]:
        column = offset + (heads[1] if len(heads) > 1 else heads[0])[2]
        raise SpecSyntaxError(f"'{(heads[1] if len(heads) > 1 else heads[0])[3][0]}' at column {column} must start its own line: pip reads one -r, -c or -e per line", column)
    if heads:
        name, value, _, _ = heads[0]
        rest = tuple((n, v) for n, v, _, _ in options[1:])
        return RequirementLine(LINE_KINDS[name], value, _url_name(value) if name == "--editable" else None, rest)
    return RequirementLine("options", options=tuple((n, v) for n, v, _, _ in options))


def _requirement_line(children, offset: int) -> RequirementLine:
    head, hashes, options = children[0], [], []
    marker = None
    for child in children[1:]:
        if getattr(child, "type", None) == "MARKER":
            marker = child
        elif hasattr(child, "data"):
            tokens = [t for t in child.children if t.type != "EQUALS"]
            if tokens[0].type == "HASH_OPTION":
                hashes.append(_check_hash(tokens[1], offset))
            else:
                options.append((OPTION_NAMES.get(tokens[0].value, tokens[0].value), _unquote(tokens[1])))
    extra = {"options": tuple(options), "hashes": tuple(hashes)}
    if head.type == "URL":
        value = head.value
        if marker is not None:
            _check_marker(marker, offset)
            value += "; " + marker.value
        return RequirementLine("url", value, _url_name(head.value), **extra)
    if _looks_like_path(head.value):
        return RequirementLine("path", head.value, **extra)
    return RequirementLine("requirement", head.value, _requirement_name(head, offset), **extra)


def _looks_like_path(text: str) -> bool:
    """pip's rule (req_install._looks_like_path / is_archive_file) on Linux, where the image's pip runs (a
    backslash is no separator there), without touching the disk."""
    word = text.split(";", 1)[0].split("[", 1)[0].strip()
    before_at = text.split("@", 1)[0]
    if "@" in text and not ("/" in before_at or before_at.startswith(".")):
        return False  # name @ url
    return "/" in word or word.startswith((".", "~")) or word.lower().endswith(_ARCHIVE)


def _url_name(url: str):
    egg = re.search(_EGG, url)
    if egg:
        return egg.group(1)
    wheel = re.search(_WHEEL, url.split("#", 1)[0].split("?", 1)[0])
    return wheel.group(1) if wheel else None


def _requirement_name(token, offset: int) -> str:
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        return Requirement(token.value).name
    except InvalidRequirement as exc:
        message, caret = _explain_packaging(str(exc), token.value)
        column = offset + token.start_pos + caret
        raise SpecSyntaxError(f"{_unexpected(token.value, caret)} at column {column}: {message}", column) from None


def _check_marker(token, offset: int) -> None:
    from packaging.markers import InvalidMarker, Marker

    try:
        Marker(token.value)
    except InvalidMarker as exc:
        message, caret = _explain_packaging(str(exc), token.value)
        column = offset + token.start_pos + caret
        raise SpecSyntaxError(f"{_unexpected(token.value, caret)} at column {column}: {message}", column) from None


def _explain_packaging(message: str, text: str):
    """packaging's message (first line, as 'expected ...') and the caret's offset in text."""
    lines = message.splitlines()
    caret = 0
    if len(lines) >= 3 and "^" in lines[2]:
        caret = max(0, lines[2].index("^") - (len(lines[1]) - len(lines[1].lstrip())))
    operator = re.compile(_OPERATOR_AT_END).match(text, caret)
    if operator:
        return f"expected a version after '{operator.group(1)}'", caret + len(operator.group(1))
    first = lines[0].rstrip(".")
    return first[:1].lower() + first[1:], caret


def _check_hash(token, offset: int) -> str:
    algorithm, _, digest = token.value.partition(":")
    column = offset + token.start_pos
    if algorithm not in HASH_LENGTHS:
        raise SpecSyntaxError(f"unsupported hash '{algorithm}' at column {column}: pip accepts {', '.join(HASH_LENGTHS)}", column)
    if len(digest) != HASH_LENGTHS[algorithm]:
        raise SpecSyntaxError(f"{algorithm} hash at column {column} has {len(digest)} hex digits: expected {HASH_LENGTHS[algorithm]}", column)
    return token.value


# ---------------------------------------------------------------------------------------------
# Parsing and error messages, shared

_PARSERS: dict = {}

# What each terminal means to a user, in "expected ..." messages (None: not worth listing).
_DESCRIBE = {
    "CHANNEL": None, "NAME": "a package name", "OP": "a version operator", "VERSION": "a version",
    "BUILD": "a build string", "_BUILD_EQ": "'='", "COMMA": "','", "PIPE": "'|'", "LPAR": "'('", "RPAR": "')'",
    "LSQB": "'['", "RSQB": "']'", "KEY": "a key", "EQUALS": "'='", "QUOTED": "a value", "BARE": "a value",
    "_SP": None, "_EMPTY_EQ": None, "$END": "the end",
    "LONG_VALUE_OPTION": "a pip option", "SHORT_VALUE_OPTION": "a pip option", "FLAG_OPTION": "a pip option",
    "URL": "a requirement", "REQUIREMENT": "a requirement", "SEMI": "';'", "MARKER": "a marker",
    "HASH_OPTION": "'--hash'", "LONG_REQ_OPTION": "'--config-settings', '--global-option', '--no-binary' or '--only-binary'",
    "SHORT_REQ_OPTION": None, "HASH": "a hash (sha256:HEX)", "VALUE": "a value", "RAW_VALUE": "a value",
}
# What a pip option's value is, for "expected ... after '-r'".
_OPTION_VALUES = {
    "--requirement": "a requirements file", "--constraint": "a constraints file", "--editable": "a path or URL",
    "--index-url": "a URL", "--extra-index-url": "a URL", "--find-links": "a URL or directory",
    "--trusted-host": "a host name", "--no-binary": "package names, :all: or :none:",
    "--only-binary": "package names, :all: or :none:", "--use-feature": "a feature name",
    "--config-settings": "KEY=VALUE", "--global-option": "a value", "--hash": "a hash (sha256:HEX)",
}
_AFTER = {"OP", "_BUILD_EQ", "EQUALS", "LSQB", "COMMA", "PIPE", "LPAR"}
_PIP_OPTION = r"--?[A-Za-z][\w-]*"
_FLAGS = {"--no-index", "--pre", "--prefer-binary", "--require-hashes"}


_TEMPLATE = r"\{\{.*?\}\}|\{[A-Z][A-Z0-9_]*\}"  # {{ jinja }} or {PLACEHOLDER}: filled in by another tool


def placeholder_problem(text: str, pip: bool = False):
    """The message for a spec holding a template placeholder (not for the grammar to misreport), or None.
    pip: text is a requirements-file line, where pip expands only ${NAME} of capitals, digits and _ (req_file.py's
    ENV_VAR_RE) and keeps any other ${...} as written."""
    variable = re.search(r"\$\{[A-Z0-9_]+\}" if pip else r"\$\{[A-Za-z_][A-Za-z0-9_]*\}", text)
    if variable:  # pip expands ${NAME} in a requirements file, conda in channels: where each runs, the image build here
        return (f"'{variable.group(0)}' is an environment variable, which pip and conda replace where they run: in the image "
                "build, which has none of this machine's variables; write the value (a credential goes in a build secret: "
                "pip.netrc_secret for an index)")
    found = re.search(_TEMPLATE, text)
    if not found:
        return None
    return (f"'{found.group(0)}' is a template placeholder, not part of a package spec: fill it in before compiling "
            "(Azure ML fills {{latest-...}} placeholders when it registers an environment)")


def option_takes_value(word: str):
    """Whether the pip option `word` (as written, without =value) takes a value; None for no pip option."""
    name = OPTION_NAMES.get(word, word)
    if name in _OPTION_VALUES:
        return True
    return False if name in _FLAGS else None
_WORD = r"[A-Za-z0-9][\w.*+-]{0,39}"


def _parser(kind: str):
    try:
        return _PARSERS[kind]
    except KeyError:
        pass
    if kind == "conda":
        from envc.grammar import _conda_parser as module
    else:
        from envc.grammar import _pip_parser as module
    _PARSERS[kind] = parser = (module.Lark_StandAlone(), module)
    return parser


def _trim(text: str, what: str, base: int = 0):
    """text without surrounding blanks, and the offset of its first character in the original."""
    stripped = text.strip()
    offset = base + len(text) - len(text.lstrip())
    if not stripped:
        raise SpecSyntaxError(f"empty {what} at column {base}", base)
    if "\n" in stripped or "\r" in stripped:
        column = base + text.index("\n" if "\n" in text else "\r")
        raise SpecSyntaxError(f"line break at column {column}: a {what} is one line", column)
    return stripped, offset


def _parse(kind: str, text: str, offset: int, start: str = "start"):
    parser, module = _parser(kind)
    try:
        return parser.parse(text, start=start)
    except module.UnexpectedInput as exc:
        raise _syntax_error(kind, module, exc, text, offset) from None


def _syntax_error(kind, module, exc, text: str, offset: int) -> SpecSyntaxError:
    if isinstance(exc, module.UnexpectedCharacters):
        pos, expected, history = exc.pos_in_stream, set(exc.allowed), exc.token_history
    else:
        token = exc.token
        pos = len(text) if token.type == "$END" else token.start_pos
        expected, history = set(exc.expected), getattr(exc, "token_history", None)
        if not history and exc.interactive_parser is not None:
            history = [exc.interactive_parser.lexer_thread.state.last_token]
    last = history[-1] if history else None
    column = offset + pos
    if kind == "pip" and text[pos:pos + 1] == "-" and re.compile(_PIP_OPTION).match(text, pos):
        return _pip_option_error(text, pos, column, expected, last)
    what = _expected(expected, last, text[:pos]) if kind == "conda" or last is None else _expected_pip(expected, last, text[:pos])
    return SpecSyntaxError(f"{_unexpected(text, pos)} at column {column}: expected {what}", column)


def _expected(expected: set, last, before: str) -> str:
    described = []
    for name in sorted(expected, key=lambda n: (n == "$END", n)):
        text = _DESCRIBE.get(name, name)
        if text and text not in described:
            described.append(text)
    phrase = " or ".join(described) if len(described) < 3 else ", ".join(described[:-1]) + " or " + described[-1]
    if last is not None and last.type == "EQUALS":
        key = re.search(r"(\w+)\s*=\s*$", before)
        phrase += f" after '{key.group(1) if key else ''}='"
    elif last is not None and last.type in _AFTER:
        phrase += f" after '{last.value.strip()}'"
    elif last is not None and last.type == "_SP" and "BUILD" in expected and re.search(r"[=<>!~]$", before.rstrip()) is None:
        phrase += " (join version constraints with ',', not a space)"
    return phrase or "nothing more"


def _expected_pip(expected: set, last, before: str) -> str:
    option = last.value
    if last.type == "EQUALS":
        found = re.search(r"(--?[A-Za-z][\w-]*)\s*=\s*$", before)
        option = found.group(1) if found else "="
        shown = option + "="
    elif last.type.endswith("OPTION"):
        shown = option
    else:
        return _expected(expected, last, before)
    return f"{_OPTION_VALUES.get(OPTION_NAMES.get(option, option), 'a value')} after '{shown}'"


def _pip_option_error(text: str, pos: int, column: int, expected: set, last) -> SpecSyntaxError:
    from envc.common.diagnostics import did_you_mean

    word = re.compile(_PIP_OPTION).match(text, pos).group(0)
    known = set(OPTION_NAMES) | set(OPTION_NAMES.values()) | set(_OPTION_VALUES) | _FLAGS
    if word not in known:
        return SpecSyntaxError(f"unknown pip option '{word}' at column {column}{did_you_mean(word, known)}", column)
    if "HASH_OPTION" in expected:
        return SpecSyntaxError(f"option '{word}' at column {column} cannot follow a requirement: pip ignores it there (after a "
                               "requirement it reads only --hash, --config-settings, --global-option, --no-binary and "
                               "--only-binary); put it on a line of its own", column)
    if "REQUIREMENT" in expected and OPTION_NAMES.get(word, word) in ("--hash", "--config-settings", "--global-option"):
        return SpecSyntaxError(f"option '{word}' at column {column} belongs after a requirement on the same line", column)
    what = _expected_pip(expected, last, text[:pos]) if last is not None else _expected(expected, last, text[:pos])
    return SpecSyntaxError(f"unexpected '{word}' at column {column}: expected {what}", column)


def _unexpected(text: str, pos: int) -> str:
    """"unexpected 'x'": the word at pos when it starts with a letter or digit, else its first character."""
    if pos >= len(text):
        return "unexpected end"
    word = re.compile(_WORD).match(text, pos)
    shown = word.group(0) if word else text[pos]
    return f"unexpected '{shown}'" if "'" not in shown else f'unexpected "{shown}"'


def url_secret_parameter(text: str):
    """The match of a URL query parameter that is a secret by its name (an Azure SAS signature `sig=`, S3 and
    GCS presigned signatures, tokens, keys), or None. Compiled on first use: the pattern costs start-up time."""
    return _patterns()[0].search(text) if "?" in text else None


def conda_token(text: str):
    """The match of what conda also reads as a credential in a channel or package URL, an anaconda.org token
    `/t/TOKEN` (conda/common/url.py split_anaconda_token, which conda-lock --strip-auth removes too), or None."""
    return _patterns()[1].search(text) if "/t/" in text else None


@lru_cache(maxsize=None)
def _patterns():
    return (re.compile(r"://\S*?[?&](?:sig|signature|token|access_token|api_?key|key|password|X-Amz-Signature|X-Amz-Credential|"
                       r"X-Goog-Signature|X-Goog-Credential)=", re.I),
            re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://\S*?/t/[A-Za-z0-9-]+"))
