"""`envc build` driving a real engine (buildah here): hash tags, the already-built check,
--force, a netrc build secret against a password-protected local index, and errors."""
import base64
import http.server
import os
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml

import engine

CA_MOUNT = f"--engine-arg=-v --engine-arg={engine.HOST_CA_BUNDLE}:{engine.HOST_CA_BUNDLE}:ro".split()
BUILD_ARGS = ["--engine", "buildah", "--engine-arg=--pull=never", *CA_MOUNT]


def envc(args, env=None, cwd=None):
    return subprocess.run([sys.executable, "-m", "envc", *map(str, args)], capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, cwd=cwd)


def write(folder: Path, spec: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "envc.yml"
    path.write_text(yaml.safe_dump(spec))
    return path


def test_build_tags_with_the_spec_hash_and_skips_when_already_built(engine_env, tmp_path):
    spec = write(tmp_path, {"name": "e2e-build", "base": {"image": engine.BASE_TAG}, "env": {"NONCE": tmp_path.name}})
    first = envc(["build", spec, *BUILD_ARGS], engine_env)
    assert first.returncode == 0, first.stderr
    tag = first.stdout.strip()
    header = envc(["compile", spec]).stdout.splitlines()[0]
    assert tag.startswith("envc/e2e-build:") and tag.split(":")[1] in header  # the tag is the spec's hash
    assert engine.image_exists(tag, engine_env)
    try:
        second = envc(["build", spec, *BUILD_ARGS], engine_env)
        assert second.returncode == 0 and second.stdout.strip() == tag
        assert "already built" in second.stderr and "building" not in second.stderr
        forced = envc(["build", spec, "--force", *BUILD_ARGS], engine_env)
        assert forced.returncode == 0 and "building" in forced.stderr
    finally:
        subprocess.run(["buildah", "rmi", tag], env={**os.environ, **engine_env}, capture_output=True)


SECRET = "s3cret-index-token-7f3a"


@pytest.fixture
def private_index(tmp_path):
    """A PEP 503 index on 127.0.0.1 that serves one real wheel, only with basic auth user:SECRET."""
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-d", str(wheels),
                    "six==1.16.0"], check=True, capture_output=True)
    wheel = next(wheels.glob("six-*.whl"))
    expected = "Basic " + base64.b64encode(f"user:{SECRET}".encode()).decode()

    class Index(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.headers.get("Authorization") != expected:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="index"')
                self.end_headers()
                return
            if self.path.rstrip("/") == "/simple/six":
                body = f'<a href="/files/{wheel.name}">{wheel.name}</a>'.encode()
                kind = "text/html"
            elif self.path == f"/files/{wheel.name}":
                body, kind = wheel.read_bytes(), "application/octet-stream"
            else:
                self.send_response(404)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command == "GET":
                self.wfile.write(body)

        do_HEAD = do_GET  # uv asks HEAD before downloading

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Index)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/simple"
    server.shutdown()


@pytest.mark.parametrize("installer", ["uv", "pip"])
def test_netrc_secret_reaches_the_install_and_never_the_image(installer, engine_env, private_index, tmp_path):
    spec = write(tmp_path / "spec", {"name": f"e2e-netrc-{installer}", "base": {"image": engine.BASE_TAG},
                                     "pip": {"installer": installer, "index_url": private_index, "netrc_secret": "idx",
                                             "packages": ["six==1.16.0"]}})
    netrc = tmp_path / "netrc"
    netrc.write_text(f"machine 127.0.0.1 login user password {SECRET}\n")
    tag = f"localhost/envc-e2e-netrc-{installer}:{tmp_path.name[-12:].lower()}"
    try:
        missing = envc(["build", spec, "-t", tag, "--force", *BUILD_ARGS], engine_env)
        assert missing.returncode == 1  # the secret is required: no silent unauthenticated install
        built = envc(["build", spec, "-t", tag, "--secret", f"id=idx,src={netrc}", *BUILD_ARGS], engine_env)
        assert built.returncode == 0, built.stderr[-3000:]
        assert engine.run(tag, ["python", "-c", "import six; print(six.__version__)"], engine_env).stdout.strip() == "1.16.0"
        inspected = str(engine.inspect(tag, engine_env))
        assert SECRET not in inspected and "/root/.netrc" not in engine.run(tag, ["ls", "-a", "/root"], engine_env).stdout
        leaked = engine.run(tag, ["sh", "-c", f"grep -rl {SECRET} / --exclude-dir=proc --exclude-dir=sys 2>/dev/null; true"],
                            engine_env)
        assert leaked.stdout.strip() == ""
    finally:
        subprocess.run(["buildah", "rmi", tag], env={**os.environ, **engine_env}, capture_output=True)


