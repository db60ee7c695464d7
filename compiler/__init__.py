"""envc: compile declarative environment specs into reproducible Dockerfiles.

Kept import-free on purpose: `envc check` runs in pre-commit, so every module is
imported only by the command that needs it.
"""

_API = ("Environment", "CondaDependencies", "ContainerRegistry", "DEFAULT_CPU_IMAGE", "DEFAULT_GPU_IMAGE")
# azureml-core names envc does not offer, and why (README "Python API").
_REFUSED = {name: "it runs jobs in an Azure ML workspace; envc builds images: run them with your engine or "
                  "scheduler, with the spec's init.command" for name in ("Workspace", "ComputeTarget", "ScriptRunConfig",
                                                                         "Experiment", "RunConfiguration")}


def __getattr__(name):
    """`from envc import Environment, CondaDependencies, ContainerRegistry, DEFAULT_CPU_IMAGE, DEFAULT_GPU_IMAGE`
    (and `envc.__version__`), loaded on first use only."""
    if name in _API:
        from envc.frontends import api

        return getattr(api, name)
    if name in _REFUSED:
        raise AttributeError(f"module 'envc' has no attribute {name!r}: {_REFUSED[name]}")
    if name == "__version__":
        from envc.common.version import __version__

        return __version__
    raise AttributeError(f"module 'envc' has no attribute {name!r}")
