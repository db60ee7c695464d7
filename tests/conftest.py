"""Shared pytest options and helpers."""
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
GOLDEN = REPO / "golden"
CORPUS = REPO.parent / "shared" / "corpus" / "azureml-examples"
INPUT_NAMES = ("envc.yml", "environment.yml", "python_env.yaml", "requirements.txt", "azureml-environment.yml",
               "azureml_environment.json")


def pytest_addoption(parser):
    parser.addoption("--update-goldens", action="store_true", help="rewrite golden/*/Dockerfile and errors.txt from the current output")


@pytest.fixture
def update_goldens(request):
    return request.config.getoption("--update-goldens")


@pytest.fixture(autouse=True, scope="session")
def private_result_cache(tmp_path_factory):
    """envc's result cache ($XDG_CACHE_HOME/envc) and registry ($XDG_DATA_HOME/envc) in temporary
    folders, never the user's."""
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg-cache"))
    os.environ["XDG_DATA_HOME"] = str(tmp_path_factory.mktemp("xdg-data"))
    os.environ.pop("ENVC_REGISTRY", None)


@pytest.fixture(scope="session")
def engine_env(tmp_path_factory):
    """Engine config (our own storage/containers conf) with the offline base image present.

    Without buildah the test is skipped with the reason, except in CI (CI=true), where a
    missing engine fails: end-to-end tests must never be skipped silently there.
    """
    import engine

    missing = engine.buildah_available()
    if missing is not None:
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail(f"CI is set but the container engine is unusable: {missing}", pytrace=False)
        pytest.skip(f"end-to-end tests need a container engine: {missing} (with CI=true this fails instead)")
    env = engine.engine_config(tmp_path_factory.mktemp("engine"))
    engine.base_image(env)
    return env


def golden_input(case: Path) -> Path:
    """The spec a golden case compiles: the first of INPUT_NAMES present in its folder."""
    for name in INPUT_NAMES:
        if (case / name).exists():
            return case / name
    raise FileNotFoundError(f"{case} has none of {INPUT_NAMES}")


def run_envc(args, cwd, capsys):
    """Run the envc CLI in-process (fast, same code path as the console script)."""
    from envc.frontends.cli import main

    old = os.getcwd()
    os.chdir(cwd)
    try:
        code = main([str(a) for a in args])
    finally:
        os.chdir(old)
    out = capsys.readouterr()
    return code, out.out, out.err