def test_no_engine_is_a_clear_error(tmp_path):
    spec = write(tmp_path, {"name": "no-engine"})
    result = envc(["build", spec], {"PATH": str(tmp_path)})
    assert result.returncode == 2
    assert "no container engine found: install Docker (with BuildKit), podman or buildah" in result.stderr


def test_secret_argument_is_checked(tmp_path):
    spec = write(tmp_path, {"name": "bad-secret"})
    result = envc(["build", spec, "--secret", "idx"])
    assert result.returncode == 2 and "expected id=ID,src=FILE or id=ID,env=VAR" in result.stderr


@pytest.mark.parametrize("argument, problem", [
    ("id=x,src=", "src= is empty"), ("id=x,env=", "env= is empty"), ("id=,src=f", "id= is empty"),
    ("hunter2-S3cret", "part 1 is not"), ("id=x,src=f,hunter2-S3cret", "part 3 is not"),
    ("id=x,hunter2-S3cret=f", "part 2 is not"), ("src=hunter2-S3cret", "no id="),
    ("id=x,src=hunter2-S3cret,env=V", "one of src= and env="), ("type=hunter2-S3cret,id=x,src=f", "type= is neither"),
])
def test_a_bad_secret_names_the_wrong_part_and_never_echoes_it(tmp_path, argument, problem):
    spec = write(tmp_path, {"name": "bad-secret"})
    result = envc(["build", spec, "--secret", argument])
    assert result.returncode == 2 and problem in result.stderr and "internal error" not in result.stderr
    assert "hunter2-S3cret" not in result.stdout + result.stderr


def test_registry_credentials_are_resolved_by_reference_and_never_printed(tmp_path, engine_env):
    spec = write(tmp_path, {"name": "registry", "base": {"image": "private/base:1", "registry": {
        "address": "127.0.0.1:9", "username": {"env": "ENVC_TEST_USER"}, "password": {"secret": "regpass"}}}})
    (tmp_path / "pass").write_text(SECRET)
    result = envc(["build", spec, "--engine", "buildah", "--secret", f"id=regpass,src={tmp_path / 'pass'}"],
                  {**engine_env, "ENVC_TEST_USER": "someone"})
    assert result.returncode == 2 and "login to 127.0.0.1:9 failed" in result.stderr  # nothing listens there
    assert SECRET not in result.stdout + result.stderr
    unset = envc(["build", spec, "--engine", "buildah"], engine_env)
    assert unset.returncode == 2 and "ENVC_TEST_USER" in unset.stderr


@pytest.mark.parametrize("given, missing", [("username", "password"), ("password", "username")])
def test_a_base_registry_with_one_credential_is_refused_before_any_engine_runs(tmp_path, given, missing):
    reference = {"username": {"env": "ENVC_TEST_USER"}, "password": {"secret": "regpass"}}[given]
    registry = {"address": "127.0.0.1:9", given: reference}
    spec = write(tmp_path, {"name": "half", "base": {"image": "private/base:1", "registry": registry}})
    expected = (f"{spec}:3:3: error: base.registry has a {given} but no {missing}: give both (as references), or "
                "neither to use the engine's own login\n")
    assert envc(["check", spec]).stderr == expected  # and in the editor: the schema says it
    for extra in ([], ["--registry", "127.0.0.1:9/team"]):
        result = envc(["build", spec, *extra], {"PATH": str(tmp_path), "ENVC_TEST_USER": "someone"})
        assert result.returncode == 2 and result.stderr == expected


