"""The soak's 10-second probes of the platform's shared resources.

PostgreSQL: `pg_stat_activity` (client backends) grouped by `application_name`. Connections
without a name are attributed to the process that holds them: `ss -xp` / `ss -tp` show, for
every PostgreSQL backend, the socket of the client at the other end and the pid owning it, so
an unnamed connection still counts against the web, worker, beat or manage budget.
Redis: `INFO clients`.
"""

from __future__ import annotations

import os
import re
import subprocess
from urllib.parse import parse_qs, urlsplit

from soak_platform import APP_NAME, _cmdline, _role

_USERS = re.compile(r'\("[^"]*",pid=(\d+),fd=\d+\)')


def database_url(env: dict) -> str:
    """The platform's DATABASE_URL, or its embedded server's URI (CLOOP_DATA_DIR of env)."""
    if env.get("DATABASE_URL"):
        return env["DATABASE_URL"]
    os.environ["CLOOP_DATA_DIR"] = env.get("CLOOP_DATA_DIR", "")
    from cloop import embedded

    return embedded.postgres_uri()


def redis_url(env: dict) -> str:
    if env.get("REDIS_URL"):
        return env["REDIS_URL"]
    os.environ["CLOOP_DATA_DIR"] = env.get("CLOOP_DATA_DIR", "")
    from cloop import embedded

    return embedded.redis_url()


class Probe:
    """Holds one PostgreSQL connection of its own (opened first, so it is there even when the
    platform has used up max_connections) and one Redis client."""

    def __init__(self, env: dict):
        import psycopg
        import redis

        self.db_url = database_url(env)
        self.db = psycopg.connect(self.db_url, application_name=APP_NAME, autocommit=True)
        self.max_connections = int(self.db.execute("SHOW max_connections").fetchone()[0])
        self.redis = redis.Redis.from_url(redis_url(env), socket_timeout=5)
        self.db_port, self.db_unix = _db_endpoint(self.db_url)

    def pg(self) -> dict:
        """{'total': n, 'by_app': {name: n}, 'by_role': {web|worker|beat|manage|unattributed: n}}."""
        rows = self.db.execute(
            "SELECT pid, coalesce(application_name, ''), state, "
            "extract(epoch FROM now() - backend_start)::int, left(query, 80) FROM pg_stat_activity "
            "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
        ).fetchall()
        owners = self._backend_owners()
        by_app: dict[str, int] = {}
        by_role: dict[str, int] = {}
        unattributed = []
        for backend, app, state, age, query in rows:
            if app == APP_NAME:
                continue
            by_app[app or "(unnamed)"] = by_app.get(app or "(unnamed)", 0) + 1
            if app.startswith("cloop-"):
                role = app.removeprefix("cloop-")
            else:
                client = owners.get(backend)
                role = (_role(_cmdline(client)) if client else None) or "unattributed"
            by_role[role] = by_role.get(role, 0) + 1
            if role == "unattributed":
                unattributed.append(
                    {"backend": backend, "state": state, "age_s": age, "query": query}
                )
        return {
            "total": sum(by_app.values()),
            "by_app": by_app,
            "by_role": by_role,
            "unattributed": unattributed,
        }

    def redis_clients(self) -> int | None:
        try:
            return int(self.redis.info("clients")["connected_clients"])
        except Exception:  # noqa: BLE001 - a sample without Redis is recorded as None
            return None

    def close(self) -> None:
        self.db.close()
        self.redis.close()

    def _backend_owners(self) -> dict[int, int]:
        """PostgreSQL backend pid -> pid of the client process at the other end of its socket
        (both ends must be on this machine; empty when `ss` is missing)."""
        try:
            if self.db_unix:
                out = _ss("-xpn")
                return _pair_unix(out, f".s.PGSQL.{self.db_port}")
            return _pair_tcp(_ss("-tpn"), self.db_port)
        except (OSError, subprocess.SubprocessError):
            return {}


def _ss(flags: str) -> str:
    return subprocess.run(["ss", flags, "-H"], capture_output=True, text=True, timeout=10).stdout


def _db_endpoint(url: str) -> tuple[int, bool]:
    parts = urlsplit(url)
    host = parts.hostname or parse_qs(parts.query).get("host", [""])[0]
    port = parts.port or int(parse_qs(parts.query).get("port", ["5432"])[0])
    return port, (not host or host.startswith("/"))


def _pair_unix(out: str, server_suffix: str) -> dict[int, int]:
    """From `ss -xpn -H`: server-side sockets (local path ends with the PostgreSQL socket name,
    owned by a backend) and their peers' inodes, owned by the client processes."""
    server: dict[int, int] = {}  # peer (client) inode -> backend pid
    owner: dict[int, int] = {}  # inode -> owning pid
    for line in out.splitlines():
        fields = line.split()
        # Netid State Recv-Q Send-Q Local Port Peer Port [users:(...)]
        if len(fields) < 8:
            continue
        local, inode, peer_inode = fields[4], fields[5], fields[7]
        users = _USERS.findall(line)
        if not (inode.isdigit() and peer_inode.isdigit()) or not users:
            continue
        owner[int(inode)] = int(users[0])
        if local.endswith(server_suffix):
            server[int(peer_inode)] = int(users[0])
    return {backend: owner[client] for client, backend in server.items() if client in owner}


def _pair_tcp(out: str, port: int) -> dict[int, int]:
    """From `ss -tpn -H`: backend pid -> client pid for connections to PORT on this machine."""
    by_addr: dict[tuple[str, str], int] = {}
    for line in out.splitlines():
        fields = line.split()
        users = _USERS.findall(line)
        if len(fields) >= 5 and users:
            by_addr[(fields[3], fields[4])] = int(users[0])
    pairs = {}
    for (local, peer), pid in by_addr.items():
        if local.rsplit(":", 1)[-1] == str(port) and (peer, local) in by_addr:
            pairs[pid] = by_addr[(peer, local)]
    return pairs
