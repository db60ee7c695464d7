"""Reader of MLflow's python_env.yaml: a python version plus pip build_dependencies and dependencies."""
from __future__ import annotations

import re

from envc.common.diagnostics import SpecError, did_you_mean, error
from envc.common.paths import stem
from envc.core.document import Document, environment_name, remap

MLFLOW_KEYS = {"python", "build_dependencies", "dependencies"}


def from_mlflow_python_env(doc: Document) -> Document:
    """It becomes a conda environment pinning that python, with every pip line kept, in order."""
    problems = [error(doc.key_at((k,)), f"unknown key '{k}' in an MLflow python_env file{did_you_mean(k, MLFLOW_KEYS)}")
                for k in doc.data if k not in MLFLOW_KEYS]
    python = doc.data.get("python")
    if python is None:
        problems.append(error(doc.at(()), "missing required key 'python' (the Python version, e.g. python: \"3.10\")"))
    elif not isinstance(python, str) or not re.fullmatch(r"\d+(\.\d+){0,2}", python):
        problems.append(error(doc.at(("python",)), "expected a Python version as a string, e.g. \"3.10\" (quote it: 3.10 unquoted reads as 3.1)"))
    lists = {}
    for key in ("build_dependencies", "dependencies"):
        value = doc.data.get(key, [])
        if not isinstance(value, list):
            problems.append(error(doc.at((key,)), "expected a list of strings (pip requirement lines)"))
        for i, item in enumerate(value if isinstance(value, list) else []):
            if isinstance(item, dict) and "pip" in item:
                problems.append(error(doc.at((key, i)), "conda's `pip:` list is not read in a python_env file (MLflow joins "
                                                        "the lines of dependencies into a requirements file): list the pip "
                                                        "lines directly under " + key))
            elif not isinstance(item, str):
                problems.append(error(doc.at((key, i)), "expected a pip requirement line (a string)"))
        lists[key] = value if isinstance(value, list) else []
    if problems:
        raise SpecError(problems)
    pip_lines = lists["build_dependencies"] + lists["dependencies"]
    data = {"name": environment_name(None, stem(doc.path)),
            "conda": {"dependencies": [f"python={python}", {"pip": pip_lines}]}}
    moves = {("python",): ("conda", "dependencies", 0)}
    offset = len(lists["build_dependencies"])
    for i in range(len(lists["build_dependencies"])):
        moves[("build_dependencies", i)] = ("conda", "dependencies", 1, "pip", i)
    for i in range(len(lists["dependencies"])):
        moves[("dependencies", i)] = ("conda", "dependencies", 1, "pip", offset + i)
    moves[("dependencies",)] = ("conda", "dependencies", 1)
    return remap(doc, data, moves)


def model_environment(doc: Document) -> str:
    """The path of the environment file an MLflow model (its MLmodel) names for python_function: the conda file, as
    Azure ML builds a model's environment from it, else python_env.yaml; MLflow before 2.0 wrote `env: conda.yaml`."""
    import os

    function = (doc.data.get("flavors") or {}).get("python_function") if isinstance(doc.data.get("flavors"), dict) else None
    env = function.get("env") if isinstance(function, dict) else None
    at = ("flavors", "python_function", "env")
    if isinstance(env, dict):
        key = "conda" if isinstance(env.get("conda"), str) else "virtualenv" if isinstance(env.get("virtualenv"), str) else None
        env, at = (env[key], at + (key,)) if key else (None, at)
    if not isinstance(env, str) or not env:
        where = doc.key_at(at[:2]) if isinstance(function, dict) else doc.key_at(("flavors",)) if "flavors" in doc.data else doc.at(())
        raise SpecError([error(where, "this MLflow model names no environment (flavors.python_function.env: {conda: conda.yaml} "
                                      "or {virtualenv: python_env.yaml}): give envc the model's conda.yaml or python_env.yaml")])
    path = os.path.join(os.path.dirname(doc.path), env)
    if os.path.isfile(path) and os.path.samefile(path, doc.path):
        raise SpecError([error(doc.at(at), "the MLmodel names itself as its environment: name its conda.yaml or python_env.yaml")])
    if not os.path.isfile(path):
        raise SpecError([error(doc.at(at), f"no such file '{env}' beside the MLmodel, which names it as the model's environment")])
    return path
