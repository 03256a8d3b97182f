"""Custom answers: what a customer writes to correct or complete what the site's pages say.

Each active answer is indexed as a page of its own in the site's search index
(crawler.index.text_page_index, Page.source "answer"): its question is the page's title and
heading, its answer the body, so it is found and ranked by the same search as the crawled
pages, handed to the model as a source like them, and cited at its own URL on the site's
Cloop host (`custom_answer_url`) or at the link the customer gave. A crawl never removes it
(crawler.services only removes crawled pages). Saving re-indexes it and deleting or
deactivating removes it from the index in the same transaction: the next question sees the
change.

Every function runs in the site's schema (admin requests already are; other callers use
`tenant_context`). No visitor data is ever stored in a custom answer.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.db import connection, transaction

from conversations.models import CustomAnswer
from crawler.index import page_remove, text_page_index
from crawler.models import Page
from tenants.services import SiteError, normalise_origin, site_link_origins
from tenants.urls import site_base_url

ANSWER_PATH = "/answers/{pk}/"


def _site():
    return connection.tenant


def custom_answer_url(answer: CustomAnswer | int, site=None) -> str:
    """The answer's own public page: https://<site host>/answers/<id>/."""
    site = site or _site()
    pk = getattr(answer, "pk", answer)
    return site_base_url(site.site_id) + ANSWER_PATH.format(pk=pk)


def custom_answer_link_check(link: str, site=None) -> str | None:
    """Why `link` cannot be cited (None if it can): the chat window only links a visitor to
    the site's own pages (tenants.services.site_link_origins)."""
    if not link:
        return None
    site = site or _site()
    try:
        parts = urlsplit(link)
        origin = normalise_origin(f"{parts.scheme}://{parts.netloc}")
    except (SiteError, ValueError):
        return "Give a full http(s) URL."
    allowed = site_link_origins(site)
    if origin not in allowed:
        own = [o for o in allowed if o != normalise_origin(site_base_url(site.site_id))]
        return f"The chat only links to your own website: use a page of {', '.join(own)}."
    return None


def custom_answer_index(answer: CustomAnswer, site=None) -> Page | None:
    """Put the saved `answer` into the index as it is now (or take it out if inactive)."""
    url = custom_answer_url(answer, site)
    if not answer.active or not answer.answer.strip() or not answer.question.strip():
        custom_answer_unindex(answer, site)
        return None
    return text_page_index(
        url,
        title=answer.question.strip(),
        text=answer.answer.strip(),
        source=Page.Source.ANSWER,
        cite_url=answer.link,
        language=getattr(site or _site(), "language", ""),
    )


def custom_answer_unindex(answer: CustomAnswer | int, site=None) -> None:
    page = Page.objects.filter(
        source=Page.Source.ANSWER, url=custom_answer_url(answer, site)
    ).first()
    if page is not None:
        page_remove(page)


def custom_answer_save(answer: CustomAnswer) -> CustomAnswer:
    """Save `answer` and bring the index in step with it, in one transaction."""
    with transaction.atomic():
        answer.save()
        custom_answer_index(answer)
    return answer


def custom_answer_delete(answer: CustomAnswer) -> None:
    """Delete `answer` and take it out of the index, in one transaction."""
    with transaction.atomic():
        custom_answer_unindex(answer)
        answer.delete()


def custom_answers_reindex(site=None) -> int:
    """Index every active answer again and drop answer pages whose answer is gone (after the
    site's Cloop host changed, or a delete that bypassed `custom_answer_delete`). Returns the
    number of answers indexed."""
    keep, n = set(), 0
    with transaction.atomic():
        for answer in CustomAnswer.objects.all():
            if custom_answer_index(answer, site) is not None:
                keep.add(custom_answer_url(answer, site))
                n += 1
        for page in Page.objects.filter(source=Page.Source.ANSWER).exclude(url__in=keep):
            page_remove(page)
    return n


def custom_answer_for_question(question: str) -> dict:
    """Initial form values for a new answer to a visitor's question ("Improve this answer")."""
    return {"question": (question or "").strip()[:500], "active": True}
