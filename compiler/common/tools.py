"""The tools envc installs with, pinned, and which of them a base image gets.

Pinned here, in one place, because they decide what a build installs: lowering uses them, the
build-context checks warn about their differences, and `--locked` checks their pins.
"""

CONDA_BASES = ("mcr.microsoft.com/azureml/",)  # images known to ship conda on PATH (conda 23.5)
MICROMAMBA_STAGE = "envc-micromamba"  # the helper stage micromamba is copied from (its image: conda.micromamba_image)
MICROMAMBA_DEFAULT_CHANNELS = ("conda-forge",)  # micromamba has no default channel
UV_REQUIREMENT = "uv==0.13.9"
UV_MIN_PYTHON = (3, 8)  # the uv wheel's Requires-Python: older interpreters install with pip


def conda_tool(base_image: str) -> str:
    """'conda' for bases that ship it (the base's own), else 'micromamba' (copied from its pinned image)."""
    return "conda" if base_image.startswith(CONDA_BASES) else "micromamba"
