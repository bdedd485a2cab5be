"""Real servers for resilience tests: gunicorn processes of the app and an HTTP client.

The client connects from 127.0.0.2 so that log scans can look for that exact address.
"""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

CLIENT_ADDRESS = "127.0.0.2"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: dict | list | None
    seconds: float


def request(
    port: int,
    method: str,
    path: str,
    body: object | None = None,
    headers: dict[str, str] | None = None,
    timeout_s: float = 10.0,
) -> Reply:
    """One HTTP request from CLIENT_ADDRESS; raises OSError on connection failures."""
    started = time.monotonic()
    connection = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=timeout_s, source_address=(CLIENT_ADDRESS, 0)
    )
    try:
        payload = None if body is None else json.dumps(body).encode()
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        connection.request(method, path, body=payload, headers=all_headers)
        response = connection.getresponse()
        raw = response.read()
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        return Reply(
            response.status, dict(response.getheaders()), parsed, time.monotonic() - started
        )
    finally:
        connection.close()


class AppServer:
    """`streetsafe serve` in a subprocess, its log lines kept in a file."""

    def __init__(self, env: dict[str, str], log_path: Path, workers: int = 2) -> None:
        self.port = free_port()
        self.log_path = log_path
        self._log = open(log_path, "w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "streetsafe.cli",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(workers),
            ],
            env={**os.environ, **env},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-2000:]}")
            try:
                if request(self.port, "GET", "/readyz", timeout_s=2).status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server not ready in 60 s: {self.log_path.read_text()[-2000:]}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self._log.close()


def street_report(index: int) -> dict:
    """A valid street report around Hull city centre, varied by `index`."""
    return {
        "context": "street",
        "location": {"lat": 53.744 + (index % 50) * 0.0003, "lon": -0.345 + (index % 37) * 0.0003},
        "categories": ["badly_lit", "isolated", "followed"][: 1 + index % 3],
    }


def new_key() -> str:
    return str(uuid.uuid4())
