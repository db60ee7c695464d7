"""Each stage's emitter on hand-built IR records, to the exact text: emission decides layout and
quoting only, so a change here is a change in how a stage is written, not in what it does."""
import pytest

from envc.core import ir
from envc.core.emit import EMITTERS, render

HEADER = ir.Header(version="9.9", name="t", spec_hash="0" * 64, directives=(), needs_context=False, context=".", registry=None)

STAGES = [
    (ir.Helper(image="example/tool:1", name="envc-tool", platform="linux/arm64"),
     "FROM --platform=linux/arm64 example/tool:1 AS envc-tool"),
    (ir.From(image="ubuntu:22.04", platform=None), "FROM ubuntu:22.04"),
    (ir.User(name="dockeruser"), "USER dockeruser"),
    (ir.BaseDockerfile(text="FROM a AS b\nFROM b"), "FROM a AS b\nFROM b"),
    (ir.Apt(packages=("git", "libgl1=1.0")),
     "RUN apt-get update \\\n && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \\\n"
     "      git \\\n      libgl1=1.0 \\\n && rm -rf /var/lib/apt/lists/*"),
    (ir.CopyFrom(stage="envc-tool", source="/bin/tool", target="/usr/local/bin/tool"),
     "COPY --from=envc-tool /bin/tool /usr/local/bin/tool"),
    (ir.CondaCreate(mounts=(), file=ir.InlineFile(path="/tmp/env.yml", lines=("dependencies:", '  - "python>=3.10"')),
                    commands=(("conda", "env", "create", "-f", "/tmp/env.yml"), ("conda", "clean", "--all")), cleanup="/tmp/env.yml"),
     "RUN printf '%s\\n' \\\n      dependencies: \\\n      '  - \"python>=3.10\"' \\\n      > /tmp/env.yml \\\n"
     " && conda env create -f /tmp/env.yml \\\n && conda clean --all \\\n && rm /tmp/env.yml"),
    (ir.CondaCreate(mounts=(ir.Mount(kind="bind", stage="h", source="/ca.crt", target="/opt/ca.crt"),),
                    file=ir.InlineFile(path="/tmp/e.yml", lines=("dependencies:",)),
                    commands=((ir.Raw(text="{"), "test", "-e", "/a b", ir.Raw(text="||"), "export", "X=/opt/ca.crt", ir.Raw(text=";"),
                               ir.Raw(text="}")), ("CONDA_OVERRIDE_CUDA=12.4", "micromamba", "create", "-f", "/tmp/e.yml")),
                    cleanup="/tmp/e.yml"),
     "RUN --mount=type=bind,from=h,source=/ca.crt,target=/opt/ca.crt printf '%s\\n' \\\n      dependencies: \\\n      > /tmp/e.yml \\\n"
     " && { test -e '/a b' || export X=/opt/ca.crt; } \\\n && CONDA_OVERRIDE_CUDA=12.4 micromamba create -f /tmp/e.yml \\\n && rm /tmp/e.yml"),
    (ir.Activate(path_prefix="/opt/e/bin", variables=(("VIRTUAL_ENV", "/opt/e"), ("X", "it's $HOME"))),
     "ENV PATH=/opt/e/bin:$PATH \\\n    VIRTUAL_ENV='/opt/e' \\\n    X=\"it's \\$HOME\""),
    (ir.Run(commands=(("python3", "-m", "venv", "/opt/e"),)), "RUN python3 -m venv /opt/e"),
    (ir.Run(commands=(("a", "b c"), ("d",), ("e", "f>1"))), "RUN a 'b c' \\\n && d \\\n && e 'f>1'"),
    (ir.Run(commands=((ir.Raw(text="if"), "py", "-c", "x < (3, 8)", ir.Raw(text=";"), ir.Raw(text="then"), "a", ir.Raw(text="&&"), "b",
                       ir.Raw(text=";"), ir.Raw(text="fi")),)),
     "RUN if py -c 'x < (3, 8)'; then a && b; fi"),
    (ir.PipInstall(mounts=(), files=(), installers=(ir.Installer(command=("pip", "install")),),
                   arguments=(("--pre",), ("requests>=2",)), cleanup=None),
     "RUN pip install \\\n      --pre \\\n      'requests>=2'"),
    (ir.PipInstall(mounts=(), files=(), arguments=(("a b",),), cleanup=None,
                   installers=(ir.Installer(command=("uv", "-P", "a b"), condition=("test", "-x", "uv")), ir.Installer(command=("pip", "-U")))),
     "RUN set -- \\\n      'a b' \\\n && if test -x uv; then uv -P 'a b' \"$@\"; else pip -U \"$@\"; fi"),
    (ir.PipInstall(mounts=(ir.Mount(kind="secret", id="netrc", target="/root/.netrc", required=True),
                           ir.Mount(kind="cache", target="/root/.cache/uv")),
                   files=(ir.InlineFile(path="/ctx/a/r.txt", lines=("six==1.16.0", "# note")),),
                   installers=(ir.Installer(command=("uv", "pip", "install")),), arguments=(("-r", "/ctx/a/r.txt"),), cleanup="/ctx"),
     "RUN --mount=type=secret,id=netrc,target=/root/.netrc,required=true --mount=type=cache,target=/root/.cache/uv "
     "mkdir -p /ctx/a \\\n && printf '%s\\n' \\\n      six==1.16.0 \\\n      '# note' \\\n      > /ctx/a/r.txt \\\n"
     " && uv pip install \\\n      -r /ctx/a/r.txt \\\n && rm -rf /ctx"),
    (ir.Copy(sources=("scripts/s.sh",), target="/opt/i/s.sh"), "COPY scripts/s.sh /opt/i/s.sh"),
    (ir.Copy(sources=("w/a.whl", "w/b c.whl"), target="/ctx/w/"), 'COPY ["w/a.whl", "w/b c.whl", "/ctx/w/"]'),
    (ir.WriteFile(file=ir.InlineFile(path="/ctx/r.txt", lines=("a",))), "RUN mkdir -p /ctx \\\n && printf '%s\\n' \\\n      a \\\n      > /ctx/r.txt"),
    (ir.WriteFile(file=ir.InlineFile(path="/ctx/r.txt", lines=("b>1",)), append=True), "RUN printf '%s\\n' \\\n      'b>1' \\\n      >> /ctx/r.txt"),
    (ir.WriteFile(file=ir.InlineFile(path="/opt/b/w", lines=("#!/bin/sh", 'exec "$@"')), mode="0755"),
     "RUN mkdir -p /opt/b \\\n && printf '%s\\n' \\\n      '#!/bin/sh' \\\n      'exec \"$@\"' \\\n      > /opt/b/w \\\n"
     " && chmod 0755 /opt/b/w"),
    (ir.Env(variables=(("A", "1"), ("B", "$x"))), "ENV A='1' \\\n    B='$x'"),
    (ir.Labels(labels=(("a.b", "v"),)), "LABEL a.b='v'"),
    (ir.Entrypoint(command=("/opt/b/w",)), 'ENTRYPOINT ["/opt/b/w"]'),
    (ir.Cmd(command=("python", "-c", "print('é')")), 'CMD ["python", "-c", "print(\'\\u00e9\')"]'),
]


