"""Speed and memory budgets of issue 6: wall time, throughput and peak RSS of envc, with hpccm side by side.

    python bench/speed.py [--runs N] [--rounds N] [--with-hpccm | --hpccm-venv DIR]

Measures, with the envc of the venv this script runs in (its `envc` console script, else `-m envc`):

1. `envc compile SPEC -o Dockerfile` in a new process with an empty cache (a fresh, empty
   XDG_CACHE_HOME for every run) against `hpccm --recipe R` emitting the equivalent Dockerfile of
   the same spec (base image, conda python+numpy, two pip packages, env vars, a setup script),
   run alternately: median envc <= 0.6 x median hpccm. hpccm is measured only with --with-hpccm
   (installs PyPI `hpccm` into a throwaway venv) or --hpccm-venv DIR (reuses DIR, installing
   into it if needed); without either the budget is reported as "not checked", never as met.
2. `envc check SPEC` and `envc compile SPEC -o Dockerfile --check` on unchanged inputs with a warm
   cache, alternately with a bare `python -c pass` of the same venv: each median <= 2 x python's.
3. One process compiling the 131 conda and requirements files of ../shared/corpus/azureml-examples
   through `envc.core.pipeline.compile_spec` (after start-up: imports and one warm-up compile are not
   timed): median of --rounds rounds >= 1,000 specs/s.
4. Generated specs of 1k/2k/4k/8k packages (pip:conda = 2.5:1) and the headline 5,000 pip + 2,000
   conda: compiled in-process (median of --runs compiles after a warm-up) to show time per package,
   growth flagged as superlinear when time(8k)/time(1k) > 10; the headline also as a whole
   `envc compile` process with an empty cache: median < 1 s.
5. Peak RSS of every process above (a tiny wrapper reads RUSAGE_CHILDREN): <= 60 MB.

Every timing is --runs runs (default 7): median and min-max. The ratio column is measured/budget
for upper bounds and budget/measured for lower bounds, so <= 1.00 means met. Exits 1 when any
checked budget is missed; 0 otherwise (the last line says if a budget was not checked).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SELF = Path(__file__).resolve()
ROOT = SELF.parent.parent
CORPUS = ROOT.parent / "shared" / "corpus" / "azureml-examples"
CORPUS_SIZE = 131
HPCCM_RATIO_BUDGET = 0.6  # envc compile, empty cache <= 0.6 x hpccm
STARTUP_RATIO_BUDGET = 2.0  # warm check / compile --check <= 2 x `python -c pass`
THROUGHPUT_BUDGET = 1000.0  # specs/s, one process
HEADLINE = (5000, 2000)  # pip, conda packages
HEADLINE_BUDGET_S = 1.0
SCALING_TOTALS = (1000, 2000, 4000, 8000)
SUPERLINEAR_FACTOR = 10.0  # time(8k)/time(1k) above this = not linear
MEMORY_BUDGET_MB = 60.0

SETUP_SH = "#!/bin/sh\necho 'node setup done'\n"
SPEC = """\
name: speed-bench
base:
  image: ubuntu:22.04
conda:
  channels: [conda-forge]
  dependencies: [python=3.10, numpy=1.26]
pip:
  packages: [requests==2.31.0, pyyaml==6.0.1]
env:
  EXAMPLE_ENV_VAR: EXAMPLE_VALUE
  OMP_NUM_THREADS: "1"
init:
  setup: scripts/setup.sh
