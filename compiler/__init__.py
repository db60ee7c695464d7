"""envc: compile declarative environment specs into reproducible Dockerfiles.

Kept import-free on purpose: `envc check` runs in pre-commit, so every module is
imported only by the command that needs it.
"""

__version__ = "0.1.0"
