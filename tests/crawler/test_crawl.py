from django_tenants.utils import tenant_context

from crawler.fetch import FetchOptions
from crawler.models import CrawlRun, CrawlSettings
from crawler.search import search
from crawler.services import crawl_run
from tests.crawler.conftest import html_page

FAST = FetchOptions(connect_timeout=2, read_timeout=2, total_timeout=3, retries=2, backoff=0.05)


def _site(web, in_site_a):
    cfg = CrawlSettings.load()
    cfg.start_urls = [web.url + "/"]
    cfg.save()
    return in_site_a


def test_it_crawls_a_small_site_and_answers_from_it(web, allow_private, in_site_a):
    web.page("/", html_page("Home", "<p>Welcome to the bakery.</p>", links=["/bread", "/cakes"]))
    web.page(
        "/bread",
        html_page("Bread", "<h2 id='rye'>Rye bread</h2><p>Our sourdough rye is baked daily.</p>"),
    )
    web.page("/cakes", html_page("Cakes", "<p>Birthday cakes need two days notice.</p>"))
    site = _site(web, in_site_a)
    run = crawl_run(site, fetch_options=FAST)
    assert run.status == CrawlRun.Status.SUCCEEDED
    assert run.pages_indexed == 3
    with tenant_context(site):
        hits = search("sourdough rye")
    assert hits[0].url == web.url + "/bread#rye"
