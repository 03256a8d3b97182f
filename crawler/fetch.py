"""Fetching: HTTP GET with the SSRF guard, size cap, retries, robots.txt and sitemaps.

Everything here is async and touches no database. `Fetcher.get` never raises for a bad
response: it returns a `Fetched` with `reason` set (one of crawler.reasons) so the crawl can
report it and go on.
"""

from __future__ import annotations

import asyncio
import codecs
import email.utils
import gzip
import io
import logging
import re
import time
import zlib
from dataclasses import dataclass, field

import brotli
import httpx
from lxml import etree
from protego import Protego

from crawler import reasons
from crawler.ssrf import BlockedAddress, CheckedBackend
from crawler.urls import BadURL, normalise_url

log = logging.getLogger(__name__)

USER_AGENT = "CloopBot/1.0 (+https://cloop.example/bot)"
ROBOTS_AGENT = "CloopBot"
MAX_BYTES = 10 * 1024 * 1024
ROBOTS_MAX_BYTES = 512 * 1024  # RFC 9309: parse at least 500 KiB
SITEMAP_MAX_BYTES = 50 * 1024 * 1024  # the sitemaps.org limit, uncompressed
MAX_REDIRECTS = 5
HTML_TYPES = ("text/html", "application/xhtml+xml")
CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.I)


@dataclass
class FetchOptions:
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    # A server that trickles bytes is cut off after this many seconds per request.
    total_timeout: float = 45.0
    retries: int = 3
    backoff: float = 1.0
    max_retry_after: float = 120.0
    max_bytes: int = MAX_BYTES
    # "address:port" pairs the SSRF guard lets through although they are not public.
    allow_addresses: tuple[str, ...] = ()


@dataclass
class Fetched:
    url: str
    status: int = 0
    headers: dict = field(default_factory=dict)
    body: bytes = b""
    text: str = ""
    reason: str = ""
    detail: str = ""
    redirect_to: str = ""

    @property
    def ok(self) -> bool:
        return not self.reason and 200 <= self.status < 300


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def decode_html(body: bytes, content_type: str) -> str:
    """Bytes to text: the header's charset, else the document's meta charset, else UTF-8.

    An unknown or wrong charset never fails: undecodable bytes become U+FFFD.
    """
    charset = ""
    m = re.search(r"charset=([\w.:-]+)", content_type or "", re.I)
    if m:
        charset = m.group(1)
    if not charset:
        m2 = CHARSET_RE.search(body[:4096])
        if m2:
            charset = m2.group(1).decode("ascii", "ignore")
    if body.startswith(codecs.BOM_UTF8):
        charset = "utf-8"
    try:
        codecs.lookup(charset or "utf-8")
    except LookupError:
        charset = "utf-8"
    try:
        return body.decode(charset or "utf-8")
    except UnicodeDecodeError:
        if (charset or "utf-8").lower().replace("-", "") == "utf8":
            # The usual real-world mislabel: Windows-1252 served as UTF-8 (or unlabelled).
            return body.decode("cp1252", "replace")
        return body.decode(charset, "replace")


def looks_binary(body: bytes) -> bool:
    head = body[:2048]
    if not head:
        return False
    if b"\0" in head:
        return True
    for magic in (b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"PK\x03\x04", b"\x1f\x8b"):
        if head.startswith(magic):
            return True
    return False


