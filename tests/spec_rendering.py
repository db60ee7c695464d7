"""Package specs rendered back to text, for the parse -> render -> parse identity tests only."""
import re

from envc.common.package_specs import LINE_KINDS, MatchSpec, RequirementLine

_BARE_VALUE = r"[A-Za-z0-9_.*+!/:@-]+"


def render_matchspec(spec: MatchSpec) -> str:
    """The spec as text conda reads back to the same MatchSpec (canonical spacing and quoting)."""
    out = []
    if spec.channel:
        out.append(spec.channel + (f"/{spec.subdir}" if spec.subdir else "") + "::")
    out.append(spec.name)
    if spec.version:
        out.append(spec.version if spec.version[0] in "=<>!~" else " " + spec.version)
        if spec.build:
            out.append(("=" if spec.version[0] == "=" else " ") + spec.build)  # numpy=1.2=py37_0, numpy>=1.2 py37_0
    if spec.brackets:
        out.append("[" + ",".join(f"{k}={_quote_bracket(v)}" for k, v in spec.brackets) + "]")
    return "".join(out)


def _quote_bracket(value: str) -> str:
    if re.fullmatch(_BARE_VALUE, value):
        return value
    return f"'{value}'" if "'" not in value else f'"{value}"'


def render_pip_line(line: RequirementLine) -> str:
    """The line as text pip reads back to the same RequirementLine."""
    if line.kind == "options":
        head = []
    elif line.kind in LINE_KINDS.values():
        short = {"include": "-r", "constraint": "-c", "editable": "-e"}[line.kind]
        head = [f"{short} {_quote_value(line.value)}"]
    else:
        head = [line.value]
    options = [name if value is None else f"{name}={_quote_value(value)}" for name, value in line.options]
    return " ".join(head + options + [f"--hash={h}" for h in line.hashes])


def _quote_value(value: str) -> str:
    if value and not any(c.isspace() or c in "'\"" for c in value):
        return value
    return f"'{value}'" if "'" not in value else f'"{value}"'


