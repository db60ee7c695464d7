"""Reading emitted Dockerfiles back, independently of envc's own quoting code."""
import re


def buildkit_pairs(command):
    """(key, value) of an ENV/LABEL instruction, values unquoted as BuildKit does:
    'single' is literal; "double" lets \\ escape \\, " and $; a bare word is taken as is."""
    words = command.value
    pairs = []
    for key, raw in zip(words[::2], words[1::2]):
        if raw.startswith("'"):
            assert raw.endswith("'") and raw.count("'") == 2, raw
            value = raw[1:-1]
        elif raw.startswith('"'):
            inner = raw[1:-1]
            assert raw.endswith('"') and not re.search(r'(?<!\\)(?:\\\\)*"', inner), raw
            value = re.sub(r'\\([\\"$])', r"\1", inner)
        else:
            value = raw
        pairs.append((key, value))
    return pairs


def expected_instructions(image):
    """The instruction sequence the IR implies, stage by stage."""
    names = ["FROM"] * (len(image.base.helper_images) + 1)
    if image.system:
        names.append("RUN")
    if image.activation and not image.conda and not image.pip:
        names.append("ENV")  # a user-managed interpreter on PATH
    if image.conda:
        names += ["COPY"] * (image.conda.tool == "micromamba") + ["RUN", "ENV"]
    if image.pip:
        names += ["RUN", "ENV"] * bool(image.pip.venv) + ["RUN"] * bool(image.pip.uv) + ["RUN"]
    runtime = image.runtime
    names += ["ENV"] * bool(runtime.env)
    names += ["LABEL"] * bool(runtime.labels) + ["CMD"] * bool(runtime.command)
    return names
