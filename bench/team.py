"""One build per team: what `envc build --registry` saves a teammate, with buildah and with Docker's BuildKit.

    python bench/team.py [--engine buildah|docker|both] [--runs N]

Same run, same spec (7 pip packages: requests, PyYAML, numpy, click, tqdm, packaging, rich), a real
registry on 127.0.0.1 (Debian's docker-registry; TLS and htpasswd auth for buildah, plain HTTP with
htpasswd for Docker, which trusts only 127.0.0.0/8 without TLS), each machine fresh:
  (a) machine A's cold build, pushed to the registry;
  (b) machine B's `envc build` of the same spec: the registry has it;
  (c) machine B adds one package (six): built with the registry as layer cache, push included;
  (d) the changed spec built cold on a third fresh machine, no registry.
Goals: (b) <= 0.10 x (a) and (c) <= 0.5 x (d); exit 1 when one is missed. For buildah a machine is
its own storage, run root and $TMPDIR (cache mounts); for Docker it is the private daemon of
scripts/ci-install-docker.sh with envc's images removed and its build cache pruned
(`docker builder prune -af`: run this where no other build is using that daemon).

Where the time goes: every line envc and the engine print is time-stamped as it arrives, and each
build is split into lookup, cache pulls, steps run (with their commit), cache pushes and the final push.
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
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
import engine  # noqa: E402
import registry_server  # noqa: E402
from test_build_docker import docker_cache  # noqa: E402

PACKAGES = ["requests==2.32.3", "PyYAML==6.0.2", "numpy==2.1.3", "click==8.1.7", "tqdm==4.67.1", "packaging==24.2",
            "rich==13.9.4"]
ADDED = "six==1.16.0"
USER, PASSWORD = "bench", "bench-registry-pw"
CA = ["--engine-arg=-v", f"--engine-arg={engine.HOST_CA_BUNDLE}:{engine.HOST_CA_BUNDLE}:ro"]


def write_spec(folder: Path, packages) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    spec = folder / "envc.yml"
    spec.write_text(f"name: team-bench\nbase: {{image: {engine.BASE_TAG}}}\npip:\n  packages: [{', '.join(packages)}]\n")
    return spec


def timed(args, env) -> tuple:
    """(seconds, [(t, line)], stdout) of one `envc` run, each stderr line stamped as it arrived."""
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "envc", *map(str, args)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env={**os.environ, **env})
    lines = [(time.perf_counter() - start, line.rstrip("\n")) for line in process.stderr]
    stdout = process.stdout.read()
    code = process.wait()
    elapsed = time.perf_counter() - start
    if code != 0:
        raise SystemExit(f"envc {' '.join(map(str, args))} failed ({code}):\n" + "\n".join(l for _, l in lines[-40:]))
    return elapsed, lines + [(elapsed, "<end>")], stdout


def breakdown(lines, engine_name: str) -> dict:
    """Seconds per phase: lookup (before the build), pull (cache pulls), run (steps that ran, commit included),
    cache-push (buildah's per-step cache pushes), push (the final push), other."""
    phases = {"lookup": 0.0, "pull": 0.0, "run": 0.0, "cache-push": 0.0, "export": 0.0, "push": 0.0}
    times = [t for t, _ in lines]
    text = [l for _, l in lines]
    building = next((t for t, l in lines if l.startswith("envc: building") or "already built" in l), times[-1])
    phases["lookup"] = building
    pushing = next((t for t, l in lines if l.startswith("envc: pushing")), times[-1])
    phases["push"] = times[-1] - pushing
    if engine_name == "buildah":
        starts = [i for i, l in enumerate(text) if re.match(r"STEP \d+/\d+: ", l)] + [len(text) - 1]
        for at, nxt in zip(starts, starts[1:]):
            block = text[at:nxt]
            end = min(times[nxt], pushing)
            mark = next((times[at + j] for j, l in enumerate(block) if l.startswith("--> Pushing cache")), None)
            if any("Cache pulled from remote" in l for l in block):
                phases["pull"] += (mark or end) - times[at]
            elif not any(l.startswith("--> Using cache") for l in block):
                phases["run"] += (mark or end) - times[at]
            if mark is not None:
                phases["cache-push"] += end - mark
    else:
        for number, seconds in re.findall(r"^#(\d+) DONE ([0-9.]+)s$", "\n".join(text), re.M):
            title = next((l for l in text if l.startswith(f"#{number} ") and "DONE" not in l), "")
            if "importing cache" in title or "load metadata" in title:
                phases["pull"] += float(seconds)
            elif re.match(rf"#{number} \[(?:[\w.-]+ )?\d+/\d+\] RUN", title):
                phases["run"] += float(seconds)
            elif "exporting" in title:
                phases["export"] += float(seconds)
    return phases


class Buildah:
    name = "buildah"

    def __init__(self, root: Path):
        missing = engine.buildah_available() or registry_server.missing_tools()
        if missing:
            raise SystemExit(f"bench/team.py --engine buildah: {missing}")
        self.root, self.shared = root, engine.engine_config(root / "shared-conf")
        engine.base_image(self.shared)
        self.count = 0

    def registry(self, folder: Path):
        return registry_server.Registry(folder, tls=True, users={USER: PASSWORD})

    def machine(self, registry) -> dict:
        self.count += 1
        root = self.root / f"machine-{self.count}"
        env = engine.machine_config(root / "engine", base_from=self.shared)
        if registry is not None:
            certs = root / "home" / ".config" / "containers" / "certs.d" / registry.address
            certs.mkdir(parents=True)
            (certs / "ca.crt").write_bytes((registry.cert_dir / "ca.crt").read_bytes())
        return {**env, "HOME": str(root / "home"), "REGISTRY_AUTH_FILE": str(root / "auth.json"), "ENVC_IMAGE_REGISTRY": "",
                "ENVC_BENCH_USER": USER, "ENVC_BENCH_PASSWORD": PASSWORD}

    def args(self) -> list:
        return ["--engine", "buildah", "--engine-arg=--pull=never", *CA, "--verbose"]  # the engine's steps, timed

    def forget(self, env) -> None:
        pass


class Docker:
    name = "docker"

    def __init__(self, root: Path):
        missing = registry_server.missing_tools()
        if missing:
            raise SystemExit(f"bench/team.py --engine docker: {missing}")
        subprocess.run(["bash", str(REPO / "scripts" / "ci-install-docker.sh")], check=True, capture_output=True)
        cache = docker_cache()
        self.base = {"DOCKER_HOST": f"unix://{cache / 'docker.sock'}", "PATH": f"{cache / 'bin'}{os.pathsep}{os.environ['PATH']}"}
        self.docker = str(cache / "bin" / "docker")
        self.root, self.count = root, 0

    def registry(self, folder: Path):
        return registry_server.Registry(folder, tls=False, users={USER: PASSWORD})

    def machine(self, registry) -> dict:
        self.count += 1
        env = {**self.base, "DOCKER_CONFIG": str(self.root / f"docker-config-{self.count}"), "ENVC_IMAGE_REGISTRY": "",
               "ENVC_BENCH_USER": USER, "ENVC_BENCH_PASSWORD": PASSWORD}
        self.forget(env)
        return env

    def forget(self, env) -> None:
        """A fresh BuildKit state: envc's bench images removed, build cache (cache mounts included) pruned."""
        run = lambda *a: subprocess.run([self.docker, *a], capture_output=True, text=True, env={**os.environ, **env})  # noqa: E731
        mine = [i for i in run("images", "--format", "{{.Repository}}:{{.Tag}}").stdout.split() if "team-bench" in i
                or "envc-cache" in i]
        if mine:
            run("rmi", "-f", *mine)
        run("builder", "prune", "-af")

    def args(self) -> list:
        return ["--engine", "docker", "--engine-arg=--network=host", "--verbose"]


def one_run(builder, folder: Path) -> dict:
    login = ["--registry-username", "env:ENVC_BENCH_USER", "--registry-password", "env:ENVC_BENCH_PASSWORD"]
    spec = write_spec(folder / "spec", PACKAGES)
    results = {}
    with builder.registry(folder / "registry") as registry:
        namespace = f"{registry.address}/team"
        a = builder.machine(registry)
        os.sync()
        results["a"] = timed(["build", spec, "--registry", namespace, *login, *builder.args()], a)
        b = builder.machine(registry)
        os.sync()
        results["b"] = timed(["build", spec, "--registry", namespace, *login, *builder.args()], b)
        assert "already built" in "\n".join(l for _, l in results["b"][1])
        changed = write_spec(folder / "spec", PACKAGES + [ADDED])
        os.sync()
        results["c"] = timed(["build", changed, "--registry", namespace, *login, *builder.args()], b)
    c = builder.machine(None)
    os.sync()
    results["d"] = timed(["build", changed, "--offline", *builder.args()], c)
    builder.forget(c)
    if os.environ.get("ENVC_BENCH_LOGS"):  # keep the stamped logs: ENVC_BENCH_LOGS=DIR
        logs = Path(os.environ["ENVC_BENCH_LOGS"])
        logs.mkdir(parents=True, exist_ok=True)
        for key, (_, lines, _) in results.items():
            (logs / f"{builder.name}-{key}.log").write_text("".join(f"{t:8.3f} {line}\n" for t, line in lines))
    return {k: (v[0], breakdown(v[1], builder.name)) for k, v in results.items()}


def report(builder, runs) -> bool:
    print(f"\n{builder.name} ({len(runs)} run{'s' if len(runs) > 1 else ''}; medians; phases of the median run in s)")
    labels = {"a": "(a) A cold build + push", "b": "(b) B, already in the registry", "c": "(c) B, one package more, cache + push",
              "d": "(d) that spec cold, no registry"}
    medians = {}
    for key, label in labels.items():
        times = sorted(run[key][0] for run in runs)
        medians[key] = statistics.median(times)
        middle = min(runs, key=lambda run: abs(run[key][0] - medians[key]))[key][1]
        phases = ", ".join(f"{name} {value:.2f}" for name, value in middle.items() if value >= 0.005)
        print(f"  {label:<40} {medians[key]:7.2f} s ({min(times):.2f}-{max(times):.2f})  {phases}")
    b_ratio, c_ratio = medians["b"] / medians["a"], medians["c"] / medians["d"]
    ok = b_ratio <= 0.10 and c_ratio <= 0.5
    print(f"  (b)/(a) = {b_ratio:.3f} (goal <= 0.10); (c)/(d) = {c_ratio:.2f} (goal <= 0.5): {'met' if ok else 'NOT MET'}")
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--engine", choices=["buildah", "docker", "both"], default="both")
    args = parser.parse_args()
    engines = [Buildah, Docker] if args.engine == "both" else [{"buildah": Buildah, "docker": Docker}[args.engine]]
    verdicts = []
    with tempfile.TemporaryDirectory(prefix="envc-bench-team-") as root:
        for make in engines:
            builder = make(Path(root) / make.name)
            runs = [one_run(builder, Path(tempfile.mkdtemp(dir=root))) for _ in range(args.runs)]
            verdicts.append(report(builder, runs))
    return 0 if all(verdicts) else 1


if __name__ == "__main__":
    raise SystemExit(main())
