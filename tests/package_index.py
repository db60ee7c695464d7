"""Small package indexes made on the fly for the pip oracle (tests/test_pip_oracle.py). Stdlib only.

- ``make_wheel``: a pure-Python wheel written by hand (one module, ``.dist-info`` with METADATA, WHEEL
  and a RECORD with correct sha256). No setuptools, no build backend: a wheel takes well under a
  millisecond, and the bytes are deterministic (fixed zip timestamps and order), so a wheel's
  sha256 is the same in every run (hash pins and layer caches stay valid).
- ``SimpleIndex``: a PEP 503 "simple" repository in a folder (``simple/index.html``, one
  ``simple/<normalized-name>/index.html`` per project with ``#sha256=`` fragments and
  ``data-requires-python``, the files under ``files/``).
- ``serve``: an HTTP server for a folder on 127.0.0.1 with a free port, in a daemon thread. buildah's
  chroot isolation shares the host network, so a RUN step in a build reaches it at the same URL.
- A plain folder of wheels (``--find-links DIR``) is just ``make_wheel(dest=DIR, ...)`` calls.
"""

from __future__ import annotations

import base64
import hashlib
import html
import http.server
import io
import re
import threading
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

_ZIP_DATE = (2020, 2, 2, 0, 0, 0)


def normalize(name: str) -> str:
    """PEP 503 normalized project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _dist_name(name: str) -> str:
    """The escaped name used in wheel file names and ``.dist-info`` folders (PEP 427 / 491)."""
    return re.sub(r"[-_.]+", "_", name).lower()


def _canonical_version(version: str) -> str:
    try:
        from packaging.version import Version
    except ImportError:  # pragma: no cover - packaging is a test dependency (via pytest)
        return version
    return str(Version(version))


def sha256_of(path: Path | bytes) -> str:
    data = path if isinstance(path, bytes) else Path(path).read_bytes()
    return hashlib.sha256(data).hexdigest()


def _record_hash(data: bytes) -> str:
    digest = hashlib.sha256(data).digest()
    return "sha256=" + base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class Dist:
    """What one wheel declares."""

    name: str
    version: str
    requires: tuple[str, ...] = ()  # Requires-Dist lines, markers included (`dep>=1; extra == "x"`)
    extras: tuple[str, ...] = ()  # Provides-Extra
    requires_python: str | None = None

    @property
    def filename(self) -> str:
        return f"{_dist_name(self.name)}-{_canonical_version(self.version)}-py3-none-any.whl"


def wheel_bytes(dist: Dist) -> bytes:
    """The wheel's bytes (deterministic)."""
    pkg = _dist_name(dist.name)
    version = _canonical_version(dist.version)
    info = f"{pkg}-{version}.dist-info"
    metadata = [
        "Metadata-Version: 2.1",
        f"Name: {dist.name}",
        f"Version: {version}",
        f"Summary: envc test package {dist.name} {version}",
    ]
    if dist.requires_python:
        metadata.append(f"Requires-Python: {dist.requires_python}")
    metadata += [f"Provides-Extra: {extra}" for extra in dist.extras]
    metadata += [f"Requires-Dist: {req}" for req in dist.requires]
    files = {
        f"{pkg}/__init__.py": f'__version__ = "{version}"\nNAME = "{dist.name}"\n',
        f"{info}/METADATA": "\n".join(metadata) + "\n\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: envc-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record_lines = []
    encoded = {path: text.encode("utf-8") for path, text in files.items()}
    for path, data in encoded.items():
        record_lines.append(f"{path},{_record_hash(data)},{len(data)}")
    record_lines.append(f"{info}/RECORD,,")
    encoded[f"{info}/RECORD"] = ("\n".join(record_lines) + "\n").encode("utf-8")

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, data in encoded.items():  # RECORD last, as the spec recommends
            entry = zipfile.ZipInfo(path, date_time=_ZIP_DATE)
            entry.external_attr = 0o644 << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(entry, data)
    return buffer.getvalue()


def make_wheel(dest: Path, name: str, version: str, requires: Sequence[str] = (), extras: Sequence[str] = (),
               requires_python: str | None = None) -> Path:
    """Write the wheel for ``name==version`` into folder ``dest``; return its path."""
    dist = Dist(name, version, tuple(requires), tuple(extras), requires_python)
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / dist.filename
    path.write_bytes(wheel_bytes(dist))
    return path


@dataclass
class SimpleIndex:
    """A PEP 503 repository under ``root``: ``root/simple/...`` pages, ``root/files/*.whl``."""

    root: Path
    wheels: dict[str, list[Path]] = field(default_factory=dict)  # normalized name -> wheel files
    _requires_python: dict[Path, str] = field(default_factory=dict)

    def add(self, name: str, version: str, requires: Sequence[str] = (), extras: Sequence[str] = (),
            requires_python: str | None = None) -> Path:
        path = make_wheel(self.root / "files", name, version, requires, extras, requires_python)
        self.wheels.setdefault(normalize(name), []).append(path)
        if requires_python:
            self._requires_python[path] = requires_python
        return path

    def add_all(self, dists: Iterable[Dist]) -> None:
        for d in dists:
            self.add(d.name, d.version, d.requires, d.extras, d.requires_python)

    def write_pages(self) -> None:
        """(Re)write every ``index.html``; call after the last ``add``."""
        simple = self.root / "simple"
        simple.mkdir(parents=True, exist_ok=True)
        links = []
        for project in sorted(self.wheels):
            links.append(f'<a href="{project}/">{project}</a>')
            anchors = []
            for wheel in sorted(self.wheels[project], key=lambda p: p.name):
                attrs = ""
                if wheel in self._requires_python:
                    attrs = f' data-requires-python="{html.escape(self._requires_python[wheel])}"'
                anchors.append(f'<a href="../../files/{wheel.name}#sha256={sha256_of(wheel)}"{attrs}>{wheel.name}</a>')
            page = simple / project
            page.mkdir(parents=True, exist_ok=True)
            (page / "index.html").write_text(_html(f"Links for {project}", anchors), encoding="utf-8")
        (simple / "index.html").write_text(_html("Simple index", links), encoding="utf-8")


def _html(title: str, anchors: Sequence[str]) -> str:
    body = "<br/>\n".join(anchors)
    return (f"<!DOCTYPE html>\n<html><head><meta name=\"pypi:repository-version\" content=\"1.0\">"
            f"<title>{html.escape(title)}</title></head>\n<body>\n{body}\n</body></html>\n")


class _Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass  # quiet; requests are recorded in server.requests instead

    def do_GET(self):  # noqa: N802 - the base class's name
        self.server.requests.append(self.path)  # type: ignore[attr-defined]
        return super().do_GET()


class Server:
    """A folder served over HTTP on 127.0.0.1 (free port) from a daemon thread."""

    def __init__(self, root: Path):
        self.root = Path(root)
        handler = lambda *a, **kw: _Handler(*a, directory=str(self.root), **kw)  # noqa: E731
        self._httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._httpd.daemon_threads = True
        self._httpd.requests = []  # type: ignore[attr-defined]
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, name=f"index-{self.port}", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def simple_url(self) -> str:
        """The index URL to give pip (``--index-url``)."""
        return f"{self.url}/simple/"

    @property
    def requests(self) -> list[str]:
        return self._httpd.requests  # type: ignore[attr-defined]

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=10)


def serve(root: Path) -> Server:
    return Server(root)


def build_index(root: Path, dists: Iterable[Dist]) -> SimpleIndex:
    index = SimpleIndex(Path(root))
    index.add_all(dists)
    index.write_pages()
    return index


def wheel_hashes(index: SimpleIndex) -> Mapping[str, str]:
    """wheel file name -> sha256 hex, for writing ``--hash`` pins."""
    return {p.name: sha256_of(p) for paths in index.wheels.values() for p in paths}
