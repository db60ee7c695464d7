"""The `envc` command line as argparse sees it: every command, argument, description and example.

Kept apart from envc.frontends.cli so the commands stay readable, and imported only when a command
line is not one of the plain shapes the pre-commit and CI paths parse without argparse.
"""
import argparse
import sys
from pathlib import Path

from envc.common.version import __version__
from envc.formats.export import FORMATS

EXIT_INVALID = 2
INPUTS = ("an envc spec, a conda environment.yml, a requirements.txt, an explicit conda lock or conda-lock.yml, "
          "an MLflow python_env.yaml, an Azure ML v2 environment YAML, a folder saved by Azure ML's "
          "Environment.save_to_directory, or a registered NAME[:VERSION]")
NO_CACHE = "do not use or fill the result cache ($XDG_CACHE_HOME/envc), which answers unchanged specs at once"
EXIT_CODES = "exit status: 0 success, {findings}2 invalid input or usage"


class _Parser(argparse.ArgumentParser):
    """Usage errors exit 2, as invalid input does."""

    def error(self, message):
        self.print_usage(sys.stderr)
        print(f"envc: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_INVALID)


def _wrap(text: str) -> str:
    """A paragraph filled to the width argparse gives its own text (descriptions are kept as written, for the examples)."""
    import shutil
    import textwrap

    return textwrap.fill(text, min(shutil.get_terminal_size().columns, 100) - 2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="envc", formatter_class=argparse.RawDescriptionHelpFormatter,
                     description=_wrap("Compile environment specs into reproducible Dockerfiles, and build, share "
                                       "and check them. Messages go to stderr, results to stdout."),
                     epilog="examples:\n"
                            "  envc compile env.yml -o Dockerfile\n"
                            "  envc build env.yml --registry registry.example.com/team\n"
                            "  envc COMMAND --help            # what each command takes, with examples")
    parser.add_argument("--version", action="version", version=f"envc {__version__}",
                        help="print envc's version and exit")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser, metavar="COMMAND")

    def command(name, summary, description, examples, findings=None):
        """A subcommand whose help ends with its exit codes (1: findings, when it has them) and examples."""
        codes = EXIT_CODES.format(findings=f"1 {findings}, " if findings else "")
        return commands.add_parser(name, help=summary, description=_wrap(description),
                                   epilog=_wrap(codes) + "\n\nexamples:\n"
                                          + "\n".join(f"  {example}" for example in examples),
                                   formatter_class=argparse.RawDescriptionHelpFormatter)

    compile_ = command(
        "compile", "compile a spec into a Dockerfile",
        "Compile SPEC into a Dockerfile: printed on stdout, or written atomically to -o FILE (left untouched when "
        "SPEC has an error). The same input always gives the same bytes.",
        ["envc compile env.yml -o Dockerfile",
         "envc compile environment.yml --check -o Dockerfile   # in CI: exit 1 when Dockerfile is stale",
         "generate-spec | envc compile - -o Dockerfile          # the spec on stdin"],
        findings="with --check: FILE is stale")
    compile_.add_argument("spec", metavar="SPEC", help=f"{INPUTS}; `-` reads a YAML spec from stdin (its relative "
                                                       "paths then resolve from the working folder)")
    compile_.add_argument("-o", "--output", type=Path, metavar="FILE",
                          help="write the Dockerfile here (atomically) instead of stdout")
    compile_.add_argument("--check", action="store_true", help="write nothing; exit 1 if FILE is not up to date")
    compile_.add_argument("--no-cache", action="store_true", help=NO_CACHE)
    compile_.add_argument("--emit", choices=("dockerfile", "ir"), default="dockerfile",
                          help="what to print: the Dockerfile (default), or the IR it is rendered from, as JSON")
    compile_.add_argument("--locked", action="store_true",
                          help="refuse anything not reproducible: a base without a digest, a conda package without an exact "
                               "version and build (unless from conda.lock), a pip requirement without == and a hash")

    check = command(
        "check", "validate specs and the files they reference",
        "Validate each SPEC and every file it reads (requirements, conda files, scripts, a base Dockerfile) as "
        "compile would, writing nothing: every problem as FILE:LINE:COL: error: what is wrong and how to fix it.",
        ["envc check env.yml",
         "envc check envs/*.envc.yml environment.yml",
         "cat env.yml | envc check -"])
    check.add_argument("specs", nargs="+", metavar="SPEC", help=f"{INPUTS}; `-` reads a YAML spec from stdin")
    check.add_argument("--no-cache", action="store_true", help=NO_CACHE)

    diff = command(
        "diff", "show how committed Dockerfiles differ from what their specs compile to; --write updates them "
                "(the envc-compile pre-commit hook)",
        "Compare each spec's committed Dockerfile with what the spec compiles to now, and print a unified diff "
        "(stdout) for each one that is stale or missing. Exit 1 also with --write, so a commit stops for the "
        "rewritten files to be added. Unchanged specs and files are answered from the result cache.",
        ["envc diff                       # every spec git tracks (envc.yml, env.yml, *.envc.yml)",
         "envc diff --write envs/train.envc.yml",
         "envc diff --specs 'envs/*.yml' --dockerfile 'docker/{stem}.Dockerfile'"],
        findings="a Dockerfile is stale or missing")
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
    diff.add_argument("--no-cache", action="store_true", help=NO_CACHE)

    lint = command(
        "lint", "find version conflicts, duplicates and unpinned packages (exit 1 on errors)",
        "Everything check reports, then the problems a valid spec can still have. Errors: a conda/pip conflict, "
        "a package listed twice that no version satisfies. Warnings: a package listed twice, or by both conda "
        "and pip; unpinned packages; a base image without a digest.",
        ["envc lint env.yml",
         "envc lint --locked env.yml          # also: every input pinned, hashed and digested",
         "envc lint --format json env.yml     # for editors and CI annotations"], findings="lint found errors")
    lint.add_argument("specs", nargs="+", metavar="SPEC", help=f"{INPUTS}; `-` reads a YAML spec from stdin")
    lint.add_argument("--locked", action="store_true", help="also refuse anything not reproducible (digests, exact "
                                                            "pins, hashes)")
    lint.add_argument("--format", choices=("text", "json"), default="text",
                      help="text: FILE:LINE:COL: SEVERITY: MESSAGE lines on stderr (default); json: one array on stdout")

    hash_ = command(
        "hash", "print the spec's content hash (the default image tag)",
        "Print the sha256 over envc's version, the spec's data and the path and bytes of every file it reads: "
        "the hash in the Dockerfile's header, whose first 16 digits are envc build's default tag, so two "
        "machines with the same inputs agree on it. Key order, comments and where the spec lives do not count.",
        ["envc hash env.yml",
         "envc hash --name env.yml    # envc_<32 hex>, as Azure ML names environments azureml_<hash>",
         "envc hash - < env.yml"])
    hash_.add_argument("spec", metavar="SPEC", help=f"{INPUTS}; `-` reads a YAML spec from stdin")
    hash_.add_argument("--name", action="store_true", help="print the environment name derived from it (envc_<hash>)")

    command("schema", "print the JSON Schema of the spec language",
            "Print the JSON Schema (draft 2020-12) envc validates specs with: for editors (yaml-language-server), "
            "check-jsonschema and code generators. envc's own messages are more precise than a generic validator's.",
            ["envc schema > envc.schema.json   # then: check-jsonschema --schemafile envc.schema.json env.yml",
             "envc schema | jq '.properties | keys'   # the top-level keys"])

    register = command(
        "register", "keep a snapshot of a spec and the files it reads in the local registry, as NAME:VERSION",
        "Keep a snapshot of SPEC and every file it reads in the local registry ($ENVC_REGISTRY, default "
        "$XDG_DATA_HOME/envc/registry), as "
        "NAME:VERSION, usable wherever a SPEC is. Registering unchanged content again keeps its version.",
        ["envc register env.yml                 # prints NAME:VERSION",
         "envc register env.yml --version 2.0",
         "envc compile train:2.0 -o Dockerfile"])
    register.add_argument("spec", metavar="SPEC", help=INPUTS)
    register.add_argument("--version", help="the version to register (default: one more than the latest)")

    command("list", "the registered environments and their versions, then the curated ones",
            "List the registered environments (NAME:LATEST and every version), then the curated environments envc "
            "ships (Azure ML's, usable by name).",
            ["envc list", "envc show AzureML-sklearn-1.5"])

    show = command(
        "show", "print a registered spec, or the spec an image in an OCI registry was built from",
        "Print the spec of a registered or curated NAME[:VERSION], or, for an image reference, the spec envc "
        "build put in its labels, read from the registry without pulling the image.",
        ["envc show train                      # the latest registered version",
         "envc show train:2 > env.yml",
         "envc show registry.example.com/team/train:TAG   # what a teammate's image was built from"])
    show.add_argument("reference", metavar="NAME[:VERSION]|HOST/NAMESPACE/NAME:TAG",
                      help="a registered or curated environment, or an image in an OCI registry")
    show.add_argument("--engine", choices=("docker", "podman", "buildah"),
                      help="for an image reference: the engine whose login and settings reach the registry "
                           "(default: the first one installed)")

    export = command(
        "export", "write a spec as a conda environment.yml, a requirements.txt or an Azure ML environment",
        "Write SPEC in another format, warning (with the spec line) about each setting the format cannot hold. "
        "Relative paths are rewritten to stay valid from where the output is.",
        ["envc export env.yml --to conda > environment.yml",
         "envc export env.yml --to requirements -o requirements.txt",
         "envc export env.yml --to azureml-v2 -o azureml/environment.yml   # also azureml/NAME.conda.yml"])
    export.add_argument("spec", metavar="SPEC", help=f"{INPUTS}; `-` reads a YAML spec from stdin")
    export.add_argument("--to", required=True, choices=FORMATS,
                        help="conda: environment.yml; requirements: requirements.txt; azureml-v2: an Azure ML v2 "
                             "environment YAML (and its conda file); azureml-v1: a folder azureml-core's "
                             "Environment.load_from_directory reads")
    export.add_argument("-o", "--output", metavar="PATH",
                        help="the file to write (atomically; default: stdout, for conda and requirements); "
                             "azureml-v2 also writes NAME.conda.yml beside it; azureml-v1: the folder to write")

    import_ = command(
        "import", "write another format as an envc spec",
        "Write SOURCE as an envc spec, which envc compiles to the same Dockerfile as SOURCE. SOURCE is checked "
        "as compile checks it; nothing is written when it has an error.",
        ["envc import environment.yml -o env.yml",
         "envc import requirements.txt > env.yml",
         "envc import azureml/environment.yml -o envs/train.envc.yml"])
    import_.add_argument("source", metavar="SOURCE", help=INPUTS.replace("an envc spec, ", ""))
    import_.add_argument("-o", "--output", metavar="FILE",
                         help="write the spec here (atomically) instead of stdout; its paths are rewritten to stay "
                              "valid from there")

    build = command(
        "build", "compile a spec and build the image with Docker, podman or buildah",
        "Compile SPEC and build its image, tagged with the spec's content hash, unless an image with the tag "
        "exists. With a team registry, an image a teammate or CI built is used instead of building, and a new "
        "one is pushed. Progress on stderr, a line per part of the spec; the image reference on stdout.",
        ["envc build env.yml",
         "envc build env.yml --engine buildah -t train:dev",
         "ENVC_IMAGE_REGISTRY=registry.example.com/team envc build env.yml --pull"],
        findings="the build failed (its log is named)")
    build.add_argument("spec", metavar="SPEC", help=INPUTS)
    build.add_argument("-t", "--tag", help="image tag (default: envc/NAME:HASH, the first 16 digits of `envc hash`)")
    build.add_argument("--engine", choices=("docker", "podman", "buildah"),
                       help="default: the first one installed and usable")
    build.add_argument("--force", action="store_true", help="build even if an image with the tag exists")
    build.add_argument("--secret", action="append", default=[], metavar="id=ID,src=FILE|env=VAR",
                       help="a build secret (RUN --mount=type=secret) or a registry credential referenced as "
                            "{secret: ID}; repeatable")
    build.add_argument("--engine-arg", action="append", default=[], metavar="ARG",
                       help="passed to the engine's build command as is (e.g. --engine-arg=--pull=never); repeatable")
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
