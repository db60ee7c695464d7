"""Hypothesis strategies for envc specs, shared by the property tests."""
import yaml
from hypothesis import strategies as st


def valid_requirement(text):
    from packaging.requirements import InvalidRequirement, Requirement

    try:
        Requirement(text)
    except InvalidRequirement:
        return False
    return True


UNREPRESENTABLE = "".join(map(chr, [*range(0, 9), *range(10, 32), 0x7F, 0x85, 0x2028, 0x2029]))
text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters=UNREPRESENTABLE), max_size=40)
names = st.from_regex(r"\A[a-z0-9][a-z0-9._-]{0,20}\Z")
env_keys = st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_]{0,12}\Z")
label_keys = st.from_regex(r"\A[a-z0-9][a-z0-9._/-]{0,20}\Z")
package = st.from_regex(r"\A[a-z][a-z0-9]{0,8}(-[a-z0-9]{1,5})?\Z")
version = st.from_regex(r"\A[0-9]{1,2}(\.[0-9]{1,2}){0,2}\Z")
pep508 = st.builds(lambda n, ops: n + ",".join(op + v for op, v in ops), package,
                   st.lists(st.tuples(st.sampled_from(["==", ">=", "<=", "<", ">", "!=", "~="]), version), max_size=2)
                   ).filter(lambda s: valid_requirement(s))
conda_spec = st.builds(lambda n, v: f"{n}={v}" if v else n, package, st.none() | version)
apt = st.from_regex(r"\A[a-z0-9][a-z0-9+.-]{1,12}\Z")
images = st.sampled_from(["ubuntu:22.04", "nvidia/cuda:12.2.2-runtime-ubuntu22.04",
                         "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:20251130.v1"])
reference_names = st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_]{0,10}\Z")
MD5 = "0123456789abcdef" * 2


def maybe(draw, strategy, key, into):
    """into[key] = a drawn value, half of the time."""
    if draw(st.booleans()):
        into[key] = draw(strategy)


@st.composite
def environments(draw):
    """(spec, files): a valid spec that may set any leaf key of the schema, and the files its paths name
    (relative path -> text). tests/test_properties.py checks that every leaf key is generated."""
    files, spec = {}, {"name": draw(names)}
    maybe(draw, text, "description", spec)
    base = {}
    kind = draw(st.sampled_from(["default", "image", "dockerfile"]))
    if kind == "image":
        base["image"] = draw(images)
        maybe(draw, st.sampled_from(["linux/amd64", "linux/arm64"]), "platform", base)
        maybe(draw, st.sampled_from(["dockeruser", "1000:1000"]), "user", base)
    elif kind == "dockerfile":
        context = draw(st.sampled_from([None, "ctx"]))
        base["dockerfile"] = f"{context}/Dockerfile" if context else "base.Dockerfile"
        files[base["dockerfile"]] = f"FROM {draw(images)}\nRUN true\n"
        if context:
            base["context"] = context
    if kind != "default" and draw(st.booleans()):
        base["registry"] = {"address": draw(st.sampled_from(["myacr.azurecr.io", "registry.example:5000"]))}
        if draw(st.booleans()):  # both credentials or neither (the engine's own login)
            base["registry"]["username"] = {"env": draw(reference_names)}
            base["registry"]["password"] = {draw(st.sampled_from(["env", "secret"])): draw(reference_names)}
    if base:
        spec["base"] = base
    if draw(st.booleans()):
        spec["system"] = {"apt": draw(st.lists(apt, min_size=1, max_size=4))}
    if draw(st.integers(0, 5)) == 0:
        spec["python"] = {"user_managed": True, "interpreter": draw(st.sampled_from(["/opt/conda/bin/python", "/usr/bin/python3"]))}
    else:
        maybe(draw, st.fixed_dictionaries({"user_managed": st.just(False)}), "python", spec)
        _conda(draw, spec, files)
        _pip(draw, spec, files)
    maybe(draw, st.dictionaries(env_keys, text, max_size=5), "env", spec)
    maybe(draw, st.dictionaries(label_keys, text, max_size=3), "labels", spec)
    init = {}
    for key in ("setup", "run"):
        if draw(st.booleans()):
            init[key] = f"scripts/{key}.sh"
            files[init[key]] = f"echo {key}\n"
    maybe(draw, st.lists(text, min_size=1, max_size=4), "command", init)
    if init:
        spec["init"] = init
    return spec, files


