"""A real OCI registry for tests and benchmarks: Debian's docker-registry (CNCF distribution 2.8).

    with Registry(tmp_path, tls=True, users={"alice": "pw"}) as registry:
        registry.address            # 127.0.0.1:PORT
        registry.cert_dir           # certs.d-style folder for --cert-dir / certs.d/HOST:PORT
        registry.stop(); registry.start()   # same storage: what was pushed stays

Everything lives under the folder given: a CA and a server certificate made here with openssl,
a bcrypt htpasswd file (htpasswd -B, apache2-utils), the registry's config and its storage. The
machine's own configuration (/etc/docker/registry, /etc/containers) is never read or written.
The server listens on 127.0.0.1 only, and is stopped by the test that started it.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

REGISTRY = "/usr/bin/docker-registry"


def missing_tools() -> str | None:
    """None when a TLS registry with htpasswd auth can be started here; otherwise what is missing."""
    for tool, package in ((REGISTRY, "docker-registry"), ("htpasswd", "apache2-utils"), ("openssl", "openssl"),
                          ("skopeo", "skopeo")):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (apt-get install {package})"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_ca(folder: Path, host: str = "127.0.0.1") -> tuple:
    """(ca.crt, server.crt, server.key): a CA made for this test and a server certificate for host."""
    folder.mkdir(parents=True, exist_ok=True)
    ca_key, ca_crt = folder / "ca.key", folder / "ca.crt"
    key, csr, crt = folder / "server.key", folder / "server.csr", folder / "server.crt"
    ext = folder / "server.ext"
    ext.write_text(f"subjectAltName=IP:{host},DNS:localhost\nbasicConstraints=CA:FALSE\n"
                   "keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n")
    quiet = {"check": True, "capture_output": True}
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=envc test CA",
                    "-keyout", str(ca_key), "-out", str(ca_crt)], **quiet)
    subprocess.run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={host}",
                    "-keyout", str(key), "-out", str(csr)], **quiet)
    subprocess.run(["openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca_crt), "-CAkey", str(ca_key),
                    "-CAcreateserial", "-days", "2", "-extfile", str(ext), "-out", str(crt)], **quiet)
    return ca_crt, crt, key


class Registry:
    """docker-registry serving folder/storage on 127.0.0.1:port, with TLS and htpasswd auth when asked."""

    def __init__(self, folder: Path, *, tls: bool = True, users: dict | None = None, port: int | None = None):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.tls, self.users = tls, dict(users or {})
        self.port = port or free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.storage = self.folder / "storage"
        self.log = self.folder / "registry.log"
        self.process = None
        self.cert_dir = None  # a folder holding ca.crt: --cert-dir, or certs.d/HOST:PORT/
        http = {"addr": self.address, "headers": {"X-Content-Type-Options": ["nosniff"]}}
        if tls:
            ca, crt, key = make_ca(self.folder / "tls")
            http["tls"] = {"certificate": str(crt), "key": str(key)}
            self.ca = ca
            self.cert_dir = self.folder / "certs.d" / self.address
            self.cert_dir.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ca, self.cert_dir / "ca.crt")
        config = {"version": 0.1, "log": {"level": "info", "accesslog": {"disabled": False}},
                  "storage": {"filesystem": {"rootdirectory": str(self.storage)}, "delete": {"enabled": True},
                              "maintenance": {"uploadpurging": {"enabled": False}}},
                  "http": http}
        if self.users:
            htpasswd = self.folder / "htpasswd"
            htpasswd.write_text("")
            for user, password in self.users.items():  # bcrypt: the only kind distribution accepts
                subprocess.run(["htpasswd", "-Bbi", str(htpasswd), user], input=password, text=True, check=True,
                               capture_output=True)
            config["auth"] = {"htpasswd": {"realm": "envc-test", "path": str(htpasswd)}}
        self.config = self.folder / "config.yml"
        self.config.write_text(json.dumps(config))  # JSON is YAML

    def start(self) -> "Registry":
        handle = open(self.log, "ab")
        self.process = subprocess.Popen([REGISTRY, "serve", str(self.config)], stdout=handle, stderr=handle,
                                        stdin=subprocess.DEVNULL, start_new_session=True)
        handle.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"docker-registry exited: {self.log.read_text()[-2000:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"docker-registry did not listen on {self.address}: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)  # the session it was started in: this registry only
            self.process.wait(timeout=10)
        self.process = None

    def kill_when(self, predicate, timeout: float = 300) -> bool:
        """Poll the access log; SIGKILL the registry the first time predicate(log text) holds. True if it did."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process is not None and self.process.poll() is None:
            if predicate(self.log.read_text(errors="replace")):
                self.stop()
                return True
            time.sleep(0.01)
        return False

    def __enter__(self) -> "Registry":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def tags(self, repository: str) -> list:
        """The tags the registry's storage holds for repository (read from disk, no request)."""
        folder = self.storage / "docker/registry/v2/repositories" / repository / "_manifests/tags"
        return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
