"""Help that teaches (issue 15.3): every command's --help, `-` as stdin, colour only on a terminal, export to stdout."""
import argparse
import os
import pty
import shlex
import subprocess
import sys

import pytest

from conftest import run_envc
from envc.common.version import __version__
from envc.frontends.arguments import build_parser

SUBCOMMANDS = build_parser()._subparsers._group_actions[0].choices  # name -> its parser


def examples(parser) -> list:
    """The argument lists of the `envc ...` commands in the examples that end parser's help."""
    found = []
    for line in parser.epilog.split("examples:\n", 1)[1].splitlines():
        words = shlex.split(line.split("  # ")[0].replace("$(", ""))
        start = words.index("envc") + 1
        end = next((i for i, w in enumerate(words) if i >= start and w in ("|", ">", "<")), len(words))
        found.append(words[start:end])
    return found


@pytest.mark.parametrize("name", sorted(SUBCOMMANDS))
def test_every_command_describes_every_argument_and_ends_with_examples_that_parse(name):
    parser = SUBCOMMANDS[name]
    assert parser.description and "exit status: 0 success" in parser.epilog
    for action in parser._actions:
        if not isinstance(action, argparse._HelpAction):
            assert action.help and action.help != argparse.SUPPRESS, f"envc {name}: {action.dest} has no help"
    commands = examples(parser)
    assert 2 <= len(commands) <= 3
    for words in commands:
        assert build_parser().parse_args(words).command == words[0], words  # each example is a valid command line


@pytest.mark.parametrize("words", [[], ["compile"], ["export"], ["build"]])
def test_help_goes_to_stdout_with_exit_0(words, tmp_path):
    result = subprocess.run([sys.executable, "-m", "envc", *words, "--help"], capture_output=True, text=True, cwd=tmp_path)
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.startswith("usage: envc") and "examples:\n  envc " in result.stdout


def test_version(tmp_path, capsys):
    assert run_envc(["--version"], tmp_path, capsys) == (0, f"envc {__version__}\n", "")


def envc(*args, cwd, stdin=None, env=None):
    return subprocess.run([sys.executable, "-m", "envc", *map(str, args)], cwd=cwd, input=stdin, capture_output=True,
                          text=True, env={**os.environ, **(env or {})})


def test_stdin_spec_compiles_as_the_same_file_in_the_working_folder_would(tmp_path):
    """Relative paths resolve from the working folder; the result is the file's, byte for byte."""
    (tmp_path / "reqs").mkdir()
    (tmp_path / "reqs" / "train.txt").write_text("numpy==1.26.4\n")
    text = "name: piped\npip:\n  requirements: [reqs/train.txt]\nenv:\n  VALUE: 'a $HOME \"b\"'\n"
    (tmp_path / "env.yml").write_text(text)
    from_file = envc("compile", "env.yml", cwd=tmp_path)
    piped = envc("compile", "-", cwd=tmp_path, stdin=text)
    assert piped.returncode == 0 and piped.stderr == "" and piped.stdout == from_file.stdout
    assert "numpy==1.26.4" in piped.stdout
    written = envc("compile", "-", "-o", "Dockerfile", "--locked", cwd=tmp_path, stdin=text)
    assert written.returncode == 2 and written.stderr.startswith("<stdin>:")  # read once, checked, then refused
    assert not (tmp_path / "Dockerfile").exists()
    assert envc("check", "-", cwd=tmp_path, stdin=text).returncode == 0
    assert envc("hash", "-", cwd=tmp_path, stdin=text).stdout == envc("hash", "env.yml", cwd=tmp_path).stdout


def test_stdin_diagnostics_name_stdin(tmp_path):
    result = envc("check", "-", cwd=tmp_path, stdin="name: d\nbase:\n  imag: python:3.11\npip:\n  requirements: [nope.txt]\n")
    assert result.returncode == 2
    assert result.stderr.splitlines() == ["<stdin>:3:3: error: unknown key 'imag' in 'base' (did you mean 'image'?)",
                                          "<stdin>:5:18: error: no such file 'nope.txt'"]


