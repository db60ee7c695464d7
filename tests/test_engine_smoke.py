"""Throwaway proof that real offline builds work with buildah (see tests/engine.py).

Builds FROM the debootstrapped base: a venv + pinned pip package through the (possibly
TLS-intercepting) proxy, a quoted ENV, a tricky LABEL, COPY --chmod and a build secret,
then runs the image and checks what arrived. Timings are printed (pytest -s).
"""

from __future__ import annotations

import time

import pytest

import engine

reason = engine.buildah_available()
pytestmark = pytest.mark.skipif(reason is not None, reason=reason or "")

QUOTED = 'a "quoted" $HOME value'
LABEL_VALUE = "it's \"quoted\" $HOME = 100% \\ ü"

DOCKERFILE = r"""FROM localhost/envc-test-base:bookworm
RUN python3 -m venv /opt/envc/env \
 && /opt/envc/env/bin/pip install --no-cache-dir six==1.16.0
ENV QUOTED='a "quoted" $HOME value'
LABEL org.envc.tricky="it's \"quoted\" \$HOME = 100% \\ ü"
COPY --chmod=0755 hello.sh /usr/local/bin/hello
RUN --mount=type=secret,id=tok,target=/run/secrets/tok sh -c 'test -s /run/secrets/tok'
"""

TAG = "localhost/envc-smoke:test"


@pytest.fixture(scope="module")
def env(tmp_path_factory) -> dict[str, str]:
    env = engine.engine_config(tmp_path_factory.mktemp("engine"))
    t0 = time.monotonic()
    engine.base_image(env)
    print(f"\nbase_image: {time.monotonic() - t0:.1f}s")
    return env


@pytest.fixture(scope="module")
def built(env, tmp_path_factory) -> str:
    ctx = tmp_path_factory.mktemp("ctx")
    (ctx / "Dockerfile").write_text(DOCKERFILE, encoding="utf-8")
    (ctx / "hello.sh").write_text("#!/bin/sh\necho hello\n")
    (ctx / "hello.sh").chmod(0o600)
    secret = tmp_path_factory.mktemp("secret") / "tok"  # outside the context on purpose
    secret.write_text("s3cret")
    args = ["--secret", f"id=tok,src={secret}"]

    t0 = time.monotonic()
    cold = engine.build(ctx / "Dockerfile", ctx, TAG, env, ["--no-cache", *args])
    t1 = time.monotonic()
    assert cold.returncode == 0, cold.stderr + cold.stdout
    warm = engine.build(ctx / "Dockerfile", ctx, TAG, env, args)
    t2 = time.monotonic()
    assert warm.returncode == 0, warm.stderr + warm.stdout
    print(f"\ncold build: {t1 - t0:.1f}s, cached rebuild: {t2 - t1:.1f}s")
    return TAG


def test_env_arrives_exactly(built, env):
    proc = engine.run(built, ["/opt/envc/env/bin/python", "-c",
                              "import os; print(os.environ['QUOTED'], end='')"], env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == QUOTED


def test_pinned_package_in_venv(built, env):
    proc = engine.run(built, ["/opt/envc/env/bin/python", "-c",
                              "import six; print(six.__version__)"], env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "1.16.0"


def test_copy_chmod_and_secret_not_in_image(built, env):
    proc = engine.run(built, ["sh", "-c",
                              "stat -c %a /usr/local/bin/hello; hello; "
                              "test ! -e /run/secrets/tok && echo no-secret"], env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["755", "hello", "no-secret"]


def test_inspect_env_labels_history(built, env):
    cfg = engine.inspect(built, env)["OCIv1"]
    assert f"QUOTED={QUOTED}" in cfg["config"]["Env"]
    assert cfg["config"]["Labels"]["org.envc.tricky"] == LABEL_VALUE
    assert any("pip install" in h.get("created_by", "") for h in cfg["history"])
    assert engine.image_exists(built, env)
    assert not engine.image_exists("localhost/envc-smoke:no-such-tag", env)
