"""Environment.build_local with a real engine (buildah, the offline base image of tests/engine.py):
the image `envc build` would build, tagged as get_image_details() names it, with its environment."""
import os
import subprocess

import engine
from envc import Environment


def test_build_local_builds_the_image_get_image_details_names(engine_env, monkeypatch, tmp_path):
    for key, value in engine_env.items():
        monkeypatch.setenv(key, value)
    env = Environment("api-build-local")
    env.docker.base_image = engine.BASE_TAG
    env.python.user_managed_dependencies = True
    env.python.interpreter_path = "/usr/bin/python3"
    env.environment_variables = {"NONCE": tmp_path.name}
    tag = env.build_local(engine="buildah", engine_args=["--pull=never"])
    try:
        assert tag == env.get_image_details().image and engine.image_exists(tag, engine_env)
        ran = engine.run(tag, ["python3", "-c", "import os; print(os.environ['NONCE'])"], engine_env)
        assert ran.returncode == 0 and ran.stdout.strip() == tmp_path.name, ran.stderr
        assert env.build_local(engine="buildah") == tag  # already built: nothing to do, as `envc build`
    finally:
        subprocess.run(["buildah", "rmi", tag], env={**os.environ, **engine_env}, capture_output=True)