class Fetcher:
    """One async HTTP client for a crawl: connection pooling, the SSRF backend, no redirects."""

    def __init__(self, options: FetchOptions | None = None, *, resolver=None, max_connections=16):
        self.options = options or FetchOptions()
        transport = httpx.AsyncHTTPTransport(
            retries=0,
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
        )
        # Every TCP connection goes through the SSRF guard (httpx has no public hook for it).
        transport._pool._network_backend = CheckedBackend(
            resolver, exempt=self.options.allow_addresses
        )
        self.client = httpx.AsyncClient(
            transport=transport,
            follow_redirects=False,
            trust_env=False,  # an environment proxy would bypass the address check
            headers={"User-Agent": USER_AGENT, "Accept": "text/html,application/xhtml+xml"},
            timeout=httpx.Timeout(self.options.read_timeout, connect=self.options.connect_timeout),
        )

    async def aclose(self):
        await self.client.aclose()

    async def _once(self, url: str, headers: dict, max_bytes: int, html_only: bool) -> Fetched:
        out = Fetched(url=url)
        async with self.client.stream("GET", url, headers=headers) as resp:
            out.status = resp.status_code
            out.headers = {k.lower(): v for k, v in resp.headers.items()}
            if resp.is_redirect:
                out.redirect_to = resp.headers.get("location", "")
                return out
            if resp.status_code == 304 or resp.status_code >= 400:
                return out
            ctype = out.headers.get("content-type", "").split(";")[0].strip().lower()
            if html_only and ctype and ctype not in HTML_TYPES:
                out.reason, out.detail = reasons.NOT_HTML, ctype
                return out
            declared = out.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                out.reason, out.detail = reasons.TOO_LARGE, f"{int(declared)} bytes"
                return out
            buf = io.BytesIO()
            async for part in resp.aiter_raw():
                buf.write(part)
                if buf.tell() > max_bytes:
                    out.reason, out.detail = reasons.TOO_LARGE, f"more than {max_bytes} bytes"
                    return out
            raw = buf.getvalue()
            out.body = _content_decode(raw, out.headers.get("content-encoding", ""), max_bytes)
            if out.body is None:
                out.body = b""
                out.reason, out.detail = reasons.TOO_LARGE, "decompresses past the size cap"
            return out

    async def get(
        self,
        url: str,
        *,
        etag: str = "",
        last_modified: str = "",
        max_bytes: int | None = None,
        html_only: bool = True,
    ) -> Fetched:
        """One GET (no redirect following), retried with backoff on 429/5xx/network errors."""
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        max_bytes = max_bytes or self.options.max_bytes
        opts = self.options
        attempt = 0
        while True:
            attempt += 1
            try:
                out = await asyncio.wait_for(
                    self._once(url, headers, max_bytes, html_only), opts.total_timeout
                )
            except BlockedAddress as exc:
                return Fetched(url=url, reason=reasons.BLOCKED, detail=str(exc))
            except (TimeoutError, httpx.TimeoutException) as exc:
                out = Fetched(url=url, reason=reasons.ERROR, detail=f"timeout {exc}".strip())
            except (httpx.HTTPError, OSError, ValueError) as exc:
                cause = exc.__cause__ or exc.__context__
                if isinstance(cause, BlockedAddress) or isinstance(exc, BlockedAddress):
                    return Fetched(url=url, reason=reasons.BLOCKED, detail=str(cause or exc))
                out = Fetched(url=url, reason=reasons.ERROR, detail=f"{type(exc).__name__}: {exc}")
            retryable = out.reason == reasons.ERROR or out.status in (429, 502, 503, 504, 500)
            if not retryable or attempt > opts.retries:
                return out
            wait = opts.backoff * (2 ** (attempt - 1))
            ra = _retry_after(out.headers.get("retry-after"))
            if ra is not None:
                if ra > opts.max_retry_after:
                    return out
                wait = max(wait, ra)
            await asyncio.sleep(wait)


def _content_decode(raw: bytes, encoding: str, max_bytes: int) -> bytes | None:
    """Undo Content-Encoding with a cap on the output (a zip bomb must not fill memory)."""
    encoding = encoding.lower().strip()
    if encoding in ("", "identity"):
        return raw
    if encoding in ("gzip", "x-gzip", "deflate"):
        wbits = 16 + zlib.MAX_WBITS if "gzip" in encoding else zlib.MAX_WBITS
        try:
            d = zlib.decompressobj(wbits)
            out = d.decompress(raw, max_bytes + 1)
        except zlib.error:
            try:
                out = zlib.decompressobj(-zlib.MAX_WBITS).decompress(raw, max_bytes + 1)
            except zlib.error:
                return raw
        return None if len(out) > max_bytes else out
    if encoding == "br":
        # Capped like zlib above: httpx advertises br, so a hostile server can send a bomb.
        try:
            out = brotli.Decompressor().process(raw, output_buffer_limit=max_bytes + 1)
        except brotli.error:
            return raw
        return None if len(out) > max_bytes else out
    return raw


def gunzip_capped(data: bytes, cap: int = SITEMAP_MAX_BYTES) -> bytes | None:
    if not data.startswith(b"\x1f\x8b"):
        return data
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as f:
            out = f.read(cap + 1)
    except (OSError, EOFError, zlib.error):
        return None
    return None if len(out) > cap else out


# --- robots.txt ---------------------------------------------------------------------------


@dataclass
class Robots:
    parser: Protego | None
    # RFC 9309's conservative reading: unreachable (5xx, network error) or unreadable (the
    # parser fails on it) means everything is disallowed; `detail` says which.
    disallow_all: bool = False
    # The host's address is refused by the SSRF guard: nothing on it is fetched.
    blocked: bool = False
    sitemaps: list[str] = field(default_factory=list)
    detail: str = ""

    def allowed(self, url: str) -> bool:
        if self.disallow_all:
            return False
        if self.parser is None:
            return True
        try:
            return self.parser.can_fetch(url, ROBOTS_AGENT)
        except Exception:  # noqa: BLE001 - rules we cannot apply forbid, never allow
            return False

    def crawl_delay(self) -> float:
        if self.parser is None:
            return 0.0
        try:
            d = self.parser.crawl_delay(ROBOTS_AGENT)
        except Exception:  # noqa: BLE001
            return 0.0
        return min(float(d or 0.0), 60.0)