def _conda(draw, spec, files):
    kind = draw(st.sampled_from([None, "inline", "file", "lock"]))
    channels = st.lists(st.sampled_from(["conda-forge", "pytorch", "nvidia", "defaults"]), unique=True, max_size=3)
    dependencies = st.lists(conda_spec, min_size=1, max_size=4)
    if kind == "inline":
        conda = {"dependencies": draw(dependencies)}
        maybe(draw, channels, "channels", conda)
        if draw(st.booleans()):
            conda["dependencies"].append({"pip": draw(st.lists(pep508, min_size=1, max_size=3))})
        maybe(draw, st.dictionaries(st.sampled_from(["cuda", "glibc"]), st.sampled_from(["12.4", "2.35", ""]), min_size=1),
              "virtual_packages", conda)
        maybe(draw, st.sampled_from(["docker.io/mambaorg/micromamba:2.0.5@sha256:" + "ab" * 32, "mambaorg/micromamba:2.0.8"]),
              "micromamba_image", conda)
        spec["conda"] = conda
    elif kind == "file":
        files["environment.yml"] = yaml.safe_dump({"channels": draw(channels), "dependencies": draw(dependencies)})
        spec["conda"] = {"file": "environment.yml"}
    elif kind == "lock":
        subdir = "linux-aarch64" if spec.get("base", {}).get("platform") == "linux/arm64" else "linux-64"  # a lock for the image's platform
        files[f"conda-{subdir}.lock"] = f"@EXPLICIT\nhttps://conda.anaconda.org/conda-forge/{subdir}/python-3.11.0-h1_0.conda#{MD5}\n"
        spec["conda"] = {"lock": f"conda-{subdir}.lock"}


def _pip(draw, spec, files):
    if not draw(st.booleans()):
        return
    pip = {"packages": draw(st.lists(pep508, min_size=1, max_size=5))}
    if draw(st.booleans()):
        pip["requirements"] = ["requirements.txt"]
        files["requirements.txt"] = "\n".join(draw(st.lists(pep508, min_size=1, max_size=3))) + "\n"
    maybe(draw, st.sampled_from(["uv", "pip"]), "installer", pip)
    maybe(draw, st.sampled_from(["pypi_netrc", "index.netrc"]), "netrc_secret", pip)
    maybe(draw, st.sampled_from(["https://pypi.org/simple", "https://pypi.example/simple"]), "index_url", pip)
    maybe(draw, st.lists(st.sampled_from(["https://download.pytorch.org/whl/cpu", "https://x.example/simple"]), unique=True,
                         max_size=2), "extra_index_urls", pip)
    spec["pip"] = pip


def write_environment(folder, environment) -> str:
    """Write (spec, files) into folder; the spec's path."""
    spec, files = environment
    for relative, content in files.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(content, encoding="utf-8")
    path = folder / "envc.yml"
    path.write_text(yaml.safe_dump(spec, allow_unicode=True), encoding="utf-8")
    return path


def leaf_paths(spec) -> set:
    """The schema leaf keys a spec sets."""
    from envc.common.schema import leaf_keys

    leaves, found = leaf_keys(), set()
    for leaf in leaves:
        node = spec
        for key in leaf:
            node = node.get(key) if isinstance(node, dict) else None
        if node is not None:
            found.add(leaf)
    return found


specs = environments().map(lambda environment: environment[0])  # for checks of the spec alone (schema, hashes)


junk = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
                    max_leaves=8)


def mutate(spec, data):
    """Replace one randomly chosen node of spec with junk, or add a junk key."""
    paths = [()]
    def walk(node, path):
        if isinstance(node, dict):
            for key, value in node.items():
                paths.append(path + (key,)); walk(value, path + (key,))
        elif isinstance(node, list):
            for i, value in enumerate(node):
                paths.append(path + (i,)); walk(value, path + (i,))
    walk(spec, ())
    target = data.draw(st.sampled_from(paths))
    replacement = data.draw(junk)
    if not target:
        spec[data.draw(st.text(max_size=12))] = replacement
        return spec
    node = spec
    for step in target[:-1]:
        node = node[step]
    node[target[-1]] = replacement
    return spec
