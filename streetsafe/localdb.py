"""The embedded-style local PostgreSQL + PostGIS cluster and Redis server.

When DATABASE_URL (or REDIS_URL) is unset, the demo and the tests use a server of their own
in a project-local folder that git ignores (`.local/` by default), on a private port, created
on first use. On Debian or Ubuntu as root the missing Debian packages are installed; elsewhere
the error names the exact packages to install. The folder and the ports come from Settings
(STREETSAFE_LOCAL_DIR, STREETSAFE_LOCAL_PG_PORT, STREETSAFE_LOCAL_REDIS_PORT); a function
given no settings reads the environment when it is called, never at import.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import pwd
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .config import Settings

DATABASE_NAME = "streetsafe"


class LocalServiceError(RuntimeError):
    """A local server could not be installed or started; the message says what to do."""


def project_root() -> Path:
    """The checkout this package lives in (where pyproject.toml is), else the working folder."""
    here = Path(__file__).resolve().parent.parent
    return here if (here / "pyproject.toml").exists() else Path.cwd()


def _settings(settings: Settings | None) -> Settings:
    """`settings`, else the environment's (read now, not at import)."""
    return settings if settings is not None else Settings.from_env()


def local_dir(settings: Settings | None = None) -> Path:
    """The git-ignored folder holding the local servers' data (STREETSAFE_LOCAL_DIR)."""
    base = Path(_settings(settings).local_dir)
    if not base.is_absolute():
        base = project_root() / base
    base.mkdir(parents=True, exist_ok=True)
    return base


def _say(message: str) -> None:
    print(f"[streetsafe] {message}", file=sys.stderr, flush=True)


@contextmanager
def _lock(path: Path) -> Iterator[None]:
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _is_debian() -> bool:
    return Path("/etc/debian_version").exists() and shutil.which("apt-get") is not None


def _apt_install(packages: list[str]) -> None:
    if not (_is_debian() and os.geteuid() == 0):
        raise LocalServiceError(
            "missing packages: install them and run again: "
            f"sudo apt-get install {' '.join(packages)} "
            "(or set DATABASE_URL / REDIS_URL to servers you already run)"
        )
    _say(f"installing Debian packages: {' '.join(packages)} (first run only)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    result = subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise LocalServiceError(
            f"apt-get install {' '.join(packages)} failed:\n{result.stderr[-2000:]}"
        )


def _pg_bindir() -> Path | None:
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name)
    )
    return found[-1].parent if found else None


def _postgis_present(bindir: Path) -> bool:
    version = bindir.parent.name
    return Path(f"/usr/share/postgresql/{version}/extension/postgis.control").exists()


def ensure_postgres_packages() -> Path:
    """The PostgreSQL bin folder, installing the server and PostGIS from Debian if missing."""
    bindir = _pg_bindir()
    if bindir is None:
        _apt_install(["postgresql", "postgresql-contrib", "postgis"])
        bindir = _pg_bindir()
    if bindir is None:
        raise LocalServiceError("PostgreSQL is still missing after install; install 'postgresql'")
    if not _postgis_present(bindir):
        _apt_install([f"postgresql-{bindir.parent.name}-postgis-3"])
    return bindir