"""
# The same image as SPEC, in hpccm's building blocks (run with `hpccm --recipe`).
RECIPE = """\
Stage0 += baseimage(image='ubuntu:22.04')
Stage0 += conda(eula=True, channels=['conda-forge'], packages=['python=3.10', 'numpy=1.26'])
Stage0 += pip(packages=['requests==2.31.0', 'pyyaml==6.0.1'], pip='/usr/local/anaconda/bin/pip', ospackages=[])
Stage0 += environment(variables={'EXAMPLE_ENV_VAR': 'EXAMPLE_VALUE', 'OMP_NUM_THREADS': '1'})
Stage0 += copy(src='scripts/setup.sh', dest='/opt/envc/init/setup.sh')
"""
# Runs argv[2:] with stdout to the file argv[1]; prints wall seconds, peak RSS (KiB) of the child, exit code.
PROBE = ("import resource, subprocess, sys, time\n"
         "with open(sys.argv[1], 'wb') as out:\n"
         "    t = time.perf_counter(); r = subprocess.run(sys.argv[2:], stdout=out, stderr=subprocess.PIPE)\n"
         "    t = time.perf_counter() - t\n"
         "sys.stderr.buffer.write(r.stderr[-2000:])\n"
         "print(t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode)")


class Run:
    """One measured process: wall seconds, peak RSS in MB, exit code, its stdout and stderr."""

    def __init__(self, cmd, *, env=None, cwd=None):
        out = tempfile.NamedTemporaryFile(delete=False)
        out.close()
        try:
            probe = subprocess.run([sys.executable, "-c", PROBE, out.name, *map(str, cmd)],
                                   capture_output=True, text=True, env=env, cwd=cwd, check=True)
            self.stdout = Path(out.name).read_text(errors="replace")
        finally:
            os.unlink(out.name)
        wall, rss, code = probe.stdout.split()
        self.wall, self.peak_mb, self.code, self.stderr = float(wall), int(rss) / 1024, int(code), probe.stderr


def envc_command() -> list[str]:
    script = Path(sys.executable).parent / "envc"
    return [str(script)] if script.exists() else [sys.executable, "-m", "envc"]


def with_cache(cache: Path) -> dict:
    return {**os.environ, "XDG_CACHE_HOME": str(cache)}


class Table:
    """Rows of the report and the verdict of each budget."""

    def __init__(self):
        self.rows, self.verdicts = [], []

    def row(self, name, times=None, peak=None, budget="", ratio=None, note=""):
        median = f"{statistics.median(times):.4f}" if times else "-"
        spread = f"{min(times):.4f}-{max(times):.4f}" if times else "-"
        self.rows.append((name, median, spread, "-" if peak is None else f"{peak:.1f}", budget,
                          "-" if ratio is None else f"{ratio:.2f}", note))

    def verdict(self, budget, value, met):
        """met: True, False, or None (not checked)."""
        self.verdicts.append((budget, value, {True: "met", False: "NOT MET", None: "not checked"}[met], met))

    def print(self):
        head = ("measurement", "median s", "min-max s", "peak MB", "budget", "ratio", "note")
        widths = [max(len(str(r[i])) for r in [head, *self.rows]) for i in range(len(head))]
        for r in [head, *self.rows]:
            print("  ".join(str(c).ljust(w) if i in (0, 4, 6) else str(c).rjust(w)
                            for i, (c, w) in enumerate(zip(r, widths))).rstrip())
        print("\nratio: measured/budget (<= 1.00 is met); for specs/s budget/measured.\n")
        width = max(len(v[0]) for v in self.verdicts)
        for budget, value, word, _ in self.verdicts:
            print(f"{budget.ljust(width)}  {value:<34} {word}")


def prepare_spec(folder: Path) -> tuple[Path, Path]:
    (folder / "scripts").mkdir(parents=True)
    (folder / "scripts" / "setup.sh").write_text(SETUP_SH)
    (folder / "envc.yml").write_text(SPEC)
    (folder / "recipe.py").write_text(RECIPE)
    return folder / "envc.yml", folder / "recipe.py"


def hpccm_command(args, tmp: Path) -> list[str] | None:
    """The hpccm console script to measure, installing it if asked; None when not measured."""
    if not (args.with_hpccm or args.hpccm_venv):
        return None
    venv = Path(args.hpccm_venv).resolve() if args.hpccm_venv else tmp / "hpccm-venv"
    script = venv / "bin" / "hpccm"
    if not script.exists():
        print(f"installing hpccm into {venv} ...", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
                        "--disable-pip-version-check", "hpccm"], check=True)
    return [str(script)]


def bench_compile_vs_hpccm(table: Table, args, envc, hpccm, spec: Path, recipe: Path, tmp: Path) -> list[float]:
    out = spec.parent / "Dockerfile"
    cmds = {"envc": [*envc, "compile", spec.name, "-o", out.name]}
    if hpccm:
        cmds["hpccm"] = [*hpccm, "--recipe", recipe.name]
    runs = {name: [] for name in cmds}
    for i in range(args.runs + 1):  # run 0 warms the OS file cache and is not counted
        order = list(cmds) if i % 2 else list(reversed(cmds))  # alternate, and alternate who goes first
        for name in order:
            cache = tmp / f"cache-cold-{name}-{i}"
            cache.mkdir()
            run = Run(cmds[name], env=with_cache(cache), cwd=spec.parent)
            if run.code != 0 or (name == "hpccm" and "FROM ubuntu:22.04" not in run.stdout):
                sys.exit(f"{' '.join(cmds[name])} failed ({run.code}):\n{run.stderr}{run.stdout[:2000]}")
            if i:
                runs[name].append(run)
    envc_t = [r.wall for r in runs["envc"]]
    peaks = [max(r.peak_mb for r in runs["envc"])]
    if hpccm:
        hp_t = [r.wall for r in runs["hpccm"]]
        ratio = statistics.median(envc_t) / statistics.median(hp_t)
        table.row("hpccm --recipe R (same spec)", hp_t, max(r.peak_mb for r in runs["hpccm"]),
                  note=f"hpccm {hpccm_version(hpccm)}")
        table.row("envc compile -o, empty cache", envc_t, peaks[0], f"<= {HPCCM_RATIO_BUDGET}x hpccm",
                  ratio / HPCCM_RATIO_BUDGET, f"{ratio:.2f}x hpccm")
        table.verdict(f"1. compile, empty cache <= {HPCCM_RATIO_BUDGET}x hpccm", f"{ratio:.2f}x hpccm",
                      ratio <= HPCCM_RATIO_BUDGET)
    else:
        table.row("hpccm --recipe R (same spec)", note="not measured (--with-hpccm)")
        table.row("envc compile -o, empty cache", envc_t, peaks[0], f"<= {HPCCM_RATIO_BUDGET}x hpccm",
                  note="ratio not checked")
        table.verdict(f"1. compile, empty cache <= {HPCCM_RATIO_BUDGET}x hpccm", "hpccm not measured", None)
    return peaks


def hpccm_version(hpccm) -> str:
    return subprocess.run([*hpccm, "--version"], capture_output=True, text=True).stdout.strip() or "?"


def bench_warm(table: Table, args, envc, spec: Path, tmp: Path) -> list[float]:
    cache = tmp / "cache-warm"
    cache.mkdir()
    env = with_cache(cache)
    cmds = {
        "python -c pass (same venv)": [sys.executable, "-c", "pass"],
        "envc check, warm cache": [*envc, "check", spec.name],
        "envc compile -o --check, warm": [*envc, "compile", spec.name, "-o", "Dockerfile", "--check"],
    }
    for warm in ([*envc, "compile", spec.name, "-o", "Dockerfile"], *cmds.values()):  # warm the cache, not counted
        run = Run(warm, env=env, cwd=spec.parent)
        if run.code != 0:
            sys.exit(f"{' '.join(warm)} failed ({run.code}):\n{run.stderr}")
    runs = {name: [] for name in cmds}
    for i in range(args.runs):
        for name in (list(cmds) if i % 2 == 0 else list(reversed(cmds))):
            run = Run(cmds[name], env=env, cwd=spec.parent)
            if run.code != 0:
                sys.exit(f"{' '.join(cmds[name])} failed ({run.code}):\n{run.stderr}")
            runs[name].append(run)
    names = list(cmds)
    bare = statistics.median(r.wall for r in runs[names[0]])
    table.row(names[0], [r.wall for r in runs[names[0]]], max(r.peak_mb for r in runs[names[0]]), note="the floor")
    peaks = []
    for label, name in zip(("2a. envc check, warm cache", "2b. envc compile --check, warm cache"), names[1:]):
        times = [r.wall for r in runs[name]]
        ratio = statistics.median(times) / bare
        peaks.append(max(r.peak_mb for r in runs[name]))
        table.row(name, times, peaks[-1], f"<= {STARTUP_RATIO_BUDGET}x python", ratio / STARTUP_RATIO_BUDGET,
                  f"{ratio:.2f}x python")
        table.verdict(f"{label} <= {STARTUP_RATIO_BUDGET}x python -c pass", f"{ratio:.2f}x python",
                      ratio <= STARTUP_RATIO_BUDGET)
    return peaks


def corpus_files() -> list[Path]:
    files = sorted(p for p in CORPUS.rglob("*") if p.suffix in (".yml", ".yaml", ".txt") and p.is_file())
    return [p for p in files if p.suffix == ".txt" or "azuremlschemas" not in p.read_text(errors="replace")]


def bench_corpus(table: Table, args, tmp: Path) -> list[float]:
    if not CORPUS.is_dir():
        sys.exit(f"corpus not found at {CORPUS}: needs ../shared/corpus next to the checkout")
    files = [str(p.relative_to(CORPUS)) for p in corpus_files()]
    cache = tmp / "cache-corpus"
    cache.mkdir()
    run = Run([sys.executable, SELF, "--child", "corpus", "--rounds", args.rounds, "--", *files],
              env=with_cache(cache), cwd=CORPUS)
    if run.code != 0:
        sys.exit(f"corpus child failed ({run.code}):\n{run.stderr}")
    result = json.loads(run.stdout)
    rates = [len(files) / t for t in result["rounds"]]
    rate = statistics.median(rates)
    note = (f"{statistics.median(rates):.0f} specs/s ({min(rates):.0f}-{max(rates):.0f}); {len(files)} files: "
            f"{result['ok']} ok, {result['invalid']} invalid, {result['crashed']} crashed")
    if len(files) != CORPUS_SIZE:
        note += f" (expected {CORPUS_SIZE} files)"
    table.row(f"corpus, 1 process, {args.rounds} rounds", result["rounds"], run.peak_mb,
              f">= {THROUGHPUT_BUDGET:.0f} specs/s", THROUGHPUT_BUDGET / rate, note)
    table.verdict(f"3. corpus >= {THROUGHPUT_BUDGET:.0f} specs/s after start-up", f"{rate:.0f} specs/s",
                  rate >= THROUGHPUT_BUDGET and result["crashed"] == 0 and len(files) == CORPUS_SIZE)
    return [run.peak_mb]


def scaled_spec(folder: Path, pip: int, conda: int) -> Path:
    lines = [f"name: scale-{pip}-{conda}", "base:", "  image: ubuntu:22.04", "conda:",
             "  channels: [conda-forge]", "  dependencies:", "    - python=3.10"]
    lines += [f"    - cpkg-{i:05d}={i % 7}.{i % 13}" for i in range(conda - 1)]  # python counts as one
    lines += ["pip:", "  packages:"]
    lines += [f"    - ppkg-{i:05d}=={i % 5}.{i % 11}.{i % 3}" for i in range(pip)]
    path = folder / f"scale-{pip}-{conda}.yml"
    path.write_text("\n".join(lines) + "\n")
    return path


def bench_scaling(table: Table, args, envc, tmp: Path) -> list[float]:
    folder = tmp / "scale"
    folder.mkdir()
    small = scaled_spec(folder, 2, 2)
    sizes = []
    for total in SCALING_TOTALS:
        pip = round(total / 1.4)  # N pip + N/2.5 conda = 1.4 N packages
        sizes.append((f"{total // 1000}k", pip, total - pip))
    sizes.append(("5000+2000", *HEADLINE))
    peaks, per_size = [], {}
    for label, pip, conda in sizes:
        spec = scaled_spec(folder, pip, conda)
        cache = tmp / f"cache-scale-{label}"
        cache.mkdir()
        run = Run([sys.executable, SELF, "--child", "scale", "--rounds", args.runs, "--", small, spec],
                  env=with_cache(cache), cwd=folder)
        if run.code != 0:
            sys.exit(f"scaling child failed ({run.code}):\n{run.stderr}")
        times = json.loads(run.stdout)["rounds"]
        per_size[label] = statistics.median(times)
        peaks.append(run.peak_mb)
        table.row(f"scale {label} in-process ({pip} pip + {conda} conda)", times, run.peak_mb,
                  note=f"{per_size[label] / (pip + conda) * 1e6:.1f} us/package")
    growth = per_size["8k"] / per_size["1k"]
    linear = growth <= SUPERLINEAR_FACTOR
    table.row("scale growth time(8k)/time(1k)", note=f"{growth:.2f} (8x packages; > {SUPERLINEAR_FACTOR:.0f} = superlinear)"
              + ("" if linear else " SUPERLINEAR"))
    # The headline budget as users see it: a whole new `envc compile` process, empty cache.
    spec = folder / f"scale-{HEADLINE[0]}-{HEADLINE[1]}.yml"
    runs = []
    for i in range(args.runs):
        cache = tmp / f"cache-headline-{i}"
        cache.mkdir()
        run = Run([*envc, "compile", spec.name, "-o", "Dockerfile"], env=with_cache(cache), cwd=folder)
        if run.code != 0:
            sys.exit(f"envc compile {spec.name} failed ({run.code}):\n{run.stderr}")
        runs.append(run)
    times = [r.wall for r in runs]
    median = statistics.median(times)
    peaks.append(max(r.peak_mb for r in runs))
    table.row("envc compile -o 5000+2000, empty cache", times, peaks[-1], f"< {HEADLINE_BUDGET_S:.0f} s",
              median / HEADLINE_BUDGET_S, "whole process")
    table.verdict(f"4a. {HEADLINE[0]} pip + {HEADLINE[1]} conda < {HEADLINE_BUDGET_S:.0f} s (whole process)",
                  f"{median:.3f} s", median < HEADLINE_BUDGET_S)
    table.verdict(f"4b. linear growth: time(8k)/time(1k) <= {SUPERLINEAR_FACTOR:.0f}", f"{growth:.2f}", linear)
    return peaks


def child(args) -> int:
    """In-process measurements, run in a child so that its peak RSS is its own."""
    from envc.common.diagnostics import SpecError
    from envc.core.pipeline import compile_spec

    if args.child == "corpus":
        files = args.files
        _compiles(compile_spec, SpecError, files[0])  # warm-up: lazy imports are start-up
        rounds, counts = [], {}
        for _ in range(args.rounds):
            counts = {"ok": 0, "invalid": 0, "crashed": 0}
            start = time.perf_counter()
            for path in files:
                try:
                    compile_spec(path)
                    counts["ok"] += 1
                except SpecError:
                    counts["invalid"] += 1
                except Exception as exc:  # a bug in envc: counted, and reported on stderr
                    counts["crashed"] += 1
                    print(f"{path}: {type(exc).__name__}: {exc}", file=sys.stderr)
            rounds.append(time.perf_counter() - start)
        print(json.dumps({"rounds": rounds, **counts}))
    else:  # scale: warm up on the small spec, then time the big one
        small, big = args.files
        compile_spec(small)
        rounds = []
        for _ in range(args.rounds):
            start = time.perf_counter()
            compile_spec(big)
            rounds.append(time.perf_counter() - start)
        print(json.dumps({"rounds": rounds}))
    return 0


def _compiles(compile_spec, error, path) -> bool:
    try:
        compile_spec(path)
        return True
    except error:
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per measurement (default 7)")
    parser.add_argument("--rounds", type=int, default=7, help="rounds over the corpus in one process (default 7)")
    parser.add_argument("--with-hpccm", action="store_true", help="install hpccm into a throwaway venv and measure it")
    parser.add_argument("--hpccm-venv", metavar="DIR", help="venv with hpccm to reuse (installed there if missing)")
    parser.add_argument("--child", choices=("corpus", "scale"), help=argparse.SUPPRESS)
    parser.add_argument("files", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args)
    if args.runs < 1 or args.rounds < 1:
        parser.error("--runs and --rounds must be at least 1")
    envc = envc_command()
    version = subprocess.run([*envc, "--version"], capture_output=True, text=True).stdout.strip()
    print(f"envc: {' '.join(envc)} ({version}); python {sys.version.split()[0]} at {sys.executable}")
    print(f"runs: {args.runs} per measurement, {args.rounds} corpus rounds; {os.cpu_count()} CPUs\n")
    table = Table()
    tmp = Path(tempfile.mkdtemp(prefix="envc-speed-"))
    try:
        hpccm = hpccm_command(args, tmp)
        spec, recipe = prepare_spec(tmp / "spec")
        peaks = bench_compile_vs_hpccm(table, args, envc, hpccm, spec, recipe, tmp)
        peaks += bench_warm(table, args, envc, spec, tmp)
        peaks += bench_corpus(table, args, tmp)
        peaks += bench_scaling(table, args, envc, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    table.verdict(f"5. peak RSS of every envc process <= {MEMORY_BUDGET_MB:.0f} MB", f"{max(peaks):.1f} MB max",
                  max(peaks) <= MEMORY_BUDGET_MB)
    table.print()
    missed = [v for v in table.verdicts if v[3] is False]
    unchecked = [v for v in table.verdicts if v[3] is None]
    print(f"\nbudgets: {len(table.verdicts) - len(missed) - len(unchecked)} met, {len(missed)} NOT MET, "
          f"{len(unchecked)} not checked" + (" (run with --with-hpccm)" if unchecked else ""))
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
