"""URL normalisation: one spelling per page, so the crawler fetches and indexes it once.

Lower-case scheme and host (IDNA), default ports dropped, dot segments resolved, fragment
dropped, tracking and session parameters removed, remaining query parameters sorted.
Pure functions.
"""

from __future__ import annotations

import functools
import posixpath
import re
from urllib.parse import parse_qsl, quote, unquote, urlencode, urljoin, urlsplit, urlunsplit

TRACKING_PARAMS = re.compile(
    r"^(utm_[a-z]+|fbclid|gclid|dclid|gbraid|wbraid|msclkid|yclid|mc_cid|mc_eid|_ga|_gl|"
    r"igshid|ref_src|spm|_hsenc|_hsmi|mkt_tok|oly_anon_id|oly_enc_id|vero_id|"
    r"jsessionid|phpsessid|sid|sessionid|session_id|aspsessionid|cfid|cftoken)$",
    re.I,
)
# Session ids embedded in the path: /page;jsessionid=ABC
PATH_SESSION_RE = re.compile(r";(jsessionid|phpsessid|sid)=[^/?#]*", re.I)
DEFAULT_PORTS = {"http": 80, "https": 443}
SAFE_PATH = "/:@!$&'()*+,;=-._~%"


class BadURL(ValueError):
    pass


def normalise_url(url: str, base: str | None = None) -> str:
    """The canonical spelling of `url` (resolved against `base`). Raises BadURL."""
    url = (url or "").strip()
    if base:
        try:
            url = urljoin(base, url)
        except ValueError as exc:
            raise BadURL(str(exc)) from exc
    return _normalise_absolute(url)


# The same links appear on every page of a site (navigation, indexes): normalise each once.
@functools.lru_cache(maxsize=65536)
def _normalise_absolute(url: str) -> str:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise BadURL(str(exc)) from exc
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise BadURL(f"not an http(s) URL: {url[:200]}")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise BadURL(f"no host in {url[:200]}")
    try:
        host = host.encode("idna").decode("ascii").lower()
    except UnicodeError as exc:
        raise BadURL(f"bad host name in {url[:200]}") from exc
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = PATH_SESSION_RE.sub("", parts.path) or "/"
    trailing = path.endswith("/")
    path = posixpath.normpath(unquote(path))
    if path in (".", "//"):
        path = "/"
    path = path.replace("//", "/")
    if trailing and not path.endswith("/"):
        path += "/"
    path = quote(path, safe=SAFE_PATH)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    query = sorted((k, v) for k, v in query if not TRACKING_PARAMS.match(k))
    return urlunsplit((scheme, netloc, path, urlencode(query, doseq=True), ""))


def dedupe_key(url: str) -> str:
    """`/docs` and `/docs/` are the same page on practically every site."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    path = parts.path.rstrip("/") or "/"
    for suffix in ("/index.html", "/index.htm", "/index.php"):
        if path.endswith(suffix):
            path = path[: -len(suffix)] or "/"
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))


def url_host(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()
