"""`crawl_request` is the one way to queue a crawl: every entry point refuses a second crawl
while one is active (the database's one-active-run index), with the same words."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from crawler.index import index_html
from crawler.models import CrawlRun, Page
from crawler.runs import CrawlBusy, crawl_run_create
from crawler.tasks import crawl_due, crawl_request
from tests.crawler.conftest import crawl_lock_elsewhere


def _by_command(site, owner):
    with pytest.raises(CommandError) as info:
        call_command("crawl", site.site_id, "--queue", stdout=StringIO(), stderr=StringIO())
    return str(info.value)


def _by_admin_crawl_now(site, owner):
    response = owner.post("/admin/crawler/crawlrun/crawl-now/", follow=True)
    return [str(m) for m in response.context["messages"]]


def _by_admin_page_recrawl(site, owner):
    page = Page.objects.get()
    response = owner.post(f"/admin/crawler/page/{page.pk}/recrawl/", follow=True)
    return [str(m) for m in response.context["messages"]]


def _by_admin_page_action(site, owner):
    page = Page.objects.get()
    response = owner.post(
        "/admin/crawler/page/", {"action": "recrawl", "_selected_action": [page.pk]}, follow=True
    )
    return [str(m) for m in response.context["messages"]]


def _by_api(site, owner):
    token, _ = Token.objects.get_or_create(user=owner.user)
    api = APIClient(HTTP_HOST=site.host)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    response = api.post("/api/v1/crawl-runs/")
    assert response.status_code == 409
    return response.json()["detail"]


def _by_function(site, owner):
    with pytest.raises(CrawlBusy) as info:
        crawl_request(site, "manual")
    return str(info.value)


ENTRY_POINTS = [
    _by_command,
    _by_admin_crawl_now,
    _by_admin_page_recrawl,
    _by_admin_page_action,
    _by_api,
    _by_function,
]


@pytest.mark.parametrize("status", [CrawlRun.Status.QUEUED, CrawlRun.Status.RUNNING])
@pytest.mark.parametrize("entry", ENTRY_POINTS, ids=lambda f: f.__name__[4:])
def test_it_refuses_a_second_crawl_with_the_same_words_at_every_entry_point(
    owner_a, site_a, status, entry
):
    index_html("https://site-a.test/menu", "<main><p>Cinnamon buns cost 4 euros.</p></main>")
    active = crawl_run_create(trigger="schedule", status=status)
    expected = f"Crawl run {active.pk} is already {status}; try again when it has finished."
    assert str(CrawlBusy(active)) == expected
    shown = entry(site_a, owner_a)
    assert shown in (expected, [expected])
    assert list(CrawlRun.objects.values_list("pk", flat=True)) == [active.pk]


def test_it_refuses_a_crawl_in_this_process_while_another_one_runs(owner_a, site_a):
    """`crawl` without --queue runs the crawl itself (no queue); while another process
    crawls (it holds the site's crawl lock), it is refused with the same words."""
    active = crawl_run_create(trigger="schedule", status=CrawlRun.Status.RUNNING)
    with crawl_lock_elsewhere(site_a), pytest.raises(CommandError) as info:
        call_command("crawl", site_a.site_id, stdout=StringIO(), stderr=StringIO())
    assert str(info.value) == str(CrawlBusy(active))
    assert CrawlRun.objects.get().status == CrawlRun.Status.RUNNING


def test_it_leaves_a_busy_site_alone_at_the_scheduled_check(in_site_a):
    active = crawl_run_create(trigger="manual")
    assert crawl_due.run() == "a crawl is queued or running"
    assert list(CrawlRun.objects.values_list("pk", flat=True)) == [active.pk]


def test_it_queues_through_crawl_request_from_every_entry_point(owner_a, site_a):
    """Each entry point's run says who asked for it (the admin's "started by")."""
    index_html("https://site-a.test/menu", "<main><p>Cinnamon buns cost 4 euros.</p></main>")
    finished = CrawlRun.Status.SUCCEEDED

    assert crawl_due.run() == "due"
    CrawlRun.objects.update(status=finished)
    call_command("crawl", site_a.site_id, "--queue", stdout=StringIO())
    CrawlRun.objects.update(status=finished)
    owner_a.post("/admin/crawler/crawlrun/crawl-now/")
    CrawlRun.objects.update(status=finished)
    owner_a.post(f"/admin/crawler/page/{Page.objects.get().pk}/recrawl/")
    CrawlRun.objects.update(status=finished)
    token, _ = Token.objects.get_or_create(user=owner_a.user)
    api = APIClient(HTTP_HOST=site_a.host)
    api.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api.post("/api/v1/crawl-runs/").status_code == 202
    assert list(CrawlRun.objects.order_by("pk").values_list("trigger", flat=True)) == [
        "schedule",
        "manual",
        "admin",
        "page",
        "api",
    ]