class RobotsUnparseable(ValueError):
    """The robots.txt parser failed on the file: its rules cannot be known."""


def robots_decode(body: bytes) -> str:
    """robots.txt bytes to text. RFC 9309 requires UTF-8; a byte-order mark is dropped (it
    would hide the first line's directive) and UTF-16 with a BOM is read as such. Other
    undecodable bytes become lone surrogates, on which the parser fails where they matter
    (in a rule) instead of silently turning the rule into one that matches nothing.
    """
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return body.decode("utf-16", "replace")
    return body.removeprefix(codecs.BOM_UTF8).decode("utf-8", "surrogateescape")


def robots_parse(text: str) -> Protego:
    """Parse robots.txt; raises RobotsUnparseable when the parser fails on it."""
    try:
        parser = Protego.parse(text)
        # The parser compiles a rule set lazily: apply it once so a failure shows here.
        parser.can_fetch("/", ROBOTS_AGENT)
    except Exception as exc:  # noqa: BLE001 - any failure of the parser means "unreadable"
        raise RobotsUnparseable(f"{type(exc).__name__}: {exc}"[:200]) from exc
    return parser


async def robots_fetch(fetcher: Fetcher, origin: str) -> Robots:
    """robots.txt of `origin` (scheme://host[:port]) per RFC 9309."""
    url = origin.rstrip("/") + "/robots.txt"
    for _ in range(MAX_REDIRECTS + 1):
        r = await fetcher.get(url, max_bytes=ROBOTS_MAX_BYTES * 4, html_only=False)
        if r.redirect_to:
            try:
                url = normalise_url(r.redirect_to, url)
            except BadURL:
                return Robots(None, detail="robots.txt redirect to a bad URL: allow all")
            continue
        break
    else:
        return Robots(None, detail="robots.txt redirect loop: allow all")
    if r.reason == reasons.TOO_LARGE:
        # Parse the first part, as RFC 9309 allows; here we simply do not have it.
        return Robots(None, detail="robots.txt too large: allow all")
    if r.reason == reasons.BLOCKED:
        return Robots(None, disallow_all=True, blocked=True, detail=r.detail)
    if r.reason == reasons.ERROR or r.status >= 500:
        why = r.status if r.status >= 500 else r.detail
        return Robots(
            None, disallow_all=True, detail=f"robots.txt unreachable ({why}): disallow all"
        )
    if 400 <= r.status < 500:
        return Robots(None)  # RFC 9309: unavailable (4xx) means no restrictions
    text = robots_decode(r.body[:ROBOTS_MAX_BYTES])
    if "<html" in text[:1000].lower():
        return Robots(None, detail="robots.txt is an HTML page: allow all")
    try:
        parser = robots_parse(text)
    except RobotsUnparseable as exc:
        log.info("robots.txt of %s could not be parsed: %s", origin, exc)
        return Robots(
            None, disallow_all=True, detail="robots.txt could not be parsed: disallow all"
        )
    try:
        sitemaps = [sm for sm in parser.sitemaps if _utf8(sm)]
    except Exception:  # noqa: BLE001
        sitemaps = []
    return Robots(parser, sitemaps=sitemaps)


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes (lone surrogates, see robots_decode)
        return False
    return True


# --- sitemaps -----------------------------------------------------------------------------


def sitemap_parse(data: bytes) -> tuple[list[str], list[str]]:
    """(page URLs, child sitemap URLs) of a sitemap or sitemap index; ([], []) for garbage."""
    data = gunzip_capped(data)
    if not data:
        return [], []
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(data, parser=parser)
    except (etree.XMLSyntaxError, ValueError):
        root = None
    if root is None:
        # A plain-text sitemap: one URL per line.
        text = data.decode("utf-8", "replace")
        urls = [ln.strip() for ln in text.splitlines() if ln.strip().startswith("http")]
        return urls[:50_000], []
    tag = etree.QName(root).localname if isinstance(root.tag, str) else ""
    locs = [
        (el.text or "").strip()
        for el in root.iter()
        if isinstance(el.tag, str) and etree.QName(el).localname == "loc" and el.text
    ]
    if tag == "sitemapindex":
        return [], locs[:50_000]
    return locs[:50_000], []
