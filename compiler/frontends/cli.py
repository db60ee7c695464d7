"""The `envc` command: argument parsing, exit codes, and printing diagnostics.

Exit codes: 0 success; 1 findings (--check found a stale file); 2 invalid input or usage.
Nothing here may print a traceback: every failure becomes a message.
"""

import sys

EXIT_OK, EXIT_FINDINGS, EXIT_INVALID = 0, 1, 2


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
    _stdin.clear()
    try:
        plain = _plain_invocation(argv)
        if plain is not None:
            return plain()
        from envc.frontends.arguments import build_parser

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
    else, including help and --no-cache, returns None and goes through envc.frontends.arguments."""
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
    """Diagnostics on stderr, one a line; coloured only on a terminal, and never with NO_COLOR set (no-color.org)."""
    import os

    colour = sys.stderr is not None and sys.stderr.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"
    for diagnostic in diagnostics:
        print(_paint(str(diagnostic)) if colour else diagnostic, file=sys.stderr)


_COLOURS = {"error": "\033[1;31m", "warning": "\033[1;33m"}


def _paint(line: str) -> str:
    """FILE:LINE:COL in bold and the severity in its colour, as compilers show them."""
    for severity, colour in _COLOURS.items():
        location, found, message = line.partition(f": {severity}: ")
        if found:
            return f"\033[1m{location}:\033[0m {colour}{severity}:\033[0m {message}"
    return line


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
    if args.locked and not _locked_ok(args.spec):
        return EXIT_INVALID
    try:
        compiled = compile_spec(*_input(args.spec))
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


STDIN = "-"
_stdin = {}  # what stdin held, read once per main(): `compile --locked -` checks and compiles it


def _input(spec: str) -> tuple:
    """(path, text) for a SPEC argument: (_source(spec), None), or for `-` stdin's content at the pseudo path
    `<stdin>` in the working folder (relative paths resolve from there). SpecError when stdin cannot be read."""
    if spec != STDIN:
        return _source(spec), None
    from envc.common.diagnostics import Location, SpecError, error
    from envc.common.limits import MAX_SPEC_BYTES
    from envc.core.yaml_source import decode_text
    from envc.formats.detect import STDIN_NAME, stdin_path

    if "text" not in _stdin:
        if sys.stdin is None:
            raise SpecError([error(Location(STDIN_NAME), "stdin is closed: pipe the spec in, or give its path")])
        if sys.stdin.isatty():
            print("envc: reading the spec from stdin (end it with Ctrl-D)", file=sys.stderr)
        stream = getattr(sys.stdin, "buffer", None)
        data = stream.read(MAX_SPEC_BYTES + 1) if stream is not None else sys.stdin.read().encode("utf-8")
        _stdin["text"] = decode_text(data, STDIN_NAME)
    return stdin_path(), _stdin["text"]


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
        return check(*_input(spec))
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

    use_cache = use_cache and spec != STDIN
    spec = _source(spec) if spec != STDIN else spec
    if use_cache:
        entry = cache.lookup(spec)
        if entry is not None and (not need_dockerfile or "dockerfile" in entry):
            return entry.get("dockerfile"), entry["warnings"]
    from envc.common.diagnostics import SpecError
    from envc.core.pipeline import check, compile_spec

    spec_bytes = cache.read_spec(spec) if use_cache else None  # read before the run: see cache.store
    try:
        if need_dockerfile:
            compiled = compile_spec(*_input(spec))
            dockerfile, warnings, inputs = compiled.dockerfile, compiled.warnings, compiled.inputs
        else:
            inputs = check(*_input(spec))
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

    if args.source == STDIN:
        print("envc: error: import reads SOURCE by path, to write the paths in it relative to the spec: save stdin "
              "to a file first", file=sys.stderr)
        return EXIT_INVALID
    try:
        check_importable(_source(args.source), args.output)
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

    import os

    if args.output is None and args.to in MULTI_FILE_FORMATS:
        print(f"envc: error: --to {args.to} writes {MULTI_FILE_FORMATS[args.to]}: give -o", file=sys.stderr)
        return EXIT_INVALID
    inputs = _checked(args.spec)
    if inputs is None:
        return EXIT_INVALID
    try:  # to stdout, paths are written relative to the working folder, as for a file written there
        files, warnings = export(inputs, args.to, args.output or os.path.join(os.getcwd(), "-"))
    except SpecError as exc:
        _report(exc.diagnostics)
        return EXIT_INVALID
    _report(warnings)
    if args.output is None:
        sys.stdout.write(*files.values())
        return EXIT_OK

    try:
        for path in files:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            if files[path] is None and os.path.isfile(path):
                os.unlink(path)  # a file an earlier export left that would now change the meaning
    except OSError as exc:
        print(f"{args.output}: error: cannot write: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_INVALID
    return EXIT_OK if all(_write(path, text) for path, text in files.items() if text is not None) else EXIT_INVALID


MULTI_FILE_FORMATS = {"azureml-v2": "NAME.conda.yml beside the environment YAML",
                      "azureml-v1": "a folder (azureml_environment.json and more)"}


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
