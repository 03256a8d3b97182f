"""Public views: the privacy notice (Cloop's own host) and a custom answer's page (the
site's host). Thin: the content comes from `conversations.notice` and the models."""

from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from conversations.notice import (
    cloop_policy_context,
    notice_context,
    notice_publish,
    notice_template,
)
from tenants.models import SITE_ID_RE, Site


@require_GET
def notice_page(request, site_id: str):
    """The site's privacy notice; public, cacheable for a few minutes. Serving it is its
    publication: the first time records the notice's date (unless the customer set one)."""
    if not SITE_ID_RE.match(site_id):
        raise Http404("no such site")
    site = Site.objects.filter(site_id=site_id, ready=True).first()
    if site is None:
        raise Http404("no such site")
    context = notice_context(site)
    if context["facts"]["published_on"]["source"] == "missing":
        notice_publish(site)
        context = notice_context(site)
    response = render(request, notice_template(context["language"]), context)
    response["Cache-Control"] = "public, max-age=300"
    return response


@require_GET
def cloop_policy_page(request):
    """Cloop's own privacy policy, linked from every site's notice."""
    response = render(request, "privacy/cloop_policy.html", cloop_policy_context())
    response["Cache-Control"] = "public, max-age=3600"
    return response


MORE = {"en": "Read more", "fi": "Lue lisää"}


@require_GET
def custom_answer_page(request, pk: int):
    """A custom answer's own page on the site's host (the URL the chat cites for it). Public:
    it shows only what the customer wrote; an inactive or deleted answer is gone (404)."""
    from conversations.models import CustomAnswer

    answer = CustomAnswer.objects.filter(pk=pk, active=True).first()
    if answer is None:
        raise Http404("no such answer")
    site = request.tenant
    response = render(
        request,
        "answers/answer.html",
        {
            "answer": answer,
            "site_name": site.name,
            "site_url": site.url,
            "language": site.language,
            "more": MORE.get(site.language, MORE["en"]),
        },
    )
    # Not cached: a deactivated or deleted answer is gone at once, here as in the index.
    response["Cache-Control"] = "no-cache"
    return response
