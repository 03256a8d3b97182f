"""Crawl throughput: Cloop vs Scrapy on the Python documentation served on loopback.

Usage: .venv/bin/python bench/crawl_throughput.py [--docs DIR] [--concurrency 8] [--max-pages N]
Needs `apt-get install python3-doc` and the bench extras (`pip install -e '.[bench]'`).

One static file server (a separate process: ThreadingHTTPServer over DIR) serves both
crawlers in the same run, one after the other:

- Cloop: `crawler.services.crawl_run` on the site `bench-crawl` (created and deleted here),
  with `--concurrency` connections per host and CLOOP_CRAWL_ALLOW_PRIVATE=1. This includes
  robots.txt, extraction, chunking and writing the index to PostgreSQL.
- Scrapy: a CrawlSpider following every link on the host with CONCURRENT_REQUESTS_PER_DOMAIN
  = `--concurrency`, robots.txt obeyed, download and link extraction only (no items).

Each crawler runs in its own process; the report gives responses, HTML pages, seconds,
pages per second and the process's peak RSS (ru_maxrss).
"""

import argparse
import contextlib
import json
import os
import resource
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(docs: str, port: int) -> subprocess.Popen:
    code = (
        "import functools, http.server, sys\n"
        "class H(http.server.SimpleHTTPRequestHandler):\n"
        "    def log_message(self, *a): pass\n"
        "h = functools.partial(H, directory=sys.argv[1])\n"
        "s = http.server.ThreadingHTTPServer(('127.0.0.1', int(sys.argv[2])), h)\n"
        "s.daemon_threads = True\n"
        "s.serve_forever()\n"
    )
    proc = subprocess.Popen([PY, "-c", code, docs, str(port)])
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("file server did not start")


def run_cloop(url: str, concurrency: int, max_pages: int) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cloop.settings")
    os.environ["CLOOP_CRAWL_ALLOW_PRIVATE"] = "1"
    sys.path.insert(0, str(ROOT))
    import django

    from cloop import embedded

    embedded.start()  # the embedded servers, unless DATABASE_URL / REDIS_URL are set
    django.setup()
    from django_tenants.utils import tenant_context

    from crawler.models import Chunk, CrawlSettings
    from crawler.services import crawl_run
    from tenants.services import SiteError, base_schema_ensure, site_create, site_delete

    base_schema_ensure()
    with contextlib.suppress(SiteError):
        site_delete("bench-crawl")
    site = site_create("bench-crawl", name="Bench crawl", url=url).site
    try:
        with tenant_context(site):
            cfg = CrawlSettings.load()
            cfg.max_pages = max_pages
            cfg.save()
        t = time.perf_counter()
        run = crawl_run(site, concurrency=concurrency)
        seconds = time.perf_counter() - t
        with tenant_context(site):
            chunks = Chunk.objects.count()
        html = (
            run.pages_indexed
            + run.pages_unchanged
            + sum(1 for e in run.skipped if e["reason"] in ("duplicate", "noindex", "no content"))
        )
        return {
            "crawler": "cloop",
            "status": run.status,
            "responses": run.pages_fetched,
            "html_pages": html,
            "indexed": run.pages_indexed,
            "chunks": chunks,
            "seconds": round(seconds, 2),
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
        }
    finally:
        site_delete("bench-crawl")


def run_scrapy(url: str, concurrency: int, max_pages: int) -> dict:
    from scrapy.crawler import CrawlerProcess
    from scrapy.linkextractors import LinkExtractor
    from scrapy.spiders import CrawlSpider, Rule

    counts = {"responses": 0, "html_pages": 0}

    class Docs(CrawlSpider):
        name = "docs"
        allowed_domains = ["127.0.0.1"]
        start_urls = [url]
        rules = (Rule(LinkExtractor(), callback="parse_page", follow=True),)

        def parse_start_url(self, response, **kwargs):
            return self.parse_page(response)

        def parse_page(self, response):
            counts["responses"] += 1
            if b"html" in response.headers.get("Content-Type", b""):
                counts["html_pages"] += 1
            return []

    proc = CrawlerProcess(
        settings={
            "CONCURRENT_REQUESTS": concurrency,
            "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
            "ROBOTSTXT_OBEY": True,
            "LOG_LEVEL": "WARNING",
            "TELNETCONSOLE_ENABLED": False,
            "COOKIES_ENABLED": False,
            "CLOSESPIDER_PAGECOUNT": max_pages,
            "REQUEST_FINGERPRINTER_IMPLEMENTATION": "2.7",
        }
    )
    proc.crawl(Docs)
    t = time.perf_counter()
    proc.start()
    seconds = time.perf_counter() - t
    return {
        "crawler": "scrapy",
        "status": "finished",
        **counts,
        "seconds": round(seconds, 2),
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--docs", default="/usr/share/doc/python3.11/html")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--max-pages", type=int, default=5000)
    ap.add_argument("--only", choices=["cloop", "scrapy"], help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.only:  # child process: one crawler, JSON on the last line
        fn = run_cloop if args.only == "cloop" else run_scrapy
        print(json.dumps(fn(args.url, args.concurrency, args.max_pages)))
        return
    port = free_port()
    server = serve(str(Path(args.docs).resolve()), port)
    url = f"http://127.0.0.1:{port}/"
    try:
        results = []
        for which in ("scrapy", "cloop"):
            out = subprocess.run(
                [PY, __file__, "--only", which, "--url", url]
                + ["--concurrency", str(args.concurrency), "--max-pages", str(args.max_pages)],
                capture_output=True,
                text=True,
                check=True,
                cwd=ROOT,
            )
            results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    finally:
        server.terminate()
        server.wait(10)
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (2 cores)")
    for r in results:
        rate = r["html_pages"] / r["seconds"] if r["seconds"] else 0
        extra = f", {r['indexed']} indexed, {r['chunks']} chunks" if "chunks" in r else ""
        print(
            f"{r['crawler']:<7} {r['responses']:>5} responses, {r['html_pages']:>5} HTML pages "
            f"in {r['seconds']:7.2f} s = {rate:6.1f} pages/s, peak RSS {r['peak_rss_mb']} MB{extra}"
        )


if __name__ == "__main__":
    main()