@pytest.mark.parametrize("stage, text", STAGES, ids=[type(s).__name__ for s, _ in STAGES])
def test_each_stage_is_written_exactly(stage, text):
    assert "\n".join(EMITTERS[type(stage)](stage)) == text


def test_a_conda_file_written_before_is_only_used_and_removed():
    stage = ir.CondaCreate(mounts=(), file=None, commands=(("conda", "env", "create", "-f", "/tmp/e.yml"),), cleanup="/tmp/e.yml")
    assert EMITTERS[ir.CondaCreate](stage) == ["RUN conda env create -f /tmp/e.yml \\", " && rm /tmp/e.yml"]


def test_every_stage_type_has_an_exact_test():
    assert {type(stage) for stage, _ in STAGES} == set(EMITTERS)


def test_sections_and_activation_placement():
    """A blank line opens the base, apt and runtime sections; activation right after the stage that
    created the environment continues it, and stands alone (a user-managed interpreter) otherwise."""
    activate = ir.Activate(path_prefix="/p/bin", variables=())
    created = ir.Image(header=HEADER, stages=(ir.From(image="a", platform=None), ir.Run(commands=(("x",),)), activate,
                                              ir.Env(variables=(("A", "1"),)), ir.Cmd(command=("c",))))
    alone = ir.Image(header=HEADER._replace(registry="r.example", needs_context=True, directives=("# syntax=x",)),
                     stages=(ir.From(image="a", platform=None), activate))
    assert render(created).split("\n")[2:] == ["", "FROM a", "RUN x", "ENV PATH=/p/bin:$PATH", "", "ENV A='1'", 'CMD ["c"]', ""]
    lines = render(alone).split("\n")
    assert lines[0] == "# syntax=x" and lines[3:] == ["# Build context: the spec's folder (COPY sources are relative to it).",
                                                      "# The base image is pulled from r.example: log in to it before building.",
                                                      "", "FROM a", "", "ENV PATH=/p/bin:$PATH", ""]


def test_raw_words_are_only_shell_syntax():
    """Raw is how lowering asks for shell syntax; anything else in it would bypass quoting."""
    with pytest.raises(ValueError):
        EMITTERS[ir.Run](ir.Run(commands=(("echo", ir.Raw(text="$(id)")),)))


def test_a_build_context_other_than_the_specs_folder_is_named():
    header = HEADER._replace(needs_context=True, context="../../env")
    assert render(ir.Image(header=header, stages=(ir.From(image="a", platform=None),))).split("\n")[2] == \
        "# Build context: ../../env from the spec's folder (COPY sources are relative to it)."
