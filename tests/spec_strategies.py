"""Hypothesis strategies for envc specs, shared by the property tests."""
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
specs = st.fixed_dictionaries({"name": names}, optional={
    "base": st.fixed_dictionaries({"image": st.sampled_from(["ubuntu:22.04", "nvidia/cuda:12.2.2-runtime-ubuntu22.04",
                                                             "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:20251130.v1"])}),
    "system": st.fixed_dictionaries({"apt": st.lists(apt, min_size=1, max_size=4)}),
    "conda": st.fixed_dictionaries({"channels": st.lists(st.sampled_from(["conda-forge", "pytorch", "nvidia", "defaults"]), unique=True, max_size=3),
                                    "dependencies": st.lists(conda_spec, min_size=1, max_size=4)}),
    "pip": st.fixed_dictionaries({"packages": st.lists(pep508, min_size=1, max_size=5)}),
    "env": st.dictionaries(env_keys, text, max_size=5),
    "labels": st.dictionaries(label_keys, text, max_size=3),
    "init": st.fixed_dictionaries({"command": st.lists(text, min_size=1, max_size=4)}),
})


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
