"""What `envc build` says while the engine works: one line per part of the spec (base, system, conda,
pip, init, runtime) with its time, the engine's own output in a log file (or on stderr with
--verbose), and, when a step fails, the part of the spec that step was built from.

The engine's step lines are matched to the compiled Dockerfile's instructions: buildah prints
`STEP i/n: INSTRUCTION` ([k/m] first in a multi-stage build), BuildKit's plain progress
`#N [stage i/n] INSTRUCTION`. Only the last stage's steps are envc's layers.
"""
from __future__ import annotations

import os
import re
import time

_BUILDAH = re.compile(r"^(?:\[(\d+)/(\d+)\] )?STEP (\d+)/(\d+): ")
_BUILDKIT = re.compile(r"^#\d+ \[(?:(\S+) )?(\d+)/(\d+)\] ")
_BUILDKIT_ERROR = re.compile(r"^#\d+ ERROR: ")
_INSTRUCTION = re.compile(r"^[A-Za-z]+\s")


def step_sections(image, render_stage) -> list:
    """The section of each instruction of the image's last stage, in order (the IR's sections, counted
    in instructions; render_stage(stage) gives a stage's Dockerfile lines)."""
    names = []
    stages = iter(image.stages)
    for name, count in image.sections:
        for _ in range(count):
            lines = render_stage(next(stages))
            names += [(name, _is_from(line)) for line in _instructions(lines)]
    last_from = max((i for i, (_, is_from) in enumerate(names) if is_from), default=0)
    return [name for name, _ in names[last_from:]]


def _instructions(lines) -> list:
    """The instruction lines among a stage's lines (a base Dockerfile's text holds several)."""
    found, continued = [], False
    for line in "\n".join(lines).split("\n"):
        if not continued and _INSTRUCTION.match(line) and not line.lstrip().startswith("#"):
            found.append(line)
        continued = line.rstrip().endswith("\\")
    return found


def _is_from(line: str) -> bool:
    return line.split(None, 1)[0].upper() == "FROM"


class Progress:
    """Reads the engine's output line by line: writes it to the log (and to `echo` with --verbose), and
    prints `envc: SECTION  N.N s` on `out` as each part of the spec finishes."""

    def __init__(self, sections: list, out, log, echo=None):
        self.sections, self.out, self.log, self.echo = sections, out, log, echo
        self.current, self.started, self.failed_step = None, None, None
        self.last_step = None

    def feed(self, line: str) -> None:
        self.log.write(line)
        if self.echo is not None:
            self.echo.write(line)
        step = self._step(line)
        if step is not None:
            self.last_step = step
            self._enter(self.sections[step] if step < len(self.sections) else self.current)
        elif _BUILDKIT_ERROR.match(line):
            self.failed_step = self.last_step

    def _step(self, line: str):
        """The 0-based index of a last-stage step this line starts, or None."""
        found = _BUILDAH.match(line)
        if found:
            stage, stages, index, total = found.groups()
            if stage is None or stage == stages:
                return int(index) - 1 if int(total) == len(self.sections) else None
            return None
        found = _BUILDKIT.match(line)
        if found and int(found.group(3)) == len(self.sections):
            return int(found.group(2)) - 1
        return None

    def _enter(self, section) -> None:
        if section == self.current:
            return
        self.finish()
        self.current, self.started = section, time.monotonic()

    def finish(self) -> None:
        """Report the section under way (at a section change, and when the engine ends)."""
        if self.current is not None:
            print(f"envc: {self.current:<8} {time.monotonic() - self.started:6.1f} s", file=self.out)
            self.out.flush()
        self.current = None

    def failed_section(self):
        """The section of the step that failed: the one under way when the engine stopped."""
        if self.failed_step is not None and self.failed_step < len(self.sections):
            return self.sections[self.failed_step]
        return self.current


def section_where(spec, section: str):
    """Where in the spec a section comes from, for the message of a failed step."""
    keys = {"base": ("base",), "system": ("system",), "conda": ("conda",), "pip": ("pip",), "init": ("init",),
            "runtime": ("env",)}
    path = keys.get(section, ())
    if section == "pip" and spec.pip is None:
        path = ("conda", "dependencies")
    if section == "system" and spec.system is None:
        path = ("python",)
    return spec.key_at(path) if path and path[0] in spec.data else spec.at(())


def log_path(name: str, spec_hash: str) -> str:
    """Where a build's engine output is kept: $XDG_CACHE_HOME/envc/logs (default ~/.cache/envc/logs)."""
    from envc.services.cache import directory

    folder = os.path.join(directory(), "logs")
    os.makedirs(folder, exist_ok=True)
    return os.path.join(folder, f"{name}-{spec_hash[:16]}.log")
