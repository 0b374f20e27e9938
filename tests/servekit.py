"""A live `pyisp serve` for the tests, in a subprocess on a free port of 127.0.0.1, and a
live PostgreSQL: $PYISP_TEST_POSTGRES (set by .ci/run), else a throwaway cluster started
here from Debian's postgresql package (initdb as the postgres user when run as root)."""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent
TOKENS = {"asker": ("query", "q-token-0123456789abcdef"), "reader": ("read", "r-token-0123456789abcdef"),
          "boss": ("admin", "a-token-0123456789abcdef")}


def auth(name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[name][1]}"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_tokens(directory: Path) -> Path:
    path = directory / "tokens.yaml"
    path.write_text("tokens:\n" + "".join(f"  - {{name: {n}, role: {r}, token: {t}}}\n"
                                           for n, (r, t) in TOKENS.items()), encoding="utf-8")
    return path


class Server:
    """`pyisp serve` in its own process group; `stop()` ends it, `kill()` sends SIGKILL to all of it."""

    def __init__(self, directory: Path, register: str, *extra: str, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = directory / f"serve-{self.port}.log"
        env = {k: v for k, v in os.environ.items() if k != "PYISP_TOKENS"}
        self.process = subprocess.Popen(
            [str(BIN / "pyisp"), "serve", "--port", str(self.port), "--tokens", str(write_tokens(directory)),
             "--register", register, "--log-level", "info", *extra],
            stdout=self.log.open("wb"), stderr=subprocess.STDOUT, env=env, start_new_session=True)

    def wait_ready(self, timeout: float = 60) -> "Server":
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.process.poll() is not None:
                raise AssertionError(f"pyisp serve exited {self.process.returncode}:\n{self.log.read_text()}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"pyisp serve not ready in {timeout} s:\n{self.log.read_text()}")

    def solvers(self) -> list[int]:
        """The pids of the server's solver processes running now (not those that have exited)."""
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                command = (stat.parent / "cmdline").read_bytes()
            except OSError:
                continue
            if int(fields[1]) == self.process.pid and fields[0] != "Z" and b"pyisp.server.solvers" in command:
                found.append(int(stat.parent.name))
        return sorted(found)

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


class Postgres:
    """A PostgreSQL to test against: the URL in $PYISP_TEST_POSTGRES, or a cluster of our own."""

    def __init__(self) -> None:
        self.url = os.environ.get("PYISP_TEST_POSTGRES", "")
        self.directory: str | None = None
        if not self.url:
            self._start()

    def _start(self) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not found:
            raise AssertionError("no PostgreSQL: install Debian's postgresql package (apt-get install -y "
                                 "postgresql) or set PYISP_TEST_POSTGRES to a database URL")
        self.bin = Path(found[-1]).parent
        self.directory = tempfile.mkdtemp(prefix="pyisp-pg-")
        self.user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if self.user:
            shutil.chown(self.directory, "postgres")
        port = free_port()
        data = f"{self.directory}/data"
        subprocess.run([*self.user, str(self.bin / "initdb"), "-D", data, "-A", "trust", "-U", "pyisp"],
                       check=True, capture_output=True, timeout=120)
        subprocess.run([*self.user, str(self.bin / "pg_ctl"), "-D", data, "-w", "-l", f"{self.directory}/log",
                        "-o", f"-h 127.0.0.1 -p {port} -k {self.directory} -c fsync=on", "start"],
                       check=True, capture_output=True, timeout=120)
        self.url = f"postgresql://pyisp@127.0.0.1:{port}/postgres"

    def fresh(self, name: str) -> str:
        """The URL of a new, empty database."""
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url.rsplit("/", 1)[0] + "/" + name

    def stop(self) -> None:
        if self.directory:
            subprocess.run([*self.user, str(self.bin / "pg_ctl"), "-D", f"{self.directory}/data", "-m", "fast",
                            "stop"], capture_output=True, timeout=60)
            shutil.rmtree(self.directory, ignore_errors=True)
