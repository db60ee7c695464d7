"""Render the Image IR as Dockerfile text with one jinja2 template; escaping via envc.quoting."""
from __future__ import annotations

import posixpath
from functools import lru_cache
from pathlib import Path

from envc.inputs import CONTEXT_DIR
from envc.ir import Image
from envc.quoting import dockerfile_word, exec_form, shell_word


@lru_cache(maxsize=None)
def _template():
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(Path(__file__).parent / "templates")),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=False,
    )
    environment.filters.update(sh=shell_word, word=dockerfile_word, exec=exec_form, dirname=posixpath.dirname)
    return environment.get_template("Dockerfile.j2")


def render(image: Image) -> str:
    activation = image.activation
    activate = [("PATH", f"{activation.path_prefix}:$PATH")] + [
        (name, dockerfile_word(value)) for name, value in activation.variables] if activation else []
    text = _template().render(
        header=image.header, base=image.base, system=image.system, conda=image.conda, pip=image.pip,
        init=image.init, runtime=image.runtime, activate=activate, context_dir=CONTEXT_DIR,
        environment=[(name, dockerfile_word(value)) for name, value in image.runtime.env],
    )
    return text.strip("\n") + "\n"
