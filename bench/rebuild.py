"""Rebuild cost of a one-package pip change: envc's layers against Azure ML's single layer.

    python bench/rebuild.py [--runs N] [--engine buildah|docker|both]

buildah comes from `bash scripts/ci-install-engine.sh`, Docker (a private dockerd with
BuildKit) from `bash scripts/ci-install-docker.sh`. For each engine and variant: build a
7-package pip environment, add one package, rebuild. It reports which steps re-ran and the
rebuild's wall time (median and spread of N runs), and exits 1 unless, on every engine
measured, the default envc installer re-runs only the pip layer and what follows it, in at
most 0.2x the Azure-ML-style rebuild. A fresh nonce per run keeps every timed rebuild cold
for its changed layers; the uv cache mount is allowed to stay warm, as it would on a
developer's machine.
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
import engine  # noqa: E402  (the end-to-end tests' buildah driver)
from test_build_docker import docker_cache  # noqa: E402  (where ci-install-docker.sh keeps its daemon)

PACKAGES = ["requests==2.32.3", "PyYAML==6.0.2", "numpy==2.1.3", "click==8.1.7", "tqdm==4.67.1",
            "packaging==24.2", "rich==13.9.4"]
ADDED = "six==1.16.0"
BUDGET = 0.2  # envc's default rebuild / Azure-ML-style rebuild


def azureml_style(packages, nonce) -> str:
    """What Azure ML generates: one RUN creates the environment and installs everything."""
    quoted = " ".join(f"'{p}'" for p in packages)
    return (f"FROM {engine.BASE_TAG}\n"
            f"RUN echo {nonce} > /dev/null && python3 -m venv /azureml-envs/env "
            f"&& /azureml-envs/env/bin/pip install --no-cache-dir {quoted}\n"
            "ENV PATH=/azureml-envs/env/bin:$PATH\n")


def envc_style(folder: Path, installer, packages, nonce) -> Path:
    """An envc spec with the packages in a requirements file (the nonce is a comment in it)."""
    (folder / "requirements.txt").write_text(f"# {nonce}\n" + "\n".join(packages) + "\n")
    spec = folder / "envc.yml"
    spec.write_text(f"name: rebuild\nbase: {{image: {engine.BASE_TAG}}}\n"
                    f"pip:\n  requirements: [requirements.txt]\n" + (f"  installer: {installer}\n" if installer else ""))
    dockerfile = folder / "Dockerfile"
    subprocess.run([sys.executable, "-m", "envc", "compile", str(spec), "-o", str(dockerfile)], check=True)
    return dockerfile


class Buildah:
    name = "buildah"

    def __init__(self, root: Path):
        missing = engine.buildah_available()
        if missing:
            raise SystemExit(f"bench/rebuild.py --engine buildah: {missing}")
        self.env = engine.engine_config(root / "conf")
        engine.base_image(self.env)

    def build(self, dockerfile: Path, tag: str) -> subprocess.CompletedProcess:
        return engine.build(dockerfile, dockerfile.parent, tag, self.env)

    @staticmethod
    def reran(result) -> list:
        """The instructions that were not cache hits (FROM excluded)."""
        steps = [s.split(": ", 1)[1] for s in result.stdout.split("STEP ")[1:]]
        return [s.split("\n", 1)[0] for s in steps if "Using cache" not in s and not s.startswith("FROM")]

    def remove(self, tags) -> None:
        subprocess.run(["buildah", "rmi", *tags], env={**os.environ, **self.env}, capture_output=True)


class Docker:
    """dockerd's BuildKit (DOCKER_BUILDKIT=1 with docker.io's 20.10 client, as envc build drives it)."""

    name = "docker"

    def __init__(self, root: Path):
        subprocess.run(["bash", str(REPO / "scripts" / "ci-install-docker.sh")], check=True, capture_output=True)
        cache = docker_cache()
        self.env = {**os.environ, "DOCKER_HOST": f"unix://{cache / 'docker.sock'}", "DOCKER_BUILDKIT": "1"}
        self.docker = str(cache / "bin" / "docker")

    def build(self, dockerfile: Path, tag: str) -> subprocess.CompletedProcess:
        return subprocess.run([self.docker, "build", "--progress=plain", "-f", str(dockerfile), "-t", tag,
                               str(dockerfile.parent)], env=self.env, capture_output=True, text=True)

    @staticmethod
    def reran(result) -> list:
        """The instructions BuildKit ran (`#N [i/n] INSTRUCTION` without a `#N CACHED` line; FROM excluded)."""
        log = result.stderr
        steps = re.findall(r"^#(\d+) \[(?:[\w.-]+ )?\d+/\d+\] (.*)$", log, re.M)  # not [internal] steps
        cached = set(re.findall(r"^#(\d+) CACHED$", log, re.M))
        return [step for number, step in steps if number not in cached and not step.startswith("FROM")]

    def remove(self, tags) -> None:
        subprocess.run([self.docker, "rmi", *tags], env=self.env, capture_output=True)


def timed_build(builder, dockerfile: Path, tag: str) -> tuple:
    os.sync()  # earlier builds' layers still being written back would slow whichever variant runs next
    start = time.perf_counter()
    result = builder.build(dockerfile, tag)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(f"build failed:\n{dockerfile.read_text()}\n{result.stderr[-3000:]}")
    return elapsed, builder.reran(result)


def rebuild(builder, variant: str, folder: Path) -> tuple:
    nonce = uuid.uuid4().hex
    tags = []
    def dockerfile_for(packages):
        if variant == "azureml":
            path = folder / "Dockerfile"
            path.write_text(azureml_style(packages, nonce))
            return path
        return envc_style(folder, None if variant == "envc (default)" else variant.split()[-1], packages, nonce)
    try:
        for packages in (PACKAGES, PACKAGES + [ADDED]):
            tags.append(f"localhost/envc-bench-{len(tags)}:{nonce[:12]}")
            elapsed, steps = timed_build(builder, dockerfile_for(packages), tags[-1])
        return elapsed, steps
    finally:
        builder.remove(tags)


def report(builder, results) -> bool:
    print(f"\n{builder.name}\n{'variant':<16} {'rebuild median s':>16} {'min-max s':>13}  steps re-run after adding {ADDED}")
    medians = {}
    for variant, runs in results.items():
        times = [t for t, _ in runs]
        medians[variant] = statistics.median(times)
        print(f"{variant:<16} {medians[variant]:16.2f} {min(times):6.2f}-{max(times):.2f}  "
              f"{' | '.join(step[:40] for step in runs[-1][1])}")
    ratio = medians["envc (default)"] / medians["azureml"]
    only_pip = all(all(" pip install " in s for s in steps) for _, steps in results["envc (default)"])
    ok = ratio <= BUDGET and only_pip
    print(f"{builder.name}: envc default / Azure-ML-style rebuild: {ratio:.2f} (budget <= {BUDGET}); "
          f"only the pip layer and later re-ran: {only_pip}: {'met' if ok else 'NOT MET'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--engine", choices=["buildah", "docker", "both"], default="both")
    args = parser.parse_args()
    engines = [Buildah, Docker] if args.engine == "both" else [{"buildah": Buildah, "docker": Docker}[args.engine]]
    verdicts = []
    with tempfile.TemporaryDirectory() as root:
        for make in engines:
            builder = make(Path(root))
            variants = ["azureml", "envc pip", "envc uv", "envc (default)"]
            results = {v: [] for v in variants}
            for _ in range(args.runs):
                for variant in variants:  # interleaved, so drift in network speed hits every variant alike
                    results[variant].append(rebuild(builder, variant, Path(tempfile.mkdtemp(dir=root))))
            verdicts.append(report(builder, results))
    return 0 if all(verdicts) else 1


if __name__ == "__main__":
    raise SystemExit(main())