def _run_as_owner(args: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL tool; as root, as the `postgres` user (initdb refuses root)."""
    if os.geteuid() == 0:
        args = ["runuser", "-u", "postgres", "--", *args]
    return subprocess.run(args, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]


def _postgres_data_dir(folder: Path) -> Path:
    data = folder / "postgres"
    if os.geteuid() != 0:
        return data
    probe = _run_as_owner(["test", "-x", str(folder)])
    if probe.returncode != 0:
        # The checkout is not reachable by the postgres user (e.g. under /root): keep the
        # cluster in a folder named after the checkout that it can reach.
        key = hashlib.sha256(str(project_root()).encode()).hexdigest()[:12]
        data = Path("/var/lib/streetsafe") / key / "postgres"
    return data


@dataclass(frozen=True)
class Cluster:
    """A PostgreSQL + PostGIS cluster in a folder of its own, listening on 127.0.0.1:port."""

    data: Path
    port: int

    def url(self, database: str) -> str:
        """The SQLAlchemy URL of `database` in this cluster."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def running(self) -> bool:
        """True when the server of this folder is up."""
        bindir = ensure_postgres_packages()
        return (
            _run_as_owner([str(bindir / "pg_ctl"), "status", "-D", str(self.data)]).returncode == 0
        )

    def ensure(self, database: str | None = None) -> None:
        """Create the cluster on first use, start it if stopped, create `database` if missing."""
        bindir = ensure_postgres_packages()
        if not (self.data / "PG_VERSION").exists():
            self._init(bindir)
        if not self.running():
            self.start()
        if database:
            self._ensure_database(database)

    def _init(self, bindir: Path) -> None:
        _say(f"creating a local PostgreSQL cluster in {self.data}")
        self.data.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.data, owner.pw_uid, owner.pw_gid)
        os.chmod(self.data, 0o700)
        initdb = [str(bindir / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust"]
        result = _run_as_owner([*initdb, "-E", "UTF8", "--locale=C.UTF-8"])
        if result.returncode != 0:
            raise LocalServiceError(f"initdb failed in {self.data}:\n{result.stderr[-2000:]}")
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(
                "\n# StreetSafe local cluster\n"
                f"port = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.data}'\n"
                "max_connections = 200\nshared_buffers = 512MB\nwork_mem = 32MB\n"
                "maintenance_work_mem = 512MB\nfsync = on\nsynchronous_commit = on\n"
                "log_min_messages = warning\nlog_connections = off\n"
            )

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        bindir = ensure_postgres_packages()
        _say(f"starting local PostgreSQL on 127.0.0.1:{self.port}")
        log = self.data / "server.log"
        result = _run_as_owner(
            [
                str(bindir / "pg_ctl"),
                "start",
                "-w",
                "-t",
                "60",
                "-D",
                str(self.data),
                "-l",
                str(log),
                "-o",
                f"-p {self.port}",  # this Cluster's port, whatever postgresql.conf says
            ]
        )
        if result.returncode != 0:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise LocalServiceError(
                f"PostgreSQL did not start (port {self.port} taken? set "
                f"STREETSAFE_LOCAL_PG_PORT):\n{result.stderr}{tail}"
            )

    def stop(self) -> None:
        """Stop the server (fast shutdown: open sessions are ended)."""
        bindir = ensure_postgres_packages()
        _run_as_owner([str(bindir / "pg_ctl"), "stop", "-m", "fast", "-w", "-D", str(self.data)])

    def _ensure_database(self, name: str) -> None:
        import psycopg

        dsn = f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"
        with psycopg.connect(dsn, autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
            ).fetchone()
            if not exists:
                conn.execute(f'CREATE DATABASE "{name}"')


def local_cluster(settings: Settings | None = None) -> Cluster:
    """The project's own cluster in the local folder on STREETSAFE_LOCAL_PG_PORT."""
    settings = _settings(settings)
    return Cluster(_postgres_data_dir(local_dir(settings)), settings.local_pg_port)


def ensure_postgres(settings: Settings | None = None) -> str:
    """Start (creating on first use) the local cluster; return its SQLAlchemy URL."""
    cluster = local_cluster(settings)
    with _lock(local_dir(settings) / "postgres.lock"):
        cluster.ensure(DATABASE_NAME)
    return cluster.url(DATABASE_NAME)


def stop_postgres(settings: Settings | None = None) -> None:
    """Stop the local cluster if it runs."""
    cluster = local_cluster(settings)
    if _pg_bindir() and cluster.running():
        cluster.stop()


def _redis_server() -> str:
    """The redis-server program, installed from Debian when missing."""
    server = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )
    if server is None:
        _apt_install(["redis-server"])
        server = shutil.which("redis-server") or "/usr/bin/redis-server"
    return server


def ensure_redis(settings: Settings | None = None) -> str:
    """Start (installing on Debian if missing) a local Redis on a private port; return its URL."""
    settings = _settings(settings)
    server, port = _redis_server(), settings.local_redis_port
    url = f"redis://127.0.0.1:{port}/0"
    if _redis_ping(port):
        return url
    folder = local_dir(settings) / "redis"
    folder.mkdir(exist_ok=True)
    with _lock(local_dir(settings) / "redis.lock"):
        if not _redis_ping(port):
            _start_redis(server, port, folder)
    return url


def _start_redis(server: str, port: int, folder: Path) -> None:
    """Start redis-server on 127.0.0.1:port (no persistence) and wait until it answers."""
    _say(f"starting local Redis on 127.0.0.1:{port}")
    subprocess.run(
        [
            server, "--port", str(port), "--bind", "127.0.0.1", "--daemonize", "yes",
            "--save", "", "--appendonly", "no", "--dir", str(folder),
            "--pidfile", str(folder / "redis.pid"), "--logfile", str(folder / "redis.log"),
        ],
        check=True,
    )  # fmt: skip
    for _ in range(50):
        if _redis_ping(port):
            return
        time.sleep(0.1)
    raise LocalServiceError(f"Redis did not start on port {port}; see {folder / 'redis.log'}")


def _redis_ping(port: int) -> bool:
    import redis

    try:
        return bool(redis.Redis(host="127.0.0.1", port=port, socket_timeout=0.5).ping())
    except redis.RedisError:
        return False


def stop_redis(settings: Settings | None = None) -> None:
    """Stop the local Redis if it runs."""
    import redis

    port = _settings(settings).local_redis_port
    if _redis_ping(port):
        try:
            redis.Redis(host="127.0.0.1", port=port).shutdown(nosave=True)
        except redis.RedisError:
            pass
