"""Workspace-free operations of azureml-core's Python API, run against azureml-core or envc.

    python differential_ops.py azureml|envc OUT.json

Each operation gets `api` (Environment, CondaDependencies, ContainerRegistry of the implementation)
and runs in an empty temporary folder, its working folder. It returns plain data; an exception is
recorded as {"raises": KIND} where KIND names what the caller sees (azureml-core's UserErrorException
and envc's ValueError and located SpecError are both "invalid": a refused value). The operations
start from neutral objects (a conda file with only python, no example variable) so that the cloud
defaults azureml-core adds, which envc leaves out on purpose, show only in the operations that are
about them. tests/test_azureml_differential.py compares the two result files; the operations are
adapted from the research probe of azureml-core 1.61.0.post4 (README "Python API").
"""
import json
import os
import shutil
import sys
import tempfile
import warnings

OPS = []


def op(fn):
    OPS.append((fn.__name__.replace("__", "."), fn))
    return fn


def w(path, text):
    if os.path.dirname(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", newline="") as handle:
        handle.write(text)
    return path


def r(path):
    with open(path, newline="") as handle:
        return handle.read()


BASE = "name: project_environment\ndependencies:\n- python=3.10\n"


def base(api):
    """A CondaDependencies with python=3.10 only, the same in both implementations."""
    w("base.yml", BASE)
    return api.CondaDependencies("base.yml")


def env(api, name="e"):
    environment = api.Environment(name)
    environment.environment_variables = {}
    environment.python.conda_dependencies = base(api)
    return environment


def state(cd):
    return {"channels": list(cd.conda_channels), "conda": list(cd.conda_packages), "pip": list(cd.pip_packages),
            "options": list(cd.pip_options), "python": cd.get_python_version(), "yaml": cd.serialize_to_string()}


def saved(environment, folder="s"):
    """What save_to_directory writes: the JSON as data, the other files as text."""
    environment.save_to_directory(folder, overwrite=True)
    out = {}
    for name in sorted(os.listdir(folder)):
        text = r(os.path.join(folder, name))
        out[name] = json.loads(text) if name.endswith(".json") else text
    return out


CONDA_FILE = """name: myenv
channels:
- conda-forge
- defaults
dependencies:
- python=3.9
- numpy=1.26
- pip
- pip:
  - requests==2.31.0
  - --extra-index-url https://example.org/simple
"""


@op
def env__docker__default_images(api):
    """Code sets env.docker.base_image = DEFAULT_CPU_IMAGE or DEFAULT_GPU_IMAGE (azureml.core.runconfig's)."""
    environment = env(api)
    images = [api.DEFAULT_CPU_IMAGE, api.DEFAULT_GPU_IMAGE, environment.docker.base_image]
    environment.docker.base_image = api.DEFAULT_GPU_IMAGE
    return images + [environment.docker.base_image]


# ---- CondaDependencies: construction ------------------------------------------------------------
@op
def cd__default(api):
    return state(api.CondaDependencies())


@op
def cd__default__number_of_packages(api):
    return list(api.CondaDependencies().get_default_number_of_packages())


@op
def cd__create__noargs(api):
    return state(api.CondaDependencies.create())


@op
def cd__create__packages(api):
    cd = api.CondaDependencies.create(pip_packages=["numpy", "pandas==2.0.3"], conda_packages=["scikit-learn=1.5", "numpy"],
                                      python_version="3.11")
    return {k: v for k, v in state(cd).items() if k in ("pip", "python")} | {"conda": [c for c in cd.conda_packages]}


@op
def cd__create__conda_python(api):
    cd = api.CondaDependencies.create(conda_packages=["python=3.9", "numpy"], python_version="3.11")
    return [c for c in cd.conda_packages if c != "python=3.10.18"]


@op
def cd__create__pip_indexurl(api):
    return list(api.CondaDependencies.create(pip_indexurl="https://my.index/simple", pip_packages=["x"]).pip_options)


@op
def cd__create__azureml_packages_unpinned(api):
    return list(api.CondaDependencies.create(pip_packages=["azureml-core", "azureml-mlflow[x]"]).pip_packages)


@op
def cd__create__pin_sdk_version_false(api):
    return list(api.CondaDependencies.create(pip_packages=["azureml-core"], pin_sdk_version=False).pip_packages)


@op
def cd__create__positional_list(api):
    return list(api.CondaDependencies.create(["numpy"]).pip_options)


@op
def cd__create__channels_kw(api):
    api.CondaDependencies.create(channels=["conda-forge"])


@op
def cd__create__pip_version_kw(api):
    api.CondaDependencies.create(pip_version="23.0")


@op
def cd__create__python_version_none(api):
    return api.CondaDependencies.create(python_version=None).get_python_version()


# ---- channels -----------------------------------------------------------------------------------
@op
def cd__add_channel(api):
    cd = base(api)
    for channel in ("pytorch", "pytorch", "conda-forge"):
        cd.add_channel(channel)
    return state(cd)


@op
def cd__remove_channel(api):
    w("c.yml", "name: c\nchannels: [anaconda, conda-forge]\ndependencies: [python=3.10]\n")
    cd = api.CondaDependencies("c.yml")
    cd.remove_channel("anaconda")
    cd.remove_channel("not-there")
    return state(cd)


@op
def cd__add_channel__non_string(api):
    cd = base(api)
    cd.add_channel(5)
    return list(cd.conda_channels)


@op
def cd__add_channel__credential_url(api):
    cd = base(api)
    cd.add_channel("https://bob:t0kenpw@conda.example/private")
    return list(cd.conda_channels)


# ---- conda packages -----------------------------------------------------------------------------
@op
def cd__add_conda_package(api):
    cd = base(api)
    cd.add_conda_package("numpy=1.26")
    cd.add_conda_package("conda-forge::scipy>=1.10")
    cd.add_conda_package("numpy=1.26")
    return state(cd)


@op
def cd__add_conda_package__same_name_new_pin(api):
    cd = base(api)
    cd.add_conda_package("numpy=1.24")
    cd.add_conda_package("numpy=1.26")
    return list(cd.conda_packages)


@op
def cd__add_conda_package__python_replaces_version(api):
    cd = base(api)
    cd.add_conda_package("python=3.12")
    return [list(cd.conda_packages), cd.get_python_version()]


@op
def cd__add_conda_package__python_range(api):
    cd = base(api)
    cd.add_conda_package("python>=3.11")
    return [list(cd.conda_packages), cd.get_python_version()]


@op
def cd__add_conda_package__python_unversioned(api):
    cd = base(api)
    cd.add_conda_package("python")
    return list(cd.conda_packages)


@op
def cd__add_conda_package__python_dash_name(api):
    cd = base(api)
    cd.add_conda_package("python-dateutil")
    return [list(cd.conda_packages), cd.get_python_version()]


@op
def cd__add_conda_package__bad_spec(api):
    cd = base(api)
    cd.add_conda_package("numpy===!!")
    return list(cd.conda_packages)


@op
def cd__add_conda_package__non_string(api):
    base(api).add_conda_package(5)


@op
def cd__add_conda_package__no_dependencies_key(api):
    w("n.yml", "name: n\nchannels: [conda-forge]\n")
    cd = api.CondaDependencies("n.yml")
    cd.add_conda_package("numpy")
    return state(cd)


@op
def cd__remove_conda_package__exact(api):
    cd = base(api)
    cd.add_conda_package("numpy=1.26")
    cd.remove_conda_package("numpy=1.26")
    return list(cd.conda_packages)


@op
def cd__remove_conda_package__by_name_only(api):
    cd = base(api)
    cd.add_conda_package("numpy=1.26")
    cd.remove_conda_package("numpy")
    return list(cd.conda_packages)


@op
def cd__remove_conda_package__python(api):
    base(api).remove_conda_package("python=3.10")


@op
def cd__remove_conda_package__python_other_version(api):
    cd = base(api)
    cd.remove_conda_package("python=3.7")
    return list(cd.conda_packages)


# ---- pip packages -------------------------------------------------------------------------------
@op
def cd__add_pip_package__first(api):
    cd = base(api)
    cd.add_pip_package("numpy")
    return state(cd)


@op
def cd__add_pip_package__replaces_pin(api):
    cd = base(api)
    for package in ("numpy==1.24", "pandas", "numpy==1.26"):
        cd.add_pip_package(package)
    return list(cd.pip_packages)


@op
def cd__add_pip_package__replaces_unpinned(api):
    cd = base(api)
    cd.add_pip_package("numpy==1.24")
    cd.add_pip_package("numpy")
    return list(cd.pip_packages)


@op
def cd__add_pip_package__extras_replace(api):
    cd = base(api)
    cd.add_pip_package("requests[socks]==2.31")
    cd.add_pip_package("requests")
    return list(cd.pip_packages)


@op
def cd__add_pip_package__duplicate(api):
    cd = base(api)
    cd.add_pip_package("numpy==1.26")
    cd.add_pip_package("numpy==1.26")
    return list(cd.pip_packages)


@op
def cd__add_pip_package__spaces(api):
    cd = base(api)
    cd.add_pip_package("numpy")
    cd.add_pip_package("numpy >= 1.0")
    return list(cd.pip_packages)


@op
def cd__add_pip_package__case(api):
    cd = base(api)
    cd.add_pip_package("numpy")
    cd.add_pip_package("NumPy==1.26")
    return list(cd.pip_packages)


@op
def cd__add_pip_package__dash_underscore(api):
    cd = base(api)
    cd.add_pip_package("typing_extensions")
    cd.add_pip_package("typing-extensions==4.0")
    return list(cd.pip_packages)


@op
def cd__add_pip_package__marker(api):
    cd = base(api)
    cd.add_pip_package('pywin32; sys_platform == "win32"')
    cd.add_pip_package("pywin32==306")
    return list(cd.pip_packages)


@op
def cd__add_pip_package__wheel_url(api):
    cd = base(api)
    cd.add_pip_package("https://example.org/pkgs/my_pkg-1.0-py3-none-any.whl")
    cd.add_pip_package("my_pkg==2.0")
    return list(cd.pip_packages)


@op
def cd__add_pip_package__git_url(api):
    cd = base(api)
    cd.add_pip_package("git+https://github.com/org/repo.git@v1#egg=repo")
    return list(cd.pip_packages)


@op
def cd__add_pip_package__credential_url(api):
    cd = base(api)
    cd.add_pip_package("privpkg @ https://bob:t0kenpw@files.example/privpkg-1.0-py3-none-any.whl")
    return list(cd.pip_packages)


@op
def cd__add_pip_package__option_rejected(api):
    base(api).add_pip_package("--index-url https://example.org/simple")


@op
def cd__add_pip_package__requirement_file_rejected(api):
    base(api).add_pip_package("-r requirements.txt")


@op
def cd__add_pip_package__bad_spec(api):
    cd = base(api)
    cd.add_pip_package("numpy===!!")
    return list(cd.pip_packages)


@op
def cd__add_pip_package__empty(api):
    cd = base(api)
    cd.add_pip_package("")
    return list(cd.pip_packages)


@op
def cd__add_pip_package__non_string(api):
    base(api).add_pip_package(5)


@op
def cd__add_pip_package__two_pip_sections(api):
    w("t.yml", "name: t\ndependencies:\n- python=3.10\n- pip:\n  - a\n- pip:\n  - b\n")
    cd = api.CondaDependencies("t.yml")
    cd.add_pip_package("c")
    return state(cd)


@op
def cd__remove_pip_package__by_name(api):
    cd = base(api)
    cd.add_pip_package("numpy==1.26")
    cd.add_pip_package("six")
    cd.remove_pip_package("numpy")
    return list(cd.pip_packages)


@op
def cd__remove_pip_package__by_other_pin(api):
    cd = base(api)
    cd.add_pip_package("numpy==1.26")
    cd.remove_pip_package("numpy==9.9")
    return state(cd)


@op
def cd__remove_pip_package__absent(api):
    cd = base(api)
    cd.remove_pip_package("nothere")
    return state(cd)


@op
def cd__remove_pip_package__option_rejected(api):
    base(api).remove_pip_package("--pre")


@op
def cd__set_pip_requirements(api):
    cd = base(api)
    cd.add_pip_package("old")
    cd.set_pip_requirements(["numpy", "--pre", "pandas"])
    return state(cd)


@op
def cd__merge_requirements(api):
    return api.CondaDependencies.merge_requirements(["numpy>=1.0", "numpy<2", "pandas", "scipy==1.0", "scipy"])


# ---- pip options --------------------------------------------------------------------------------
@op
def cd__set_pip_option__add_and_replace(api):
    cd = base(api)
    cd.add_pip_package("numpy")
    for option in ("--index-url https://a.example/simple", "--extra-index-url https://b.example/simple",
                   "--index-url https://c.example/simple", "--pre"):
        cd.set_pip_option(option)
    return state(cd)


@op
def cd__set_pip_option__first(api):
    cd = base(api)
    cd.set_pip_option("--pre")
    return state(cd)


@op
def cd__set_pip_option__not_an_option(api):
    base(api).set_pip_option("numpy")


@op
def cd__set_pip_option__credential_url(api):
    cd = base(api)
    cd.set_pip_option("--extra-index-url https://bob:t0kenpw@pypi.example/simple")
    return state(cd)


@op
def cd__set_pip_index_url__bare_url(api):
    base(api).set_pip_index_url("https://example.org/simple")


@op
def cd__set_pip_index_url__with_flag(api):
    cd = base(api)
    cd.set_pip_index_url("--index-url https://example.org/simple")
    return list(cd.pip_options)


@op
def cd__remove_pip_option(api):
    cd = base(api)
    cd.set_pip_option("--find-links https://f.example/")
    cd.set_pip_option("--extra-index-url https://e.example/simple")
    cd.add_pip_package("x")
    cd.remove_pip_option("--find-links")
    cd.remove_pip_option("--extra-index-url whatever")
    cd.remove_pip_option("--not-there")
    return state(cd)


@op
def cd__remove_pip_option__not_an_option(api):
    base(api).remove_pip_option("numpy")


@op
def cd__add_pip_option__missing(api):
    base(api).add_pip_option("--pre")


# ---- python version -----------------------------------------------------------------------------
@op
def cd__set_python_version(api):
    cd = base(api)
    cd.set_python_version("3.11.4")
    return state(cd)


@op
def cd__set_python_version__no_dependencies_key(api):
    w("n.yml", "name: n\nchannels: [conda-forge]\n")
    cd = api.CondaDependencies("n.yml")
    cd.set_python_version("3.10")
    return state(cd)


@op
def cd__get_python_version__variants(api):
    out = {}
    for spec in ["python=3.10", "python==3.10.4", "python>=3.8", "python=3.10.*", "python 3.9", "python",
                 "python=3.12b1", "python=3"]:
        w("p.yml", "name: p\ndependencies:\n  - %s\n" % spec)
        out[spec] = api.CondaDependencies("p.yml").get_python_version()
    return out


@op
def cd__get_python_version__none(api):
    w("np.yml", "name: np\ndependencies:\n  - numpy\n")
    return api.CondaDependencies("np.yml").get_python_version()


# ---- framework helpers --------------------------------------------------------------------------
@op
def cd__add_tensorflow_conda_package(api):
    cd = base(api)
    cd.add_tensorflow_conda_package()
    first = list(cd.conda_packages)
    cd.add_tensorflow_conda_package(core_type="gpu", version="2.12.0")
    return [first, list(cd.conda_packages)]


@op
def cd__add_tensorflow_conda_package__bad_core(api):
    base(api).add_tensorflow_conda_package(core_type="tpu")


@op
def cd__add_tensorflow_pip_package(api):
    cd = base(api)
    cd.add_pip_package("tensorflow-gpu==1.15")
    cd.add_pip_package("tensorboard==2.1")
    cd.add_tensorflow_pip_package(core_type="gpu", version="2.15.0")
    return list(cd.pip_packages)


@op
def cd__add_tensorflow_pip_package__upper_core(api):
    base(api).add_tensorflow_pip_package(core_type="GPU")


@op
def cd__add_cntk_package(api):
    cd = base(api)
    cd.add_cntk_package()
    first = list(cd.pip_packages)
    cd.add_cntk_package("gpu")
    return [first, list(cd.pip_packages)]


@op
def cd__add_pytorch_package__missing(api):
    base(api).add_pytorch_package()


# ---- files --------------------------------------------------------------------------------------
@op
def cd__load__file(api):
    w("env.yml", CONDA_FILE)
    return state(api.CondaDependencies("env.yml"))


@op
def cd__load__keyword_arg(api):
    w("env.yml", CONDA_FILE)
    return list(api.CondaDependencies(conda_dependencies_file_path="env.yml").conda_packages)


@op
def cd__load__mutate(api):
    w("env.yml", CONDA_FILE)
    cd = api.CondaDependencies("env.yml")
    cd.add_conda_package("scipy")
    cd.add_pip_package("requests==2.32.0")
    cd.remove_channel("defaults")
    return state(cd)


@op
def cd__load__comments(api):
    w("env.yml", "# my env\nname: myenv\ndependencies:\n- python=3.9  # pinned\n")
    cd = api.CondaDependencies("env.yml")
    cd.add_conda_package("scipy")
    return cd.serialize_to_string()


@op
def cd__load__variables_and_prefix(api):
    w("v.yml", "name: x\nprefix: /opt/env\nvariables:\n  A: '1'\ndependencies: [python=3.10]\n")
    return state(api.CondaDependencies("v.yml"))


@op
def cd__load__unknown_key(api):
    w("bad.yml", "name: x\nfoo: 1\ndependencies: [python=3.10]\n")
    api.CondaDependencies("bad.yml")


@op
def cd__load__not_a_mapping(api):
    w("l.yml", "- python=3.10\n")
    api.CondaDependencies("l.yml")


@op
def cd__load__missing_file(api):
    api.CondaDependencies("does-not-exist.yml")


@op
def cd__load__pip_options_in_file(api):
    w("requirements.txt", "six\n")
    w("o.yml", "name: o\ndependencies:\n  - python=3.10\n  - pip:\n    - -r requirements.txt\n"
               "    - --index-url https://x/simple\n    - numpy\n")
    cd = api.CondaDependencies("o.yml")
    return {"packages": list(cd.pip_packages), "options": list(cd.pip_options)}


@op
def cd__load__no_python(api):
    w("np.yml", "name: np\ndependencies:\n  - numpy\n")
    return state(api.CondaDependencies("np.yml"))


@op
def cd__save(api):
    cd = base(api)
    cd.add_pip_package("numpy")
    returned = cd.save("out.yml")
    return {"return": returned, "text": r("out.yml")}


@op
def cd__save__subdir_missing(api):
    base(api).save("nodir/out.yml")


@op
def cd__save__to_directory(api):
    os.mkdir("d")
    base(api).save("d")


@op
def cd__save__no_path(api):
    base(api).save()


@op
def cd__save__no_python(api):
    w("np.yml", "name: np\ndependencies:\n  - numpy\n")
    api.CondaDependencies("np.yml").save("x.yml")


@op
def cd__save_to_file__named(api):
    os.mkdir("proj")
    returned = base(api).save_to_file("proj", "my.yml")
    return {"return": returned, "files": sorted(os.listdir("proj"))}


@op
def cd__serialize__roundtrip(api):
    cd = base(api)
    cd.add_pip_package("numpy==1.26")
    cd.add_conda_package("scipy")
    cd.add_channel("conda-forge")
    cd.save("a.yml")
    return cd.serialize_to_string() == api.CondaDependencies("a.yml").serialize_to_string()


@op
def cd__as_dict(api):
    cd = base(api)
    cd.add_pip_package("numpy")
    return cd.as_dict()


@op
def cd__properties_are_iterators(api):
    cd = base(api)
    return {p: type(getattr(cd, p)).__name__ for p in ("conda_channels", "conda_packages", "pip_packages", "pip_options")}


@op
def cd__typo_attribute(api):
    cd = base(api)
    cd.pip_pakages = ["numpy"]
    return list(cd.pip_packages)


@op
def cd__property_not_settable(api):
    base(api).pip_packages = ["numpy"]


@op
def cd__seed_snippet(api):
    """The guide's 'From SDK' example, from a neutral start."""
    conda = base(api)
    conda.add_channel("pytorch")
    conda.add_conda_package("python=3.7")
    conda.add_conda_package("pytorch")
    conda.add_conda_package("torchvision")
    conda.add_pip_package("pyyaml")
    conda.save("env.yml")
    return r("env.yml")


# ---- Environment --------------------------------------------------------------------------------
@op
def env__init__defaults(api):
    environment = api.Environment("myenv")
    return {"variables": environment.environment_variables, "base_image": environment.docker.base_image,
            "conda": list(environment.python.conda_dependencies.conda_packages)}


@op
def env__init__attributes(api):
    environment = env(api, "myenv")
    d = environment.docker
    return {"name": environment.name, "version": environment.version, "inferencing": environment.inferencing_stack_version,
            "r": environment.r, "asset_id": environment.asset_id,
            "user_managed": environment.python.user_managed_dependencies,
            "interpreter": environment.python.interpreter_path,
            "conda_file": environment.python.conda_dependencies_file,
            "base_image": d.base_image, "base_dockerfile": d.base_dockerfile, "build_context": d.build_context,
            "enabled": d.enabled, "shm_size": d.shm_size, "shared_volumes": d.shared_volumes, "arguments": d.arguments,
            "platform": [d.platform.os, d.platform.architecture],
            "registry": [d.base_image_registry.address, d.base_image_registry.username, d.base_image_registry.password,
                         d.base_image_registry.registry_identity],
            "spark": [environment.spark.repositories, environment.spark.packages, environment.spark.precache_packages]}


@op
def env__str(api):
    environment = env(api, "myenv")
    environment.version = "3"
    return str(environment)


@op
def env__repr_is_json(api):
    return sorted(json.loads(repr(env(api, "myenv"))))


@op
def env__init__name_none(api):
    return str(api.Environment(None))


@op
def env__init__name_int(api):
    api.Environment(123)


@op
def env__init__no_name(api):
    api.Environment()


@op
def env__init__name_keyword(api):
    return api.Environment(name="kw").name


@op
def env__eq(api):
    return api.Environment("a") == api.Environment("a")


@op
def env__deepcopy(api):
    import copy

    environment = env(api)
    environment.python.conda_dependencies.add_pip_package("numpy")
    other = copy.deepcopy(environment)
    other.python.conda_dependencies.add_pip_package("pandas")
    return [list(environment.python.conda_dependencies.pip_packages), list(other.python.conda_dependencies.pip_packages)]


@op
def env__typo__environment(api):
    api.Environment("a").pyhton = 1


@op
def env__typo__docker(api):
    api.Environment("a").docker.base_imgae = 1


@op
def env__typo__python(api):
    api.Environment("a").python.interpeter_path = "/usr/bin/python"


@op
def env__typo__registry(api):
    api.Environment("a").docker.base_image_registry.adress = "x.azurecr.io"


@op
def env__typo__spark(api):
    api.Environment("a").spark.package = []


@op
def env__variables__setter(api):
    environment = env(api)
    environment.environment_variables = {"A": "1"}
    environment.environment_variables["B"] = "2"
    return saved(environment)["azureml_environment.json"]["environmentVariables"]


@op
def env__variables__item(api):
    environment = env(api, "example")
    environment.environment_variables["EXAMPLE_ENV_VAR"] = "EXAMPLE_VALUE"
    return environment.environment_variables


@op
def env__version_int(api):
    environment = env(api)
    environment.version = 5
    return saved(environment)["azureml_environment.json"]["version"]


@op
def env__inferencing_stack_version(api):
    environment = env(api)
    environment.inferencing_stack_version = "latest"
    return saved(environment)["azureml_environment.json"]["inferencingStackVersion"]


@op
def env__asset_id(api):
    environment = env(api)
    environment.asset_id = "azureml://x"
    return saved(environment)["azureml_environment.json"]["assetId"]


@op
def env__databricks(api):
    environment = env(api)
    environment.databricks.pypi_libraries = [{"package": "x"}]
    return saved(environment)["azureml_environment.json"]["databricks"]


@op
def env__spark(api):
    environment = env(api)
    environment.spark.repositories = ["https://mmlspark.azureedge.net/maven"]
    return saved(environment)["azureml_environment.json"]["spark"]


@op
def env__python__user_managed(api):
    environment = env(api)
    environment.python.user_managed_dependencies = True
    environment.python.interpreter_path = "/opt/miniconda/bin/python"
    return saved(environment)["azureml_environment.json"]["python"]


@op
def env__python__conda_dependencies_none(api):
    environment = env(api)
    environment.python.conda_dependencies = None
    files = saved(environment)
    return {"files": sorted(files), "python": files["azureml_environment.json"]["python"],
            "loaded": api.Environment.load_from_directory("s").python.conda_dependencies}


@op
def env__python__conda_dependencies_string(api):
    environment = env(api)
    environment.python.conda_dependencies = "numpy"
    return repr(environment)


@op
def env__python__conda_dependencies_shared(api):
    cd = base(api)
    environment = env(api)
    environment.python.conda_dependencies = cd
    cd.add_pip_package("late")
    return list(environment.python.conda_dependencies.pip_packages)


@op
def env__python__conda_dependencies_file_setter(api):
    env(api).python.conda_dependencies_file = "my.yml"


# ---- docker section -----------------------------------------------------------------------------
@op
def env__docker__base_image_then_dockerfile(api):
    environment = env(api)
    environment.docker.base_image = "ubuntu:22.04"
    environment.docker.base_dockerfile = "FROM ubuntu:22.04\nRUN echo hi\n"
    return [environment.docker.base_image, environment.docker.base_dockerfile]


@op
def env__docker__dockerfile_then_base_image(api):
    environment = env(api)
    environment.docker.base_dockerfile = "FROM ubuntu:22.04\n"
    environment.docker.base_image = "python:3.11"
    return [environment.docker.base_image, environment.docker.base_dockerfile]


@op
def env__docker__dockerfile_path(api):
    w("Dockerfile", "FROM mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04\nRUN pip install x\n")
    environment = env(api, "nlp")
    environment.docker.base_image = None
    environment.docker.base_dockerfile = "./Dockerfile"
    return [environment.docker.base_image, environment.docker.base_dockerfile]


@op
def env__docker__dockerfile_path_missing(api):
    environment = env(api)
    environment.docker.base_dockerfile = "./Dockerfile"
    return environment.docker.base_dockerfile


@op
def env__docker__dockerfile_file_object(api):
    w("Dockerfile", "FROM scratch\n")
    environment = env(api)
    with open("Dockerfile") as handle:
        environment.docker.base_dockerfile = handle
    return environment.docker.base_dockerfile


@op
def env__docker__base_image_empty_string(api):
    environment = env(api)
    environment.docker.base_dockerfile = "FROM x\n"
    environment.docker.base_image = ""
    return [environment.docker.base_image, environment.docker.base_dockerfile]


@op
def env__docker__base_dockerfile_empty_string(api):
    environment = env(api)
    environment.docker.base_dockerfile = "FROM x\n"
    environment.docker.base_dockerfile = ""
    return [environment.docker.base_image, environment.docker.base_dockerfile]


@op
def env__docker__base_image_tuple(api):
    environment = env(api)
    environment.docker.base_image = "/my/private/img:tag",
    return type(environment.docker.base_image).__name__


@op
def env__docker__base_image_int(api):
    environment = env(api)
    environment.docker.base_image = 5
    return environment.docker.base_image


@op
def env__docker__run_settings(api):
    environment = env(api)
    environment.docker.enabled = True
    environment.docker.shm_size = "16g"
    environment.docker.arguments = ["--ipc=host"]
    environment.docker.shared_volumes = False
    environment.docker.gpu_support = True
    docker = saved(environment)["azureml_environment.json"]["docker"]
    return {"gpu_support": environment.docker.gpu_support,
            "saved": {k: docker[k] for k in ("enabled", "shmSize", "arguments", "sharedVolumes")}}


@op
def env__docker__registry_address(api):
    environment = env(api)
    environment.docker.base_image = "myacr.azurecr.io/img:1"
    environment.docker.base_image_registry.address = "myacr.azurecr.io"
    return saved(environment)["azureml_environment.json"]["docker"]["baseImageRegistry"]


@op
def env__docker__registry_credentials(api):
    environment = env(api)
    environment.docker.base_image_registry.address = "myacr.azurecr.io"
    environment.docker.base_image_registry.username = "user"
    environment.docker.base_image_registry.password = "secret"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        files = saved(environment)
    return {"in_memory": [environment.docker.base_image_registry.username, environment.docker.base_image_registry.password],
            "saved": files["azureml_environment.json"]["docker"]["baseImageRegistry"],
            "repr_has_password": "secret" in repr(environment)}


@op
def env__docker__registry_username_only(api):
    environment = env(api)
    environment.docker.base_image_registry.address = "myacr.azurecr.io"
    environment.docker.base_image_registry.username = "user"
    return saved(environment)["azureml_environment.json"]["docker"]["baseImageRegistry"]


@op
def env__docker__replace_registry_object(api):
    environment = env(api)
    registry = api.ContainerRegistry()
    registry.address = "r.example"
    environment.docker.base_image_registry = registry
    return saved(environment)["azureml_environment.json"]["docker"]["baseImageRegistry"]


@op
def env__docker__registry_none(api):
    environment = env(api)
    environment.docker.base_image_registry = None
    files = saved(environment)
    return [files["azureml_environment.json"]["docker"]["baseImageRegistry"],
            api.Environment.load_from_directory("s").docker.base_image_registry]


@op
def env__docker__platform(api):
    environment = env(api)
    return saved(environment)["azureml_environment.json"]["docker"]["platform"]


@op
def env__python_none(api):
    environment = env(api)
    environment.python = None
    environment.save_to_directory("s")


# ---- clone --------------------------------------------------------------------------------------
@op
def env__clone(api):
    environment = env(api)
    environment.version = "4"
    environment.asset_id = "x"
    environment.environment_variables["A"] = "1"
    environment.python.conda_dependencies.add_pip_package("numpy")
    clone = environment.clone("b")
    clone.environment_variables["B"] = "2"
    clone.docker.base_image = "other:1"
    return {"name": clone.name, "version": clone.version, "asset_id": clone.asset_id,
            "variables": [environment.environment_variables, clone.environment_variables],
            "base_images": [environment.docker.base_image, clone.docker.base_image],
            "pip": list(clone.python.conda_dependencies.pip_packages)}


@op
def env__clone__conda_independent(api):
    environment = env(api)
    clone = environment.clone("b")
    clone.python.conda_dependencies.add_conda_package("scipy")
    return list(environment.python.conda_dependencies.conda_packages)


@op
def env__clone__empty_name(api):
    env(api).clone("")


@op
def env__clone__keeps_dockerfile(api):
    environment = env(api)
    environment.docker.base_dockerfile = "FROM x\n"
    clone = environment.clone("b")
    return [clone.docker.base_image, clone.docker.base_dockerfile]


# ---- factories ----------------------------------------------------------------------------------
@op
def env__from_conda_specification(api):
    w("env.yml", CONDA_FILE)
    environment = api.Environment.from_conda_specification("fromconda", "env.yml")
    environment.environment_variables = {}
    return {"conda": state(environment.python.conda_dependencies), "files": saved(environment)}


@op
def env__from_conda_specification__seed(api):
    w("env.yml", "name: pytorch\nchannels:\n    - defaults\n    - pytorch\ndependencies:\n    - python=3.7\n"
                 "    - pytorch\n    - torchvision\n")
    return api.Environment.from_conda_specification("pytorch", "env.yml").python.conda_dependencies.serialize_to_string()


@op
def env__from_conda_specification__no_python(api):
    w("np.yml", "name: np\ndependencies:\n  - numpy\n")
    return list(api.Environment.from_conda_specification("x", "np.yml").python.conda_dependencies.conda_packages)


@op
def env__from_conda_specification__missing(api):
    api.Environment.from_conda_specification("x", "nope.yml")


@op
def env__from_conda_specification__unknown_key(api):
    w("bad.yml", "name: x\nbuild: {}\ndependencies: [python=3.10]\n")
    api.Environment.from_conda_specification("x", "bad.yml")


@op
def env__from_conda_specifications(api):
    api.Environment.from_conda_specifications("x", "env.yml")


REQUIREMENTS = """\
# a comment
numpy==1.26.4

pandas>=2.0  # inline comment
--index-url https://example.org/simple
-r other.txt
requests[socks]; python_version >= "3.8"
  scipy
"""


@op
def env__from_pip_requirements(api):
    w("requirements.txt", REQUIREMENTS)
    w("other.txt", "six\n")
    cd = api.Environment.from_pip_requirements("frompip", "requirements.txt").python.conda_dependencies
    return {"pip": list(cd.pip_packages), "options": list(cd.pip_options),
            "conda": [c for c in cd.conda_packages if not c.startswith("python=")]}


@op
def env__from_pip_requirements__plain(api):
    w("requirements.txt", "numpy==1.26.4\npandas>=2.0\n--index-url https://example.org/simple\n")
    cd = api.Environment.from_pip_requirements("frompip", "requirements.txt").python.conda_dependencies
    return {"pip": list(cd.pip_packages), "options": list(cd.pip_options),
            "conda": [c for c in cd.conda_packages if not c.startswith("python=")]}


@op
def env__from_pip_requirements__pip_version(api):
    w("requirements.txt", "numpy\n")
    cd = api.Environment.from_pip_requirements("x", "requirements.txt", pip_version="23.3.1").python.conda_dependencies
    return [c for c in cd.conda_packages if not c.startswith("python=")]


@op
def env__from_pip_requirements__missing(api):
    api.Environment.from_pip_requirements("x", "nope.txt")


@op
def env__from_pip_requirements__crlf(api):
    w("requirements.txt", "numpy\r\npandas\r\n")
    return list(api.Environment.from_pip_requirements("x", "requirements.txt").python.conda_dependencies.pip_packages)


@op
def env__from_dockerfile__text(api):
    environment = api.Environment.from_dockerfile("x", "FROM ubuntu:22.04\nRUN echo hi\n")
    return [environment.docker.base_image, environment.docker.base_dockerfile, environment.python.user_managed_dependencies,
            environment.python.interpreter_path]


@op
def env__from_dockerfile__path_with_conda(api):
    w("Dockerfile", "FROM python:3.11\n")
    w("env.yml", CONDA_FILE)
    environment = api.Environment.from_dockerfile("x", "Dockerfile", conda_specification="env.yml")
    return [environment.docker.base_dockerfile, environment.docker.base_image, environment.python.user_managed_dependencies,
            list(environment.python.conda_dependencies.conda_packages)]


@op
def env__from_dockerfile__pip_requirements(api):
    w("requirements.txt", "numpy\n")
    environment = api.Environment.from_dockerfile("x", "FROM x\n", pip_requirements="requirements.txt")
    return [environment.python.user_managed_dependencies, list(environment.python.conda_dependencies.pip_packages)]


@op
def env__from_dockerfile__both(api):
    api.Environment.from_dockerfile("x", "FROM x\n", conda_specification="a.yml", pip_requirements="r.txt")


@op
def env__from_docker_image(api):
    registry = api.ContainerRegistry()
    registry.address = "myacr.azurecr.io"
    environment = api.Environment.from_docker_image("x", "myacr.azurecr.io/img:1", container_registry=registry)
    return [environment.docker.base_image, environment.docker.base_image_registry.address,
            environment.python.user_managed_dependencies]


@op
def env__from_docker_image__with_conda(api):
    w("env.yml", CONDA_FILE)
    environment = api.Environment.from_docker_image("x", "python:3.11", conda_specification="env.yml")
    return [environment.python.user_managed_dependencies, environment.docker.base_image,
            environment.python.conda_dependencies.get_python_version()]


@op
def env__from_existing_conda_environment(api):
    old = os.environ.get("PATH")
    os.environ["PATH"] = os.getcwd()  # no conda, whatever the machine
    try:
        return api.Environment.from_existing_conda_environment("x", "base")
    finally:
        os.environ["PATH"] = old


# ---- save / load --------------------------------------------------------------------------------
@op
def env__save_to_directory(api):
    environment = env(api, "saved")
    environment.environment_variables = {"A": "1"}
    environment.python.conda_dependencies.add_pip_package("numpy==1.26")
    return saved(environment)


@op
def env__save_to_directory__dockerfile(api):
    environment = env(api, "saved")
    environment.docker.base_dockerfile = "FROM ubuntu:22.04\nRUN echo hi\n"
    environment.python.user_managed_dependencies = True
    return saved(environment)


@op
def env__save_to_directory__exists(api):
    os.mkdir("s")
    env(api).save_to_directory("s")


@op
def env__save_to_directory__overwrite_stale_dockerfile(api):
    environment = env(api)
    environment.docker.base_dockerfile = "FROM old\n"
    environment.save_to_directory("s")
    environment.docker.base_image = "new:1"
    environment.save_to_directory("s", overwrite=True)
    back = api.Environment.load_from_directory("s")
    return [sorted(os.listdir("s")), back.docker.base_image, back.docker.base_dockerfile]


@op
def env__save_to_directory__no_python(api):
    w("np.yml", "name: np\ndependencies:\n  - numpy\n")
    environment = env(api)
    environment.python.conda_dependencies = api.CondaDependencies("np.yml")
    environment.save_to_directory("s")
    return sorted(os.listdir("s"))


@op
def env__save_to_directory__nested(api):
    env(api).save_to_directory("x/y/z")
    return sorted(os.listdir("x/y/z"))


@op
def env__load_from_directory__roundtrip(api):
    environment = env(api, "rt")
    environment.python.conda_dependencies.add_pip_package("numpy==1.26")
    environment.environment_variables = {"A": "1"}
    environment.docker.base_image = "python:3.11"
    first = saved(environment, "s")
    back = api.Environment.load_from_directory("s")
    return [first == saved(back, "t"), repr(back) == repr(environment)]


@op
def env__load_from_directory__missing(api):
    api.Environment.load_from_directory("nope")


@op
def env__load_from_directory__dockerfile_and_base_image(api):
    environment = env(api, "j")
    environment.docker.base_image = "x:1"
    environment.save_to_directory("s")
    w("s/BaseDockerfile", "FROM y\n")
    back = api.Environment.load_from_directory("s")
    return [back.docker.base_image, back.docker.base_dockerfile]


@op
def env__load_from_directory__bad_json(api):
    w("s/azureml_environment.json", "{not json")
    w("s/conda_dependencies.yml", BASE)
    api.Environment.load_from_directory("s")


@op
def env__load_from_directory__minimal_json(api):
    w("s/azureml_environment.json", json.dumps({"name": "j", "python": {"userManagedDependencies": True,
                                                                         "interpreterPath": "/usr/bin/python3"}}))
    back = api.Environment.load_from_directory("s")
    return [back.name, back.environment_variables, back.docker.base_image, back.python.conda_dependencies,
            back.python.user_managed_dependencies]


@op
def env__load_from_directory__unknown_keys(api):
    w("s/azureml_environment.json", json.dumps({"name": "j", "docker": {"baseImge": "typo:1"}, "bogus": 1}))
    w("s/conda_dependencies.yml", BASE)
    return api.Environment.load_from_directory("s").docker.base_image


@op
def env__load_from_directory__inline_conda(api):
    w("s/azureml_environment.json", json.dumps({"name": "j", "python": {"condaDependencies": {
        "name": "x", "dependencies": ["python=3.9", {"pip": ["numpy"]}]}}}))
    return state(api.Environment.load_from_directory("s").python.conda_dependencies)


@op
def env__load_from_directory__snake_case_ignored(api):
    w("s/azureml_environment.json", json.dumps({"name": "j", "environment_variables": {"A": "1"},
                                                "environmentVariables": {"B": "2"}}))
    w("s/conda_dependencies.yml", BASE)
    return api.Environment.load_from_directory("s").environment_variables


# ---- calls that need a workspace in azureml-core (envc answers them locally) ----------------------
@op
def cloud__register_noargs(api):
    return api.Environment("a").register() is not None


@op
def cloud__get_version_and_label(api):
    api.Environment.get(None, "x", version="1", label="latest")


@op
def cloud__get_image_details_noargs(api):
    return "FROM" in env(api).get_image_details().dockerfile


@op
def cloud__build(api):
    api.Environment("a").build(None)


@op
def cloud__label(api):
    api.Environment.label(None, "x", "1", ["prod"])


@op
def cloud__add_private_pip_wheel(api):
    api.Environment.add_private_pip_wheel(None, "nope.whl")


# ---- the public surface -------------------------------------------------------------------------
def surface(api) -> dict:
    """Every public name of each class, as the implementation spells it."""
    environment = api.Environment("a")
    objects = {"Environment": api.Environment, "an Environment": environment, "CondaDependencies": api.CondaDependencies,
               "ContainerRegistry": api.ContainerRegistry, "DockerSection": environment.docker,
               "PythonSection": environment.python, "SparkSection": environment.spark,
               "DatabricksSection": environment.databricks, "DockerImagePlatform": environment.docker.platform}
    return {name: sorted(n for n in dir(obj) if not n.startswith("_")) for name, obj in objects.items()}


def kind(exc: BaseException) -> str:
    refusals = ("UserErrorException", "ValueError", "SpecError")  # and their subclasses (envc's NotAMapping)
    return "invalid" if any(c.__name__ in refusals for c in type(exc).__mro__) else type(exc).__name__


def load(implementation: str):
    class Api:
        pass

    api = Api()
    if implementation == "azureml":
        import logging

        logging.disable(logging.CRITICAL)  # azureml-core's deprecation notes
        from azureml.core import Environment
        from azureml.core.conda_dependencies import CondaDependencies
        from azureml.core.container_registry import ContainerRegistry
        from azureml.core.runconfig import DEFAULT_CPU_IMAGE, DEFAULT_GPU_IMAGE
    else:
        from envc import DEFAULT_CPU_IMAGE, DEFAULT_GPU_IMAGE, CondaDependencies, ContainerRegistry, Environment
    api.Environment, api.CondaDependencies, api.ContainerRegistry = Environment, CondaDependencies, ContainerRegistry
    api.DEFAULT_CPU_IMAGE, api.DEFAULT_GPU_IMAGE = DEFAULT_CPU_IMAGE, DEFAULT_GPU_IMAGE
    return api


def run(implementation: str) -> dict:
    api = load(implementation)
    results, start = {}, os.getcwd()
    root = tempfile.mkdtemp(prefix="envc-differential-")
    os.environ["ENVC_REGISTRY"] = os.path.join(root, "registry")  # register() writes here, never the user's
    try:
        for index, (name, fn) in enumerate(OPS):
            folder = os.path.join(root, "%03d" % index)
            os.mkdir(folder)
            os.chdir(folder)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    value = fn(api)
                results[name] = json.loads(json.dumps(value, default=repr))
            except Exception as exc:  # noqa: BLE001 - what the caller sees is the result
                results[name] = {"raises": kind(exc), "message": str(exc)[:300]}
            finally:
                os.chdir(start)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return {"operations": results, "surface": surface(api)}


if __name__ == "__main__":
    with open(sys.argv[2], "w") as out:
        json.dump(run(sys.argv[1]), out, indent=1)
