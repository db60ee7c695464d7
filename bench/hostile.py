"""Resource attacks against `envc check`: wall time and peak RSS of a new process per input.

    python bench/hostile.py [--runs N]

Prints a table (median and spread of N runs, peak RSS) and exits 1 if any input takes
1 s or more (median) or peaks above 60 MB. tests/test_hostile.py checks the memory bound
and the error messages on the same inputs; time is only measured here.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

TIME_BUDGET_S = 1.0
MEMORY_BUDGET_MB = 60
ATTACKS = {
    "billion-laughs.yml": "\n".join(["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
                                    + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)] + ["name: *a9"]),
    "deep-lists.yml": "[" * 10000 + "]" * 10000,
    "deep-maps.yml": "a:\n" + "".join(" " * i + "a:\n" for i in range(1, 3000)),
    "junk.yml": bytes(range(256)) * 64,
    "invalid-utf8.yml": b"name: caf\xe9\n",
    "huge.yml": "name: x\n" + "#" * (50 * 1024 * 1024),
    "include-loop/a.txt": "-r b.txt\nsix\n",
    "include-loop/b.txt": "-c a.txt\n",
    # Patterns on which a backtracking regex takes minutes (Go's, which Docker uses, never backtrack),
    # checked against an init script's long name; the lone '!' makes the .dockerignore an error.
    "backtracking/envc.yml": f"name: s\ninit:\n  setup: {'a' * 60}.sh\n",
    f"backtracking/{'a' * 60}.sh": "echo setup\n",
    "backtracking/.dockerignore": "*a" * 12 + "*c\n" + "**/a" * 6 + "**/c\n" + "?*" * 12 + "x\n!\n",
}
SUPPORT_FILES = {"include-loop/b.txt", f"backtracking/{'a' * 60}.sh", "backtracking/.dockerignore"}  # read, not run


def write_attacks(folder: Path) -> list[Path]:
    """The attack files under folder; returns the ones to run envc on."""
    for name, content in ATTACKS.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return [folder / name for name in ATTACKS if name not in SUPPORT_FILES]


def measure(path: Path) -> tuple[float, float, int]:
    """(wall seconds, peak RSS MB, exit code) of one `envc check path` in a fresh process."""
    probe = ("import resource, subprocess, sys, time; t = time.perf_counter();"
             "r = subprocess.run(sys.argv[1:], capture_output=True); t = time.perf_counter() - t;"
             "print(t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode)")
    out = subprocess.run([sys.executable, "-c", probe, sys.executable, "-m", "envc", "check", str(path)],
                         capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), int(out[1]) / 1024, int(out[2])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    ok = True
    print(f"{'input':<22} {'exit':>4} {'median s':>9} {'min-max s':>13} {'peak MB':>8}")
    with tempfile.TemporaryDirectory() as folder:
        for path in write_attacks(Path(folder)):
            runs = [measure(path) for _ in range(args.runs)]
            times = [r[0] for r in runs]
            peak = max(r[1] for r in runs)
            codes = {r[2] for r in runs}
            median = statistics.median(times)
            ok &= codes == {2} and median < TIME_BUDGET_S and peak <= MEMORY_BUDGET_MB
            print(f"{path.relative_to(folder).as_posix():<22} {'/'.join(map(str, codes)):>4} {median:9.3f} "
                  f"{min(times):6.3f}-{max(times):.3f} {peak:8.1f}")
    print(f"budgets: exit 2, median < {TIME_BUDGET_S} s, peak <= {MEMORY_BUDGET_MB} MB: {'met' if ok else 'NOT MET'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