@pytest.mark.parametrize("text, says", [("numpy==1.26.4\npandas\n", "the document is a str"),
                                        ("@EXPLICIT\nhttps://conda.anaconda.org/x.conda\n", "a conda lock"),
                                        ("", "the document is empty")])
def test_stdin_that_is_no_yaml_spec_is_refused_with_what_to_do(tmp_path, text, says):
    result = envc("compile", "-", cwd=tmp_path, stdin=text)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("<stdin>:1:1: error: ") and says in result.stderr and "give its path" in result.stderr


def test_import_refuses_stdin_and_names_a_missing_file(tmp_path, capsys):
    code, _, err = run_envc(["import", "-"], tmp_path, capsys)
    assert code == 2 and "save stdin to a file" in err
    assert run_envc(["import", "missing.yml"], tmp_path, capsys)[::2] == (2, "missing.yml:1:1: error: no such file\n")
    (tmp_path / "folder").mkdir()
    code, _, err = run_envc(["import", "folder"], tmp_path, capsys)
    assert code == 2 and err.startswith("folder:1:1: error: is a directory: give an envc spec")


BAD = "name: d\nbase: {imag: x}\n"


def on_a_terminal(tmp_path, env) -> str:
    """envc check's stderr when stderr is a terminal (a pseudo-terminal)."""
    (tmp_path / "bad.yml").write_text(BAD)
    main, child = pty.openpty()
    process = subprocess.Popen([sys.executable, "-m", "envc", "check", "bad.yml"], cwd=tmp_path, stderr=child,
                               stdout=subprocess.DEVNULL, env={**{k: v for k, v in os.environ.items() if k != "NO_COLOR"},
                                                               **env})
    os.close(child)
    chunks = []
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # the terminal closed with the process
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(main)
    assert process.wait() == 2
    return b"".join(chunks).decode()


def test_colour_only_on_a_terminal_and_never_with_no_color(tmp_path):
    coloured = on_a_terminal(tmp_path, {"TERM": "xterm"})
    assert coloured.startswith("\033[1mbad.yml:2:8:\033[0m \033[1;31merror:\033[0m unknown key 'imag'")
    plain = "bad.yml:2:8: error: unknown key 'imag' in 'base' (did you mean 'image'?)\r\n"
    assert on_a_terminal(tmp_path, {"TERM": "xterm", "NO_COLOR": "1"}) == plain
    assert on_a_terminal(tmp_path, {"TERM": "dumb"}) == plain
    piped = envc("check", "bad.yml", cwd=tmp_path, env={"TERM": "xterm"})
    assert piped.stderr == plain.replace("\r\n", "\n") and "\033" not in piped.stderr


def test_export_to_stdout_is_what_it_writes_to_a_file_in_the_working_folder(tmp_path, capsys):
    (tmp_path / "reqs.txt").write_text("numpy==1.26.4\n")
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "env.yml").write_text("name: d\nconda:\n  dependencies: [python=3.11]\npip:\n"
                                                "  requirements: [../reqs.txt]\n")
    for to in ("conda", "requirements"):
        code, out, err = run_envc(["export", "specs/env.yml", "--to", to], tmp_path, capsys)
        assert code == 0 and err == ""
        assert run_envc(["export", "specs/env.yml", "--to", to, "-o", f"out.{to}"], tmp_path, capsys)[0] == 0
        assert out == (tmp_path / f"out.{to}").read_text() and "-r reqs.txt" in out  # relative to the working folder
    for to in ("azureml-v2", "azureml-v1"):
        code, out, err = run_envc(["export", "specs/env.yml", "--to", to], tmp_path, capsys)
        assert code == 2 and out == "" and err.endswith("give -o\n")