def test_saved_folders_and_registered_versions_build_from_their_own_folder(engine_env, tmp_path):
    """The build context is where the spec's files are: inside a saved Azure ML folder, or in the
    registry's snapshot, not the folder around it or the working directory."""
    saved = tmp_path / "saved"
    saved.mkdir()
    (saved / "azureml_environment.json").write_text(
        '{"name": "e2e-saved", "python": {"userManagedDependencies": true, "interpreterPath": "/usr/bin/python3"},'
        ' "docker": {"baseImage": null}}')
    (saved / "BaseDockerfile").write_text(f"FROM {engine.BASE_TAG}\nCOPY marker.txt /opt/marker.txt\n")
    (saved / "marker.txt").write_text(f"{tmp_path.name}\n")
    built = envc(["build", "saved", *BUILD_ARGS], engine_env, cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    registry = {"ENVC_REGISTRY": str(tmp_path / "registry")}
    assert envc(["register", "saved"], {**engine_env, **registry}, cwd=tmp_path).stdout == "e2e-saved:1\n"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    again = envc(["build", "e2e-saved:1", "--force", *BUILD_ARGS], {**engine_env, **registry}, cwd=elsewhere)
    assert again.returncode == 0, again.stderr
    tag = again.stdout.strip()
    assert tag == built.stdout.strip()  # the same content hash, so the same tag
    proc = engine.run(tag, ["cat", "/opt/marker.txt"], engine_env)
    assert proc.stdout == f"{tmp_path.name}\n", proc.stderr
    subprocess.run(["buildah", "rmi", tag], env={**os.environ, **engine_env}, capture_output=True)


def test_a_base_context_outside_the_spec_folder_is_what_the_engine_builds_from(engine_env, tmp_path):
    """Azure ML's build.path may be `../ctx`: the compiled header says the context is there, and so is the build."""
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "Dockerfile").write_text(f"FROM {engine.BASE_TAG}\nCOPY marker.txt /opt/marker.txt\n")
    (tmp_path / "ctx" / "marker.txt").write_text(f"{tmp_path.name}\n")
    spec = write(tmp_path / "spec", {"name": "e2e-outside", "base": {"dockerfile": "../ctx/Dockerfile", "context": "../ctx"}})
    assert "# Build context: ../ctx from the spec's folder" in envc(["compile", spec]).stdout
    built = envc(["build", spec, *BUILD_ARGS], engine_env, cwd=tmp_path / "spec")
    assert built.returncode == 0, built.stderr
    tag = built.stdout.strip()
    proc = engine.run(tag, ["cat", "/opt/marker.txt"], engine_env)
    assert proc.stdout == f"{tmp_path.name}\n", proc.stderr
    subprocess.run(["buildah", "rmi", tag], env={**os.environ, **engine_env}, capture_output=True)


def test_build_reports_each_part_of_the_spec_and_keeps_the_engine_output_in_a_log(engine_env, tmp_path):
    """One line per part of the spec, with its time, on stderr; the engine's own output goes to a log,
    or to stderr with --verbose."""
    spec = write(tmp_path, {"name": "build-progress", "base": {"image": engine.BASE_TAG}, "pip": {"packages": ["six==1.16.0"]},
                            "env": {"A": "1"}})
    tag = None
    try:
        quiet = envc(["build", spec, "--force", *BUILD_ARGS], engine_env)
        assert quiet.returncode == 0, quiet.stderr
        tag = quiet.stdout.strip()
        reported = [line.split()[1] for line in quiet.stderr.splitlines() if re.match(r"^envc: \w+ +\d+\.\d s$", line)]
        assert reported == ["base", "pip", "runtime"], quiet.stderr
        assert "STEP" not in quiet.stderr
        verbose = envc(["build", spec, "--force", "--verbose", *BUILD_ARGS], engine_env)
        assert verbose.returncode == 0 and "STEP 2/" in verbose.stderr
    finally:
        if tag:
            subprocess.run(["buildah", "rmi", tag], env={**os.environ, **engine_env}, capture_output=True)


def test_a_failing_step_names_the_spec_lines_it_came_from_and_the_log(engine_env, tmp_path):
    spec = write(tmp_path, {"name": "build-fails", "base": {"image": engine.BASE_TAG},
                            "system": {"apt": ["envc-no-such-package-anywhere"]}, "pip": {"packages": ["six==1.16.0"]}})
    failed = envc(["build", spec, *BUILD_ARGS], engine_env)
    assert failed.returncode == 1 and failed.stdout == ""
    message = next(line for line in failed.stderr.splitlines() if line.startswith("envc: error:"))
    assert re.search(r"the system step, built from \S*envc\.yml:\d+:1, failed \(buildah exit code \d+\)", message), message
    log = re.search(r"the engine's output is in (\S+?);", message).group(1)
    assert "envc-no-such-package-anywhere" in open(log).read()
    assert "Unable to locate package" in failed.stderr  # the log's end is shown with the error
