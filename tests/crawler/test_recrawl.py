"""Re-crawling one page from the admin, and custom answers surviving every crawl."""

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from conversations.chat import custom_answers
from conversations.models import CustomAnswer
from crawler.models import CrawlRun, Page
from crawler.runs import CrawlBusy, CrawlError, crawl_run_create
from crawler.search import search
from crawler.services import crawl_run
from crawler.tasks import crawl_request
from tests.crawler.conftest import FAST, html_page


def _two_pages(web):
    web.page("/", html_page("Home", "<p>Welcome to the harbour cafe.</p>", links=["/menu"]))
    web.page("/menu", html_page("Menu", "<p>Cinnamon buns cost 4 euros.</p>"))


def test_it_keeps_custom_answers_through_a_complete_recrawl(web, site):
    _two_pages(web)
    assert crawl_run(site, fetch_options=FAST).pages_indexed == 2
    answer = custom_answers.custom_answer_save(
        CustomAnswer(question="Do you have oat milk?", answer="Yes, oat milk at no extra cost.")
    )
    # The menu page is gone: a complete crawl removes it, but not the custom answer.
    del web.routes["/menu"]
    run = crawl_run(site, fetch_options=FAST)
    assert run.status == "succeeded" and run.pages_removed == 1
    assert set(Page.objects.values_list("source", flat=True)) == {"crawl", "answer"}
    assert search("oat milk", 1)[0].page_url == custom_answers.custom_answer_url(answer)
    assert not search("cinnamon buns", 5)


def test_it_recrawls_one_page_without_following_its_links(web, site):
    _two_pages(web)
    crawl_run(site, fetch_options=FAST)
    web.page("/menu", html_page("Menu", "<p>Cardamom buns cost 5 euros.</p>", links=["/new"]))
    web.page("/new", html_page("New", "<p>A page the re-crawl must not visit.</p>"))
    before = len(web.requests)
    run = crawl_request(site, "page", page_url=web.url + "/menu")
    assert (run.trigger, run.status, run.frontier) == (
        "page",
        "queued",
        {"page": web.url + "/menu"},
    )
    # While it is queued, a full crawl is refused (one active run per site).
    with pytest.raises(CrawlBusy):
        crawl_run_create(trigger="manual")
    # The worker's entry point, as crawler.tasks.crawl_site calls it.
    done = crawl_run(site, run=run, fetch_options=FAST)
    assert (done.status, done.pages_fetched, done.pages_indexed) == ("succeeded", 1, 1)
    paths = [p for p in web.paths()[before:] if p != "/robots.txt"]
    assert paths == ["/menu"]
    assert search("cardamom", 1)[0].page_url == web.url + "/menu"
    assert not search("cinnamon", 5)
    assert Page.objects.count() == 2  # "/" untouched, "/new" not visited
    # A page that is gone is taken out of the index.
    del web.routes["/menu"]
    gone = crawl_run(
        site, run=crawl_request(site, "page", page_url=web.url + "/menu"), fetch_options=FAST
    )
    assert (gone.status, gone.pages_removed) == ("succeeded", 1)
    assert not Page.objects.filter(url=web.url + "/menu").exists()


def test_it_refuses_a_page_recrawl_while_a_crawl_runs_or_off_site(web, site):
    CrawlRun.objects.create(status="running")
    with pytest.raises(CrawlBusy):
        crawl_request(site, "page", page_url=web.url + "/menu")
    CrawlRun.objects.update(status="succeeded")
    # Off the site's allowed hosts: the crawl's own rules refuse it, and the run says why.
    run = crawl_run(
        site,
        run=crawl_request(site, "page", page_url="http://elsewhere.test/x"),
        fetch_options=FAST,
    )
    assert run.status == "failed" and "off-site elsewhere.test" in run.error
    answer = custom_answers.custom_answer_save(CustomAnswer(question="Q?", answer="A."))
    with pytest.raises(CrawlError):
        crawl_request(site, "page", page_url=custom_answers.custom_answer_url(answer))


def test_it_recrawls_a_page_from_its_admin_page(web, site, site_a):
    _two_pages(web)
    crawl_run(site, fetch_options=FAST)
    user = get_user_model().objects.create_superuser("o@a.test", "o@a.test", "pw-123456")
    client = Client(HTTP_HOST=site_a.host)
    client.force_login(user)
    page = Page.objects.get(url=web.url + "/menu")
    html = client.get(f"/admin/crawler/page/{page.pk}/change/").content.decode()
    assert 'data-cloop="recrawl-page"' in html
    r = client.post(f"/admin/crawler/page/{page.pk}/recrawl/")
    run = CrawlRun.objects.get(trigger="page")
    assert r.status_code == 302 and r["Location"].endswith(f"/crawlrun/{run.pk}/change/")
    # A second click while it is queued is refused, with the reason.
    r = client.post(f"/admin/crawler/page/{page.pk}/recrawl/", follow=True)
    assert f"Crawl run {run.pk} is already queued; try again" in r.content.decode()
    assert CrawlRun.objects.filter(trigger="page").count() == 1
    # The pages list offers it as an action too.
    r = client.post(
        "/admin/crawler/page/",
        {"action": "recrawl", "_selected_action": list(Page.objects.values_list("pk", flat=True))},
        follow=True,
    )
    assert "Select one page to re-crawl" in r.content.decode()
