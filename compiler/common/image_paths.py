"""Every path envc uses inside the image, in one place: lowering and the init wrapper read them here."""

ENVC_ROOT = "/opt/envc"
PREFIX = f"{ENVC_ROOT}/env"  # the environment: conda prefix or virtual environment
PYTHON = f"{PREFIX}/bin/python"
TOOLS_PREFIX = f"{ENVC_ROOT}/tools"  # installers live apart from the user's environment
UV = f"{TOOLS_PREFIX}/bin/uv"
CONTEXT_DIR = f"{ENVC_ROOT}/context"  # requirements files, written for the install step and removed after it
INIT_DIR = f"{ENVC_ROOT}/init"
SETUP_SCRIPT = f"{INIT_DIR}/setup.sh"
RUN_SCRIPT = f"{INIT_DIR}/run.sh"
WRAPPER = f"{ENVC_ROOT}/bin/envc-init"
ACTIVATE = f"{ENVC_ROOT}/bin/envc-activate"  # conda activation (env_vars.d, conda-meta/state, activate.d), sourced in sh
SETUP_MARKER = "/tmp/envc-setup"  # per launch: the wrapper appends the launch's id
CONDA_ENVIRONMENT_FILE = "/tmp/envc-environment.yml"
CONDA_EXPLICIT_FILE = "/tmp/envc-explicit.txt"
LOCK_PIP_FILE = ".envc/conda-lock-pip.txt"  # below CONTEXT_DIR: conda-lock's pip packages as a requirements file
ARGUMENTS_FILE = ".envc/arguments.txt"  # below CONTEXT_DIR: install arguments too many for one instruction
MICROMAMBA = "/usr/local/bin/micromamba"
MICROMAMBA_IN_HELPER = "/bin/micromamba"  # where the micromamba image keeps it
MICROMAMBA_CA = f"{ENVC_ROOT}/micromamba-ca.crt"  # the micromamba image's CA bundle, mounted for the install only
UV_CACHE = "/root/.cache/uv"
NETRC = "/root/.netrc"
