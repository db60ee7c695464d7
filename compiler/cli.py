"""The `envc` command: argument parsing, exit codes, and printing diagnostics.

Exit codes: 0 success; 1 findings (--check found a stale file); 2 invalid input or usage.
Nothing here may print a traceback: every failure becomes a message.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_OK, EXIT_FINDINGS, EXIT_INVALID = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        self.print_usage(sys.stderr)
        print(f"envc: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_INVALID)


def build_parser() -> argparse.ArgumentParser:
    from envc import __version__

    parser = _Parser(prog="envc", description="Compile environment specs into reproducible Dockerfiles.")
    parser.add_argument("--version", action="version", version=f"envc {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    compile_ = commands.add_parser("compile", help="compile a spec into a Dockerfile")
    compile_.add_argument("spec", help="envc spec, conda environment.yml, requirements.txt or MLflow python_env.yaml")
    compile_.add_argument("-o", "--output", type=Path, help="write the Dockerfile here (atomically) instead of stdout")
    compile_.add_argument("--check", action="store_true", help="write nothing; exit 1 if OUTPUT is not up to date")
    check = commands.add_parser("check", help="validate specs and the files they reference")
    check.add_argument("specs", nargs="+")
    commands.add_parser("schema", help="print the JSON Schema of the spec language")
    build = commands.add_parser("build", help="compile a spec and build the image with Docker, podman or buildah")
    build.add_argument("spec")
    build.add_argument("-t", "--tag", help="image tag (default: envc/NAME:SPEC_HASH)")
    build.add_argument("--engine", choices=("docker", "podman", "buildah"), help="default: the first one installed and usable")
    build.add_argument("--force", action="store_true", help="build even if an image with the tag exists")
    build.add_argument("--secret", action="append", default=[], metavar="id=ID,src=FILE|env=VAR",
                       help="a build secret (RUN --mount=type=secret) or a registry credential referenced as {secret: ID}")
    build.add_argument("--engine-arg", action="append", default=[], metavar="ARG",
                       help="passed to the engine's build command as is (e.g. --engine-arg=--pull=never)")
    return parser


def main(argv=None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return {"compile": _compile, "check": _check, "schema": _schema, "build": _build}[args.command](args)
    except KeyboardInterrupt:
        print("envc: interrupted", file=sys.stderr)
        return 130
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_INVALID
    except Exception as exc:  # a bug in envc: say so plainly instead of a traceback
        print(f"envc: internal error: {type(exc).__name__}: {exc} (please report this)", file=sys.stderr)
        return EXIT_INVALID


def _report(diagnostics) -> None:
    for diagnostic in diagnostics:
        print(diagnostic, file=sys.stderr)


def _compile(args) -> int:
    from envc.diagnostics import SpecError
    from envc.pipeline import compile_spec

    if args.check and not args.output:
        print("envc: error: --check needs -o FILE (the Dockerfile to compare)", file=sys.stderr)
        return EXIT_INVALID
    try:
        compiled = compile_spec(args.spec)
    except SpecError as exc:
        _report(exc.diagnostics)
        return EXIT_INVALID
    _report(compiled.warnings)
    if args.check:
        try:
            current = args.output.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            current = None
        if current == compiled.dockerfile:
            return EXIT_OK
        print(f"{args.output}: out of date: run `envc compile {args.spec} -o {args.output}`", file=sys.stderr)
        return EXIT_FINDINGS
    if args.output is None:
        sys.stdout.write(compiled.dockerfile)
        return EXIT_OK
    from envc.output import write_atomic

    try:
        write_atomic(args.output, compiled.dockerfile)
    except OSError as exc:
        print(f"{args.output}: error: cannot write: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_INVALID
    return EXIT_OK


def _check(args) -> int:
    from envc.diagnostics import SpecError
    from envc.pipeline import check

    status = EXIT_OK
    for spec in args.specs:
        try:
            inputs, _ = check(spec)
            _report(inputs.doc.notes)
        except SpecError as exc:
            _report(exc.diagnostics)
            status = EXIT_INVALID
    return status


def _schema(args) -> int:
    from importlib.resources import files

    sys.stdout.write(files("envc.schemas").joinpath("envc.schema.json").read_text(encoding="utf-8"))
    return EXIT_OK


def _build(args) -> int:
    """Exit 0 built or already built; 2 invalid spec, no engine or bad arguments; 1 the build failed."""
    from envc.build import BuildError, BuildFailed, build
    from envc.diagnostics import SpecError

    try:
        tag, _ = build(args.spec, tag=args.tag, engine_name=args.engine, force=args.force,
                       secrets=args.secret, engine_args=args.engine_arg)
    except SpecError as exc:
        _report(exc.diagnostics)
        return EXIT_INVALID
    except BuildError as exc:
        print(f"envc: error: {exc}", file=sys.stderr)
        return EXIT_FINDINGS if isinstance(exc, BuildFailed) else EXIT_INVALID
    print(tag)
    return EXIT_OK
