"""REDIS_URL as each client library spells it, the database number kept.

redis-py (the cache, the beat lock, rate limits) and channels-redis read `redis://host:port/N`
and `unix:///path/redis.sock?db=N` alike. Kombu (the Celery broker) spells a unix socket
`redis+socket:///path` and takes the database from its virtual host, never from `?db=`: a
`?db=N` passed through unchanged left the broker on database 0 while everything else used N.
"""

from __future__ import annotations

from urllib.parse import SplitResult, parse_qsl, urlencode, urlsplit


def _join(parts: SplitResult) -> str:
    # Not urlunsplit: it drops the empty host of `unix:///path` (`unix:/path`).
    query = f"?{parts.query}" if parts.query else ""
    return f"{parts.scheme}://{parts.netloc}{parts.path}{query}"


def redis_url_db(url: str) -> int:
    """The database number a redis-py URL selects (0 when it names none)."""
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    if parts.scheme == "unix":
        return int(query.get("db", 0))
    path = parts.path.strip("/")
    return int(path or query.get("db", 0))


def redis_url_with_db(url: str, db: int) -> str:
    """The same server and options as the redis-py URL `url`, database `db`."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "db"]
    if parts.scheme == "unix":
        return _join(parts._replace(query=urlencode([*query, ("db", str(db))])))
    return _join(parts._replace(path=f"/{db}", query=urlencode(query)))


def redis_broker_url(url: str) -> str:
    """Kombu's URL for the redis-py URL `url`: a unix socket becomes `redis+socket://`, its
    `?db=N` the virtual host Kombu selects the database by; TCP URLs are the same."""
    parts = urlsplit(url)
    if parts.scheme != "unix":
        return url
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "db"]
    query.append(("virtual_host", str(redis_url_db(url))))
    return _join(parts._replace(scheme="redis+socket", query=urlencode(query)))
