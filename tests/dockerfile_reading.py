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


# The Dockerfile instructions each kind of IR stage is written as.
INSTRUCTIONS = {"Helper": ["FROM"], "From": ["FROM"], "Apt": ["RUN"], "CopyFrom": ["COPY"], "CondaCreate": ["RUN"],
                "Activate": ["ENV"], "User": ["USER"], "Run": ["RUN"], "PipInstall": ["RUN"], "Copy": ["COPY"], "WriteFile": ["RUN"],
                "Env": ["ENV"], "Labels": ["LABEL"], "Entrypoint": ["ENTRYPOINT"], "Cmd": ["CMD"]}


def expected_instructions(image):
    """The instruction sequence the IR implies, stage by stage (a base Dockerfile's are its own)."""
    import dockerfile

    names = []
    for stage in image.stages:
        if type(stage).__name__ == "BaseDockerfile":
            names += [command.cmd for command in dockerfile.parse_string(stage.text)]
        else:
            names += INSTRUCTIONS[type(stage).__name__]
    return names
