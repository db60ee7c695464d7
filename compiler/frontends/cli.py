"""The `envc` command: argument parsing, exit codes, and printing diagnostics.

Exit codes: 0 success; 1 findings (--check found a stale file); 2 invalid input or usage.
Nothing here may print a traceback: every failure becomes a message.
"""

import sys

EXIT_OK, EXIT_FINDINGS, EXIT_INVALID = 0, 1, 2


def build_parser():
    """The full command line. Imported lazily: the pre-commit path (see _plain_invocation) needs none of it."""
    import argparse
    from pathlib import Path

    from envc.common.version import __version__
    from envc.formats.export import FORMATS

    class _Parser(argparse.ArgumentParser):
        def error(self, message):
            self.print_usage(sys.stderr)
            print(f"envc: error: {message}", file=sys.stderr)
            raise SystemExit(EXIT_INVALID)

    parser = _Parser(prog="envc", description="Compile environment specs into reproducible Dockerfiles.")
    parser.add_argument("--version", action="version", version=f"envc {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    compile_ = commands.add_parser("compile", help="compile a spec into a Dockerfile")
    compile_.add_argument("spec", help="envc spec, conda environment.yml, requirements.txt, MLflow python_env.yaml, Azure ML v2 environment YAML or saved Azure ML v1 folder")
    compile_.add_argument("-o", "--output", type=Path, help="write the Dockerfile here (atomically) instead of stdout")
    compile_.add_argument("--check", action="store_true", help="write nothing; exit 1 if OUTPUT is not up to date")
    compile_.add_argument("--no-cache", action="store_true", help="do not use or fill the result cache ($XDG_CACHE_HOME/envc)")
    compile_.add_argument("--emit", choices=("dockerfile", "ir"), default="dockerfile",
                          help="what to print: the Dockerfile (default), or the IR it is rendered from, as JSON")
    compile_.add_argument("--locked", action="store_true",
                          help="refuse anything not reproducible: a base without a digest, a conda package without an exact "
                               "version and build (unless from conda.lock), a pip requirement without == and a hash")
    check = commands.add_parser("check", help="validate specs and the files they reference")
    check.add_argument("specs", nargs="+")
    check.add_argument("--no-cache", action="store_true", help="do not use or fill the result cache ($XDG_CACHE_HOME/envc)")
    diff = commands.add_parser(
        "diff", help="show how committed Dockerfiles differ from what their specs compile to (exit 1 if any does); "
                     "--write updates them (the envc-compile pre-commit hook)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Compare each spec's committed Dockerfile with what the spec compiles to now, and print a unified "
                    "diff (stdout) for each one that is stale or missing. Exit 0 when all are current, 1 when any is "
                    "not (also with --write, so a commit stops for the rewritten files to be added), 2 when a spec "
                    "is invalid. Unchanged specs and files are answered from the result cache.",
        epilog="examples:\n"
               "  envc diff                       # every spec git tracks (envc.yml, env.yml, *.envc.yml)\n"
               "  envc diff --write envs/train.envc.yml\n"
               "  envc diff --specs 'envs/*.yml' --dockerfile 'docker/{stem}.Dockerfile'")
    diff.add_argument("specs", nargs="*", metavar="SPEC",
                      help="specs to compare; none: every file git tracks below the working folder named like a spec "
                           "(see --specs)")
    diff.add_argument("--write", action="store_true", help="rewrite each stale or missing Dockerfile (atomically) "
                                                           "instead of only showing the diff")
    diff.add_argument("--dockerfile", metavar="PATH",
                      help="where each spec's Dockerfile is, relative to the spec's folder; {stem} is the spec's name "
                           "without .yml and .envc (default: Dockerfile, or NAME.Dockerfile for NAME.envc.yml)")
    diff.add_argument("--specs", action="append", default=[], metavar="GLOB", dest="globs",
                      help="without SPEC: the tracked files to compare, as a git pathspec glob from the working folder "
                           "(one without '/' matches the name in any folder); repeatable. Default: envc.yml, "
                           "envc.yaml, env.yml, env.yaml, *.envc.yml, *.envc.yaml")
    diff.add_argument("--no-cache", action="store_true", help="do not use or fill the result cache ($XDG_CACHE_HOME/envc)")
    lint = commands.add_parser("lint", help="find version conflicts, duplicates and unpinned packages (exit 1 on errors)")
    lint.add_argument("specs", nargs="+")
    lint.add_argument("--locked", action="store_true", help="also refuse anything not reproducible (digests, exact pins, hashes)")
    lint.add_argument("--format", choices=("text", "json"), default="text")
    hash_ = commands.add_parser("hash", help="print the spec's content hash (the default image tag)")
    hash_.add_argument("spec")
    hash_.add_argument("--name", action="store_true", help="print the environment name derived from it (envc_<hash>)")
    commands.add_parser("schema", help="print the JSON Schema of the spec language")
    register = commands.add_parser("register", help="keep a snapshot of a spec and the files it reads in the local "
                                                    "registry, as NAME:VERSION (usable wherever a SPEC is)")
    register.add_argument("spec")
    register.add_argument("--version", help="default: one more than the latest; unchanged content keeps its version")
    commands.add_parser("list", help="the registered environments and their versions, then the curated ones")
    show = commands.add_parser("show", help="print a registered spec, or the spec an image in an OCI registry was built from")
    show.add_argument("reference", metavar="NAME[:VERSION]|HOST/NAMESPACE/NAME:TAG")
    show.add_argument("--engine", choices=("docker", "podman", "buildah"),
                      help="for an image reference: the engine whose login and settings reach the registry")
    export = commands.add_parser("export", help="write a spec as a conda environment.yml, a requirements.txt, an "
                                                "Azure ML v2 environment YAML or a saved Azure ML v1 folder (warns about "
                                                "what the format cannot hold)")
    export.add_argument("spec")
    export.add_argument("--to", required=True, choices=FORMATS)
    export.add_argument("-o", "--output", required=True, help="the file to write (azureml-v2 also writes NAME.conda.yml "
                                                              "beside it; azureml-v1: the folder to write)")
    import_ = commands.add_parser("import", help="write a conda environment.yml, requirements.txt, MLflow python_env.yaml, "
                                                 "Azure ML v2 environment YAML or saved Azure ML v1 folder as an envc spec")
    import_.add_argument("source")
    import_.add_argument("-o", "--output", help="write the spec here (atomically) instead of stdout; its paths are "
                                                "rewritten to stay valid from there")
    build = commands.add_parser("build", help="compile a spec and build the image with Docker, podman or buildah")
    build.add_argument("spec")
    build.add_argument("-t", "--tag", help="image tag (default: envc/NAME:SPEC_HASH)")
    build.add_argument("--engine", choices=("docker", "podman", "buildah"), help="default: the first one installed and usable")
    build.add_argument("--force", action="store_true", help="build even if an image with the tag exists")
    build.add_argument("--secret", action="append", default=[], metavar="id=ID,src=FILE|env=VAR",
                       help="a build secret (RUN --mount=type=secret) or a registry credential referenced as {secret: ID}")
    build.add_argument("--engine-arg", action="append", default=[], metavar="ARG",
                       help="passed to the engine's build command as is (e.g. --engine-arg=--pull=never)")
    build.add_argument("--registry", metavar="HOST[:PORT]/NAMESPACE",
                       help="the team's OCI registry (default: $ENVC_IMAGE_REGISTRY): use the image there when it exists, "
                            "else build with it as layer cache and push; stdout is then HOST/NAMESPACE/NAME:TAG@sha256:...")
    build.add_argument("--offline", action="store_true", help="use no registry, even if $ENVC_IMAGE_REGISTRY is set")
    build.add_argument("--pull", action="store_true", help="with a registry: pull the image when the registry already has it")
    build.add_argument("--registry-username", metavar="env:VAR|secret:ID",
                       help="log in to --registry with this username reference (default: the engine's existing login)")
    build.add_argument("--registry-password", metavar="env:VAR|secret:ID",
                       help="and this password reference; it reaches the engine's login on stdin only")
    build.add_argument("-v", "--verbose", action="store_true",
                       help="show the engine's output as it builds (otherwise it goes to a log file, named if the build fails)")
    return parser


def run() -> int:
    """The `envc` process (console script, `python -m envc`): main(), minus the interpreter's housekeeping.

    No cyclic garbage collection: a run is short and leaves little cyclic garbage, while collecting
    during its imports and at exit costs ~2 ms of a ~40 ms cold start. And no teardown: freeing
    every module and object one by one at exit costs ~4 ms more, so once the output is flushed the
    process ends at once (as Instagram's servers do), unless something waits for the exit.
    main() leaves all this alone for callers in the same process.
    """
    import gc

    gc.disable()
    code = main()
    _exit_without_teardown(code)
    return code  # something still needs the interpreter's own exit


def _exit_without_teardown(code: int) -> None:
    """os._exit(code) after flushing stdout and stderr, when no atexit hook (coverage, logging) and no other thread is waiting."""
    import atexit
    import os

    threading = sys.modules.get("threading")
    if getattr(atexit, "_ncallbacks", lambda: 1)() or threading is not None and threading.active_count() > 1:
        return
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:  # None: started with that descriptor closed
                stream.flush()
    except (OSError, ValueError):  # a closed pipe: let the normal exit report it as Python does
        return
    os._exit(code)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        plain = _plain_invocation(argv)
        if plain is not None:
            return plain()
        args = build_parser().parse_args(argv)
        commands = {"compile": _compile, "check": _check, "schema": _schema, "build": _build, "lint": _lint, "hash": _hash,
                    "import": _import, "register": _register, "list": _list, "show": _show,
                    "export": _export, "diff": _diff}
        return commands[args.command](args)
    except KeyboardInterrupt:
        print("envc: interrupted", file=sys.stderr)
        return 130
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_INVALID
    except Exception as exc:  # a bug in envc: say so plainly instead of a traceback
        print(f"envc: internal error: {type(exc).__name__}: {exc} (please report this)", file=sys.stderr)
        return EXIT_INVALID


def _plain_invocation(argv):
    """`check SPEC...` and `compile SPEC [-o FILE] [--check]`, the pre-commit and CI shapes, parsed
    without argparse (its import alone costs a third of a bare interpreter start). Anything
    else, including help and --no-cache, returns None and goes through build_parser()."""
    if argv and argv[0] == "diff":  # the envc-compile pre-commit hook
        return _plain_diff(argv[1:])
    if not argv or any(a.startswith("-") and a not in ("-o", "--output", "--check") for a in argv[1:]):
        return None
    command, rest = argv[0], argv[1:]
    if command == "check" and rest and "-o" not in rest and "--output" not in rest and "--check" not in rest:
        return lambda: check_command(rest, True)
    if command != "compile":
        return None
    check = "--check" in rest
    rest = [a for a in rest if a != "--check"]
    output = None
    for flag in ("-o", "--output"):
        if flag in rest:
            at = rest.index(flag)
            if at + 1 >= len(rest):
                return None
            output = rest.pop(at + 1)
            rest.pop(at)
    if len(rest) != 1 or output is not None and output.startswith("-"):
        return None
    return lambda: compile_command(rest[0], output, check, True)


def _report(diagnostics) -> None:
    for diagnostic in diagnostics:
        print(diagnostic, file=sys.stderr)


def _compile(args) -> int:
    if args.emit == "ir":
        return _compile_ir(args)
    return compile_command(args.spec, args.output, args.check, not args.no_cache, args.locked)


def _compile_ir(args) -> int:
    """`--emit ir`: the IR as JSON, so lowering and emission can each be checked on their own."""
    from envc.common.diagnostics import SpecError
    from envc.core.ir import to_json
    from envc.core.pipeline import compile_spec

    if args.check:
        print("envc: error: --check compares Dockerfiles: drop --emit ir", file=sys.stderr)
        return EXIT_INVALID
    try:
        compiled = compile_spec(_source(args.spec))
    except SpecError as exc:
        _report(exc.diagnostics)
        return EXIT_INVALID
    _report(compiled.warnings)
    text = to_json(compiled.image)
    if args.output is None:
        sys.stdout.write(text)
        return EXIT_OK
    return EXIT_OK if _write(args.output, text) else EXIT_INVALID


def _source(spec: str) -> str:
    """The file a SPEC argument names: itself when it exists, else a registered NAME[:VERSION]'s snapshot."""
    import os

    if os.path.exists(spec):
        return spec
    from envc.services.registry import resolve_source

    return resolve_source(spec)


def compile_command(spec: str, output, check: bool, use_cache: bool, locked: bool = False) -> int:
    if check and not output:
        print("envc: error: --check needs -o FILE (the Dockerfile to compare)", file=sys.stderr)
        return EXIT_INVALID
    if locked and not _locked_ok(spec):
        return EXIT_INVALID
    result = _run(spec, use_cache, need_dockerfile=True)
    if result is None:
        return EXIT_INVALID
    dockerfile, warnings = result
    _report(warnings)
    if check:
        try:
            with open(output, encoding="utf-8") as handle:
                current = handle.read()
        except (OSError, UnicodeDecodeError):
            current = None
        if current == dockerfile:
            return EXIT_OK
        print(f"{output}: out of date: run `envc compile {spec} -o {output}`", file=sys.stderr)
        return EXIT_FINDINGS
    if output is None:
        sys.stdout.write(dockerfile)
        return EXIT_OK
    return EXIT_OK if _write(output, dockerfile) else EXIT_INVALID


def _write(path, text: str) -> bool:
    """Write atomically (a failure leaves the old file as it was); say why it failed."""
    from envc.common.atomic_write import write_atomic

    try:
        write_atomic(path, text)
    except OSError as exc:
        print(f"{path}: error: cannot write: {exc.strerror or exc}", file=sys.stderr)
        return False
    return True


def _check(args) -> int:
    return check_command(args.specs, not args.no_cache)


def check_command(specs, use_cache: bool) -> int:
    status = EXIT_OK
    for spec in specs:
        result = _run(spec, use_cache, need_dockerfile=False)
        if result is None:
            status = EXIT_INVALID
        else:
            _report(result[1])
    return status


def _plain_diff(rest):
    """`diff [--write] [--dockerfile PATH] [--specs GLOB]... [SPEC...]` without argparse; None for anything else."""
    specs, globs, options = [], [], {"--write": False, "--dockerfile": None}
    words = iter(rest)
    for word in words:
        name, equals, value = word.partition("=")
        if word == "--write":
            options[word] = True
        elif name in ("--dockerfile", "--specs"):
            value = value if equals else next(words, None)
            if value is None:
                return None
            if name == "--specs":
                globs.append(value)
            else:
                options[name] = value
        elif word.startswith("-"):
            return None
        else:
            specs.append(word)
    return lambda: diff_command(specs, options["--write"], options["--dockerfile"], globs, True)


def _diff(args) -> int:
    return diff_command(args.specs, args.write, args.dockerfile, args.globs, not args.no_cache)


def diff_command(specs, write: bool, dockerfile, globs, use_cache: bool) -> int:
    """Exit 0 when every spec's Dockerfile is what it compiles to; 1 when one is stale or missing (a diff on
    stdout; rewritten with write); 2 when a spec is invalid or no spec can be found."""
    import os

    from envc.services.dockerfiles import SPEC_GLOBS, dockerfile_for, tracked_specs

    if specs and globs:
        print("envc: error: give SPEC... or --specs GLOB, not both", file=sys.stderr)
        return EXIT_INVALID
    if not specs:
        specs = tracked_specs(globs or SPEC_GLOBS)
        if specs is None:
            print("envc: error: no SPEC given, and git cannot list the tracked specs here: name the specs, or run "
                  "it inside a git repository", file=sys.stderr)
            return EXIT_INVALID
    status, targets = EXIT_OK, {}
    for spec in specs:
        if not os.path.exists(spec):
            print(f"{spec}: error: no such file", file=sys.stderr)
            status = EXIT_INVALID
            continue
        target = dockerfile_for(spec, dockerfile)
        key = os.path.normcase(os.path.abspath(target))
        if key in targets:
            print(f"{target}: error: both {targets[key]} and {spec} would compile to it: name them NAME.envc.yml (each "
                  "gets NAME.Dockerfile), or pass --dockerfile '{stem}.Dockerfile'", file=sys.stderr)
            status = EXIT_INVALID
            continue
        targets[key] = spec
        result = _run(spec, use_cache, need_dockerfile=True)
        if result is None:
            status = EXIT_INVALID
            continue
        compiled, warnings = result
        _report(warnings)
        try:
            with open(target, encoding="utf-8") as handle:  # as compile --check reads it
                current = handle.read()
        except FileNotFoundError:
            current = None
        except (OSError, UnicodeDecodeError) as exc:
            print(f"{target}: error: cannot read: {getattr(exc, 'strerror', None) or exc}", file=sys.stderr)
            status = EXIT_INVALID
            continue
        if current == compiled:
            continue
        from envc.services.dockerfiles import unified_diff

        sys.stdout.write(unified_diff(target, current, compiled))
        if not write:
            option = "" if dockerfile is None else f" --dockerfile '{dockerfile}'"
            print(f"{target}: {'out of date with' if current is not None else 'missing for'} {spec}: run `envc diff "
                  f"--write{option} {spec}` to {'rewrite' if current is not None else 'write'} it", file=sys.stderr)
        elif _write(target, compiled):
            print(f"{target}: {'rewritten' if current is not None else 'written'} from {spec}", file=sys.stderr)
        else:
            status = EXIT_INVALID
        status = status or EXIT_FINDINGS
    return status


def _checked(spec: str):
    """The checked Inputs of a SPEC argument, or None after reporting its errors."""
    from envc.common.diagnostics import SpecError
    from envc.core.pipeline import check

    try:
        return check(_source(spec))
    except SpecError as exc:
        _report(exc.diagnostics)
        return None


def _locked_ok(spec: str) -> bool:
    """--locked: report every error lint finds with locked=True; True when there is none."""
    from envc.core.lint import lint

    inputs = _checked(spec)
    if inputs is None:
        return False
    errors = [d for d in lint(inputs, locked=True) if d.severity == "error"]
    _report(errors)
    return not errors


def _run(spec: str, use_cache: bool, need_dockerfile: bool):
    """(Dockerfile text or None, warning lines) for spec, from the cache when its inputs are
    unchanged; None after reporting the spec's errors."""
    from envc.services import cache

    spec = _source(spec)
    if use_cache:
        entry = cache.lookup(spec)
        if entry is not None and (not need_dockerfile or "dockerfile" in entry):
            return entry.get("dockerfile"), entry["warnings"]
    from envc.common.diagnostics import SpecError
    from envc.core.pipeline import check, compile_spec

    spec_bytes = cache.read_spec(spec) if use_cache else None  # read before the run: see cache.store
    try:
        if need_dockerfile:
            compiled = compile_spec(spec)
            dockerfile, warnings, inputs = compiled.dockerfile, compiled.warnings, compiled.inputs
        else:
            inputs = check(spec)
            dockerfile, warnings = None, inputs.notes
    except SpecError as exc:
        _report(exc.diagnostics)
        return None
    warnings = [str(w) for w in warnings]
    if use_cache and spec_bytes is not None and not inputs.listed:  # folder listings are not tracked by the cache
        cache.store(spec, spec_bytes, inputs.read_files(), warnings, dockerfile, inputs.absent_files())
    return dockerfile, warnings


def _schema(args) -> int:
    from envc.common.schema import schema_text

    sys.stdout.write(schema_text())
    return EXIT_OK


def _build(args) -> int:
    """Exit 0 built or already built; 2 invalid spec, no engine or bad arguments; 1 the build failed."""
    import os

    from envc.common.diagnostics import SpecError
    from envc.services.build import BuildError, BuildFailed, build

    registry = None if args.offline else args.registry or os.environ.get("ENVC_IMAGE_REGISTRY") or None
    if bool(args.registry_username) != bool(args.registry_password):
        print("envc: error: give --registry-username and --registry-password together", file=sys.stderr)
        return EXIT_INVALID
    if (args.pull or args.registry_username) and not registry:
        print(f"envc: error: {'--pull' if args.pull else '--registry-username'} needs a registry: --registry "
              "HOST/NAMESPACE or $ENVC_IMAGE_REGISTRY", file=sys.stderr)
        return EXIT_INVALID
    credentials = (args.registry_username, args.registry_password) if args.registry_username else None
    try:
        tag, _ = build(_source(args.spec), tag=args.tag, engine_name=args.engine, force=args.force,
                       secrets=args.secret, engine_args=args.engine_arg, registry=registry, pull=args.pull,
                       registry_credentials=credentials, verbose=args.verbose)
    except SpecError as exc:
        _report(exc.diagnostics)
        return EXIT_INVALID
    except BuildError as exc:
        print(f"envc: error: {exc}", file=sys.stderr)
        return EXIT_FINDINGS if isinstance(exc, BuildFailed) else EXIT_INVALID
    print(tag)
    return EXIT_OK


def _lint(args) -> int:
    """Exit 1 when lint finds errors, 0 with warnings only, 2 when the spec itself is invalid."""
    from envc.core.lint import as_json, has_errors, lint

    status, found = EXIT_OK, []
    for spec in args.specs:
        inputs = _checked(spec)
        if inputs is None:
            status = EXIT_INVALID
            continue
        found += sorted(set(inputs.notes) | set(lint(inputs, locked=args.locked)))
    if args.format == "json":
        print(as_json(found))
    else:
        _report(found)
    return status or (EXIT_FINDINGS if has_errors(found) else EXIT_OK)


def _import(args) -> int:
    from envc.common.diagnostics import SpecError
    from envc.formats.envc_spec import check_importable, import_spec

    try:
        check_importable(args.source, args.output)
    except SpecError as exc:
        _report(exc.diagnostics)
        return EXIT_INVALID
    inputs = _checked(args.source)  # every problem compile would report, before anything is written
    if inputs is None:
        return EXIT_INVALID
    try:
        text = import_spec(inputs, args.source, args.output)
    except SpecError as exc:
        _report(exc.diagnostics)
        return EXIT_INVALID
    if args.output is None:
        sys.stdout.write(text)
        return EXIT_OK
    return EXIT_OK if _write(args.output, text) else EXIT_INVALID


def _export(args) -> int:
    from envc.common.diagnostics import SpecError
    from envc.formats.export import export

    inputs = _checked(args.spec)
    if inputs is None:
        return EXIT_INVALID
    try:
        files, warnings = export(inputs, args.to, args.output)
    except SpecError as exc:
        _report(exc.diagnostics)
        return EXIT_INVALID
    _report(warnings)
    import os

    try:
        for path in files:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            if files[path] is None and os.path.isfile(path):
                os.unlink(path)  # a file an earlier export left that would now change the meaning
    except OSError as exc:
        print(f"{args.output}: error: cannot write: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_INVALID
    return EXIT_OK if all(_write(path, text) for path, text in files.items() if text is not None) else EXIT_INVALID


def _register(args) -> int:
    from envc.common.diagnostics import SpecError
    from envc.services.registry import register

    try:
        name, version, created = register(args.spec, args.version)
    except SpecError as exc:
        _report(exc.diagnostics)
        return EXIT_INVALID
    if not created:
        print(f"envc: unchanged: {name}:{version} already holds this content", file=sys.stderr)
    print(f"{name}:{version}")
    return EXIT_OK


def _list(args) -> int:
    from envc.services.registry import curated, names, versions

    for name in names():
        known = versions(name)
        print(f"{name}:{known[-1]}  ({len(known)} version{'s' if len(known) > 1 else ''}: {', '.join(known)})")
    for entry in curated():
        print(f"{entry['name']}:{entry['version']}  (curated: Azure ML's {entry['azureml_name']})")
    return EXIT_OK


def _show(args) -> int:
    if "/" in args.reference:  # an image in an OCI registry (a registered NAME[:VERSION] has no '/')
        return _show_image(args)
    from envc.services.registry import curated, names, resolve

    path = resolve(args.reference)
    if path is None:
        known = ", ".join(names()) or "none yet"
        print(f"envc: error: {args.reference} is not registered (registered: {known}; curated: "
              f"{', '.join(entry['name'] for entry in curated())}); `envc list` shows them", file=sys.stderr)
        return EXIT_INVALID
    with open(path, encoding="utf-8") as handle:
        sys.stdout.write(handle.read())
    return EXIT_OK


def _show_image(args) -> int:
    """`envc show HOST/NAMESPACE/NAME:TAG[@sha256:...]`: the spec carried in the image's labels (envc build)."""
    from envc.services.build import BuildError, find_engine
    from envc.services.oci_registry import Client, RegistryError, spec_from_labels

    try:
        engine = find_engine(args.engine)
        host = args.reference.split("/", 1)[0]
        labels = Client(engine.name, engine.path, sys.stderr).remote_labels(args.reference, host)
    except (BuildError, RegistryError) as exc:
        print(f"envc: error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    text = spec_from_labels(labels)
    if text is None:
        print(f"envc: error: {args.reference} carries no envc spec (it was not built by `envc build`)", file=sys.stderr)
        return EXIT_INVALID
    sys.stdout.write(text)
    return EXIT_OK


def _hash(args) -> int:
    from envc.core.lower import hashed_name

    inputs = _checked(args.spec)
    if inputs is None:
        return EXIT_INVALID
    print(hashed_name(inputs.spec_hash) if args.name else inputs.spec_hash)
    return EXIT_OK
