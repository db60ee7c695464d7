"""Writer of envc specs: what a reader understood of another format (conda env, requirements, MLflow,
Azure ML) as an envc spec (`envc import`), so users can move to the spec language without retyping
anything; also the registry's snapshots of imported inputs.

Paths are rewritten to stay valid from the folder the spec is written to. Values are dumped by
PyYAML and read back before anything is written: a value that would not survive the round trip is
a bug, never a silent change.
"""
from __future__ import annotations

import os
import posixpath

from envc.common.diagnostics import Location, SpecError, error
from envc.common.schema import path_keys, schema
from envc.common.version import __version__
from envc.core.document import display_name


def check_importable(source: str, output) -> None:
    """SpecError when source is missing or already an envc spec, or output would overwrite it."""
    from envc.formats.detect import input_kind

    if not os.path.exists(source):
        raise SpecError([error(Location(display_name(source)), "no such file")])
    if input_kind(source) == "envc" and not os.path.isdir(source):  # a folder that is no saved Azure ML one: load says so
        raise SpecError([error(Location(display_name(source)), "is already an envc spec: nothing to import")])
    if output is not None and os.path.exists(output) and os.path.samefile(source, output):
        raise SpecError([error(Location(display_name(source)), "-o names the file being imported: write the spec elsewhere")])


def import_spec(inputs, source: str, output) -> str:
    """The text of an envc spec equivalent to source (checked as `envc compile` checks it: inputs), for
    writing at output (None: the source's folder)."""
    document = inputs.spec.document  # the source as read, before a conda file is spliced in
    data = document.data
    source_folder = os.path.abspath(document.root)  # a saved Azure ML folder is its own root
    target_folder = os.path.dirname(os.path.abspath(output)) if output is not None else source_folder
    if source_folder != target_folder:
        data = _rebase_paths(data, document, source_folder, target_folder)
    relative_source = os.path.relpath(os.path.abspath(source), target_folder).replace(os.sep, "/")
    return spec_text(data, f"Imported by envc {__version__} from {relative_source}: edit this spec from now on.")


def spec_text(data: dict, comment: str) -> str:
    """A spec's data as YAML (schema key order, values read back exactly), under a one-line comment."""
    return yaml_text(_in_schema_order(data), comment)


def yaml_text(data: dict, comment: str) -> str:
    """Any data as YAML in its own key order, values read back exactly, under a one-line comment."""
    return f"# {comment}\n" + _dump(data)


def _rebase_paths(data: dict, doc, source_folder: str, target_folder: str) -> dict:
    data = {key: dict(value) if isinstance(value, dict) else value for key, value in data.items()}
    problems = []

    def moved(path: str, at: tuple) -> str:
        relative = os.path.relpath(os.path.join(source_folder, path), target_folder).replace(os.sep, "/")
        if relative == ".." or relative.startswith("../"):
            problems.append(error(doc.at(at), f"'{path}' would be outside the new spec's folder, which is its build "
                                              "context: write the spec in the source's folder or a folder above it"))
        return posixpath.normpath(relative)

    for (section, key), _ in path_keys():
        value = data.get(section, {}).get(key)
        if isinstance(value, list):
            data[section][key] = [moved(item, (section, key, i)) for i, item in enumerate(value)]
        elif value is not None:
            data[section][key] = moved(value, (section, key))
    dependencies = data.get("conda", {}).get("dependencies")
    if isinstance(dependencies, list):
        data["conda"]["dependencies"] = [
            {**item, "pip": [_rebased_pip_line(line, lambda path, at=("conda", "dependencies", i, "pip", j): moved(path, at))
                             for j, line in enumerate(item["pip"])]}
            if isinstance(item, dict) and isinstance(item.get("pip"), list) else item for i, item in enumerate(dependencies)]
    if problems:
        raise SpecError(problems)
    return data


def _rebased_pip_line(line: str, moved) -> str:
    """A conda pip: line with the local files it names (-r, -c, --find-links) as moved(path) gives them."""
    from envc.common.package_specs import SpecSyntaxError, parse_pip_line
    from envc.formats.requirements import strip_comment

    try:
        parsed = parse_pip_line(strip_comment(line))
    except SpecSyntaxError:  # checked before import writes anything: not reached for a valid source
        return line
    paths = [parsed.value] if parsed.kind in ("include", "constraint") else []
    paths += [value for option, value in parsed.options if option == "--find-links" and "://" not in value]
    for path in paths:
        at = line.rindex(path)
        line = line[:at] + moved(path) + line[at + len(path):]
    return line


def _in_schema_order(data: dict) -> dict:
    """Top-level keys in the schema's order (name first), as people read a spec."""
    order = list(schema()["properties"])
    return dict(sorted(data.items(), key=lambda item: order.index(item[0]) if item[0] in order else len(order)))


def _dump(data: dict) -> str:
    """YAML that PyYAML and conda's YAML 1.2 reader (ruamel) both read back as data: a string either would read as
    a number (`1e3`, `0o17`) is quoted."""
    import re

    import yaml

    from envc.formats.conda_env import YAML12_NOT_STRING

    class Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):
        pass

    def string(dumper, value):
        style = "'" if re.fullmatch(YAML12_NOT_STRING, value) else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style) if style else dumper.represent_str(value)

    Dumper.add_representer(str, string)
    text = yaml.dump(data, Dumper=Dumper, sort_keys=False, allow_unicode=True, default_flow_style=False, width=1 << 30)
    if yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) != data:
        raise AssertionError("the imported spec does not read back as the data it was written from")
    return text
