"""Regenerate the Azure ML v1 saved folders under golden/azureml-v1-* with the real azureml-core.

    python3 -m venv /tmp/amlcore && /tmp/amlcore/bin/pip install azureml-core
    /tmp/amlcore/bin/python scripts/make-azureml-v1-goldens.py
    python -m pytest tests/test_golden.py --update-goldens    # then review the Dockerfiles

These inputs are what `Environment.save_to_directory` writes (azureml-core 1.x), so the importer is
tested against the real format rather than our idea of it. The literal registry password is a
fake, there to prove envc never copies it.
"""
from pathlib import Path

from azureml.core import Environment
from azureml.core.conda_dependencies import CondaDependencies

GOLDEN = Path(__file__).resolve().parent.parent / "golden"


def conda_env() -> Environment:
    env = Environment("train-env")
    deps = CondaDependencies.create(conda_packages=["numpy=1.26", "scikit-learn"],
                                    pip_packages=["requests>=2.31", "mlflow==2.9.2"], python_version="3.10")
    deps.add_channel("conda-forge")
    env.python.conda_dependencies = deps
    env.environment_variables = {"EXAMPLE_ENV_VAR": "EXAMPLE_VALUE", "QUOTED": "it's $HOME"}
    env.docker.base_image = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:20251130.v1"
    return env


def dockerfile_env() -> Environment:
    env = Environment("user-managed")
    env.docker.base_image = None
    env.docker.base_dockerfile = "FROM python:3.11-slim\nRUN pip install --no-cache-dir requests==2.32.3\n"
    env.python.user_managed_dependencies = True
    env.python.interpreter_path = "/usr/local/bin/python"
    return env


def registry_env() -> Environment:
    env = Environment("private-base")
    env.docker.base_image = "training/base:1.0"
    env.docker.base_image_registry.address = "myacr.azurecr.io"
    env.docker.base_image_registry.username = "builder"
    env.docker.base_image_registry.password = "FAKE-PASSWORD-must-not-leak"
    return env


if __name__ == "__main__":
    for name, make in (("conda", conda_env), ("dockerfile", dockerfile_env), ("registry", registry_env)):
        make().save_to_directory(str(GOLDEN / f"azureml-v1-saved-{name}"), overwrite=True)
