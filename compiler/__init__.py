"""envc: compile declarative environment specs into reproducible Dockerfiles.

Kept import-free on purpose: `envc check` runs in pre-commit, so every module is
imported only by the command that needs it.
"""

_API = ("Environment", "CondaDependencies")


def __getattr__(name):
    """`from envc import Environment, CondaDependencies` (and `envc.__version__`), loaded on first use only."""
    if name in _API:
        from envc.frontends import api

        return getattr(api, name)
    if name == "__version__":
        from envc.common.version import __version__

        return __version__
    raise AttributeError(f"module 'envc' has no attribute {name!r}")
